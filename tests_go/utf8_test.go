package tests_go

import (
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestSendInvalidUTF8 sends a batch whose string column holds invalid UTF-8
// in rows 1 and 3: those rows fail with a conversion error naming row and
// column, and the server stores exactly the other rows, with their values.
func TestSendInvalidUTF8(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.utf8"
	w := newWrapper(t, serverConfig(srv, table))
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	names := []string{"ok", "bad\xff", "é日", "\xc3", "fine"}
	for i, n := range names {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(n)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	res, err := w.SendBatch(testCtx(t), rec)
	if err == nil || res == nil {
		t.Fatalf("SendBatch = %v, %v; want a result and an error for the 2 failed rows", res, err)
	}
	checkInvariant(t, res, len(names))
	checkOnePrefix(t, err.Error())
	if res.SuccessfulCount != 3 || res.FailedCount != 2 {
		t.Fatalf("%d sent, %d failed; want 3 and 2", res.SuccessfulCount, res.FailedCount)
	}
	for k, fr := range res.FailedRows {
		var ce *core.ConversionError
		if !errors.As(fr.Err, &ce) || ce.Row != []int{1, 3}[k] || ce.Column != "name" || core.KindOf(fr.Err) != core.KindConversion {
			t.Errorf("failed row %d: %v, want a conversion error at row %d, column name", fr.Index, fr.Err, []int{1, 3}[k])
		}
	}
	stored := map[int64]string{}
	for _, r := range srv.Rows(table) {
		id, _ := field(r.Message, "id")
		name, _ := field(r.Message, "name")
		stored[id.Int()] = name.String()
	}
	want := map[int64]string{0: "ok", 2: "é日", 4: "fine"}
	if len(stored) != len(want) {
		t.Errorf("server holds %v, want %v", stored, want)
	}
	for id, n := range want {
		if stored[id] != n {
			t.Errorf("id %d stored as %q, want %q", id, stored[id], n)
		}
	}
}
