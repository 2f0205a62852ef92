package pybind

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.PrimitiveTypes.Float64), Nullable: true},
}, nil)

// testBatch builds n rows with ids start..start+n-1.
func testBatch(mem memory.Allocator, start, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, testSchema)
	defer b.Release()
	for i := start; i < start+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%5 == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("name-%d", i))
		}
		lb := b.Field(2).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.Float64Builder).AppendValues([]float64{float64(i), 0.5}, nil)
	}
	return b.NewRecordBatch()
}

// segmentsOf describes Go byte slices as SendBatch's memory segments. The
// caller keeps them alive (runtime.KeepAlive) while the segments are used.
func segmentsOf(bs ...[]byte) string {
	var parts []string
	for _, b := range bs {
		if len(b) > 0 {
			parts = append(parts, fmt.Sprintf("%d:%d", uintptr(unsafe.Pointer(&b[0])), len(b)))
		}
	}
	return strings.Join(parts, ",")
}

func TestGather(t *testing.T) {
	a, b := []byte("hello "), []byte("world")
	got, err := gather(segmentsOf(a, b))
	if err != nil || string(got) != "hello world" {
		t.Errorf("gather = %q, %v; want \"hello world\"", got, err)
	}
	a[0] = 'j'
	if string(got) != "hello world" {
		t.Errorf("gather aliases its input: %q", got)
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	for _, bad := range []string{"12", "x:1", "1:y", "0:5", "5:-1"} {
		if _, err := gather(bad); err == nil {
			t.Errorf("gather(%q) succeeded, want an error", bad)
		}
	}
	if got, err := gather(""); err != nil || len(got) != 0 {
		t.Errorf("gather(\"\") = %q, %v; want empty", got, err)
	}
}

func TestReadIPCRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	in := []arrow.RecordBatch{testBatch(mem, 0, 7), testBatch(mem, 7, 0), testBatch(mem, 7, 3)}
	defer releaseAll(in)
	data, err := writeIPC(testSchema, in...)
	if err != nil {
		t.Fatal(err)
	}
	own, err := gather(segmentsOf(data))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readIPC(own)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAll(got)
	// the decoded batches must not alias the caller's buffer
	for i := range data {
		data[i] = 0xAB
	}
	if len(got) != len(in) {
		t.Fatalf("got %d batches, want %d", len(got), len(in))
	}
	for i := range in {
		if !array.RecordEqual(got[i], in[i]) {
			t.Errorf("batch %d: got %v, want %v", i, got[i], in[i])
		}
	}
}

// splitMessages cuts an IPC stream into its encapsulated messages, as
// Python hands them over (schema.serialize(), batch.serialize(), ...).
func splitMessages(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for len(data) >= 8 {
		n := int(binary.LittleEndian.Uint32(data[4:8]))
		if n == 0 {
			break
		}
		body := ipc.NewMessage(memory.NewBufferBytes(data[8:8+n]), memory.NewBufferBytes(nil)).BodyLen()
		end := 8 + n + int(body)
		out = append(out, data[:end:end])
		data = data[end:]
	}
	return out
}

func TestReadSegmentsBorrowAndCopy(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	in := []arrow.RecordBatch{testBatch(mem, 0, 5), testBatch(mem, 5, 3)}
	defer releaseAll(in)
	data, err := writeIPC(testSchema, in...)
	if err != nil {
		t.Fatal(err)
	}
	msgs := splitMessages(t, data)
	if len(msgs) != 3 {
		t.Fatalf("stream has %d messages, want schema + 2 batches", len(msgs))
	}
	idBytes := func(rec arrow.RecordBatch) []byte {
		return rec.Column(0).Data().Buffers()[1].Bytes()
	}
	for _, tc := range []struct {
		name     string
		segs     [][]byte
		borrow   bool
		inPlace  bool
		wantRecs int
	}{
		{"one segment per message, borrowed", msgs, true, true, 2},
		{"whole stream, borrowed", [][]byte{data}, true, true, 2},
		{"one segment per message, copied", msgs, false, false, 2},
		{"messages straddling segments are copied", [][]byte{data[:13], data[13:]}, true, false, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readSegments(segmentsOf(tc.segs...), tc.borrow)
			if err != nil {
				t.Fatal(err)
			}
			defer releaseAll(got)
			if len(got) != tc.wantRecs {
				t.Fatalf("got %d batches, want %d", len(got), tc.wantRecs)
			}
			for i := range in {
				if !array.RecordEqual(got[i], in[i]) {
					t.Errorf("batch %d: got %v, want %v", i, got[i], in[i])
				}
			}
			// In place means the id column's values are the caller's bytes.
			ids := idBytes(got[0])
			inside := false
			for _, s := range tc.segs {
				lo := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
				p := uintptr(unsafe.Pointer(unsafe.SliceData(ids)))
				inside = inside || (p >= lo && p < lo+uintptr(len(s)))
			}
			if inside != tc.inPlace {
				t.Errorf("batch reads the caller's memory = %v, want %v", inside, tc.inPlace)
			}
		})
	}
	runtime.KeepAlive(data)
}

