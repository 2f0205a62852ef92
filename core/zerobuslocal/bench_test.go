package zerobuslocal_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// BenchmarkIngest measures the server's ingest path (receive, decode,
// store, ack) with a raw pipelined client: one op is one request message.
func BenchmarkIngest(b *testing.B) {
	for _, bc := range []struct {
		name    string
		records int
	}{{"single", 1}, {"batch100", 100}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := zerobuslocal.Start(b.Context(), zerobuslocal.Options{AllowAnyToken: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			cc := dialB(b, s)
			st := openStreamB(b, cc, testTable)
			recs := make([][]byte, bc.records)
			size := 0
			for i := range recs {
				recs[i] = encode(b, event(b, int64(i), "some name"))
				size += len(recs[i])
			}
			if err := st.Send(createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)); err != nil {
				b.Fatal(err)
			}
			if _, err := st.Recv(); err != nil {
				b.Fatal(err)
			}
			done := ackedUpTo(st, int64(b.N-1))
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var m *req
				if bc.records == 1 {
					m = recordReq(int64(i), recs[0])
				} else {
					m = batchReq(int64(i), recs...)
				}
				if err := st.Send(m); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st.CloseSend()
			if got := s.RecordCount(testTable); got != b.N*bc.records {
				b.Fatalf("RecordCount: got %d, want %d", got, b.N*bc.records)
			}
		})
	}
}

// BenchmarkArrowBatch measures reading stored rows back as Arrow: each op
// stores 1000 fresh records in a new table (not timed) and converts them
// (timed), so the lazy decoding of the raw records is included.
func BenchmarkArrowBatch(b *testing.B) {
	const rows = 1000
	s, err := zerobuslocal.Start(b.Context(), zerobuslocal.Options{AllowAnyToken: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cc := dialB(b, s)
	recs := make([][]byte, rows)
	size := 0
	for i := range recs {
		recs[i] = encode(b, event(b, int64(i), "some name"))
		size += len(recs[i])
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		table := fmt.Sprintf("main.bench.t%d", i)
		st := openStreamB(b, cc, table)
		if err := st.Send(createReq(table, eventsDesc(), zerobuspb.RecordType_PROTO)); err != nil {
			b.Fatal(err)
		}
		if err := st.Send(batchReq(0, recs...)); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 2; j++ { // create response, ack
			if _, err := st.Recv(); err != nil {
				b.Fatal(err)
			}
		}
		st.CloseSend()
		b.StartTimer()
		rec, err := s.ArrowBatch(table, nil)
		if err != nil {
			b.Fatal(err)
		}
		if rec.NumRows() != rows {
			b.Fatalf("ArrowBatch: %d rows, want %d", rec.NumRows(), rows)
		}
		rec.Release()
	}
}

// refDDL mirrors the columns of the client's 100k-row reference batch
// (core/internal/convert.ReferenceBatch) as a table of the local server.
const refDDL = "id BIGINT NOT NULL, ts TIMESTAMP, name STRING, x DOUBLE, y DOUBLE, z DOUBLE, ok BOOLEAN, " +
	"count INT, samples ARRAY<DOUBLE>, info STRUCT<label: STRING, n: BIGINT>, payload BINARY, day DATE"

// refSchema is the Arrow schema Flight streams to a refDDL table send.
var refSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "name", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "y", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "z", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "count", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "samples", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true},
	{Name: "info", Type: arrow.StructOf(
		arrow.Field{Name: "label", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
	{Name: "payload", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
}, nil)

// refRows builds n rows of refDDL's Arrow schema, like the reference batch.
func refRows(tb testing.TB, schema *arrow.Schema, n int) arrow.RecordBatch {
	tb.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	var pl [16]byte
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + int64(i)*1_000))
		b.Field(2).(*array.LargeStringBuilder).Append(fmt.Sprintf("user-%08d@example.com", i)[:24])
		b.Field(3).(*array.Float64Builder).Append(float64(i) * 0.5)
		b.Field(4).(*array.Float64Builder).Append(-float64(i) / 3)
		if i%97 == 0 {
			b.Field(5).AppendNull()
		} else {
			b.Field(5).(*array.Float64Builder).Append(float64(i%1000) * 1.25)
		}
		b.Field(6).(*array.BooleanBuilder).Append(i%3 == 0)
		b.Field(7).(*array.Int32Builder).Append(int32(i))
		lb := b.Field(8).(*array.ListBuilder)
		lb.Append(true)
		for k := range 4 {
			lb.ValueBuilder().(*array.Float64Builder).Append(float64(i+k) * 0.1)
		}
		sb := b.Field(9).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.LargeStringBuilder).Append("label")
		sb.FieldBuilder(1).(*array.Int64Builder).Append(int64(i) * 7)
		for k := range pl {
			pl[k] = byte(i + k)
		}
		b.Field(10).(*array.BinaryBuilder).Append(pl[:])
		b.Field(11).(*array.Date32Builder).Append(arrow.Date32(19_000 + i%3650))
	}
	return b.NewRecordBatch()
}

