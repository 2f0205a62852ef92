package convert

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// variantTexts are the JSON texts of TestTableVariantChecksJSONText, row by
// row; bad ones fail their row, with protoarrow.ParseVariantJSON's reason.
var variantTexts = []struct {
	text string
	bad  bool
}{
	{`{"a": 1, "b": [true, null, "x"]}`, false},
	{`not json`, true},
	{`{"a": 1, "a": 2}`, true}, // a key given twice
	{`1 2`, true},              // two documents
	{`"é"`, false},
	{``, true},
	{`["\ud800"]`, true}, // a lone surrogate escape
	{`[1e400]`, false},   // outside float64: a DOUBLE +Infinity, as Spark's parse_json
	{` [1, {"k": {}}] `, false},
}

// TestTableVariantChecksJSONText: the text of a column the table declares
// VARIANT (Options.TableVariant) fails its row alone when it is not one
// JSON document, named by its path and with the reason the Flight path
// gives (protoarrow.ParseVariantJSON), in every form and nesting a string
// is given in; the other rows encode the text unchanged. Without
// TableVariant the same batch encodes every row.
func TestTableVariantChecksJSONText(t *testing.T) {
	str := arrow.BinaryTypes.String
	for _, tc := range []struct {
		name  string
		dt    arrow.DataType
		path  string             // TableVariant entry
		value func(s string) any // the JSON value of one row holding s
		col   func(r int) string // the failing path of row r
	}{
		{"string", str, "v", func(s string) any { return s }, func(int) string { return "v" }},
		{"large_string", arrow.BinaryTypes.LargeString, "v", func(s string) any { return s }, func(int) string { return "v" }},
		{"string_view", arrow.BinaryTypes.StringView, "v", func(s string) any { return s }, func(int) string { return "v" }},
		{"dictionary", &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: str}, "v", func(s string) any { return s }, func(int) string { return "v" }},
		{"STRUCT field", arrow.StructOf(arrow.Field{Name: "x", Type: str, Nullable: true}), "v.x",
			func(s string) any { return map[string]any{"x": s} }, func(int) string { return "v.x" }},
		{"ARRAY element", arrow.ListOf(str), "v[]",
			func(s string) any { return []any{`{}`, s} }, func(int) string { return "v[1]" }},
		{"MAP value", arrow.MapOf(str, str), "v.value",
			func(s string) any { return []any{map[string]any{"key": "k", "value": s}} }, func(int) string { return "v[0].value" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			rows := make([]any, 0, len(variantTexts)+1)
			for _, v := range variantTexts {
				rows = append(rows, tc.value(v.text))
			}
			rows = append(rows, nil) // a null stays a null
			js, err := json.Marshal(rows)
			if err != nil {
				t.Fatal(err)
			}
			var v arrow.Array
			if dt, ok := tc.dt.(*arrow.DictionaryType); ok {
				plain := fromJSON(t, mem, dt.ValueType, string(js))
				b := array.NewDictionaryBuilder(mem, dt)
				if err := b.AppendArray(plain); err != nil {
					t.Fatal(err)
				}
				plain.Release()
				v = b.NewArray()
				b.Release()
			} else {
				v = fromJSON(t, mem, tc.dt, string(js))
			}
			id := fromJSON(t, mem, arrow.PrimitiveTypes.Int64, idsJSON(v.Len()))
			schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: tc.dt, Nullable: true}}, nil)
			rec := array.NewRecordBatch(schema, []arrow.Array{id, v}, int64(v.Len()))
			id.Release()
			v.Release()
			defer rec.Release()

			// Without TableVariant: every row is sent as it is.
			p, err := NewPlan(schema, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if b := encodeOK(t, p, rec); len(b.Errors) != 0 {
				t.Fatalf("without TableVariant: row errors %v", b.Errors)
			}

			p, err = NewPlan(schema, Options{TableVariant: map[string]bool{tc.path: true}})
			if err != nil {
				t.Fatal(err)
			}
			b := encodeOK(t, p, rec)
			var wantRows []int
			var wantErr []*RowError
			for r, v := range variantTexts {
				if !v.bad {
					wantRows = append(wantRows, r)
					continue
				}
				perr := protoarrow.CheckVariantJSON([]byte(v.text))
				if perr == nil {
					t.Fatalf("ParseVariantJSON accepts %q", v.text)
				}
				wantErr = append(wantErr, &RowError{Row: r, Column: tc.col(r), Reason: perr.Error(), Err: ErrInvalidVariant})
			}
			wantRows = append(wantRows, len(variantTexts))
			if diff := cmp.Diff(wantRows, b.Rows); diff != "" {
				t.Errorf("encoded rows (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantErr, b.Errors, cmp.Comparer(func(a, b *RowError) bool {
				return a.Row == b.Row && a.Column == b.Column && a.Reason == b.Reason && errors.Is(a, b.Err)
			})); diff != "" {
				t.Errorf("row errors (-want +got):\n%s", diff)
			}
			for _, e := range b.Errors {
				if !strings.HasPrefix(e.Reason, "VARIANT value") {
					t.Errorf("reason %q does not say VARIANT", e.Reason)
				}
			}
			// The accepted texts are sent unchanged.
			md := p.MessageDescriptor()
			for k, rec := range b.Records {
				r := b.Rows[k]
				if r == len(variantTexts) {
					continue
				}
				m := decode(t, md, rec)
				if tc.name == "string" {
					if got := m.Get(md.Fields().ByName("v")).String(); got != variantTexts[r].text {
						t.Errorf("row %d: v = %q, want %q", r, got, variantTexts[r].text)
					}
				}
			}
		})
	}
}