func TestReadSegmentsCopiesDictionaries(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	schema := arrow.NewSchema([]arrow.Field{{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "d", Type: dt})}}, nil)
	if !hasDictionary(schema) || hasDictionary(testSchema) {
		t.Fatal("hasDictionary misses a nested dictionary or sees one that is not there")
	}
	b := array.NewRecordBuilder(mem, schema)
	sb := b.Field(0).(*array.StructBuilder)
	for _, v := range []string{"a", "b", "a"} {
		sb.Append(true)
		if err := sb.FieldBuilder(0).(*array.BinaryDictionaryBuilder).AppendString(v); err != nil {
			t.Fatal(err)
		}
	}
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	data, err := writeIPC(schema, rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := readSegments(segmentsOf(data), true)
	if err != nil {
		t.Fatal(err)
	}
	defer releaseAll(got)
	for i := range data {
		data[i] = 0xEE // the caller frees or reuses its buffer
	}
	if len(got) != 1 || !array.RecordEqual(got[0], rec) {
		t.Errorf("dictionary batch changed with the caller's buffer: got %v, want %v", got, rec)
	}
}

func TestReadIPCErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rec := testBatch(mem, 0, 4)
	defer rec.Release()
	full, err := writeIPC(testSchema, rec)
	if err != nil {
		t.Fatal(err)
	}
	schemaOnly, err := writeIPC(testSchema)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("schema only is one empty batch", func(t *testing.T) {
		got, err := readIPC(schemaOnly)
		if err != nil {
			t.Fatal(err)
		}
		defer releaseAll(got)
		if len(got) != 1 || got[0].NumRows() != 0 || !got[0].Schema().Equal(testSchema) {
			t.Errorf("got %v, want one empty batch of the schema", got)
		}
	})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "not an Arrow IPC stream"},
		{"garbage", []byte("definitely not arrow data"), "[zerobus:conversion]"},
		{"truncated body", full[:len(full)-40], "truncated Arrow IPC stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readIPC(tc.data)
			releaseAll(got)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("readIPC error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	cfg, err := parseConfig(`{"table_name": "a.b.c", "client_secret": "x${NOPE}y", "retry_base_delay_ms": 250, "debug_enabled": true}`)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.TableName != "a.b.c" || cfg.ClientSecret != "x${NOPE}y" || cfg.RetryBaseDelay.Milliseconds() != 250 || !cfg.DebugEnabled {
		t.Errorf("parseConfig = %v (secret literal %v)", cfg, cfg.ClientSecret == "x${NOPE}y")
	}
	if cfg.RetryMaxAttempts != core.DefaultRetryMaxAttempts {
		t.Errorf("RetryMaxAttempts = %d, want the default %d", cfg.RetryMaxAttempts, core.DefaultRetryMaxAttempts)
	}
	_, err = parseConfig(`{"tabel_name": "a.b.c"}`)
	if err == nil || !strings.Contains(err.Error(), "tabel_name") {
		t.Errorf("unknown key error = %v, want it named", err)
	}
}

func TestConfigJSONRoundTrip(t *testing.T) {
	want := core.DefaultConfig()
	want.Endpoint, want.TableName, want.ClientSecret = "http://127.0.0.1:1", "a.b.c", "s"
	want.DebugRotationInterval = 0
	want.DebugArrowCompression = "zstd"
	want.ProxyURL = "http://user:proxy-pw@127.0.0.1:3128"
	text, err := configJSON(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseConfig(text)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want.String(), got.String()); diff != "" {
		t.Errorf("config changed through JSON (-want +got):\n%s", diff)
	}
	if got.ClientSecret != "s" {
		t.Errorf("secret lost through JSON")
	}
	if got.ProxyURL != want.ProxyURL {
		t.Errorf("ProxyURL through JSON: got %q, want %q", got.ProxyURL, want.ProxyURL)
	}
}

