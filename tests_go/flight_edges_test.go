package tests_go

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// sizedRows is a batch of len(sizes) rows: id i and a name of sizes[i] bytes.
func sizedRows(sizes []int) arrow.RecordBatch {
	s := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "name", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, s)
	defer b.Release()
	for i, n := range sizes {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(strings.Repeat("x", n))
	}
	return b.NewRecordBatch()
}

// A row that alone is over max_message_bytes fails that row only, named by
// its index, on both transports: the rows after it are sent (they were all
// failed as not written over Flight).
func TestOversizeRowFailsAloneOnBothTransports(t *testing.T) {
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.oversize_" + tr
			cfg := serverConfig(srv, table)
			cfg.Transport = tr
			cfg.MaxMessageBytes = 64 << 10
			w := newWrapper(t, cfg)
			sizes := make([]int, 40)
			for i := range sizes {
				sizes[i] = 100
			}
			sizes[7] = 100 << 10
			rec := sizedRows(sizes)
			defer rec.Release()
			res, err := w.SendBatch(testCtx(t), rec)
			if err == nil {
				t.Fatal("SendBatch: no error for the oversize row")
			}
			checkInvariant(t, res, len(sizes))
			if res.FailedCount != 1 || res.FailedRows[0].Index != 7 || res.FailedRows[0].State != core.RowNotWritten {
				t.Fatalf("failed rows %v, want row 7 alone, not written", res.FailedRows)
			}
			key := map[string]string{core.TransportProtobuf: "max_record_bytes", core.TransportArrowFlight: "max_message_bytes"}[tr]
			var ce *core.ConversionError
			if !errors.As(res.FailedRows[0].Err, &ce) || ce.Row != 7 || !strings.Contains(ce.Error(), key) {
				t.Fatalf("row 7's error %v: want a ConversionError at row 7 naming %s", res.FailedRows[0].Err, key)
			}
			ids := storedIDs(t, srv, table)
			for i := range sizes {
				if want := map[bool]int{true: 0, false: 1}[i == 7]; ids[int64(i)] != want {
					t.Fatalf("row %d stored %d times, want %d", i, ids[int64(i)], want)
				}
			}
		})
	}
}

// all_fields_optional: a null in a column the batch declares non-nullable
// is sent as a null (the protobuf path omits the field) on both transports,
// when the table's schema comes from the batch (a new table).
func TestAllFieldsOptionalOnBothTransports(t *testing.T) {
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.optional_" + tr
			cfg := serverConfig(srv, table)
			cfg.Transport = tr
			cfg.AllFieldsOptional = true
			w := newWrapper(t, cfg)
			point := arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32})
			s := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "name", Type: arrow.BinaryTypes.String}, {Name: "p", Type: point}}, nil)
			b := array.NewRecordBuilder(memory.DefaultAllocator, s)
			defer b.Release()
			b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
			b.Field(1).(*array.StringBuilder).AppendValues([]string{"a", "", "c"}, []bool{true, false, true})
			sb := b.Field(2).(*array.StructBuilder)
			xb := sb.FieldBuilder(0).(*array.Int32Builder)
			sb.AppendValues([]bool{true, true, true})
			xb.AppendValues([]int32{10, 20, 0}, []bool{true, true, false})
			rec := b.NewRecordBatch()
			defer rec.Release()
			res, err := w.SendBatch(testCtx(t), rec)
			if err != nil {
				t.Fatalf("SendBatch: %v (failed %v)", err, res.FailedRows)
			}
			checkInvariant(t, res, 3)
			ids := storedIDs(t, srv, table)
			if len(ids) != 3 {
				t.Fatalf("stored %v, want ids 1, 2 and 3", ids)
			}
			for _, r := range srv.Rows(table) {
				id, _ := field(r.Message, "id")
				if _, has := field(r.Message, "name"); has == (id.Int() == 2) {
					t.Fatalf("row %d: name stored %v, want a null for row 2 only", id.Int(), has)
				}
			}
		})
	}
}

