package tests_go

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// flightConfig is serverConfig with transport arrow_flight.
func flightConfig(srv *zerobuslocal.Server, table string) core.Config {
	cfg := serverConfig(srv, table)
	cfg.Transport = core.TransportArrowFlight
	return cfg
}

// flightStreamsCreated counts the streams the server created over Flight
// (their ids start with "flight-") and over the protobuf service.
func streamsByTransport(srv *zerobuslocal.Server) (flight, proto int) {
	for _, ev := range srv.Events() {
		if ev.Kind == zerobuslocal.EventStreamCreated {
			if strings.HasPrefix(ev.StreamID, "flight-") {
				flight++
			} else {
				proto++
			}
		}
	}
	return flight, proto
}

func TestFlightTransportSendsArrowAndReadsBack(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_basic"
	reader := sdkmetric.NewManualReader()
	w := newWrapper(t, flightConfig(srv, table), core.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	rec := eventBatch(memory.DefaultAllocator, 0, 1000)
	defer rec.Release()
	res, err := w.SendBatch(testCtx(t), rec)
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	checkInvariant(t, res, 1000)
	if res.SuccessfulCount != 1000 || res.Attempts != 1 || res.BatchSizeBytes <= 0 {
		t.Fatalf("result %v", res)
	}
	if err := w.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if f, p := streamsByTransport(srv); f < 1 || p != 0 {
		t.Fatalf("streams: %d over Flight, %d over protobuf; want Flight only", f, p)
	}
	rows := srv.Rows(table)
	if len(rows) != 1000 {
		t.Fatalf("stored %d rows", len(rows))
	}
	for i, r := range rows {
		id, _ := field(r.Message, "id")
		name, hasName := field(r.Message, "name")
		score, _ := field(r.Message, "score")
		if id.Int() != int64(i) || score.Float() != float64(i)/2 {
			t.Fatalf("row %d: id %v score %v", i, id, score)
		}
		if want := fmt.Sprintf("event-%d", i); (i%7 == 0) == hasName || hasName && name.String() != want {
			t.Fatalf("row %d: name %v (set %t)", i, name, hasName)
		}
	}
	// Same instruments, with the transport attribute.
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	if !hasAttr(rm, "zerobus.batches.sent", attribute.String("zerobus.transport", "arrow_flight")) ||
		!hasAttr(rm, "zerobus.stream.creations", attribute.String("zerobus.transport", "arrow_flight")) {
		t.Fatalf("no zerobus.transport=arrow_flight on zerobus.batches.sent / zerobus.stream.creations")
	}
}

// hasAttr reports whether metric name has a data point with kv.
func hasAttr(rm metricdata.ResourceMetrics, name string, kv attribute.KeyValue) bool {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			if s, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range s.DataPoints {
					if v, ok := dp.Attributes.Value(kv.Key); ok && v == kv.Value {
						return true
					}
				}
			}
		}
	}
	return false
}

func TestFlightSchemaMismatchNamesColumnsBeforeSending(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_mismatch"
	createTable(t, srv, table, "id INT NOT NULL, name STRING, score DOUBLE, region STRING NOT NULL")
	w := newWrapper(t, flightConfig(srv, table))
	rec := eventBatch(memory.DefaultAllocator, 0, 10)
	defer rec.Release()
	res, err := w.SendBatch(testCtx(t), rec)
	checkInvariant(t, res, 10)
	var ce *core.ConversionError
	var sm *core.SchemaMismatchError
	if !errors.As(err, &ce) || !errors.As(err, &sm) || core.KindOf(err) != core.KindConversion {
		t.Fatalf("SendBatch: %v, want a *ConversionError with a *SchemaMismatchError", err)
	}
	// (id, int64 into the table's INT, is cast, each value checked: not a
	// mismatch; see narrow_test.go.)
	want := []core.ColumnMismatch{
		{Column: "region", TableType: "large_utf8", Reason: "the column is NOT NULL: add it to the batch"},
	}
	if fmt.Sprint(sm.Columns) != fmt.Sprint(want) {
		t.Fatalf("mismatches %+v, want %+v", sm.Columns, want)
	}
	for _, s := range []string{`"region"`} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if res.NotWrittenCount != 10 {
		t.Fatalf("not written %d, want 10", res.NotWrittenCount)
	}
	if st := srv.Stats(); st.StreamsCreated != 0 || st.MessagesReceived != 0 {
		t.Fatalf("something was sent: %+v", st)
	}
}