// BenchmarkIngestFlightVsProto stores the same 10,000 reference rows per op
// over Arrow Flight DoPut (one record batch) and over the Zerobus gRPC
// stream (one ingest_record_batch of protobuf records), side by side, until
// acknowledged. Client and server share the process: cpu-ns/row is the CPU
// of both per row, server-ns/row excludes the client's encoding (built once
// before the timer).
func BenchmarkIngestFlightVsProto(b *testing.B) {
	const rows = 10_000
	cols, err := zerobuslocal.ParseColumns(refDDL)
	if err != nil {
		b.Fatal(err)
	}
	s, err := zerobuslocal.Start(b.Context(), zerobuslocal.Options{AllowAnyToken: true, MaxStoredRows: 200_000})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const table = "main.bench.ref"
	if err := s.CreateTableColumns(table, cols); err != nil {
		b.Fatal(err)
	}
	cc := dialB(b, s)
	schema := refSchema
	rec := refRows(b, schema, rows)
	defer rec.Release()

	// The IPC payload of the batch, built once.
	sp := ipc.GetSchemaPayload(schema, memory.DefaultAllocator)
	defer sp.Release()
	p, err := ipc.GetRecordBatchPayload(rec)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Release()
	var body bytes.Buffer
	if err := p.SerializeBody(&body); err != nil {
		b.Fatal(err)
	}
	header := p.Meta().Bytes()
	size := int64(body.Len())

	b.Run("flight", func(b *testing.B) {
		ctx, cancel := context.WithCancel(b.Context())
		defer cancel()
		md := metadata.Pairs("x-databricks-zerobus-table-name", table, "authorization", "Bearer bench")
		c, err := flight.NewClientFromConn(cc, nil).DoPut(metadata.NewOutgoingContext(ctx, md))
		if err != nil {
			b.Fatal(err)
		}
		if err := c.Send(&flight.FlightData{DataHeader: sp.Meta().Bytes()}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Recv(); err != nil { // READY
			b.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			want := fmt.Sprintf(`"ack_up_to_records":%d`, int64(b.N)*rows)
			for {
				pr, err := c.Recv()
				if err != nil {
					done <- err
					return
				}
				if strings.Contains(string(pr.AppMetadata), want) {
					done <- nil
					return
				}
			}
		}()
		b.SetBytes(size)
		b.ReportAllocs()
		b.ResetTimer()
		cpu := processCPU()
		for i := 0; i < b.N; i++ {
			meta := []byte(fmt.Sprintf(`{"offset_id": %d}`, i))
			if err := c.Send(&flight.FlightData{DataHeader: header, DataBody: body.Bytes(), AppMetadata: meta}); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N*rows), "cpu-ns/row")
		c.CloseSend()
	})

	b.Run("protobuf", func(b *testing.B) {
		// The same rows as protobuf records: what the Flight ingest stored.
		stored := s.Rows(table)
		if len(stored) < rows {
			b.Skip("run with the flight sub-benchmark first")
		}
		recs := make([][]byte, rows)
		for i := range recs {
			recs[i] = stored[i].Raw
		}
		st := openStreamB(b, cc, table)
		if err := st.Send(createReq(table, descOf(b, s, table), zerobuspb.RecordType_PROTO)); err != nil {
			b.Fatal(err)
		}
		if _, err := st.Recv(); err != nil {
			b.Fatal(err)
		}
		done := ackedUpTo(st, int64(b.N-1))
		b.SetBytes(size)
		b.ReportAllocs()
		b.ResetTimer()
		cpu := processCPU()
		for i := 0; i < b.N; i++ {
			if err := st.Send(batchReq(int64(i), recs...)); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(float64(processCPU()-cpu)/float64(b.N*rows), "cpu-ns/row")
		st.CloseSend()
	})
}

func descOf(tb testing.TB, s *zerobuslocal.Server, table string) *descriptorpb.DescriptorProto {
	tb.Helper()
	d, ok := s.TableDescriptor(table)
	if !ok || d == nil {
		tb.Fatalf("table %s has no descriptor", table)
	}
	return d
}

// ackedUpTo reads st's acknowledgements on a goroutine of its own; the
// channel gets nil once offset off is acknowledged, or the error that ended
// the stream first.
func ackedUpTo(st grpc.BidiStreamingClient[req, resp], off int64) <-chan error {
	done := make(chan error, 1)
	go func() {
		for {
			m, err := st.Recv()
			if err != nil {
				done <- err
				return
			}
			if m.GetIngestRecordResponse().GetDurabilityAckUpToOffset() == off {
				done <- nil
				return
			}
		}
	}()
	return done
}