// A Unity Catalog table with a column type the Flight transport cannot map
// (INTERVAL here) fails the batch before anything is sent with a
// ConversionError naming the column, kept for the schema: not a
// ConnectionError to retry (the catalog answered).
func TestFlightCatalogTypeWithoutArrowMapping(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_interval"
	ws, err := url.Parse(srv.WorkspaceURL())
	if err != nil {
		t.Fatal(err)
	}
	var lookups atomic.Int32
	fwd := httputil.NewSingleHostReverseProxy(ws)
	catalog := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, zerobuslocal.UnityCatalogTablesPath) {
			fwd.ServeHTTP(rw, r)
			return
		}
		lookups.Add(1)
		rw.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(rw, `{"name":"flight_interval","columns":[`+
			`{"name":"id","type_name":"LONG","type_text":"bigint","type_json":"{\"name\":\"id\",\"type\":\"long\",\"nullable\":true,\"metadata\":{}}","nullable":true,"position":0},`+
			`{"name":"wait","type_name":"INTERVAL","type_text":"interval day to second","type_json":"{\"name\":\"wait\",\"type\":\"interval day to second\",\"nullable\":true,\"metadata\":{}}","nullable":true,"position":1}]}`)
	}))
	t.Cleanup(catalog.Close)
	cfg := flightConfig(srv, table)
	cfg.UnityCatalogURL = catalog.URL
	w := newWrapper(t, cfg)
	for range 2 {
		rec := eventBatch(memory.DefaultAllocator, 0, 5)
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		var ce *core.ConversionError
		if !errors.As(err, &ce) || ce.Column != "wait" || !strings.Contains(err.Error(), "interval") {
			t.Fatalf("SendBatch: %v (%T), want a ConversionError naming column \"wait\" and its type", err, err)
		}
		if core.IsRetryable(err) {
			t.Fatalf("%v is retryable", err)
		}
		checkInvariant(t, res, 5)
		if res.NotWrittenCount != 5 {
			t.Fatalf("not written %d, want 5", res.NotWrittenCount)
		}
	}
	if n := lookups.Load(); n != 1 {
		t.Fatalf("%d catalog lookups, want 1 (the answer is kept)", n)
	}
	if n := len(srv.Rows(table)); n != 0 {
		t.Fatalf("%d rows stored", n)
	}
}

// Over Flight, no log record at Debug, no error and no failed row's error
// shows the client secret, an issued token or an authorization header, on
// the paths where the Flight engine logs or wraps errors: a rejected
// secret, a token expiring mid-stream, a permission failure, a stream that
// cannot be recovered, a rotation.
func TestFlightNeverShowsSecrets(t *testing.T) {
	faults := []struct {
		name   string
		fault  *zerobuslocal.Fault
		secret string
	}{
		{name: "bad secret", secret: "wrong-secret-value-0123456789"},
		{name: "expired token", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultExpireToken, AfterMessages: 2}},
		{name: "permission denied", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.PermissionDenied, Persistent: true}},
		{name: "unavailable", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, Persistent: true, AfterMessages: 1}},
		{name: "close signal", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, AfterMessages: 1, CloseAfter: 10 * time.Millisecond}},
		{name: "partial ack", fault: &zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, AfterMessages: 1, CloseAfter: 10 * time.Millisecond}},
	}
	for i, tc := range faults {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := fmt.Sprintf("main.default.flight_secrets_%d", i)
			cfg := flightConfig(srv, table)
			cfg.RetryMaxAttempts = 2
			cfg.MaxMessageBytes = 4096 // several batches
			if tc.secret != "" {
				cfg.ClientSecret = tc.secret
			}
			leaks := newLeakCheck(t, srv.ClientSecret(), cfg.ClientSecret)
			w := newWrapper(t, cfg, leaks.options()...)
			if tc.fault != nil {
				srv.InjectFault(table, *tc.fault)
			}
			rec := eventBatch(memory.DefaultAllocator, 0, 500)
			defer rec.Release()
			res, err := w.SendBatch(testCtx(t), rec)
			leaks.noteResult(res)
			leaks.noteErr(err)
			checkInvariant(t, res, 500)
			if tc.fault != nil && srv.Stats().FaultsFired == 0 {
				t.Fatal("the fault never fired")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			leaks.noteErr(w.Close(ctx))
		})
	}
}

// SendReader over Flight: many batches, one with a null in a NOT NULL
// column, a partial acknowledgement in the middle: global row indices, the
// failed row named, every other row stored exactly once, progress to the
// total.
func TestFlightSendReaderPartialAckAndNullRow(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_reader"
	createTable(t, srv, table, "id BIGINT NOT NULL, name STRING NOT NULL, score DOUBLE")
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, AfterMessages: 3, Records: 17, CloseAfter: 20 * time.Millisecond})
	w := newWrapper(t, flightConfig(srv, table))
	var recs []arrow.RecordBatch
	for i := range 8 {
		recs = append(recs, eventBatch(memory.DefaultAllocator, int64(i*100), 100)) // name is null where id%7 == 0
	}
	rdr, err := array.NewRecordReader(eventSchema, recs)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	for _, r := range recs {
		r.Release()
	}
	var last core.Progress
	res, err := w.SendReader(testCtx(t), rdr, core.WithTotalRows(800), core.WithProgress(func(p core.Progress) { last = p }))
	if err == nil {
		t.Fatal("SendReader: no error for the null names")
	}
	checkInvariant(t, res, 800)
	nulls := map[int]bool{}
	for i := 0; i < 800; i += 7 {
		nulls[i] = true
	}
	if res.NotWrittenCount != len(nulls) || res.UnknownCount != 0 {
		t.Fatalf("not written %d, unknown %d; want %d, 0", res.NotWrittenCount, res.UnknownCount, len(nulls))
	}
	for _, f := range res.FailedRows {
		var ce *core.ConversionError
		if !nulls[f.Index] || !errors.As(f.Err, &ce) || ce.Column != "name" || ce.Row != f.Index {
			t.Fatalf("failed row %d: %v", f.Index, f.Err)
		}
	}
	ids := storedIDs(t, srv, table)
	for i := range 800 {
		if want := map[bool]int{true: 0, false: 1}[nulls[i]]; ids[int64(i)] != want {
			t.Fatalf("row %d stored %d times, want %d", i, ids[int64(i)], want)
		}
	}
	if srv.Stats().FaultsFired != 1 {
		t.Fatal("the partial ack did not happen")
	}
	if last.Rows != 800 || last.TotalRows != 800 || last.Failed != int64(len(nulls)) {
		t.Fatalf("last progress %+v", last)
	}
}