func TestFlightCastsToTableTypesAndNullRows(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_casts"
	createTable(t, srv, table, "id BIGINT NOT NULL, small INT, name STRING, at TIMESTAMP, price DECIMAL(10,2)")
	mem := memory.DefaultAllocator
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "small", Type: arrow.PrimitiveTypes.Int8},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}},
		{Name: "price", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int32Builder).AppendValues([]int32{1, 0, 3}, []bool{true, false, true})
	b.Field(1).(*array.Int8Builder).AppendValues([]int8{-5, 6, 7}, nil)
	b.Field(2).(*array.StringBuilder).AppendValues([]string{"a", "b", ""}, []bool{true, true, false})
	b.Field(3).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1_700_000_000_123, 0, 1}, nil)
	pb := b.Field(4).(*array.Decimal128Builder)
	for _, s := range []string{"12.50", "0.01", "-3.00"} {
		if err := pb.AppendValueFromString(s); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	w := newWrapper(t, flightConfig(srv, table))
	res, err := w.SendBatch(testCtx(t), rec)
	checkInvariant(t, res, 3)
	if res.SuccessfulCount != 2 || len(res.FailedRows) != 1 || res.FailedRows[0].Index != 1 || res.FailedRows[0].State != core.RowNotWritten {
		t.Fatalf("result %v (err %v), want row 1 not written", res, err)
	}
	var ce *core.ConversionError
	if !errors.As(res.FailedRows[0].Err, &ce) || ce.Row != 1 || ce.Column != "id" {
		t.Fatalf("row 1 error %v, want a *ConversionError at row 1, column id", res.FailedRows[0].Err)
	}
	rows := srv.Rows(table)
	if len(rows) != 2 {
		t.Fatalf("stored %d rows", len(rows))
	}
	got := []string{}
	for _, r := range rows {
		var parts []string
		for _, f := range []string{"id", "small", "name", "at", "price"} {
			v, ok := field(r.Message, f)
			if !ok {
				parts = append(parts, "null")
				continue
			}
			parts = append(parts, fmt.Sprint(v.Interface()))
		}
		got = append(got, strings.Join(parts, ","))
	}
	want := []string{"1,-5,a,1700000000123000,12.50", "3,7,null,1000,-3.00"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored %q, want %q", got, want)
	}
}

func TestFlightPartialAckIsExact(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_partial"
	// The second batch is acknowledged for its first 123 rows only, then the
	// server ends the stream: the client replays rows 123… on a new one.
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, AfterMessages: 1, Records: 123, CloseAfter: 20 * time.Millisecond})
	w := newWrapper(t, flightConfig(srv, table))
	for i := range 2 {
		rec := eventBatch(memory.DefaultAllocator, int64(i*500), 500)
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		if err != nil {
			t.Fatalf("SendBatch %d: %v", i, err)
		}
		checkInvariant(t, res, 500)
		if want := i + 1; res.Attempts != want {
			t.Fatalf("batch %d: attempts %d, want %d", i, res.Attempts, want)
		}
	}
	ids := storedIDs(t, srv, table)
	for i := range 1000 {
		if ids[int64(i)] != 1 {
			t.Fatalf("row %d stored %d times, want exactly once (the acknowledged prefix is not re-sent)", i, ids[int64(i)])
		}
	}
	if srv.Stats().FaultsFired != 1 {
		t.Fatalf("faults fired %d: the partial ack did not happen", srv.Stats().FaultsFired)
	}
}

