package zerobuslocal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// flightStream is a raw DoPut client built from arrow-go's generated
// Flight client and hand-made FlightData.
type flightStream struct {
	t *testing.T
	c flight.FlightService_DoPutClient
}

func openFlight(t *testing.T, s *zerobuslocal.Server, tok, table string, opts ...grpc.CallOption) *flightStream {
	t.Helper()
	cc := dial(t, s)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	md := metadata.Pairs("x-databricks-zerobus-table-name", table, "authorization", "Bearer "+tok, "user-agent", "zerobuslocal-test")
	c, err := flight.NewClientFromConn(cc, nil).DoPut(metadata.NewOutgoingContext(ctx, md), opts...)
	if err != nil {
		t.Fatalf("DoPut: %v", err)
	}
	return &flightStream{t: t, c: c}
}

func (f *flightStream) sendSchema(schema *arrow.Schema) {
	f.t.Helper()
	p := ipc.GetSchemaPayload(schema, memory.DefaultAllocator)
	defer p.Release()
	// io.EOF: the server already ended the RPC; Recv tells why.
	if err := f.c.Send(&flight.FlightData{DataHeader: p.Meta().Bytes()}); err != nil && err != io.EOF {
		f.t.Fatalf("Send schema: %v", err)
	}
}

func (f *flightStream) sendBatch(rec arrow.RecordBatch, meta string, opts ...ipc.Option) error {
	f.t.Helper()
	p, err := ipc.GetRecordBatchPayload(rec, opts...)
	if err != nil {
		f.t.Fatal(err)
	}
	defer p.Release()
	var body bytes.Buffer
	if err := p.SerializeBody(&body); err != nil {
		f.t.Fatal(err)
	}
	return f.c.Send(&flight.FlightData{DataHeader: p.Meta().Bytes(), DataBody: body.Bytes(), AppMetadata: []byte(meta)})
}

func (f *flightStream) send(rec arrow.RecordBatch, offset int) {
	f.t.Helper()
	if err := f.sendBatch(rec, fmt.Sprintf(`{"offset_id": %d}`, offset)); err != nil && err != io.EOF {
		f.t.Fatalf("Send batch: %v", err)
	}
}

func (f *flightStream) recv() (zerobuslocal.FlightAck, map[string]any, error) {
	f.t.Helper()
	pr, err := f.c.Recv()
	if err != nil {
		return zerobuslocal.FlightAck{}, nil, err
	}
	var a zerobuslocal.FlightAck
	var raw map[string]any
	if err := json.Unmarshal(pr.AppMetadata, &a); err != nil {
		f.t.Fatalf("PutResult app_metadata %q: %v", pr.AppMetadata, err)
	}
	_ = json.Unmarshal(pr.AppMetadata, &raw)
	return a, raw, nil
}

func (f *flightStream) expect(offset, records int64) zerobuslocal.FlightAck {
	f.t.Helper()
	a, _, err := f.recv()
	if err != nil {
		f.t.Fatalf("Recv: %v", err)
	}
	if a.AckUpToOffset != offset || a.AckUpToRecords != records {
		f.t.Fatalf("ack: got offset %d records %d, want %d %d", a.AckUpToOffset, a.AckUpToRecords, offset, records)
	}
	return a
}

// drain reads until the RPC ends; nil for a clean end.
func (f *flightStream) drain() error {
	for {
		if _, err := f.c.Recv(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

var flightSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.LargeString), Nullable: true},
	{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "loc", Type: arrow.StructOf(arrow.Field{Name: "lat", Type: arrow.PrimitiveTypes.Float64, Nullable: true}), Nullable: true},
}, nil)

const flightDDL = "id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>, at TIMESTAMP, loc STRUCT<lat:DOUBLE>"

// flightRows builds rows ids[first..first+n) with names "n<id>" (null for ids
// divisible by 3).
func flightRows(t testing.TB, first, n int) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, flightSchema)
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%3 == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.LargeStringBuilder).Append(fmt.Sprintf("n%d", i))
		}
		lb := b.Field(2).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.LargeStringBuilder).Append(fmt.Sprintf("t%d", i))
		b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + int64(i)))
		sb := b.Field(4).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Float64Builder).Append(float64(i) / 2)
	}
	return b.NewRecordBatch()
}

// storedIDs reads the ids of the stored rows back from the server.
func storedIDs(t *testing.T, s *zerobuslocal.Server, table string) []int64 {
	t.Helper()
	var ids []int64
	for _, r := range s.Rows(table) {
		ids = append(ids, r.Message.Get(r.Message.Descriptor().Fields().ByName("id")).Int())
	}
	return ids
}

