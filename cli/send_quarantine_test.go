package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// writeFailing writes an Arrow IPC stream of n rows to path; the rows in bad
// hold a uint64 over the int64 range, so they fail conversion.
func writeFailing(t *testing.T, path string, n int64, bad map[int64]bool) {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Uint64},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int64Builder).Append(i)
		v := uint64(i)
		if bad[i] {
			v = math.MaxUint64
		}
		b.Field(1).(*array.Uint64Builder).Append(v)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	writeArrow(t, path, true, schema, []arrow.RecordBatch{rec})
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tmpLeft fails when a temporary quarantine file is left in dir.
func tmpLeft(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// -quarantine naming an input (however spelled, or through the name of
// the file for a second schema) is refused before anything is written:
// the input was truncated, then deleted.
func TestSendQuarantineIsInput(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in.arrows")
	writeFailing(t, in, 6, map[int64]bool{2: true})
	in2 := filepath.Join(dir, "q-2.arrows")
	writeFailing(t, in2, 4, map[int64]bool{1: true})
	want, want2 := readBytes(t, in), readBytes(t, in2)
	for _, tc := range []struct {
		name  string
		q     string
		files []string
		msg   string
	}{
		{"same path", in, []string{in}, "-quarantine " + in + " is the input file " + in + ";"},
		{"other spelling", dir + "/./in.arrows", []string{in}, "is the input file " + in},
		{"second schema's file", filepath.Join(dir, "q.arrows"), []string{in, in2},
			"-quarantine " + filepath.Join(dir, "q.arrows") + ": " + in2 + ", where the failed rows of a second schema would go, is the input file " + in2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const table = "main.default.q_is_input"
			r := sendCLI(t, append(append(connFlags(s, table), "-quarantine", tc.q), tc.files...)...)
			var ue *usageError
			if !errors.As(r.err, &ue) || !strings.Contains(r.err.Error(), tc.msg) {
				t.Fatalf("err = %v, want a usage error containing %q", r.err, tc.msg)
			}
			if !bytes.Equal(readBytes(t, in), want) || !bytes.Equal(readBytes(t, in2), want2) {
				t.Fatal("an input file changed")
			}
			if n := s.RecordCount(table); n != 0 {
				t.Errorf("%d rows sent, want none", n)
			}
			tmpLeft(t, dir)
		})
	}
}

// An existing file at the -quarantine path is left as it was when no row
// fails (it was truncated and deleted), and replaced by the failed rows
// when some do.
func TestSendQuarantineExistingFile(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	good := filepath.Join(dir, "good.arrows")
	writeFailing(t, good, 5, nil)
	q := filepath.Join(dir, "keep.txt")
	if err := os.WriteFile(q, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := sendCLI(t, append(connFlags(s, "main.default.q_existing"), "-quarantine", q, good)...)
	if r.err != nil {
		t.Fatalf("send: %v\n%s", r.err, r.stderr)
	}
	if got := string(readBytes(t, q)); got != "precious\n" {
		t.Errorf("existing file holds %q after a send with no failed row", got)
	}
	tmpLeft(t, dir)

	bad := filepath.Join(dir, "bad.arrows")
	writeFailing(t, bad, 5, map[int64]bool{1: true, 3: true})
	r = sendCLI(t, append(connFlags(s, "main.default.q_existing"), "-quarantine", q, bad)...)
	if !errors.Is(r.err, errRowsFailed) {
		t.Fatalf("err = %v, want errRowsFailed", r.err)
	}
	_, recs := readStream(t, q)
	var ids []string
	for _, rec := range recs {
		ids = append(ids, rec.Column(0).String())
	}
	if got := strings.Join(ids, ""); got != "[1 3]" {
		t.Errorf("quarantine file holds ids %s, want [1 3]", got)
	}
	tmpLeft(t, dir)
}

// Failed rows are listed under the path as given: two inputs with the same
// base name (a/x.arrows, b/x.arrows) were indistinguishable.
func TestSendFailedRowsNameThePath(t *testing.T) {
	s := startServer(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a", "x.arrows"), filepath.Join(dir, "b", "x.arrows")
	for _, p := range []string{a, b} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFailing(t, a, 4, map[int64]bool{1: true})
	writeFailing(t, b, 4, map[int64]bool{2: true})
	r := sendCLI(t, append(connFlags(s, "main.default.same_base"), a, b)...)
	if !errors.Is(r.err, errRowsFailed) {
		t.Fatalf("err = %v", r.err)
	}
	for _, want := range []string{"\n    " + a + " row 1: [conversion]", "\n    " + b + " row 2: [conversion]"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, r.stdout)
		}
	}
}

// Nits of the summary: -dry-run says "converted", not "rows sent"; the
// throughput counts the rows sent, not the failed ones; with -quiet the
// last line does not point to a summary that was not printed.
func TestSendSummaryWording(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.arrows")
	writeFailing(t, bad, 4, map[int64]bool{0: true, 1: true, 2: true, 3: true}) // every row fails
	r := sendCLI(t, "-dry-run", bad)
	if !errors.Is(r.err, errRowsFailed) || !strings.Contains(r.err.Error(), "see the summary") {
		t.Fatalf("err = %v", r.err)
	}
	if !strings.Contains(r.stdout, "\n  converted:    0 of 4\n") || strings.Contains(r.stdout, "rows sent") {
		t.Errorf("-dry-run summary:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "throughput:") && !strings.Contains(r.stdout, "throughput:   0 rows/s") {
		t.Errorf("throughput counts failed rows:\n%s", r.stdout)
	}
	r = sendCLI(t, "-dry-run", "-json", bad)
	var sum summaryJSON
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.RowsPerS != 0 {
		t.Errorf("-json rows_per_s = %v (%v), want 0", sum.RowsPerS, err)
	}
	r = sendCLI(t, "-dry-run", "-quiet", bad)
	if r.err == nil || strings.Contains(r.err.Error(), "see the summary") || !strings.Contains(r.err.Error(), "-json or a run without -quiet lists them") {
		t.Errorf("-quiet: err = %v", r.err)
	}
}