func TestFlightConcurrentSendersAndWriterDisabled(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_concurrent"
	w := newWrapper(t, flightConfig(srv, table))
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := eventBatch(memory.DefaultAllocator, int64(g*100), 100)
			defer rec.Release()
			res, err := w.SendBatch(testCtx(t), rec)
			if err != nil || res.SuccessfulCount != 100 {
				t.Errorf("sender %d: %v %v", g, res, err)
			}
		}()
	}
	wg.Wait()
	ids := storedIDs(t, srv, table)
	if len(ids) != 1600 {
		t.Fatalf("stored %d distinct ids, want 1600", len(ids))
	}

	cfg := core.DefaultConfig()
	cfg.TableName = table
	cfg.WriterDisabled = true
	cfg.Transport = core.TransportArrowFlight
	wd := newWrapper(t, cfg)
	rec := eventBatch(memory.DefaultAllocator, 0, 50)
	defer rec.Release()
	res, err := wd.SendBatch(testCtx(t), rec)
	if err != nil || res.SuccessfulCount != 50 || !res.WriterDisabled {
		t.Fatalf("writer disabled: %v %v", res, err)
	}
}

func TestTransportSettingIsValidated(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.TableName = "main.default.t"
	cfg.Endpoint = "http://127.0.0.1:1"
	cfg.Transport = "carrier_pigeon"
	cfg.ArrowFlightCompression = "gzip"
	err := cfg.Validate()
	for _, s := range []string{"Transport", "transport", "ZEROBUS_TRANSPORT", "carrier_pigeon", "ArrowFlightCompression", "gzip"} {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Fatalf("Validate: %v, want it to name %q", err, s)
		}
	}
	env := map[string]string{"ZEROBUS_TRANSPORT": "arrow_flight", "ZEROBUS_ARROW_FLIGHT_COMPRESSION": "zstd"}
	c := core.DefaultConfig()
	if err := c.ApplyEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	if c.Transport != "arrow_flight" || c.ArrowFlightCompression != "zstd" {
		t.Fatalf("from env: %q %q", c.Transport, c.ArrowFlightCompression)
	}
	y, err := core.ParseConfigYAML([]byte("table_name: main.default.t\ntransport: arrow_flight\n"))
	if err != nil || y.Transport != core.TransportArrowFlight {
		t.Fatalf("from YAML: %q %v", y.Transport, err)
	}
	if core.DefaultConfig().Transport != core.TransportProtobuf {
		t.Fatalf("default transport %q", core.DefaultConfig().Transport)
	}
}

// forwardingProxy is an HTTP proxy on 127.0.0.1 that serves CONNECT tunnels
// and forwards plain HTTP requests, recording "METHOD request-target".
func forwardingProxy(t *testing.T) (addr string, seen func() []string) {
	t.Helper()
	var (
		mu   sync.Mutex
		reqs []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reqs = append(reqs, r.Method+" "+r.RequestURI)
		mu.Unlock()
		if r.Method == http.MethodConnect {
			up, err := net.Dial("tcp", r.Host)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				up.Close()
				return
			}
			_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
			go func() { _, _ = io.Copy(up, buf); up.Close() }()
			_, _ = io.Copy(conn, up)
			conn.Close()
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(reqs)
	}
}

// TestFlightThroughProxy: with transport arrow_flight the token request,
// the Unity Catalog lookup and the Flight RPC all go through ProxyURL.
func TestFlightThroughProxy(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_proxied"
	addr, seen := forwardingProxy(t)
	cfg := flightConfig(srv, table)
	cfg.ProxyURL = "http://" + addr
	w := newWrapper(t, cfg)
	rec := eventBatch(memory.DefaultAllocator, 0, 20)
	defer rec.Release()
	if res, err := w.SendBatch(testCtx(t), rec); err != nil || res.SuccessfulCount != 20 {
		t.Fatalf("SendBatch through the proxy: %v %v", res, err)
	}
	got := seen()
	for _, want := range []string{
		"POST " + srv.WorkspaceURL() + "/oidc/v1/token",
		"GET " + srv.WorkspaceURL() + zerobuslocal.UnityCatalogTablesPath + table,
		"CONNECT " + srv.Addr(),
	} {
		if !slices.Contains(got, want) {
			t.Errorf("proxy saw %q, want %q among them", got, want)
		}
	}
	if n := len(storedIDs(t, srv, table)); n != 20 {
		t.Fatalf("stored %d rows", n)
	}
}