func seq(from, to int) []int64 {
	var out []int64
	for i := from; i < to; i++ {
		out = append(out, int64(i))
	}
	return out
}

func TestFlightDoPut(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	f := openFlight(t, s, token(t, s, testTable), testTable)
	f.sendSchema(flightSchema)
	ready, raw, err := f.recv()
	if err != nil {
		t.Fatalf("READY: %v", err)
	}
	if ready.AckUpToOffset != -1 || ready.AckUpToRecords != 0 || len(raw) != 2 {
		t.Fatalf("READY: got %v, want {ack_up_to_offset: -1, ack_up_to_records: 0}", raw)
	}
	for i, n := range []int{3, 1, 5} {
		rec := flightRows(t, []int{0, 3, 4}[i], n)
		f.send(rec, i)
		rec.Release()
	}
	f.expect(0, 3)
	f.expect(1, 4)
	f.expect(2, 9)
	_ = f.c.CloseSend()
	if err := f.drain(); err != nil {
		t.Fatalf("end: %v", err)
	}
	if diff := cmp.Diff(seq(0, 9), storedIDs(t, s, testTable)); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
	// Values land in the table's own types: read back as Arrow.
	rec, err := s.ArrowBatch(testTable, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	got := []string{}
	for i := 0; i < 4; i++ {
		row := []string{}
		for c := 0; c < int(rec.NumCols()); c++ {
			row = append(row, rec.Column(c).ValueStr(i))
		}
		got = append(got, strings.Join(row, "|"))
	}
	want := []string{
		`0|(null)|["t0"]|2023-11-14T22:13:20Z|{"lat":0}`,
		`1|n1|["t1"]|2023-11-14T22:13:20.000001Z|{"lat":0.5}`,
		`2|n2|["t2"]|2023-11-14T22:13:20.000002Z|{"lat":1}`,
		`3|(null)|["t3"]|2023-11-14T22:13:20.000003Z|{"lat":1.5}`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored rows (-want +got):\n%s", diff)
	}
	rows := s.Rows(testTable)
	if rows[3].Offset != 1 || rows[4].Offset != 2 || rows[4].Index != 0 || rows[8].Index != 4 || !strings.HasPrefix(rows[0].StreamID, "flight-") {
		t.Errorf("row positions: %+v %+v", rows[3], rows[8])
	}
}

func TestFlightRejections(t *testing.T) {
	s := start(t, zerobuslocal.Options{MaxMessageBytes: 4096, DisableAutoCreate: true})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)
	ready := func(f *flightStream) {
		t.Helper()
		f.sendSchema(flightSchema)
		f.expect(-1, 0)
	}
	t.Run("offset gap", func(t *testing.T) {
		f := openFlight(t, s, tok, testTable)
		ready(f)
		rec := flightRows(t, 0, 2)
		defer rec.Release()
		f.send(rec, 0)
		f.send(rec, 2)
		f.expect(0, 2)
		wantStatus(t, f.drain(), codes.InvalidArgument, "Non-incremental offset: expected 1, actual 2")
	})
	t.Run("offset repeat", func(t *testing.T) {
		f := openFlight(t, s, tok, testTable)
		ready(f)
		rec := flightRows(t, 0, 1)
		defer rec.Release()
		f.send(rec, 0)
		f.send(rec, 0)
		wantStatus(t, f.drain(), codes.InvalidArgument, "Non-incremental offset: expected 1, actual 0")
	})
	t.Run("no app_metadata", func(t *testing.T) {
		f := openFlight(t, s, tok, testTable)
		ready(f)
		rec := flightRows(t, 0, 1)
		defer rec.Release()
		_ = f.sendBatch(rec, "")
		wantStatus(t, f.drain(), codes.InvalidArgument, "offset_id")
	})
	t.Run("oversize", func(t *testing.T) {
		f := openFlight(t, s, tok, testTable)
		ready(f)
		rec := flightRows(t, 0, 200)
		defer rec.Release()
		_ = f.sendBatch(rec, `{"offset_id": 0}`)
		wantStatus(t, f.drain(), codes.InvalidArgument, "Batch size exceeds maximum allowed size")
	})
	t.Run("null in NOT NULL column", func(t *testing.T) {
		f := openFlight(t, s, tok, testTable)
		ready(f)
		b := array.NewRecordBuilder(memory.DefaultAllocator, flightSchema)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 0}, []bool{true, false})
		for i := 1; i < 5; i++ {
			b.Field(i).AppendNulls(2)
		}
		rec := b.NewRecordBatch()
		defer rec.Release()
		f.send(rec, 0)
		wantStatus(t, f.drain(), codes.InvalidArgument, `row 1, column "id": null in a NOT NULL column`)
	})
	t.Run("bad token", func(t *testing.T) {
		f := openFlight(t, s, "zbl_nope", testTable)
		f.sendSchema(flightSchema)
		wantStatus(t, f.drain(), codes.Unauthenticated, "invalid or revoked")
	})
	t.Run("unknown table", func(t *testing.T) {
		f := openFlight(t, s, token(t, s, "main.default.none"), "main.default.none")
		f.sendSchema(flightSchema)
		wantStatus(t, f.drain(), codes.NotFound, "does not exist")
	})
	// Only the batches before a rejected one were stored.
	if diff := cmp.Diff([]int64{0, 1, 0}, storedIDs(t, s, testTable)); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
}

