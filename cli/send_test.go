package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/leakcheck"
)

// startServer starts a local Zerobus server closed at the end of the test.
func startServer(t *testing.T) *zerobuslocal.Server {
	t.Helper()
	s, err := zerobuslocal.Start(t.Context(), zerobuslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// connFlags are the flags that point `zerobus send` at s.
func connFlags(s *zerobuslocal.Server, table string) []string {
	return []string{"-endpoint", s.Endpoint(), "-workspace-url", s.WorkspaceURL(),
		"-client-id", s.ClientID(), "-client-secret", s.ClientSecret(), "-table", table}
}

type sendRun struct {
	stdout, stderr string
	err            error
}

// sendCLI runs `zerobus send args...` in-process with an empty environment
// and a checked allocator that must end with nothing allocated.
func sendCLI(t *testing.T, args ...string) sendRun {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var out, errOut bytes.Buffer
	err := sendMain(t.Context(), args, sendEnv{
		stdout:    &out,
		stderr:    &errOut,
		lookupEnv: func(string) (string, bool) { return "", false },
		now:       time.Now,
		mem:       mem,
	})
	mem.AssertSize(t, 0)
	return sendRun{out.String(), errOut.String(), err}
}

// mixedSchema has the column types the tests send.
var mixedSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
}, nil)

// mixedBatch returns rows first..first+n-1 of the mixed test data.
func mixedBatch(mem memory.Allocator, first, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, mixedSchema)
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%5 == 4 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("name-%d", i))
		}
		b.Field(2).(*array.Float64Builder).Append(float64(i) / 4)
		b.Field(3).(*array.BooleanBuilder).Append(i%2 == 0)
		b.Field(4).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + int64(i)))
		lb := b.Field(5).(*array.ListBuilder)
		lb.Append(true)
		for j := 0; j < i%3; j++ {
			lb.ValueBuilder().(*array.StringBuilder).Append(fmt.Sprintf("t%d", j))
		}
	}
	return b.NewRecordBatch()
}