func TestErrorsCarryKind(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"configuration", ValidateConfig(`{"table_name": "bad"}`), "[zerobus:configuration] zerobus: invalid configuration"},
		{"not json", ValidateConfig(`[1]`), "[zerobus:configuration] "},
		{"retry exhausted with cause", wrapErr(&core.RetryExhaustedError{Attempts: 2, Last: &core.ConnectionError{}}), "[zerobus:retry_exhausted:connection] "},
		{"unknown", wrapErr(fmt.Errorf("plain")), "[zerobus:unknown] plain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err == nil || !strings.HasPrefix(tc.err.Error(), tc.want) {
				t.Errorf("error = %v, want prefix %q", tc.err, tc.want)
			}
		})
	}
}

func startLocal(t *testing.T) *LocalServer {
	t.Helper()
	s, err := StartLocalServer(`{}`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func localConfig(s *LocalServer, table string) string {
	b, _ := json.Marshal(map[string]any{
		"endpoint": s.Endpoint(), "table_name": table, "unity_catalog_url": s.WorkspaceURL(),
		"client_id": s.ClientID(), "client_secret": s.ClientSecret(),
	})
	return string(b)
}

func TestSendBatchAgainstLocalServer(t *testing.T) {
	s := startLocal(t)
	w, err := NewWrapper(localConfig(s, "main.pybind.send"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(0) }()
	b1, b2 := testBatch(memory.DefaultAllocator, 0, 10), testBatch(memory.DefaultAllocator, 10, 5)
	defer b1.Release()
	defer b2.Release()
	data, err := writeIPC(testSchema, b1, b2)
	if err != nil {
		t.Fatal(err)
	}
	segs := segmentsOf(data)
	text, err := w.SendBatch(segs, 0)
	if err != nil {
		t.Fatal(err)
	}
	var res result
	if err := json.Unmarshal([]byte(text), &res); err != nil {
		t.Fatal(err)
	}
	if !res.Success || res.TotalRows != 15 || res.SuccessfulCount != 15 || len(res.Failed) != 0 || res.Raised {
		t.Errorf("result = %s, want 15 rows sent", text)
	}
	if got := s.RecordCount("main.pybind.send"); got != 15 {
		t.Errorf("server stored %d rows, want 15", got)
	}
	ipcData, err := s.TableIPC("main.pybind.send")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := ipc.NewReader(bytes.NewReader(ipcData))
	if err != nil {
		t.Fatal(err)
	}
	defer stored.Release()
	rows := int64(0)
	for stored.Next() {
		rows += stored.RecordBatch().NumRows()
	}
	if rows != 15 {
		t.Errorf("TableIPC holds %d rows, want 15", rows)
	}
	if err := w.Close(0); err != nil {
		t.Fatal(err)
	}
	text, err = w.SendBatch(segs, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, `"raised":true`) || !strings.Contains(text, `"error_kind":"closed"`) {
		t.Errorf("send after Close = %s, want a raised closed error", text)
	}
	runtime.KeepAlive(data) // addr points into it (Python keeps its buffer alive the same way)
}

func TestNewResultGroupsAndOffsets(t *testing.T) {
	errA := &core.ConversionError{Row: 1, Reason: "bad a"}
	errB := &core.ConversionError{Row: 0, Reason: "bad b"}
	whole := fmt.Errorf("wrapped: %w", &core.ConnectionError{})
	for _, tc := range []struct {
		name    string
		in      []*core.TransmissionResult
		want    [][][2]int64
		raised  bool
		success bool
	}{
		{"success", []*core.TransmissionResult{{Success: true, TotalRows: 3, SuccessfulCount: 3}}, nil, false, true},
		{
			"row errors across batches",
			[]*core.TransmissionResult{
				{TotalRows: 3, SuccessfulCount: 2, FailedCount: 1, Err: errA, FailedRows: []core.FailedRow{{Index: 1, Err: errA}}},
				{TotalRows: 2, SuccessfulCount: 1, FailedCount: 1, Err: errB, FailedRows: []core.FailedRow{{Index: 0, Err: errB}}},
			},
			[][][2]int64{{{1, 2}}, {{3, 4}}}, false, false,
		},
		{
			"whole batch",
			[]*core.TransmissionResult{{TotalRows: 3, FailedCount: 3, Err: whole, FailedRows: []core.FailedRow{{Index: 0, Err: whole}, {Index: 1, Err: whole}, {Index: 2, Err: whole}}}},
			[][][2]int64{{{0, 3}}}, true, false,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := newResult(tc.in, 0)
			var ranges [][][2]int64
			for _, g := range got.Failed {
				ranges = append(ranges, g.Ranges)
			}
			if diff := cmp.Diff(tc.want, ranges); diff != "" {
				t.Errorf("ranges (-want +got):\n%s", diff)
			}
			if got.Raised != tc.raised || got.Success != tc.success {
				t.Errorf("raised, success = %v, %v; want %v, %v", got.Raised, got.Success, tc.raised, tc.success)
			}
			if got.TotalRows != got.SuccessfulCount+got.FailedCount {
				t.Errorf("total %d != %d + %d", got.TotalRows, got.SuccessfulCount, got.FailedCount)
			}
		})
	}
}

func BenchmarkReadIPC(b *testing.B) {
	rec := testBatch(memory.DefaultAllocator, 0, 100_000)
	defer rec.Release()
	data, err := writeIPC(testSchema, rec)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("copy+in-place", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			recs, err := readIPC(data)
			if err != nil {
				b.Fatal(err)
			}
			releaseAll(recs)
		}
	})
	b.Run("ipc.NewReader", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			r, err := ipc.NewReader(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			for r.Next() {
			}
			r.Release()
		}
	})
}