func TestFlightSchemaMismatch(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		fields []arrow.Field
		causes string
		substr string
	}{
		{"extra field", append(append([]arrow.Field{}, flightSchema.Fields()...), arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true}),
			"FIELD_COUNT_MISMATCH,FIELD_NOT_IN_TABLE", `field "x" is not a column`},
		{"wrong type", []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32}, flightSchema.Field(1), flightSchema.Field(2), flightSchema.Field(3), flightSchema.Field(4)},
			"TYPE_INCOMPATIBLE", `field "id" has Arrow type int32, the table column needs int64`},
		{"timestamp without zone", []arrow.Field{flightSchema.Field(0), flightSchema.Field(1), flightSchema.Field(2), {Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true}, flightSchema.Field(4)},
			"TYPE_INCOMPATIBLE", `field "at"`},
		{"missing NOT NULL column", flightSchema.Fields()[1:],
			"FIELD_COUNT_MISMATCH,MISSING_REQUIRED_COLUMN", `NOT NULL column "id"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := openFlight(t, s, token(t, s, testTable), testTable)
			f.sendSchema(arrow.NewSchema(tc.fields, nil))
			// Response headers come before the error status.
			hdr, err := f.c.Header()
			if err != nil || hdr == nil {
				t.Fatalf("Header: %v %v", hdr, err)
			}
			err = f.drain()
			wantStatus(t, err, codes.InvalidArgument, tc.substr)
			st, _ := status.FromError(err)
			var info *errdetails.ErrorInfo
			for _, d := range st.Details() {
				if ei, ok := d.(*errdetails.ErrorInfo); ok {
					info = ei
				}
			}
			if info == nil || info.Reason != "SCHEMA_VALIDATION_FAILED" || info.Domain != "zerobus.databricks.com" ||
				info.Metadata["causes"] != tc.causes || info.Metadata["error_code"] != "8001" {
				t.Fatalf("ErrorInfo: got %v, want SCHEMA_VALIDATION_FAILED in zerobus.databricks.com, error_code 8001, causes %s", info, tc.causes)
			}
		})
	}
}

// A Flight stream to an unknown table creates it from the Arrow schema.
func TestFlightAutoCreate(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	f := openFlight(t, s, token(t, s, testTable), testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	rec := flightRows(t, 5, 2)
	defer rec.Release()
	f.send(rec, 0)
	f.expect(0, 2)
	_ = f.c.CloseSend()
	if err := f.drain(); err != nil {
		t.Fatal(err)
	}
	cols, _ := s.TableColumns(testTable)
	var got []string
	for _, c := range cols {
		got = append(got, c.Name+" "+c.Type.String())
	}
	if diff := cmp.Diff([]string{"id bigint", "name string", "tags array<string>", "at timestamp", "loc struct<lat:double>"}, got); diff != "" {
		t.Errorf("auto-created columns (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{5, 6}, storedIDs(t, s, testTable)); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
}

// The partial-ack fault acknowledges a prefix of a batch together with
// close_stream_duration_ms, drops the rest, and ends the RPC cleanly.
func TestFlightPartialAckAndRotation(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, AfterMessages: 1, Records: 2, CloseAfter: 200 * time.Millisecond})
	tok := token(t, s, testTable)
	f := openFlight(t, s, tok, testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	r1, r2 := flightRows(t, 0, 3), flightRows(t, 3, 5)
	defer r1.Release()
	defer r2.Release()
	f.send(r1, 0)
	f.expect(0, 3)
	f.send(r2, 1)
	a := f.expect(0, 5) // the first 2 records of batch 1
	if a.CloseStreamDurationMs == nil || *a.CloseStreamDurationMs != 200 {
		t.Fatalf("partial ack: close_stream_duration_ms %v, want 200", a.CloseStreamDurationMs)
	}
	f.send(r1, 2) // after the announcement: dropped, not acked
	start := time.Now()
	if err := f.drain(); err != nil {
		t.Fatalf("end: got %v, want a clean end", err)
	}
	if el := time.Since(start); el < 100*time.Millisecond {
		t.Errorf("the RPC ended %v after the announcement, want about 200ms", el)
	}
	// The client replays the suffix (records 5..8) on a new stream.
	f2 := openFlight(t, s, tok, testTable)
	f2.sendSchema(flightSchema)
	f2.expect(-1, 0)
	suffix := r2.NewSlice(2, 5)
	defer suffix.Release()
	f2.send(suffix, 0)
	f2.expect(0, 3)
	_ = f2.c.CloseSend()
	if err := f2.drain(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seq(0, 8), storedIDs(t, s, testTable)); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
}

// Every stream fault applies to Flight streams too.
func TestFlightFaults(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)
	rec := flightRows(t, 0, 2)
	defer rec.Release()
	t.Run("error at create", func(t *testing.T) {
		s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, Message: "boom"})
		f := openFlight(t, s, tok, testTable)
		f.sendSchema(flightSchema)
		wantStatus(t, f.drain(), codes.Unavailable, "boom")
	})
	t.Run("error after a message", func(t *testing.T) {
		s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, AfterMessages: 1, Code: codes.Internal})
		f := openFlight(t, s, tok, testTable)
		f.sendSchema(flightSchema)
		f.expect(-1, 0)
		f.send(rec, 0)
		f.expect(0, 2)
		wantStatus(t, f.drain(), codes.Internal, "injected")
	})
	t.Run("close signal", func(t *testing.T) {
		s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, AfterMessages: 1, CloseAfter: 100 * time.Millisecond})
		f := openFlight(t, s, tok, testTable)
		f.sendSchema(flightSchema)
		f.expect(-1, 0)
		f.send(rec, 0)
		f.expect(0, 2)
		a := f.expect(0, 2)
		if a.CloseStreamDurationMs == nil || *a.CloseStreamDurationMs != 100 {
			t.Fatalf("close signal: %+v", a)
		}
		if err := f.drain(); err != nil {
			t.Fatalf("end: %v", err)
		}
	})
	t.Run("stall acks", func(t *testing.T) {
		s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks})
		f := openFlight(t, s, tok, testTable)
		f.sendSchema(flightSchema)
		f.expect(-1, 0)
		f.send(rec, 0)
		_ = f.c.CloseSend()
		if err := f.drain(); err != nil { // ends without an ack
			t.Fatal(err)
		}
	})
	t.Run("drop connection", func(t *testing.T) {
		s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 1})
		f := openFlight(t, s, tok, testTable)
		f.sendSchema(flightSchema)
		f.expect(-1, 0)
		f.send(rec, 0)
		f.expect(0, 2) // the ack due before the drop arrives
		wantStatus(t, f.drain(), codes.Unavailable, "")
	})
	t.Run("expire token", func(t *testing.T) {
		tok2 := token(t, s, testTable)
		s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultExpireToken})
		f := openFlight(t, s, tok2, testTable)
		f.sendSchema(flightSchema)
		wantStatus(t, f.drain(), codes.Unauthenticated, "expired")
	})
	t.Run("end stream", func(t *testing.T) {
		s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultEndStream, AfterMessages: 1})
		f := openFlight(t, s, tok, testTable)
		f.sendSchema(flightSchema)
		f.expect(-1, 0)
		f.send(rec, 0)
		f.expect(0, 2)
		if err := f.drain(); err != nil {
			t.Fatalf("end: %v", err)
		}
	})
}

// Clients may compress the IPC buffers (zstd or lz4).
func TestFlightCompressedBuffers(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	f := openFlight(t, s, token(t, s, testTable), testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	r1, r2 := flightRows(t, 0, 50), flightRows(t, 50, 50)
	defer r1.Release()
	defer r2.Release()
	if err := f.sendBatch(r1, `{"offset_id": 0}`, ipc.WithZstd()); err != nil {
		t.Fatal(err)
	}
	if err := f.sendBatch(r2, `{"offset_id": 1}`, ipc.WithLZ4()); err != nil {
		t.Fatal(err)
	}
	f.expect(0, 50)
	f.expect(1, 100)
	_ = f.c.CloseSend()
	if err := f.drain(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seq(0, 100), storedIDs(t, s, testTable)); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
}

// Whole Flight messages compressed by gRPC with zstd (grpc-encoding: zstd,
// as the official Rust client's GrpcZstd sends them) are read and stored.
// Without the server's compressor the RPC fails as UNIMPLEMENTED.
func TestFlightGRPCZstdMessages(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	f := openFlight(t, s, token(t, s, testTable), testTable, grpc.UseCompressor("zstd"))
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	for i := range 3 {
		r := flightRows(t, 100*i, 100)
		f.send(r, i)
		r.Release()
	}
	f.expect(0, 100)
	f.expect(1, 200)
	f.expect(2, 300)
	_ = f.c.CloseSend()
	if err := f.drain(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seq(0, 300), storedIDs(t, s, testTable)); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
	if st := s.Stats(); st.WireBytesReceived*2 > st.BytesReceived {
		t.Errorf("%d bytes on the wire for %d message bytes: the messages were not compressed", st.WireBytesReceived, st.BytesReceived)
	}
}

// NOT NULL struct fields of the table reject nulls even when the client's
// Arrow field is nullable (nullability is not part of the schema check).
func TestFlightNotNullStructField(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, "id BIGINT NOT NULL, loc STRUCT<lat:DOUBLE NOT NULL>")); err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "loc", Type: arrow.StructOf(arrow.Field{Name: "lat", Type: arrow.PrimitiveTypes.Float64, Nullable: true}), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	sb := b.Field(1).(*array.StructBuilder)
	sb.Append(true)
	sb.FieldBuilder(0).(*array.Float64Builder).Append(1.5)
	sb.AppendNull() // a null struct is fine
	sb.Append(true)
	sb.FieldBuilder(0).(*array.Float64Builder).AppendNull() // a null NOT NULL field is not
	rec := b.NewRecordBatch()
	defer rec.Release()

	f := openFlight(t, s, token(t, s, testTable), testTable)
	f.sendSchema(schema)
	f.expect(-1, 0)
	head := rec.NewSlice(0, 2)
	defer head.Release()
	f.send(head, 0)
	f.expect(0, 2)
	f.send(rec, 1)
	wantStatus(t, f.drain(), codes.InvalidArgument, `batch at offset 1: row 2, column "loc": field "lat": null in a NOT NULL field`)
	if diff := cmp.Diff([]int64{1, 2}, storedIDs(t, s, testTable)); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
}

// A FlightData that is not an IPC record batch ends the DoPut with
// INVALID_ARGUMENT, not UNKNOWN.
func TestFlightGarbageMessage(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	f := openFlight(t, s, token(t, s, testTable), testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	if err := f.c.Send(&flight.FlightData{DataHeader: []byte("not a flatbuffer"), AppMetadata: []byte(`{"offset_id": 0}`)}); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	wantStatus(t, f.drain(), codes.InvalidArgument, "malformed Arrow IPC message header")
}

// Random bytes as IPC messages never take the server down.
func TestFlightRandomMessages(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	tok := token(t, s, testTable)
	rng := rand.New(rand.NewPCG(1, 2))
	valid := func() []byte {
		p := ipc.GetSchemaPayload(flightSchema, memory.DefaultAllocator)
		defer p.Release()
		return bytes.Clone(p.Meta().Bytes())
	}()
	batchHdr, body := batchMessage(t, 0, 3)
	for i := 0; i < 300; i++ {
		f := openFlight(t, s, tok, testTable)
		flip := func(b []byte) []byte {
			b = bytes.Clone(b)
			for j := 0; j < 1+rng.IntN(8); j++ {
				b[rng.IntN(len(b))] = byte(rng.IntN(256))
			}
			return b
		}
		if i%2 == 0 { // a corrupt schema message
			if err := f.c.Send(&flight.FlightData{DataHeader: flip(valid)}); err != nil && err != io.EOF {
				t.Fatal(err)
			}
		} else { // a good schema, then a corrupt batch
			f.sendSchema(flightSchema)
			_ = f.c.Send(&flight.FlightData{DataHeader: flip(batchHdr), DataBody: body, AppMetadata: []byte(`{"offset_id": 0}`)})
		}
		_ = f.c.CloseSend()
		_ = f.drain() // any status, but the server must stay up
	}
	f := openFlight(t, s, tok, testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
}