// TestTableVariants: the paths of a table's VARIANT columns, STRUCT
// fields, ARRAY elements and MAP values, by the paths NewPlan names them;
// TableNullability names the VARIANT itself, not its parts.
func TestTableVariants(t *testing.T) {
	vt := arrow.StructOf(arrow.Field{Name: "metadata", Type: arrow.BinaryTypes.LargeBinary}, arrow.Field{Name: "value", Type: arrow.BinaryTypes.LargeBinary})
	str := arrow.BinaryTypes.LargeString
	s := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: vt, Nullable: true},
		{Name: "payload", Type: arrow.StructOf(arrow.Field{Name: "v", Type: vt, Nullable: true}, arrow.Field{Name: "items", Type: arrow.ListOf(arrow.StructOf(arrow.Field{Name: "v", Type: vt}))}), Nullable: true},
		{Name: "vs", Type: arrow.ListOf(vt), Nullable: true},
		{Name: "m", Type: arrow.MapOf(str, vt), Nullable: true},
		{Name: "s", Type: str},
	}, nil)
	want := map[string]bool{"v": true, "payload.v": true, "payload.items[].v": true, "vs[]": true, "m.value": true}
	if diff := cmp.Diff(want, TableVariants(s)); diff != "" {
		t.Errorf("TableVariants (-want +got):\n%s", diff)
	}
	nullable := TableNullability(s)
	if _, ok := nullable["v.metadata"]; ok {
		t.Errorf("TableNullability names the parts of a VARIANT: %v", nullable)
	}
	if got := TableVariants(arrow.NewSchema([]arrow.Field{{Name: "s", Type: str}}, nil)); got != nil {
		t.Errorf("TableVariants without VARIANT = %v, want nil", got)
	}
}

// BenchmarkVariantText: the cost of checking VARIANT text on the protobuf
// path, per value: "unchecked" is a plain STRING column, "checked" the
// same column declared VARIANT (Options.TableVariant). Small objects of
// about 80 bytes, 4096 rows a batch, one goroutine.
//
//	go test -run '^$' -bench BenchmarkVariantText -benchtime 200x ./core/internal/convert/
func BenchmarkVariantText(b *testing.B) {
	const n = 4096
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	for i := range n {
		sb.Append(`{"id": ` + itoa(i) + `, "name": "item", "tags": ["a", "b"], "price": 12.5, "ok": true}`)
	}
	v := sb.NewArray()
	sb.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.BinaryTypes.String, Nullable: true}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{v}, n)
	v.Release()
	defer rec.Release()
	for _, mode := range []string{"unchecked", "checked"} {
		opts := Options{Parallelism: 1}
		if mode == "checked" {
			opts.TableVariant = map[string]bool{"v": true}
		}
		p, err := NewPlan(schema, opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(mode, func(b *testing.B) {
			for b.Loop() {
				out, err := p.Encode(rec)
				if err != nil || len(out.Errors) != 0 {
					b.Fatal(err, out.Errors)
				}
				out.Release()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/value")
		})
	}
}