// TestFlightOverTLS: the Flight RPC uses the Wrapper's TLS settings (the
// local server's generated CA via WithRootCAs).
func TestFlightOverTLS(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{TLS: true})
	const table = "main.default.flight_tls"
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(srv.CACertPEM()) {
		t.Fatal("no CA certificate")
	}
	if !strings.HasPrefix(srv.Endpoint(), "https://") {
		t.Fatalf("endpoint %s is not TLS", srv.Endpoint())
	}
	w := newWrapper(t, flightConfig(srv, table), core.WithRootCAs(pool))
	rec := eventBatch(memory.DefaultAllocator, 0, 30)
	defer rec.Release()
	if res, err := w.SendBatch(testCtx(t), rec); err != nil || res.SuccessfulCount != 30 {
		t.Fatalf("SendBatch over TLS: %v %v", res, err)
	}
	if f, _ := streamsByTransport(srv); f != 1 || len(storedIDs(t, srv, table)) != 30 {
		t.Fatalf("flight streams %d, stored %d", f, len(storedIDs(t, srv, table)))
	}
}

// TestFlightDebugFiles: on the Flight path the Arrow debug file holds the
// batches as passed (before the cast); no protobuf debug file is written.
func TestFlightDebugFiles(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_debug"
	dir := t.TempDir()
	cfg := flightConfig(srv, table)
	cfg.DebugEnabled = true
	cfg.DebugOutputDir = dir
	w, err := core.New(context.Background(), cfg, core.WithRetryBackoff(noWait))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		rec := eventBatch(memory.DefaultAllocator, int64(i*10), 10)
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		if err != nil || res.SuccessfulCount != 10 {
			t.Fatalf("SendBatch: %v %v", res, err)
		}
	}
	if err := w.Close(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	batches, err := core.ReadDebugArrowFile(filepath.Join(dir, "zerobus", "arrow", table+".arrow"), memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, b := range batches {
		if !b.Schema().Equal(eventSchema) {
			t.Errorf("debug batch schema %s, want the caller's %s", b.Schema(), eventSchema)
		}
		rows += int(b.NumRows())
		b.Release()
	}
	if rows != 20 {
		t.Fatalf("debug file holds %d rows, want 20", rows)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "zerobus", "proto", "*.proto")); len(matches) != 0 {
		if _, recs, err := core.ReadDebugProtoFile(matches[0]); err != nil || len(recs) != 0 {
			t.Fatalf("protobuf debug file %s written on the Flight path: %d records (%v)", matches[0], len(recs), err)
		}
	}
}

