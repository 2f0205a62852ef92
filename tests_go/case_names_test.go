package tests_go

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Column or STRUCT field names that differ only in case ("id" and "ID") are
// one name to Delta and Unity Catalog: no table holds both. Both transports
// refuse such a batch before sending anything (no stream, no table created,
// no row stored), with a schema-level *ConversionError naming both names
// (by path inside a STRUCT or an ARRAY's STRUCT elements) and saying to
// rename one; CheckSchema refuses the schema the same way.
func TestCaseOnlyNamesRefusedBeforeSending(t *testing.T) {
	item := arrow.StructOf(
		arrow.Field{Name: "sku", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "SKU", Type: arrow.BinaryTypes.String, Nullable: true},
	)
	cases := []struct {
		name   string
		fields []arrow.Field
		want   []string
	}{
		{"columns", []arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "ID", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		}, []string{`"id" and "ID" differ only in case`}},
		{"struct_fields", []arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "payload", Type: arrow.StructOf(
				arrow.Field{Name: "key", Type: arrow.BinaryTypes.String, Nullable: true},
				arrow.Field{Name: "Key", Type: arrow.BinaryTypes.String, Nullable: true},
			), Nullable: true},
		}, []string{`"payload.key" and "payload.Key" differ only in case`}},
		{"list_struct_fields", []arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "items", Type: arrow.ListOf(item), Nullable: true},
		}, []string{`"items[].sku" and "items[].SKU" differ only in case`}},
	}
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		for _, tc := range cases {
			t.Run(transport+"/"+tc.name, func(t *testing.T) {
				srv := startServer(t, zerobuslocal.Options{})
				table := "main.default.case_" + tc.name
				cfg := serverConfig(srv, table)
				cfg.Transport = transport
				w := newWrapper(t, cfg)
				schema := arrow.NewSchema(tc.fields, nil)
				mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
				defer mem.AssertSize(t, 0)
				b := array.NewRecordBuilder(mem, schema)
				defer b.Release()
				for i := range 3 {
					b.Field(0).(*array.Int64Builder).Append(int64(i))
					for _, fb := range b.Fields()[1:] {
						fb.AppendNull()
					}
				}
				rec := b.NewRecordBatch()
				defer rec.Release()
				want := append(slices.Clone(tc.want), "rename one of them", "case-insensitive")
				check := func(what string, err error) {
					t.Helper()
					var ce *core.ConversionError
					if !errors.As(err, &ce) || ce.Row != -1 || core.KindOf(err) != core.KindConversion {
						t.Fatalf("%s: %v, want a schema-level *ConversionError", what, err)
					}
					for _, s := range want {
						if !strings.Contains(err.Error(), s) {
							t.Errorf("%s: %q does not say %q", what, err, s)
						}
					}
				}
				check("CheckSchema", w.CheckSchema(testCtx(t), schema))
				res, err := w.SendBatch(testCtx(t), rec)
				checkInvariant(t, res, 3)
				if res.FailedCount != 3 {
					t.Errorf("FailedCount = %d, want 3", res.FailedCount)
				}
				check("SendBatch", err)
				if n := srv.RecordCount(table); n != 0 {
					t.Errorf("server stored %d rows, want 0", n)
				}
				if slices.Contains(srv.Tables(), table) {
					t.Errorf("table %s was created, want nothing sent", table)
				}
			})
		}
	}
}
