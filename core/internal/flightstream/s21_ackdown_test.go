package flightstream

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/grpc"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/syncbuf"
)

// ackScriptServer is a Flight DoPut server that decodes every batch, keeps
// its ids, and answers the batch at offset_id n with the PutResults
// script(n, records received so far) gives ({ack_up_to_offset, records}
// pairs, in order), after waiting for hold(n) if that is not nil.
type ackScriptServer struct {
	flight.BaseFlightServer
	script func(off, total int64) [][2]int64
	hold   func(off int64) <-chan struct{}

	mu   sync.Mutex
	puts int
	ids  []int64
}

func (f *ackScriptServer) DoPut(st flight.FlightService_DoPutServer) error {
	f.mu.Lock()
	f.puts++
	f.mu.Unlock()
	rdr, err := flight.NewRecordReader(st)
	if err != nil {
		return err
	}
	defer rdr.Release()
	send := func(off, recs int64) error {
		return st.Send(&flight.PutResult{AppMetadata: fmt.Appendf(nil, `{"ack_up_to_offset":%d,"ack_up_to_records":%d}`, off, recs)})
	}
	if err := send(-1, 0); err != nil { // READY
		return err
	}
	var total int64
	for rdr.Next() {
		rec := rdr.RecordBatch()
		var meta struct {
			OffsetID *int64 `json:"offset_id"`
		}
		if err := json.Unmarshal(rdr.LatestAppMetadata(), &meta); err != nil || meta.OffsetID == nil {
			return fmt.Errorf("app_metadata %q: %v", rdr.LatestAppMetadata(), err)
		}
		f.mu.Lock()
		f.ids = append(f.ids, rec.Column(0).(*array.Int64).Int64Values()...)
		f.mu.Unlock()
		total += rec.NumRows()
		if f.hold != nil {
			if c := f.hold(*meta.OffsetID); c != nil {
				select {
				case <-c:
				case <-st.Context().Done():
					return st.Context().Err()
				}
			}
		}
		for _, a := range f.script(*meta.OffsetID, total) {
			if err := send(a[0], a[1]); err != nil {
				return err
			}
		}
	}
	return rdr.Err()
}

// TestAckGoingDownIsLoggedOnce: a Flight server whose ack_up_to_records
// goes down (25 then 22 while a 10-row batch at records 20..30 is in
// flight; later 30 then 28) does not disturb the stream: the batch's
// durable prefix stays 5 (not 2) until the count rises again, every batch
// then resolves durable in full, once, on the one DoPut (nothing
// replayed), and the first lower count is logged as a warning naming the
// table, the transport, the stream and RPC numbers and both counts, the
// second not (once per stream).
// Before, a lower count was ignored without a word.
func TestAckGoingDownIsLoggedOnce(t *testing.T) {
	release := make(chan struct{})
	srv := &ackScriptServer{
		script: func(off, total int64) [][2]int64 {
			switch off {
			case 2:
				return [][2]int64{{2, 25}, {2, 22}}
			case 3:
				return [][2]int64{{2, 30}, {2, 28}, {3, total}}
			}
			return [][2]int64{{off, total}}
		},
		hold: func(off int64) <-chan struct{} {
			if off == 3 {
				return release
			}
			return nil
		},
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	flight.RegisterFlightServiceServer(gs, srv)
	served := make(chan struct{})
	go func() { defer close(served); _ = gs.Serve(lis) }()
	defer func() { gs.Stop(); <-served }()

	logs := &syncbuf.Buffer{}
	sc, err := stream.NewClient(stream.Config{
		Endpoint: "http://" + lis.Addr().String(), TableName: testTable,
		HeadersProvider: func(context.Context) (map[string]string, error) {
			return map[string]string{"authorization": "Bearer flight-ackdown"}, nil
		},
		Retry:         stream.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
		CreateTimeout: 5 * time.Second, AckTimeout: 10 * time.Second, FlushTimeout: 30 * time.Second,
		Telemetry: telemetry.New(metricnoop.NewMeterProvider(), tracenoop.NewTracerProvider(),
			slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	fc, err := NewClient(sc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer fc.Close()
	ctx := context.Background()
	s, err := fc.OpenStream(ctx, testSchema)
	if err != nil {
		t.Fatal(err)
	}
	ps := make([]*Pending, 4)
	for i := range ps {
		rec := rows(t, 10*i, 10)
		ps[i], err = s.Send(ctx, rec)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	warnings := func() []string {
		var out []string
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "acknowledgement went down") {
				out = append(out, line)
			}
		}
		return out
	}
	// The warning is logged after the lower count was applied (ignored).
	for deadline := time.Now().Add(20 * time.Second); len(warnings()) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no warning about the count going down; logs:\n%s", logs.String())
		}
	}
	if d := ps[2].Durable(); d != 5 || isDone(ps[2]) {
		t.Fatalf("batch 2 after counts 25 then 22: durable %d, done %v; want 5 and pending", d, isDone(ps[2]))
	}
	close(release)
	for i, p := range ps {
		if err := p.Wait(ctx); err != nil || p.Durable() != 10 || p.Attempts() != 1 {
			t.Fatalf("batch %d: %v, durable %d after %d attempts; want durable 10 after 1", i, err, p.Durable(), p.Attempts())
		}
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	srv.mu.Lock()
	puts, ids := srv.puts, append([]int64(nil), srv.ids...)
	srv.mu.Unlock()
	if puts != 1 {
		t.Fatalf("%d DoPuts, want 1 (nothing replayed)", puts)
	}
	wantIDs(t, ids, 40)
	w := warnings()
	if len(w) != 1 {
		t.Fatalf("%d warnings, want 1 (once per stream):\n%s", len(w), strings.Join(w, "\n"))
	}
	s.mu.Lock()
	streamNo := s.st.RPC() >> 32
	s.mu.Unlock()
	for _, want := range []string{"level=WARN", "table=" + testTable, "transport=arrow_flight", fmt.Sprintf("stream=%d ", streamNo), "rpc=1 ",
		"acked_up_to_records=25", "ack_up_to_records=22", "ack_up_to_offset=2"} {
		if !strings.Contains(w[0], want) {
			t.Errorf("warning %q lacks %q", w[0], want)
		}
	}
}
