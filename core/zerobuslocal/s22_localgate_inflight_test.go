package zerobuslocal_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// slowGuard ends the streams of TestIdleStreamsStayWithinBudgetPlusOneRequestEach
// if they hang. It is not a timing bound: ~200 MB through the server under
// -race on two busy cores takes tens of seconds, more than the 30 s of
// openStream and openFlight.
const slowGuard = 5 * time.Minute

// openSlowStream is openStream with slowGuard as the RPC's deadline.
func openSlowStream(t *testing.T, cc *grpc.ClientConn, tok, table string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), slowGuard)
	t.Cleanup(cancel)
	md := metadata.Pairs("x-databricks-zerobus-table-name", table, "authorization", "Bearer "+tok)
	c, err := zerobuspb.NewZerobusClient(cc).EphemeralStream(metadata.NewOutgoingContext(ctx, md))
	if err != nil {
		t.Fatalf("EphemeralStream: %v", err)
	}
	return &stream{t: t, c: c, cancel: cancel}
}

// openSlowFlight is openFlight with slowGuard as the RPC's deadline.
func openSlowFlight(t *testing.T, cc *grpc.ClientConn, tok, table string) *flightStream {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), slowGuard)
	t.Cleanup(cancel)
	md := metadata.Pairs("x-databricks-zerobus-table-name", table, "authorization", "Bearer "+tok)
	c, err := flight.NewClientFromConn(cc, nil).DoPut(metadata.NewOutgoingContext(ctx, md))
	if err != nil {
		t.Fatalf("DoPut: %v", err)
	}
	return &flightStream{t: t, c: c}
}

// bigFlightRows is n rows of flightSchema whose names are name.
func bigFlightRows(first, n int, name string) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, flightSchema)
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.LargeStringBuilder).Append(name)
		b.Field(2).AppendNull()
		b.Field(3).AppendNull()
		b.Field(4).AppendNull()
	}
	return b.NewRecordBatch()
}