// WithDescriptor / WithMessage describe protobuf records: with transport
// arrow_flight they were accepted and ignored; New refuses them.
func TestFlightRefusesDescriptorOptions(t *testing.T) {
	desc := &descriptorpb.DescriptorProto{Name: proto.String("Row"), Field: []*descriptorpb.FieldDescriptorProto{{
		Name: proto.String("id"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum(),
		Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}}}
	cfg := core.DefaultConfig()
	cfg.TableName = "main.default.t"
	cfg.WriterDisabled = true
	cfg.Transport = core.TransportArrowFlight
	_, err := core.New(context.Background(), cfg, core.WithDescriptor(desc))
	var ce *core.ConfigurationError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "WithDescriptor/WithMessage") || !strings.Contains(err.Error(), "arrow_flight") {
		t.Fatalf("New(arrow_flight, WithDescriptor): %v, want a ConfigurationError naming the option and the transport", err)
	}
	cfg.Transport = core.TransportProtobuf
	w, err := core.New(context.Background(), cfg, core.WithDescriptor(desc))
	if err != nil {
		t.Fatalf("New(protobuf, WithDescriptor): %v", err)
	}
	_ = w.Close(context.Background())
}

// Settings that mean nothing over Flight are refused by Validate and New,
// named by key: max_record_bytes (no protobuf record; a row is bounded by
// max_message_bytes) and protobuf debug files as the only debug output. Both
// were accepted and ignored. Their defaults and the Arrow debug files pass.
func TestFlightRefusesProtobufOnlySettings(t *testing.T) {
	base := core.DefaultConfig()
	base.TableName = "main.default.t"
	base.WriterDisabled = true
	base.Transport = core.TransportArrowFlight
	for _, c := range []struct {
		name string
		set  func(*core.Config)
		key  string // "" : accepted
	}{
		{"max_record_bytes", func(c *core.Config) { c.MaxRecordBytes = 1000 }, "max_record_bytes"},
		{"max_record_bytes default", func(c *core.Config) { c.MaxRecordBytes = core.DefaultMaxRecordBytes }, ""},
		{"debug_protobuf_enabled", func(c *core.Config) { c.DebugProtobufEnabled = true; c.DebugOutputDir = t.TempDir() }, "debug_protobuf_enabled"},
		{"debug_enabled and debug_protobuf_enabled", func(c *core.Config) {
			c.DebugEnabled, c.DebugProtobufEnabled, c.DebugOutputDir = true, true, t.TempDir()
		}, "debug_protobuf_enabled"},
		{"debug_enabled", func(c *core.Config) { c.DebugEnabled = true; c.DebugOutputDir = t.TempDir() }, ""},
		{"both kinds", func(c *core.Config) {
			c.DebugArrowEnabled, c.DebugProtobufEnabled, c.DebugOutputDir = true, true, t.TempDir()
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.set(&cfg)
			sending := cfg // Validate wants a debug output with the writer disabled
			sending.WriterDisabled, sending.Endpoint = false, "http://127.0.0.1:1"
			verr := sending.Validate()
			w, err := core.New(context.Background(), cfg)
			if c.key == "" {
				if err != nil || verr != nil {
					t.Fatalf("New: %v, Validate: %v", err, verr)
				}
				_ = w.Close(context.Background())
				return
			}
			var ce *core.ConfigurationError
			if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), "arrow_flight") {
				t.Fatalf("New: %v, want a ConfigurationError naming %s", err, c.key)
			}
			if verr == nil || verr.Error() != err.Error() {
				t.Fatalf("Validate: %v, want New's error %v", verr, err)
			}
			cfg.Transport = core.TransportProtobuf // the same settings are fine there
			sending.Transport = core.TransportProtobuf
			if err := sending.Validate(); err != nil {
				t.Fatalf("Validate(protobuf): %v", err)
			}
			w, err = core.New(context.Background(), cfg)
			if err != nil {
				t.Fatalf("New(protobuf): %v", err)
			}
			_ = w.Close(context.Background())
		})
	}
}