// writeArrow writes batches of sizes to path as an Arrow IPC file or stream,
// with the writer options opts (compression).
func writeArrow(t *testing.T, path string, stream bool, schema *arrow.Schema, batches []arrow.RecordBatch, opts ...ipc.Option) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type writer interface {
		Write(arrow.RecordBatch) error
		Close() error
	}
	var w writer
	opts = append(opts, ipc.WithSchema(schema))
	if stream {
		w = ipc.NewWriter(f, opts...)
	} else {
		if w, err = ipc.NewFileWriter(f, opts...); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range batches {
		if err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeParquet writes batches to path with row groups of rowGroup rows.
func writeParquet(t testing.TB, path string, schema *arrow.Schema, rowGroup int64, batches func(yield func(arrow.RecordBatch) bool)) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := pqarrow.NewFileWriter(schema, f,
		parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(rowGroup), parquet.WithDictionaryDefault(false)),
		pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	for b := range batches {
		err := w.WriteBuffered(b)
		b.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// storedIDs returns the "id" column of table, sorted by arrival.
func storedColumn(t *testing.T, s *zerobuslocal.Server, table, col string) arrow.Array {
	t.Helper()
	rec, err := s.ArrowBatch(table, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rec.Release)
	idx := rec.Schema().FieldIndices(col)
	if len(idx) != 1 {
		t.Fatalf("stored schema %v has no column %q", rec.Schema(), col)
	}
	return rec.Column(idx[0])
}

// sortedInts returns the values of an int64 column in ascending order.
func sortedInts(t *testing.T, a arrow.Array) []int64 {
	t.Helper()
	ints, ok := a.(*array.Int64)
	if !ok {
		t.Fatalf("column type %s, want int64", a.DataType())
	}
	out := append([]int64(nil), ints.Int64Values()...)
	for i := 1; i < len(out); i++ { // insertion sort: small inputs
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func seq(lo, hi int64) []int64 {
	out := make([]int64, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

func TestSendArrow(t *testing.T) {
	s := startServer(t)
	mem := memory.NewGoAllocator()
	// Batches of 3, 10 and 7 rows re-chunked by -batch-rows 4.
	var batches []arrow.RecordBatch
	first := 0
	for _, n := range []int{3, 10, 7} {
		batches = append(batches, mixedBatch(mem, first, n))
		first += n
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	for _, tc := range []struct {
		name, file string
		stream     bool
		extraArgs  []string
	}{
		{name: "ipc file", file: "data.arrow"},
		{name: "ipc stream", file: "data.arrows", stream: true},
		{name: "stream with .arrow extension", file: "stream.arrow", stream: true},
		{name: "unknown extension sniffed", file: "data.bin"},
		{name: "forced format", file: "data.dat", stream: true, extraArgs: []string{"-format", "arrow"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, tc.file)
			writeArrow(t, path, tc.stream, mixedSchema, batches)
			table := "main.default." + strings.ReplaceAll(tc.name, " ", "_")
			table = strings.ReplaceAll(table, ".arrow", "_arrow")
			qpath := filepath.Join(dir, "bad.arrow")
			args := append(connFlags(s, table), "-batch-rows", "4", "-quarantine", qpath)
			args = append(append(args, tc.extraArgs...), path)
			r := sendCLI(t, args...)
			if r.err != nil {
				t.Fatalf("send: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
			}
			if got := s.RecordCount(table); got != 20 {
				t.Fatalf("server holds %d rows, want 20", got)
			}
			if diff := cmp.Diff(seq(0, 20), sortedInts(t, storedColumn(t, s, table, "id"))); diff != "" {
				t.Errorf("stored ids (-want +got):\n%s", diff)
			}
			names := storedColumn(t, s, table, "name").(*array.String)
			ids := storedColumn(t, s, table, "id").(*array.Int64)
			for i := 0; i < ids.Len(); i++ {
				id := ids.Value(i)
				if id%5 == 4 {
					if names.IsValid(i) {
						t.Errorf("id %d: name %q, want null", id, names.Value(i))
					}
				} else if got, want := names.Value(i), fmt.Sprintf("name-%d", id); got != want {
					t.Errorf("id %d: name %q, want %q", id, got, want)
				}
			}
			for _, want := range []string{"rows sent:    20 of 20", "rows failed:  0", "batches:      5"} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("summary lacks %q:\n%s", want, r.stdout)
				}
			}
			if strings.Contains(r.stderr, "[") {
				t.Errorf("progress drawn with -progress auto on a non-terminal:\n%s", r.stderr)
			}
			if _, err := os.Stat(qpath); !os.IsNotExist(err) {
				t.Errorf("quarantine file with no failed rows: stat err %v, want not exist", err)
			}
		})
	}
}

func TestSendParquet(t *testing.T) {
	s := startServer(t)
	path := filepath.Join(t.TempDir(), "mixed.parquet")
	writeParquet(t, path, mixedSchema, 16, func(yield func(arrow.RecordBatch) bool) {
		for first := 0; first < 50; first += 10 {
			if !yield(mixedBatch(memory.DefaultAllocator, first, 10)) {
				return
			}
		}
	})
	const table = "main.default.parquet_mixed"
	r := sendCLI(t, append(connFlags(s, table), "-batch-rows", "8", "-progress", "always", path)...)
	if r.err != nil {
		t.Fatalf("send: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if diff := cmp.Diff(seq(0, 50), sortedInts(t, storedColumn(t, s, table, "id"))); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
	tags := storedColumn(t, s, table, "tags").(*array.List)
	ids := storedColumn(t, s, table, "id").(*array.Int64)
	for i := 0; i < ids.Len(); i++ {
		lo, hi := tags.ValueOffsets(i)
		if got, want := hi-lo, ids.Value(i)%3; got != want {
			t.Errorf("id %d: %d tags, want %d", ids.Value(i), got, want)
		}
	}
	if !strings.Contains(r.stderr, "] 100%  50/50 rows") {
		t.Errorf("progress with the Parquet total missing:\n%q", r.stderr)
	}
	if !strings.Contains(r.stdout, "batches:      7") {
		t.Errorf("summary: want 7 batches of at most 8 rows:\n%s", r.stdout)
	}
}

func TestSendCSV(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "people.csv")
	csvText := "id,name,score,active,born,seen,zip\n" +
		"1,ada,1.5,true,1815-12-10,2024-01-02T10:00:00Z,02134\n" +
		"2,\"lovelace, jr\",,false,,2024-01-02 11:00:00,10001\n" +
		"3,,3,TRUE,1906-12-09,,NULL\n"
	if err := os.WriteFile(path, []byte(csvText), 0o600); err != nil {
		t.Fatal(err)
	}
	const table = "main.default.csv_people"
	r := sendCLI(t, append(connFlags(s, table), "-batch-rows", "2", path)...)
	if r.err != nil {
		t.Fatalf("send: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, sortedInts(t, storedColumn(t, s, table, "id"))); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
	rows := s.Rows(table)
	got := map[string]string{}
	for _, row := range rows {
		id := row.Message.Get(row.Message.Descriptor().Fields().ByName("id")).Int()
		zip := row.Message.Descriptor().Fields().ByName("zip")
		name := row.Message.Descriptor().Fields().ByName("name")
		got[fmt.Sprint(id)] = fmt.Sprintf("name=%q zip=%q", row.Message.Get(name).String(), row.Message.Get(zip).String())
	}
	want := map[string]string{
		"1": `name="ada" zip="02134"`,
		"2": `name="lovelace, jr" zip="10001"`,
		"3": `name="" zip="NULL"`, // strings keep "" and NULL as text
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored rows (-want +got):\n%s", diff)
	}
	desc, _ := s.TableDescriptor(table)
	types := map[string]string{}
	for _, f := range desc.GetField() {
		types[f.GetName()] = f.GetType().String()
	}
	wantTypes := map[string]string{
		"id": "TYPE_INT64", "name": "TYPE_STRING", "score": "TYPE_DOUBLE", "active": "TYPE_BOOL",
		"born": "TYPE_INT32", "seen": "TYPE_INT64", "zip": "TYPE_STRING",
	}
	if diff := cmp.Diff(wantTypes, types); diff != "" {
		t.Errorf("table column types (-want +got):\n%s", diff)
	}
}

// TestSendCSVWithBOM: a CSV that starts with a UTF-8 byte order mark (Excel's
// "CSV UTF-8", CRLF line ends) is read as without it. The mark became part of
// the first column's name ("\ufeffid") and every row failed as a bad name.
func TestSendCSVWithBOM(t *testing.T) {
	s := startServer(t)
	path := filepath.Join(t.TempDir(), "excel.csv")
	if err := os.WriteFile(path, []byte("\xef\xbb\xbfid,name\r\n1,a\r\n2,b\r\n3,c\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const table = "main.default.csv_bom"
	r := sendCLI(t, append(connFlags(s, table), "-batch-rows", "2", path)...)
	if r.err != nil {
		t.Fatalf("send: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, sortedInts(t, storedColumn(t, s, table, "id"))); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
	desc, _ := s.TableDescriptor(table)
	if got := desc.GetField()[0].GetName(); got != "id" {
		t.Errorf("first column %q, want id", got)
	}
}

func TestSendCSVBadCellAfterSample(t *testing.T) {
	s := startServer(t)
	path := filepath.Join(t.TempDir(), "late.csv")
	if err := os.WriteFile(path, []byte("id\n1\n2\nthree\n4\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const table = "main.default.csv_late"
	r := sendCLI(t, append(connFlags(s, table), "-csv-infer-rows", "1", "-batch-rows", "2", path)...)
	if want := `reading CSV row 2 (line 4), column "id" (int64, inferred from the first 1 rows): cannot read "three" as int64; ` +
		"raise -csv-infer-rows or use -csv-strings"; r.err == nil || !strings.Contains(r.err.Error(), want) {
		t.Fatalf("err = %v, want %q", r.err, want)
	}
	if got := s.RecordCount(table); got != 2 {
		t.Errorf("server holds %d rows, want the 2 before the bad chunk", got)
	}
	// With a larger sample the column is a string column and all rows pass.
	const table2 = "main.default.csv_late_strings"
	if r := sendCLI(t, append(connFlags(s, table2), "-batch-rows", "2", path)...); r.err != nil {
		t.Fatalf("send with the default sample: %v", r.err)
	}
	if got := s.RecordCount(table2); got != 4 {
		t.Errorf("server holds %d rows, want 4", got)
	}
}

func TestSendQuarantine(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Uint64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	bad := map[int64]bool{3: true, 7: true, 8: true}
	for i := int64(0); i < 10; i++ {
		b.Field(0).(*array.Int64Builder).Append(i)
		v := uint64(i) * 10
		if bad[i] {
			v = math.MaxUint64 - uint64(i) // over the int64 range: fails conversion
		}
		b.Field(1).(*array.Uint64Builder).Append(v)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(dir, "values.arrow")
	writeArrow(t, path, false, schema, []arrow.RecordBatch{rec})

	const table = "main.default.quarantine"
	qpath := filepath.Join(dir, "failed.arrows")
	r := sendCLI(t, append(connFlags(s, table), "-batch-rows", "4", "-quarantine", qpath, path)...)
	if !errors.Is(r.err, errRowsFailed) || !strings.Contains(r.err.Error(), "3 of 10 rows failed") {
		t.Fatalf("err = %v, want 3 of 10 rows failed (errRowsFailed)", r.err)
	}
	if diff := cmp.Diff([]int64{0, 1, 2, 4, 5, 6, 9}, sortedInts(t, storedColumn(t, s, table, "id"))); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}

	qschema, qrecs := readStream(t, qpath)
	if !qschema.Equal(schema) {
		t.Errorf("quarantine schema %v, want %v", qschema, schema)
	}
	var gotIDs []int64
	var gotV []uint64
	for _, q := range qrecs {
		gotIDs = append(gotIDs, q.Column(0).(*array.Int64).Int64Values()...)
		gotV = append(gotV, q.Column(1).(*array.Uint64).Uint64Values()...)
	}
	if diff := cmp.Diff([]int64{3, 7, 8}, gotIDs); diff != "" {
		t.Errorf("quarantined ids (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]uint64{math.MaxUint64 - 3, math.MaxUint64 - 7, math.MaxUint64 - 8}, gotV); diff != "" {
		t.Errorf("quarantined values (-want +got):\n%s", diff)
	}

	for _, want := range []string{
		"sent " + path + " to main.default.quarantine\n",
		"  rows sent:    7 of 10\n",
		"  rows failed:  3 (conversion=3)\n",
		"  batches:      3\n",
		"  quarantine:   3 failed rows written to " + qpath + " (Arrow IPC stream)\n",
		"  failed rows (3 rows in 3 ranges; rows count from 0 in each file):\n",
		"    " + path + ` row 3: [conversion] column "v": `,
		"    " + path + ` row 8: [conversion] column "v": `,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestSendQuarantineTwoSchemas(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	// int32 and int16 ids both become protobuf int32, so one table takes
	// both files; one IPC stream cannot hold both schemas.
	var paths []string
	for i, idType := range []arrow.DataType{arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int16} {
		schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: idType}, {Name: "v", Type: arrow.PrimitiveTypes.Uint64}}, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for r := 0; r < 3; r++ {
			switch ib := b.Field(0).(type) {
			case *array.Int32Builder:
				ib.Append(int32(10*i + r))
			case *array.Int16Builder:
				ib.Append(int16(10*i + r))
			}
			v := uint64(r)
			if r == i+1 {
				v = math.MaxUint64
			}
			b.Field(1).(*array.Uint64Builder).Append(v)
		}
		rec := b.NewRecordBatch()
		b.Release()
		path := filepath.Join(dir, fmt.Sprintf("part%d.arrows", i+1))
		writeArrow(t, path, true, schema, []arrow.RecordBatch{rec})
		rec.Release()
		paths = append(paths, path)
	}
	const table = "main.default.two_schemas"
	qpath := filepath.Join(dir, "q.arrows")
	r := sendCLI(t, append(append(connFlags(s, table), "-quarantine", qpath, "-progress", "always"), paths...)...)
	if !errors.Is(r.err, errRowsFailed) {
		t.Fatalf("err = %v, want errRowsFailed\n%s", r.err, r.stdout)
	}
	if got := s.RecordCount(table); got != 4 {
		t.Errorf("server holds %d rows, want 4", got)
	}
	for _, q := range []struct {
		path string
		id   string
	}{{qpath, "[1]"}, {filepath.Join(dir, "q-2.arrows"), "[12]"}} {
		_, qrecs := readStream(t, q.path)
		var ids []string
		for _, rec := range qrecs {
			ids = append(ids, rec.Column(0).String())
		}
		if got := strings.Join(ids, ""); got != q.id {
			t.Errorf("%s holds ids %s, want %s", q.path, got, q.id)
		}
		if !strings.Contains(r.stdout, "1 failed rows written to "+q.path) {
			t.Errorf("summary does not name %s:\n%s", q.path, r.stdout)
		}
	}
	for _, want := range []string{"sent 2 files to " + table, "\n    " + paths[0] + " row 1:", "\n    " + paths[1] + " row 2:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "(file 2/2)") {
		t.Errorf("progress lacks the file counter:\n%q", r.stderr)
	}
}

func TestSendLocal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 7)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	before := runtime.NumGoroutine()
	r := sendCLI(t, "-local", path)
	if r.err != nil {
		t.Fatalf("send -local: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	// The command closes its server and Wrapper: no goroutine outlives it.
	leakcheck.Goroutines(t, before, 10*time.Second)
	for _, want := range []string{
		"sent " + path + " to " + defaultLocalTable,
		"local server: table " + defaultLocalTable + " holds 7 rows\n",
		"  first 5:\n",
		`name:"name-0"`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestSendLocalPrintsTimes: the rows -local lists show TIMESTAMP values as
// RFC 3339 UTC times, TIMESTAMP_NTZ ones without a zone and DATE ones as
// dates (the server stores microseconds and days since the epoch), also
// inside lists, structs and maps; other columns keep protobuf's text form.
func TestSendLocalPrintsTimes(t *testing.T) {
	utc := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	ntz := &arrow.TimestampType{Unit: arrow.Microsecond}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "placed_at", Type: utc, Nullable: true},
		{Name: "local_at", Type: ntz, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "seen", Type: arrow.ListOf(utc), Nullable: true},
		{Name: "ship", Type: arrow.StructOf(arrow.Field{Name: "at", Type: utc, Nullable: true},
			arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int32, Nullable: true}), Nullable: true},
		{Name: "due", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.FixedWidthTypes.Date32), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	const at = 1795424400000000 // 2026-11-23T09:00:00Z in microseconds
	for i := range 2 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.TimestampBuilder).Append(arrow.Timestamp(at + int64(i)*60_000_001))
		b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(at + 1500))
		b.Field(3).(*array.Date32Builder).Append(arrow.Date32(20415 - 30000*int32(i))) // 2025-11-23, 1943-10-05
		lb := b.Field(4).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.TimestampBuilder).Append(arrow.Timestamp(-1)) // 1 µs before the epoch
		lb.ValueBuilder().(*array.TimestampBuilder).Append(arrow.Timestamp(at))
		sb := b.Field(5).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.TimestampBuilder).Append(arrow.Timestamp(at))
		sb.FieldBuilder(1).(*array.Int32Builder).Append(7)
		mb := b.Field(6).(*array.MapBuilder)
		mb.Append(true)
		mb.KeyBuilder().(*array.StringBuilder).AppendValues([]string{"z", "a"}, nil)
		mb.ItemBuilder().(*array.Date32Builder).AppendValues([]arrow.Date32{0, 1}, nil)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	path := filepath.Join(t.TempDir(), "times.arrow")
	writeArrow(t, path, false, schema, []arrow.RecordBatch{rec})
	r := sendCLI(t, "-local", path)
	if r.err != nil {
		t.Fatalf("send -local: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	_, listing, _ := strings.Cut(r.stdout, "  first 2:\n")
	want := "    id:0 placed_at:2026-11-23T09:00:00Z local_at:2026-11-23T09:00:00.0015 day:2025-11-23" +
		" seen:1969-12-31T23:59:59.999999Z seen:2026-11-23T09:00:00Z ship:{at:2026-11-23T09:00:00Z n:7}" +
		` due:{key:"a" value:1970-01-02} due:{key:"z" value:1970-01-01}` + "\n" +
		"    id:1 placed_at:2026-11-23T09:01:00.000001Z local_at:2026-11-23T09:00:00.0015 day:1943-10-05" +
		" seen:1969-12-31T23:59:59.999999Z seen:2026-11-23T09:00:00Z ship:{at:2026-11-23T09:00:00Z n:7}" +
		` due:{key:"a" value:1970-01-02} due:{key:"z" value:1970-01-01}` + "\n"
	if listing != want {
		t.Errorf("listing:\n%s\nwant:\n%s\nwhole output:\n%s", listing, want, r.stdout)
	}

	// The mixed test data: its TIMESTAMP column as a time, the rest as before.
	r = sendCLI(t, "-local", writeMixed(t, 1))
	if r.err != nil {
		t.Fatalf("send -local: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if want := "    id:0 name:\"name-0\" score:0 ok:true at:2023-11-14T22:13:20Z\n"; !strings.HasSuffix(r.stdout, want) {
		t.Errorf("output does not end with %q:\n%s", want, r.stdout)
	}
}

// writeMixed writes n rows of the mixed test data to an Arrow IPC file.
func writeMixed(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mixed.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, n)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	return path
}

func TestSendLocalArrowFlight(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 12)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	r := sendCLI(t, "-local", "-transport", "arrow_flight", path)
	if r.err != nil {
		t.Fatalf("send -local -transport arrow_flight: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	for _, want := range []string{"local server: table " + defaultLocalTable + " holds 12 rows\n", `name:"name-0"`, " Arrow IPC)\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "protobuf") { // the bytes line names what was sent
		t.Errorf("an arrow_flight summary mentions protobuf:\n%s", r.stdout)
	}
	r = sendCLI(t, "-local", "-transport", "pigeon", path)
	if r.err == nil || !strings.Contains(r.stderr+r.err.Error(), "pigeon") {
		t.Fatalf("bad -transport: %v\n%s", r.err, r.stderr)
	}
}

func TestSendDryRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 9)
	defer rec.Release()
	writeArrow(t, path, true, mixedSchema, []arrow.RecordBatch{rec})
	r := sendCLI(t, "-dry-run", "-table", "main.default.dry", path)
	if r.err != nil {
		t.Fatalf("send -dry-run: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "converted (-dry-run, nothing sent)") || !strings.Contains(r.stdout, "  converted:    9 of 9\n") ||
		!strings.Contains(r.stdout, " B encoded protobuf)\n") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	// With arrow_flight the batch is cast, not encoded: its size in memory.
	r = sendCLI(t, "-dry-run", "-transport", "arrow_flight", "-table", "main.default.dry", path)
	if r.err != nil {
		t.Fatalf("send -dry-run -transport arrow_flight: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "  converted:    9 of 9\n") || !strings.Contains(r.stdout, " B Arrow (in memory))\n") ||
		strings.Contains(r.stdout, "Arrow IPC") {
		t.Errorf("summary with arrow_flight:\n%s", r.stdout)
	}
}

func TestSendQuiet(t *testing.T) {
	s := startServer(t)
	path := filepath.Join(t.TempDir(), "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 3)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	r := sendCLI(t, append(connFlags(s, "main.default.quiet"), "-quiet", "-progress", "always", path)...)
	if r.err != nil || r.stdout != "" || r.stderr != "" {
		t.Errorf("-quiet: err %v, stdout %q, stderr %q; want nothing", r.err, r.stdout, r.stderr)
	}
	if got := s.RecordCount("main.default.quiet"); got != 3 {
		t.Errorf("server holds %d rows, want 3", got)
	}
	// -local prints the rows that landed after the summary; -quiet prints them neither
	r = sendCLI(t, "-local", "-quiet", path)
	if r.err != nil || r.stdout != "" || r.stderr != "" {
		t.Errorf("-local -quiet: err %v, stdout %q, stderr %q; want nothing", r.err, r.stdout, r.stderr)
	}
}

func TestSendErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 1)
	defer rec.Release()
	writeArrow(t, good, false, mixedSchema, []arrow.RecordBatch{rec})
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"no files", []string{"-local"}, []string{"no input files"}},
		{"bad batch rows", []string{"-local", "-batch-rows", "0", good}, []string{"-batch-rows 0"}},
		{"bad format", []string{"-format", "xml", good}, []string{`-format "xml"`}},
		{"bad progress", []string{"-progress", "sometimes", good}, []string{`-progress "sometimes"`}},
		{"local and dry run", []string{"-local", "-dry-run", good}, []string{"-local and -dry-run"}},
		{"missing file", []string{"-local", filepath.Join(dir, "nope.parquet")}, []string{"nope.parquet"}},
		{"unknown format", []string{"-local", text}, []string{"notes.txt", "use -format"}},
		{"not parquet", []string{"-local", "-format", "parquet", good}, []string{"d.arrow", "Parquet"}},
		{"unknown flag", []string{"-nope", good}, []string{"-nope"}},
		{"no connection settings",
			[]string{"-client-secret", "hunter2-secret", good},
			[]string{"table_name (flag -table or env ZEROBUS_TABLE_NAME)", "endpoint (flag -endpoint or env ZEROBUS_ENDPOINT)", "unless -dry-run is given", "-local"}},
		{"missing config file", []string{"-config", filepath.Join(dir, "nope.yaml"), good}, []string{"nope.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := sendCLI(t, tc.args...)
			if r.err == nil {
				t.Fatalf("no error; stdout:\n%s", r.stdout)
			}
			var line bytes.Buffer // as the command line prints it
			finish(t.Context(), "send", r.err, &line)
			for _, w := range tc.want {
				if !strings.Contains(line.String(), w) {
					t.Errorf("error %q lacks %q", line.String(), w)
				}
			}
			for _, out := range []string{line.String(), r.stdout, r.stderr} {
				if strings.Contains(out, "hunter2-secret") {
					t.Errorf("the client secret leaked: %q", out)
				}
			}
		})
	}
}

func TestSendHelp(t *testing.T) {
	r := sendCLI(t, "-h")
	if !errors.Is(r.err, flag.ErrHelp) || r.stderr != "" {
		t.Fatalf("-h: %v, stderr %q", r.err, r.stderr)
	}
	for _, want := range []string{"usage: zerobus send", "Exit status", "-quarantine", "-batch-rows", "-json", "-v"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help lacks %q", want)
		}
	}
}

func TestSendConfig(t *testing.T) {
	dir := t.TempDir()
	yamlPath := filepath.Join(dir, "zb.yaml")
	if err := os.WriteFile(yamlPath, []byte("endpoint: http://127.0.0.1:7\ntable_name: y.y.y\nclient_id: from-yaml\nstreams_per_schema: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"ZEROBUS_ENDPOINT":      "http://127.0.0.1:9",
		"ZEROBUS_TABLE_NAME":    "e.e.e",
		"ZEROBUS_CLIENT_ID":     "from-env",
		"ZEROBUS_CLIENT_SECRET": "env-secret",
		"UNITY_CATALOG_URL":     "http://127.0.0.1:10",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	type conn struct{ Endpoint, Table, URL, ID, Secret string }
	for _, tc := range []struct {
		name string
		args []string
		want conn
	}{
		{"environment", []string{"f.csv"}, conn{"http://127.0.0.1:9", "e.e.e", "http://127.0.0.1:10", "from-env", "env-secret"}},
		{"flags override the environment", []string{"-table", "f.f.f", "-client-id", "from-flag", "-endpoint", "http://127.0.0.1:8", "f.csv"},
			conn{"http://127.0.0.1:8", "f.f.f", "http://127.0.0.1:10", "from-flag", "env-secret"}},
		{"config file instead of the environment", []string{"-config", yamlPath, "f.csv"}, conn{"http://127.0.0.1:7", "y.y.y", "", "from-yaml", ""}},
		{"flags override the config file", []string{"-config", yamlPath, "-workspace-url", "http://127.0.0.1:11", "-client-secret", "s", "f.csv"},
			conn{"http://127.0.0.1:7", "y.y.y", "http://127.0.0.1:11", "from-yaml", "s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parseSendFlags(tc.args, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := sendConfig(f, lookup)
			if err != nil {
				t.Fatal(err)
			}
			got := conn{cfg.Endpoint, cfg.TableName, cfg.UnityCatalogURL, cfg.ClientID, cfg.ClientSecret}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("connection settings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInferCSVTypes(t *testing.T) {
	ts := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	for _, tc := range []struct {
		name, csv  string
		sample     int
		allStrings bool
		want       []arrow.DataType
	}{
		{name: "each type", csv: "i,f,b,d,t,s\n1,1.5,true,2024-01-02,2024-01-02T03:04:05Z,x\n-2,3,False,2024-02-29,2024-01-02 03:04:05.123,y\n",
			want: []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Boolean,
				arrow.FixedWidthTypes.Date32, ts, arrow.BinaryTypes.String}},
		{name: "widening rechecks earlier cells", csv: "a,b,c\ntrue,2024-01-02,1\n2024-01-02,true,x\n",
			want: []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.String, arrow.BinaryTypes.String}},
		{name: "int then float", csv: "a\n1\n2.5\n", want: []arrow.DataType{arrow.PrimitiveTypes.Float64}},
		{name: "leading zeros stay strings", csv: "zip,n\n02134,0.5\n-007,0\n", want: []arrow.DataType{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64}},
		{name: "0 and 1 are ints not bools", csv: "flag\n0\n1\n", want: []arrow.DataType{arrow.PrimitiveTypes.Int64}},
		{name: "nulls skipped", csv: "a,b\n,NULL\n3,N/A\n", want: []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String}},
		{name: "only the sample counts", csv: "a\n1\nx\n", sample: 1, want: []arrow.DataType{arrow.PrimitiveTypes.Int64}},
		{name: "csv-strings", csv: "a,b\n1,true\n", allStrings: true, want: []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.String}},
		{name: "header only", csv: "a,b\n", want: []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.String}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.csv")
			if err := os.WriteFile(path, []byte(tc.csv), 0o600); err != nil {
				t.Fatal(err)
			}
			sample := tc.sample
			if sample == 0 {
				sample = 1000
			}
			_, got, err := inferCSVTypes(path, sample, tc.allStrings)
			if err != nil {
				t.Fatal(err)
			}
			gotS, wantS := fmt.Sprint(got), fmt.Sprint(tc.want)
			if gotS != wantS {
				t.Errorf("types: got %s, want %s", gotS, wantS)
			}
		})
	}
	for _, tc := range []struct{ name, csv, want string }{
		{"empty", "", "empty CSV file"},
		{"duplicate column", "a,a\n1,2\n", `"a" appears twice`},
		{"unnamed column", "a,\n1,2\n", "column 2 has no name"},
		{"ragged row", "a,b\n1\n", "reading CSV row 0: record on line 2: wrong number of fields (1 cell, the header has 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.csv")
			if err := os.WriteFile(path, []byte(tc.csv), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, _, err := inferCSVTypes(path, 10, false); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// sliceBatches is a batchReader over fixed batches.
type sliceBatches struct {
	recs []arrow.RecordBatch
	i    int
}

func (s *sliceBatches) Next() bool                     { s.i++; return s.i <= len(s.recs) }
func (s *sliceBatches) RecordBatch() arrow.RecordBatch { return s.recs[s.i-1] }
func (s *sliceBatches) Err() error                     { return nil }

func TestRebatcher(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	for _, tc := range []struct {
		name  string
		sizes []int
		n     int64
		want  []int64
	}{
		{"split and join", []int{3, 0, 10, 1, 1, 1, 7}, 4, []int64{4, 4, 4, 4, 4, 3}},
		{"exact", []int{4, 4}, 4, []int64{4, 4}},
		{"one big", []int{10}, 3, []int64{3, 3, 3, 1}},
		{"many small", []int{1, 1, 1, 1, 1}, 100, []int64{5}},
		{"empty", []int{0, 0}, 4, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			var recs []arrow.RecordBatch
			next := int64(0)
			for _, n := range tc.sizes {
				b := array.NewInt64Builder(mem)
				for i := 0; i < n; i++ {
					b.Append(next)
					next++
				}
				col := b.NewArray()
				b.Release()
				recs = append(recs, array.NewRecordBatch(schema, []arrow.Array{col}, int64(n)))
				col.Release()
			}
			rb := &rebatcher{src: &sliceBatches{recs: recs}, n: tc.n, mem: mem}
			var sizes []int64
			var ids []int64
			for rb.Next() {
				rec := rb.RecordBatch()
				sizes = append(sizes, rec.NumRows())
				ids = append(ids, rec.Column(0).(*array.Int64).Int64Values()...)
			}
			if rb.Err() != nil {
				t.Fatal(rb.Err())
			}
			rb.release()
			for _, r := range recs {
				r.Release()
			}
			if diff := cmp.Diff(tc.want, sizes); diff != "" {
				t.Errorf("batch sizes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(seq(0, next), append([]int64{}, ids...)); next > 0 && diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderBar(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    progressSnapshot
		want string
	}{
		{"known total", progressSnapshot{done: 450_000, sent: 450_000, total: 1_000_000, fraction: 0.45, bytes: 9_000_000, elapsed: 3 * time.Second, nfil: 1, file: 1},
			"[##########..............]  45%  450,000/1,000,000 rows  150,000 rows/s  3.0 MB/s  3s"},
		{"unknown total, files, failures", progressSnapshot{done: 1200, sent: 1197, failed: 3, total: -1, fraction: 0.5, bytes: 0, elapsed: 1500 * time.Millisecond, nfil: 2, file: 2},
			"[############............]  50%  1,200 rows (file 2/2)  3 failed  798 rows/s  0.0 MB/s  1.5s"},
		// rows that may be stored are said to be; the rate counts rows sent (acknowledged), as the summary's throughput
		{"unknown rows", progressSnapshot{done: 1000, sent: 400, failed: 600, unknown: 500, total: 1000, fraction: 1, elapsed: time.Second, nfil: 1, file: 1},
			"[########################] 100%  1,000/1,000 rows  600 failed (500 unknown, may be stored)  400 rows/s  0.0 MB/s  1s"},
		{"start", progressSnapshot{total: 10, nfil: 1, file: 1},
			"[........................]   0%  0/10 rows  0s"},
		{"done", progressSnapshot{done: 10, sent: 10, total: 10, fraction: 1, elapsed: time.Second, nfil: 1, file: 1},
			"[########################] 100%  10/10 rows  10 rows/s  0.0 MB/s  1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := renderBar(tc.s); got != tc.want {
				t.Errorf("renderBar:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestFormatNumbers(t *testing.T) {
	for _, tc := range []struct {
		n          int64
		th, humanB string
	}{
		{0, "0", "0 B"}, {999, "999", "999 B"}, {1000, "1,000", "1000 B"}, {1536, "1,536", "1.5 KiB"},
		{1_234_567, "1,234,567", "1.2 MiB"}, {-1234, "-1,234", "-1234 B"}, {5 << 30, "5,368,709,120", "5.0 GiB"},
	} {
		if got := thousands(tc.n); got != tc.th {
			t.Errorf("thousands(%d) = %q, want %q", tc.n, got, tc.th)
		}
		if got := humanBytes(tc.n); got != tc.humanB {
			t.Errorf("humanBytes(%d) = %q, want %q", tc.n, got, tc.humanB)
		}
	}
}

// TestSendParquetMillionRows is the end-to-end check of issue #10: the CLI
// sends a 1,000,000-row Parquet file to the local server with a progress
// bar, and the server holds every row.
func TestSendParquetMillionRows(t *testing.T) {
	const rows, chunk = 1_000_000, 1 << 16
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "tag", Type: arrow.BinaryTypes.String},
	}, nil)
	path := filepath.Join(t.TempDir(), "million.parquet")
	genStart := time.Now()
	writeParquet(t, path, schema, 256<<10, func(yield func(arrow.RecordBatch) bool) {
		tags := []string{"alpha", "beta", "gamma", "delta"}
		for first := 0; first < rows; first += chunk {
			n := min(chunk, rows-first)
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			ids := b.Field(0).(*array.Int64Builder)
			strs := b.Field(1).(*array.StringBuilder)
			ids.Reserve(n)
			strs.Reserve(n)
			for i := first; i < first+n; i++ {
				ids.UnsafeAppend(int64(i))
				strs.Append(tags[i%len(tags)])
			}
			rec := b.NewRecordBatch()
			b.Release()
			if !yield(rec) {
				return
			}
		}
	})
	t.Logf("generated %d-row Parquet file in %v", rows, time.Since(genStart))

	s := startServer(t)
	const table = "main.default.million"
	sendStart := time.Now()
	r := sendCLI(t, append(connFlags(s, table), "-progress", "always", path)...)
	elapsed := time.Since(sendStart)
	if r.err != nil {
		t.Fatalf("send: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	t.Logf("sent %d rows in %v (%.0f rows/s)\n%s", rows, elapsed, rows/elapsed.Seconds(), r.stdout)
	if got := s.RecordCount(table); got != rows {
		t.Fatalf("server holds %d rows, want %d", got, rows)
	}
	if !strings.Contains(r.stderr, "[########################] 100%  1,000,000/1,000,000 rows") {
		t.Errorf("progress bar missing or incomplete:\n%q", lastLine(r.stderr))
	}
	if !strings.Contains(r.stdout, "rows sent:    1,000,000 of 1,000,000") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	if got := s.Stats().RecordsStored; got != rows {
		t.Errorf("server stats: %d records stored, want %d", got, rows)
	}
	// The stored values are not decoded here: decoding 1M records costs
	// ~30 s under -race, and TestSendParquet checks the values on the same
	// path (several row groups and batches).
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexAny(s, "\r\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}

// sendCLIEnv is sendCLI with environment variables.
func sendCLIEnv(t *testing.T, vars map[string]string, args ...string) sendRun {
	t.Helper()
	var out, errOut bytes.Buffer
	err := sendMain(t.Context(), args, sendEnv{
		stdout: &out,
		stderr: &errOut,
		lookupEnv: func(k string) (string, bool) {
			v, ok := vars[k]
			return v, ok
		},
		now: time.Now,
		mem: memory.DefaultAllocator,
	})
	return sendRun{out.String(), errOut.String(), err}
}

// TestSendLogFile: log_file (ZEROBUS_LOG_FILE) works from the CLI without
// observability, at log_level; -v means log_level debug and shows the
// debug records on stderr as text.
func TestSendLogFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 5)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})

	readLog := func(t *testing.T, p string) []map[string]any {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("log file: %v", err)
		}
		var recs []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			recs = append(recs, m)
		}
		return recs
	}
	hasMsg := func(recs []map[string]any, msg string) bool {
		for _, r := range recs {
			if r["msg"] == msg && r["level"] == "DEBUG" {
				return true
			}
		}
		return false
	}

	t.Run("log_level debug from the environment", func(t *testing.T) {
		logFile := filepath.Join(dir, "zb.log")
		srv := startServer(t)
		args := append(connFlags(srv, "main.default.logs"), "-progress", "never", path)
		r := sendCLIEnv(t, map[string]string{"ZEROBUS_LOG_FILE": logFile, "ZEROBUS_LOG_LEVEL": "debug"}, args...)
		if r.err != nil {
			t.Fatalf("send: %v\n%s%s", r.err, r.stdout, r.stderr)
		}
		recs := readLog(t, logFile)
		for _, msg := range []string{"zerobus wrapper created", "zerobus: stream created"} {
			if !hasMsg(recs, msg) {
				t.Errorf("log file lacks a DEBUG %q record: %v", msg, recs)
			}
		}
		if strings.Contains(r.stderr, "level=DEBUG") {
			t.Errorf("stderr shows debug records without -v:\n%s", r.stderr)
		}
		if b, _ := os.ReadFile(logFile); bytes.Contains(b, []byte(srv.ClientSecret())) {
			t.Errorf("the log file holds the client secret:\n%s", b)
		}
		if n := srv.RecordCount("main.default.logs"); n != 5 {
			t.Errorf("server holds %d rows, want 5", n)
		}
	})
	t.Run("-v", func(t *testing.T) {
		logFile := filepath.Join(dir, "v.log")
		r := sendCLIEnv(t, map[string]string{"ZEROBUS_LOG_FILE": logFile}, "-local", "-v", "-progress", "never", path)
		if r.err != nil {
			t.Fatalf("send: %v\n%s%s", r.err, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, `level=DEBUG msg="zerobus wrapper created"`) {
			t.Errorf("-v: stderr lacks the debug record:\n%s", r.stderr)
		}
		if !hasMsg(readLog(t, logFile), "zerobus: stream created") {
			t.Errorf("-v does not set log_level debug for log_file")
		}
	})
	t.Run("observability files", func(t *testing.T) {
		otel := filepath.Join(dir, "otel")
		r := sendCLIEnv(t, map[string]string{"OTLP_ENABLED": "true", "OTLP_OUTPUT_DIR": otel}, "-local", "-progress", "never", path)
		if r.err != nil {
			t.Fatalf("send: %v\n%s%s", r.err, r.stdout, r.stderr)
		}
		// The Wrapper owns the telemetry: its Close flushed the files.
		for _, name := range []string{"traces.jsonl", "metrics.jsonl"} {
			b, err := os.ReadFile(filepath.Join(otel, name))
			if err != nil || !bytes.Contains(b, []byte("zerobus.")) {
				t.Errorf("%s: %v, %d bytes", name, err, len(b))
			}
		}
	})
}

// TestCSVRowNumbers: every row number send prints counts data rows from 0,
// in the CSV reading errors as in the failed-row summary and -json, and
// CSV errors also give the file line (a quoted cell spanning two lines
// makes it differ from row+2). The row a message names is the row the
// results and the quarantine file hold.
func TestCSVRowNumbers(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// row 0 spans lines 2-3; row 1 is line 4, row 2 line 5, row 3 line 6.
	const head = "id,name\n0,\"two\nlines\"\n1,b\n"

	// A malformed record, met by the type sample and by the reader after it: the same text.
	ragged := write("ragged.csv", head+"2,c,extra\n3,d\n")
	for _, args := range [][]string{{"-dry-run"}, {"-dry-run", "-csv-infer-rows", "1", "-batch-rows", "1"}} {
		r := sendCLI(t, append(args, ragged)...)
		if want := "reading CSV row 2: record on line 5: wrong number of fields (3 cells, the header has 2)"; r.err == nil || !strings.Contains(r.err.Error(), want) {
			t.Errorf("%v: err = %v, want %q", args, r.err, want)
		}
	}
	// A cell that does not parse as the sampled type: its row, line and column.
	late := write("late.csv", head+"two,c\n3,d\n")
	for _, batch := range []string{"2", "1"} {
		r := sendCLI(t, "-dry-run", "-csv-infer-rows", "1", "-batch-rows", batch, late)
		if want := `reading CSV row 2 (line 5), column "id" (int64, inferred from the first 1 rows): cannot read "two" as int64`; r.err == nil || !strings.Contains(r.err.Error(), want) {
			t.Errorf("late cell, -batch-rows %s: err = %v, want %q", batch, r.err, want)
		}
	}

	// A row that fails conversion (invalid UTF-8) is row 2 in the text
	// summary, in -json, and in the quarantine file.
	bad := write("bad.csv", head+"2,\xff\n3,d\n")
	q := filepath.Join(dir, "q.arrow")
	r := sendCLI(t, "-dry-run", "-quarantine", q, bad)
	if !strings.Contains(r.stdout, "  failed rows (1 row in 1 range; rows count from 0 in each file):\n    "+bad+" row 2: [conversion]") {
		t.Errorf("text summary:\n%s", r.stdout)
	}
	r = sendCLI(t, "-dry-run", "-json", bad)
	var sum summaryJSON
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil {
		t.Fatalf("-json: %v\n%s", err, r.stdout)
	}
	if len(sum.FailedRows) != 1 || sum.FailedRows[0].FirstRow != 2 || sum.FailedRows[0].LastRow != 2 {
		t.Errorf("-json failed_rows = %+v, want rows 2..2", sum.FailedRows)
	}
	_, qrecs := readStream(t, q)
	var ids []int64
	for _, rec := range qrecs {
		ids = append(ids, rec.Column(0).(*array.Int64).Int64Values()...)
	}
	if diff := cmp.Diff([]int64{2}, ids); diff != "" {
		t.Errorf("quarantined ids (-want +got):\n%s", diff)
	}
}

// readStream reads the Arrow IPC stream file at path (a quarantine file);
// the batches are released when the test ends.
func readStream(t *testing.T, path string) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ipc.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	var recs []arrow.RecordBatch
	for r.Next() {
		rec := r.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
		t.Cleanup(rec.Release)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r.Schema(), recs
}

// TestSendUnknownRows: rows sent without an acknowledgement are reported as
// unknown (they may be stored), apart from the rows certainly not written, in
// the text summary, -json and the exit error. The server stores every row
// but never acknowledges, so "24 rows failed" alone would invite a re-send
// that duplicates them all (issue #16).
func TestSendUnknownRows(t *testing.T) {
	s := startServer(t)
	const table = "main.default.unknown_rows"
	s.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 6)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	env := map[string]string{"ZEROBUS_ACK_TIMEOUT_MS": "300", "RETRY_MAX_ATTEMPTS": "1", "RETRY_BASE_DELAY_MS": "10"}

	r := sendCLIEnv(t, env, append(connFlags(s, table), "-progress", "never", path)...)
	if !errors.Is(r.err, errRowsFailed) && r.err == nil {
		t.Fatalf("err = nil, want a failure")
	}
	if got := s.RecordCount(table); got != 6 {
		t.Fatalf("server stored %d rows, want 6 (stalled acks store the rows)", got)
	}
	if !strings.Contains(r.stdout, "rows failed:  6 (retry_exhausted=6; 6 unknown: sent without an acknowledgement, they may be stored)\n") {
		t.Errorf("summary does not say the 6 failed rows may be stored:\n%s", r.stdout)
	}
	// the server was reached: the message names the setting by its key and
	// the network path (a dropped one times out too), not the endpoint URL
	for _, bad := range []string{"AckTimeout", "cannot reach", "check the endpoint URL"} {
		if strings.Contains(r.stdout, bad) {
			t.Errorf("summary says %q:\n%s", bad, r.stdout)
		}
	}
	if !strings.Contains(r.stdout, "sent no acknowledgement for 300ms with 1 request in flight "+
		"(raise ack_timeout_ms, env ZEROBUS_ACK_TIMEOUT_MS, or check the network path to the endpoint)") {
		t.Errorf("summary does not explain the ack timeout:\n%s", r.stdout)
	}

	qpath := filepath.Join(dir, "failed.arrows")
	r = sendCLIEnv(t, env, append(connFlags(s, table), "-progress", "never", "-quarantine", qpath, path)...)
	if !strings.Contains(r.stdout, "  quarantine:   6 failed rows written to "+qpath) ||
		!strings.Contains(r.stdout, "  quarantine:   6 of them are unknown (sent without an acknowledgement): re-send them only where duplicates are removed\n") {
		t.Errorf("summary does not say which quarantined rows may be stored:\n%s", r.stdout)
	}

	r = sendCLIEnv(t, env, append(connFlags(s, table), "-json", "-progress", "never", path)...)
	var out struct {
		RowsFailed     int64 `json:"rows_failed"`
		RowsNotWritten int64 `json:"rows_not_written"`
		RowsUnknown    int64 `json:"rows_unknown"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("-json output %q: %v", r.stdout, err)
	}
	if out.RowsFailed != 6 || out.RowsUnknown != 6 || out.RowsNotWritten != 0 {
		t.Errorf("-json rows_failed/unknown/not_written = %d/%d/%d, want 6/6/0", out.RowsFailed, out.RowsUnknown, out.RowsNotWritten)
	}
	if got := s.RecordCount(table); got != 18 {
		t.Errorf("server stored %d rows after three runs, want 18", got)
	}
}

// TestSendConfigErrorsNameKeys: configuration problems name the settings by
// the keys a -config file and the Python package use (with their
// environment variables), not by Go Config fields.
func TestSendConfigErrorsNameKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 2)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	code, _, msg := runCLI(t, "send", "-transport", "flight", "-table", "main.default.t", path)
	if code != ExitUsage {
		t.Fatalf("send with -transport flight and no connection: exit %d, want %d; stderr:\n%s", code, ExitUsage, msg)
	}
	// -transport set the value: the error names the flag, not the variable.
	for _, want := range []string{"set the connection with -endpoint", `transport (flag -transport): is "flight"`, "endpoint (flag -endpoint or env ZEROBUS_ENDPOINT): is required", "client_secret (flag -client-secret or env ZEROBUS_CLIENT_SECRET)", "unity_catalog_url (flag -workspace-url or env UNITY_CATALOG_URL)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, field := range []string{"Transport (", "Endpoint (", "ClientSecret (", "ZEROBUS_TRANSPORT"} {
		if strings.Contains(msg, field) {
			t.Errorf("error names %q:\n%s", field, msg)
		}
	}

	// The variable or the -config file set it: the error names it (the
	// environment is not read with -config). The connection is fine
	// (-local), so no hint about setting it.
	yml := filepath.Join(dir, "zb.yaml")
	if err := os.WriteFile(yml, []byte("transport: flight\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{[]string{"-local", "-transport", "flight"}, nil, `transport (flag -transport): is "flight"`},
		{[]string{"-local"}, map[string]string{"ZEROBUS_TRANSPORT": "flight"}, `transport (env ZEROBUS_TRANSPORT): is "flight"`},
		{[]string{"-local", "-config", yml}, map[string]string{"ZEROBUS_TRANSPORT": "protobuf"}, `transport (file ` + yml + `): is "flight"`},
		{[]string{"-local", "-config", yml, "-transport", "pigeon"}, nil, `transport (flag -transport): is "pigeon"`},
		// a bad table name with -local / -dry-run: the hint said "set the connection ... or try -local or -dry-run"
		{[]string{"-local", "-table", "events"}, nil, `table_name (flag -table): "events" names no catalog or schema`},
		{[]string{"-dry-run", "-table", "a.b.c.d"}, nil, `table_name (flag -table): "a.b.c.d" has 4 dot-separated parts`},
	} {
		var errOut bytes.Buffer
		code := RunEnv(t.Context(), append(append([]string{"send"}, c.args...), path), Env{
			Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &errOut,
			LookupEnv: func(k string) (string, bool) { v, ok := c.env[k]; return v, ok },
		})
		msg := errOut.String()
		if code != ExitUsage || !strings.Contains(msg, c.want) || strings.Contains(msg, "set the connection") {
			t.Errorf("send %v (env %v): exit %d, want %d and %q without the connection hint; stderr:\n%s", c.args, c.env, code, ExitUsage, c.want, msg)
		}
	}
}
