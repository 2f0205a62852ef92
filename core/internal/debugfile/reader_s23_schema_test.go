package debugfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
)

// s23 dbgread 2: a file holding its schema and no batch returned nothing
// at all, so a reader could not keep its columns; Tail.Schema gives the
// file's schema (and stays nil where the file has none).
func TestS23TailSchema(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "s", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range 300 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append("text")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	var schemaOnly, whole bytes.Buffer
	w := ipc.NewWriter(&schemaOnly, ipc.WithSchema(schema))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = ipc.NewWriter(&whole, ipc.WithSchema(schema))
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	schemaLen := schemaOnly.Len() - 8 // without the end-of-stream marker

	dir := t.TempDir()
	active := filepath.Join(dir, "main.default.t.arrow")
	debuglock.Hold(t, active) // its writer is writing its first batch
	if err := os.WriteFile(active, whole.Bytes()[:schemaLen+50], 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		path    string
		writing bool
	}{
		"active, inside its first batch": {active, true},
		"rotated, closed":                {rotatedCopy(t, active, schemaOnly.Bytes()), false},
	}
	for name, c := range cases {
		recs, tail, err := ReadArrowFileTail(c.path, nil)
		if err != nil || len(recs) != 0 || tail.StillWriting != c.writing {
			t.Fatalf("%s: %d batches, %+v, %v; want none, still writing %v, no error", name, len(recs), tail, err, c.writing)
		}
		if tail.Schema == nil || !tail.Schema.Equal(schema) {
			t.Errorf("%s: Tail.Schema %v, want %v", name, tail.Schema, schema)
		}
	}

	// With batches, the schema is theirs; -limit's partial read too.
	full := filepath.Join(dir, "main.default.u.arrow")
	if err := os.WriteFile(full, append(append([]byte(nil), whole.Bytes()[:whole.Len()-8]...), whole.Bytes()[schemaLen:]...), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int64{0, 1} {
		recs, tail, more, err := ReadArrowFileRows(full, nil, limit)
		for _, r := range recs {
			r.Release()
		}
		if err != nil || len(recs) != 1+int(1-limit) || more != (limit == 1) || tail.Schema == nil || !tail.Schema.Equal(schema) {
			t.Errorf("limit %d: %d batches, more %v, %+v, %v; want the file's schema", limit, len(recs), more, tail, err)
		}
	}

	// No schema: an active file just created, a file of no byte.
	fresh := filepath.Join(dir, "main.default.v.arrow")
	debuglock.Hold(t, fresh)
	if err := os.WriteFile(fresh, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, tail, err := ReadArrowFileTail(fresh, nil); err != nil || !tail.StillWriting || tail.Schema != nil {
		t.Errorf("fresh active file: %+v, %v; want still writing, no schema", tail, err)
	}
	zero := rotatedCopy(t, filepath.Join(dir, "main.default.w.arrow"), nil)
	if _, tail, err := ReadArrowFileTail(zero, nil); err != nil || tail.Schema != nil {
		t.Errorf("file of no byte: %+v, %v; want no schema", tail, err)
	}
}

// s23 dbgread 3: the Python bindings read a damaged drops sidecar's path and
// line numbers through methods (they cannot name DamagedDropsError): a good
// line, a damaged one, a good one.
func TestS23DamagedDropsMethods(t *testing.T) {
	data := filepath.Join(t.TempDir(), "main.default.t.arrow")
	good := `{"before_write":1,"before_row":2,"dropped_writes":1,"dropped_rows":3,"dropped_bytes":10,"reason":"queue full"}`
	if err := os.WriteFile(DropsPath(data), []byte(good+"\n{\"before_wr\n"+good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gaps, err := ReadDrops(data)
	var d interface {
		Sidecar() string
		LineNumbers() []int
		DamagedLines() []string
	}
	if !errors.As(err, &d) {
		t.Fatalf("err %v: no Sidecar/LineNumbers/DamagedLines", err)
	}
	if d.Sidecar() != DropsPath(data) || len(d.LineNumbers()) != 1 || d.LineNumbers()[0] != 2 || len(gaps) != 2 {
		t.Errorf("sidecar %q lines %v, %d gaps; want %q line 2, 2 gaps", d.Sidecar(), d.LineNumbers(), len(gaps), DropsPath(data))
	}
	if l := d.DamagedLines(); len(l) != 1 || !strings.HasPrefix(l[0], fmt.Sprintf("%q line 2 is damaged: ", DropsPath(data))) {
		t.Errorf("DamagedLines %q", l)
	}
}