// TestFlightIdleSchemasAreEvicted: every distinct caller schema has its own
// Flight streams (cast to the same table); past 16 schemas the least
// recently used idle one is closed, as on the protobuf path.
func TestFlightIdleSchemasAreEvicted(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.flight_schemas"
	createTable(t, srv, table, "id BIGINT, name STRING")
	w := newWrapper(t, flightConfig(srv, table))
	ids := []arrow.DataType{arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64,
		arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint32}
	names := []arrow.DataType{arrow.BinaryTypes.LargeString, arrow.BinaryTypes.String, arrow.BinaryTypes.StringView}
	n := 0
	for _, nt := range names {
		for _, it := range ids {
			schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: it}, {Name: "name", Type: nt, Nullable: true}}, nil)
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			for i := range 3 {
				v := int64(n*3 + i)
				switch ib := b.Field(0).(type) {
				case *array.Int8Builder:
					ib.Append(int8(v))
				case *array.Int16Builder:
					ib.Append(int16(v))
				case *array.Int32Builder:
					ib.Append(int32(v))
				case *array.Int64Builder:
					ib.Append(v)
				case *array.Uint8Builder:
					ib.Append(uint8(v))
				case *array.Uint16Builder:
					ib.Append(uint16(v))
				case *array.Uint32Builder:
					ib.Append(uint32(v))
				}
				switch nb := b.Field(1).(type) {
				case *array.StringBuilder:
					nb.Append(fmt.Sprint(v))
				case *array.LargeStringBuilder:
					nb.Append(fmt.Sprint(v))
				case *array.StringViewBuilder:
					nb.Append(fmt.Sprint(v))
				}
			}
			rec := b.NewRecordBatch()
			b.Release()
			res, err := w.SendBatch(testCtx(t), rec)
			rec.Release()
			if err != nil || res.SuccessfulCount != 3 {
				t.Fatalf("schema %d (%s): %v %v", n, schema, res, err)
			}
			n++
		}
	}
	if err := w.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// 21 schemas, at most 16 kept: the evicted ones' streams were closed.
	deadline := time.Now().Add(10 * time.Second)
	for srv.Stats().StreamsEnded < int64(n-16) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st := srv.Stats(); st.StreamsCreated != int64(n) || st.StreamsEnded < int64(n-16) {
		t.Fatalf("streams created %d, ended %d: want %d created and at least %d closed by eviction", st.StreamsCreated, st.StreamsEnded, n, n-16)
	}
	got := storedIDs(t, srv, table)
	if len(got) != 3*n {
		t.Fatalf("stored %d distinct ids, want %d", len(got), 3*n)
	}
}

// arrow_flight_compression grpc_zstd compresses each whole Flight message
// (grpc-encoding zstd): the server reads fewer bytes off the wire than the
// messages hold, the IPC buffers themselves are not compressed, and every
// row is stored once. Without compression the two counts are equal.
func TestFlightGRPCZstdCompression(t *testing.T) {
	msgBytes := map[string]int64{}
	for _, comp := range []string{"grpc_zstd", "none"} {
		t.Run(comp, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.flight_" + comp
			cfg := flightConfig(srv, table)
			cfg.ArrowFlightCompression = comp
			w := newWrapper(t, cfg)
			rec := eventBatch(memory.DefaultAllocator, 0, 5000)
			defer rec.Release()
			res, err := w.SendBatch(testCtx(t), rec)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariant(t, res, 5000)
			ids := storedIDs(t, srv, table)
			for i := range 5000 {
				if ids[int64(i)] != 1 {
					t.Fatalf("row %d stored %d times", i, ids[int64(i)])
				}
			}
			st := srv.Stats()
			if st.BytesReceived < int64(res.BatchSizeBytes) {
				t.Fatalf("server received %d message bytes for a %d-byte batch", st.BytesReceived, res.BatchSizeBytes)
			}
			ratio := float64(st.WireBytesReceived) / float64(st.BytesReceived)
			t.Logf("%s: %d message bytes, %d on the wire (%.2f)", comp, st.BytesReceived, st.WireBytesReceived, ratio)
			if comp == "none" && st.WireBytesReceived != st.BytesReceived {
				t.Fatalf("uncompressed: %d wire bytes for %d message bytes", st.WireBytesReceived, st.BytesReceived)
			}
			if comp == "grpc_zstd" && ratio > 0.8 {
				t.Fatalf("grpc_zstd: %d wire bytes for %d message bytes (%.2f)", st.WireBytesReceived, st.BytesReceived, ratio)
			}
			msgBytes[comp] = st.BytesReceived
		})
	}
	if msgBytes["grpc_zstd"] != msgBytes["none"] {
		t.Fatalf("message bytes %v: grpc_zstd should leave the IPC buffers as they are", msgBytes)
	}
}