// BenchmarkSendBatch compares a send through the facade (IPC segments in,
// JSON out) with core.Wrapper.SendBatch on the decoded batch, against the
// local server: the facade's own per-call cost.
func BenchmarkSendBatch(b *testing.B) {
	s, err := StartLocalServer(`{}`)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	w, err := NewWrapper(localConfig(s, "main.pybind.bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = w.Close(0) }()
	for _, rows := range []int{1, 10_000} {
		rec := testBatch(memory.DefaultAllocator, 0, rows)
		data, err := writeIPC(testSchema, rec)
		if err != nil {
			b.Fatal(err)
		}
		segs := segmentsOf(data)
		b.Run(fmt.Sprintf("rows=%d/facade", rows), func(b *testing.B) {
			for b.Loop() {
				if _, err := w.SendBatch(segs, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("rows=%d/core", rows), func(b *testing.B) {
			for b.Loop() {
				if res, _ := w.w.SendBatch(b.Context(), rec); !res.Success {
					b.Fatal(res.Err)
				}
			}
		})
		runtime.KeepAlive(data)
		rec.Release()
	}
}

func TestNewResultSplitsByState(t *testing.T) {
	lost := fmt.Errorf("wrapped: %w", &core.ConnectionError{})
	in := []*core.TransmissionResult{{
		TotalRows: 5, SuccessfulCount: 1, FailedCount: 4, NotWrittenCount: 2, UnknownCount: 2, Err: lost,
		FailedRows: []core.FailedRow{
			{Index: 0, Err: lost, State: core.RowUnknown}, {Index: 1, Err: lost, State: core.RowUnknown},
			{Index: 3, Err: lost, State: core.RowNotWritten}, {Index: 4, Err: lost, State: core.RowNotWritten},
		},
	}}
	got := newResult(in, 0)
	type group struct {
		State  string
		Ranges [][2]int64
	}
	var groups []group
	for _, g := range got.Failed {
		groups = append(groups, group{g.State, g.Ranges})
	}
	want := []group{{"unknown", [][2]int64{{0, 2}}}, {"not_written", [][2]int64{{3, 5}}}}
	if diff := cmp.Diff(want, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if got.NotWrittenCount != 2 || got.UnknownCount != 2 || got.FailedCount != 4 {
		t.Errorf("counts: not written %d, unknown %d, failed %d; want 2, 2, 4", got.NotWrittenCount, got.UnknownCount, got.FailedCount)
	}
}