// TestIdleStreamsStayWithinBudgetPlusOneRequestEach (review s21diff,
// finding 1): PROTO and Flight streams whose reads gave their reservation
// back while their clients paused each take their next request whole, over
// MaxInflightBytes (gRPC reads a message whole once its reading starts,
// and tells its length only then). The server's bound is MaxInflightBytes
// plus one request per stream: with every client sending several ~4 MiB
// requests back to back after the pause, no stream gets a second request
// in while the budget is over (before s21, with no budget, each stream
// read up to 16 requests ahead of its handler). Every row is stored and
// acknowledged, and the budget is all given back.
func TestIdleStreamsStayWithinBudgetPlusOneRequestEach(t *testing.T) {
	// Stored rows are evicted (MaxStoredRows) so that the test holds
	// little; the in-flight budget is what is measured.
	s := start(t, zerobuslocal.Options{MaxStoredRows: 40})
	const protoStreams, flightStreams, perStream, recsPer = 8, 8, 3, 4
	const streams = protoStreams + flightStreams
	name := strings.Repeat("x", 1<<20)

	// PROTO: perStream requests of recsPer 1 MiB records each. (Without
	// the gate, every stream's reads run ahead of its handler: the peak
	// can reach streams × perStream requests, twice the bound below.)
	var recs [][]byte
	for k := range recsPer {
		recs = append(recs, encode(t, event(t, int64(k), name)))
	}
	var request int64 // the largest request, as the budget counts it
	for off := range perStream {
		request = max(request, int64(proto.Size(batchReq(int64(off), recs...))))
	}
	cc := dial(t, s)
	var sts []*stream
	var protoTables []string
	for i := range protoStreams {
		table := fmt.Sprintf("main.default.idle%d", i)
		st := openSlowStream(t, cc, token(t, s, table), table)
		st.create(table, eventsDesc(), zerobuspb.RecordType_PROTO)
		sts = append(sts, st)
		protoTables = append(protoTables, table)
	}

	// Flight: perStream batches of recsPer rows with 1 MiB names.
	rec := bigFlightRows(0, recsPer, name)
	defer rec.Release()
	p, err := ipc.GetRecordBatchPayload(rec)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	if err := p.SerializeBody(&body); err != nil {
		t.Fatal(err)
	}
	header := p.Meta().Bytes()
	p.Release()
	flightData := func(off int) *flight.FlightData {
		return &flight.FlightData{DataHeader: header, DataBody: body.Bytes(), AppMetadata: fmt.Appendf(nil, `{"offset_id": %d}`, off)}
	}
	for off := range perStream {
		fd := flightData(off)
		request = max(request, int64(len(fd.DataHeader)+len(fd.DataBody)+len(fd.AppMetadata)))
	}
	var fs []*flightStream
	var flightTables []string
	for i := range flightStreams {
		table := fmt.Sprintf("main.default.fidle%d", i)
		if err := s.CreateTableColumns(table, mustColumns(t, flightDDL)); err != nil {
			t.Fatal(err)
		}
		f := openSlowFlight(t, cc, token(t, s, table), table)
		f.sendSchema(flightSchema)
		if _, _, err := f.recv(); err != nil {
			t.Fatalf("READY: %v", err)
		}
		fs = append(fs, f)
		flightTables = append(flightTables, table)
	}

	// Every stream's read has been admitted (reserving a request of the
	// record cap: two at a time fit), the first fourteen giving their
	// reservation back to those waiting while their clients sent nothing.
	waitUntil(t, "every stream's read to be admitted", func() bool {
		_, waiting := zerobuslocal.InflightState(s)
		return waiting == 0
	})
	zerobuslocal.ResetInflightPeak(s)
	before := s.Stats()

	errs := make(chan error, streams)
	var wg sync.WaitGroup
	for _, st := range sts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := range perStream {
				if err := st.c.Send(batchReq(int64(off), recs...)); err != nil {
					errs <- fmt.Errorf("PROTO send %d: %w", off, err)
					return
				}
			}
			for {
				m, err := st.c.Recv()
				if err != nil {
					errs <- fmt.Errorf("PROTO acks: %w", err)
					return
				}
				ack := m.GetIngestRecordResponse()
				if ack == nil {
					errs <- fmt.Errorf("PROTO response %v, want an ack", m)
					return
				}
				if ack.GetDurabilityAckUpToOffset() == perStream-1 {
					return
				}
			}
		}()
	}
	for _, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for off := range perStream {
				if err := f.c.Send(flightData(off)); err != nil {
					errs <- fmt.Errorf("Flight send %d: %w", off, err)
					return
				}
			}
			for {
				pr, err := f.c.Recv()
				if err != nil {
					errs <- fmt.Errorf("Flight acks: %w", err)
					return
				}
				if bytes.Contains(pr.AppMetadata, fmt.Appendf(nil, `"ack_up_to_offset":%d,`, perStream-1)) {
					if !bytes.Contains(pr.AppMetadata, fmt.Appendf(nil, `"ack_up_to_records":%d`, perStream*recsPer)) {
						errs <- fmt.Errorf("Flight ack of the last batch: %s, want %d records", pr.AppMetadata, perStream*recsPer)
					}
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	peak := zerobuslocal.InflightPeak(s)
	bound := zerobuslocal.MaxInflightBytes + streams*request
	t.Logf("peak in flight: %.1f MiB; budget %d MiB, bound %.1f MiB (%d streams x one %.1f MiB request)",
		float64(peak)/(1<<20), zerobuslocal.MaxInflightBytes>>20, float64(bound)/(1<<20), streams, float64(request)/(1<<20))
	if peak > bound {
		t.Errorf("in-flight bytes went to %d, over MaxInflightBytes plus one request per stream (%d)", peak, bound)
	}
	after := s.Stats()
	if got, want := after.RecordsStored-before.RecordsStored, int64(streams*perStream*recsPer); got != want {
		t.Errorf("records stored: %d, want %d", got, want)
	}
	for _, table := range append(protoTables, flightTables...) {
		if got := int64(s.RecordCount(table)) + s.EvictedCount(table); got != perStream*recsPer {
			t.Errorf("%s: %d rows held and evicted, want %d", table, got, perStream*recsPer)
		}
	}
	for _, st := range sts {
		if err := st.finish(); err != nil {
			t.Error(err)
		}
	}
	for _, f := range fs {
		_ = f.c.CloseSend()
		if err := f.drain(); err != nil {
			t.Error(err)
		}
	}
	waitUntil(t, "the budget to be given back", func() bool { return zerobuslocal.InflightInUse(s) == 0 })
}