// Validate reports the Flight refusals with every other problem at once,
// each named by key, before any Wrapper is built.
func TestValidateListsFlightRefusalsWithTheOtherProblems(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.TableName = "main.default.t"
	cfg.Endpoint = "http://127.0.0.1:1"
	cfg.Transport = core.TransportArrowFlight
	cfg.MaxRecordBytes = 1000
	cfg.DebugProtobufEnabled, cfg.DebugOutputDir = true, t.TempDir()
	cfg.StreamsPerSchema = 100
	var ce *core.ConfigurationError
	if err := cfg.Validate(); !errors.As(err, &ce) {
		t.Fatalf("Validate: %v, want a ConfigurationError", err)
	}
	var keys []string
	for _, p := range ce.Problems {
		keys = append(keys, p.YAMLKey)
	}
	slices.Sort(keys)
	if strings.Join(keys, ",") != "debug_protobuf_enabled,max_record_bytes,streams_per_schema" {
		t.Fatalf("problems %v (%v), want max_record_bytes, streams_per_schema and debug_protobuf_enabled", keys, ce)
	}
}

// A Flight wrapper's own Config (max_record_bytes lowered to a small
// max_message_bytes by the defaults, not by the user) builds a wrapper again.
func TestFlightConfigOfAWrapperIsAccepted(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.TableName, cfg.WriterDisabled, cfg.Transport = "main.default.t", true, core.TransportArrowFlight
	cfg.DebugArrowEnabled, cfg.DebugOutputDir = true, t.TempDir()
	cfg.MaxMessageBytes, cfg.MaxRecordBytes = 1<<20, 0
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	again, err := core.New(context.Background(), w.Config())
	if err != nil {
		t.Fatalf("New(w.Config()) with max_record_bytes %d: %v", w.Config().MaxRecordBytes, err)
	}
	_ = again.Close(context.Background())
}

// arrow_flight_compression with transport protobuf would be ignored: it is
// refused by name; "none" (the default spelled out) is accepted.
func TestProtobufRefusesFlightCompression(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.TableName, cfg.Endpoint, cfg.Transport = "main.default.t", "http://127.0.0.1:1", core.TransportProtobuf
	for _, c := range []struct{ value, want string }{{"zstd", "arrow_flight_compression"}, {"grpc_zstd", "arrow_flight_compression"}, {"none", ""}, {"", ""}} {
		cfg.ArrowFlightCompression = c.value
		err := cfg.Validate()
		if c.want == "" {
			if err != nil {
				t.Errorf("%q: %v", c.value, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "transport protobuf") {
			t.Errorf("%q: %v, want an error naming %s", c.value, err, c.want)
		}
	}
	cfg.Transport, cfg.ArrowFlightCompression = core.TransportArrowFlight, "zstd"
	if err := cfg.Validate(); err != nil {
		t.Errorf("arrow_flight with zstd: %v", err)
	}
}

// A dictionary column (a pandas Categorical) cast to plain strings holds far
// more than its input: compressed, a chunk sized by the input fits
// max_message_bytes while its buffers decompress to more than the server
// takes (the local server: 16 × max_message_bytes). Such chunks are halved
// until they hold at most 8 × max_message_bytes, and every row is stored.
func TestFlightCompressedDictionaryChunksBounded(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{MaxMessageBytes: 1 << 20})
	const table = "main.default.flight_dict_zstd"
	createTable(t, srv, table, "id BIGINT NOT NULL, tag STRING")
	cfg := flightConfig(srv, table)
	cfg.MaxMessageBytes = 1 << 20
	cfg.ArrowFlightCompression = "zstd"
	w := newWrapper(t, cfg)
	mem := memory.DefaultAllocator
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	s := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "tag", Type: dt, Nullable: true}}, nil)
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	const n = 200_000
	tags := b.Field(1).(*array.BinaryDictionaryBuilder)
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if err := tags.AppendString(strings.Repeat(string(rune('a'+i%4)), 256)); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	res, err := w.SendBatch(testCtx(t), rec)
	checkInvariant(t, res, n)
	if err != nil || res.SuccessfulCount != n {
		t.Fatalf("SendBatch: %v, %d of %d rows durable", err, res.SuccessfulCount, n)
	}
	if ids := storedIDs(t, srv, table); len(ids) != n {
		t.Fatalf("%d distinct ids stored, want %d", len(ids), n)
	}
}
