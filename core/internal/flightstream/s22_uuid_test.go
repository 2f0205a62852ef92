package flightstream

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

var (
	s22UUIDMeta = arrow.NewMetadata([]string{"ARROW:extension:name"}, []string{"arrow.uuid"})
	s22FSB16    = &arrow.FixedSizeBinaryType{ByteWidth: 16}
	s22UUIDs    = [][16]byte{
		{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f},
		{0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xf0},
	}
	s22UUIDText = []string{"00010203-0405-0607-0809-0a0b0c0d0e0f", "ffeeddcc-bbaa-9988-7766-5544332211f0"}
)

// s22UUIDBatch: UUID columns as the C stream import gives them
// (fixed_size_binary[16], arrow.uuid in the field's metadata; also in a
// STRUCT field, a list's elements, a map's keys and values) and a
// registered arrow.uuid; rows 0 and 1 hold s22UUIDs[r], row 2 nulls. The
// batch is sliced from a longer one (offset 1), as chunks are.
func s22UUIDBatch(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	uf := arrow.Field{Name: "u", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta}
	fields := []arrow.Field{
		uf,
		{Name: "bin", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta},
		{Name: "st", Type: arrow.StructOf(uf), Nullable: true},
		{Name: "l", Type: arrow.ListOfField(arrow.Field{Name: "item", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta}), Nullable: true},
		{Name: "m", Type: arrow.MapOfWithMetadata(s22FSB16, s22UUIDMeta, s22FSB16, s22UUIDMeta), Nullable: true},
		{Name: "reg", Type: extensions.NewUUIDType(), Nullable: true},
	}
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer rb.Release()
	for r := -1; r < 3; r++ {
		if r == 2 {
			for k := range fields {
				rb.Field(k).AppendNull()
			}
			continue
		}
		u := s22UUIDs[max(r, 0)][:]
		rb.Field(0).(*array.FixedSizeBinaryBuilder).Append(u)
		rb.Field(1).(*array.FixedSizeBinaryBuilder).Append(u)
		sb := rb.Field(2).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.FixedSizeBinaryBuilder).Append(u)
		lb := rb.Field(3).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.FixedSizeBinaryBuilder).Append(u)
		lb.ValueBuilder().(*array.FixedSizeBinaryBuilder).Append(s22UUIDs[1-max(r, 0)][:])
		mb := rb.Field(4).(*array.MapBuilder)
		mb.Append(true)
		mb.KeyBuilder().(*array.FixedSizeBinaryBuilder).Append(u)
		mb.ItemBuilder().(*array.FixedSizeBinaryBuilder).Append(u)
		rb.Field(5).(*extensions.UUIDBuilder).AppendBytes(s22UUIDs[max(r, 0)])
	}
	full := rb.NewRecordBatch()
	defer full.Release()
	return full.NewSlice(1, 4)
}

// s22 review realinputs M1 (arrow_flight): UUIDs into a table STRING are
// cast to their canonical text (what the protobuf path writes), at the top
// level and inside STRUCTs, ARRAYs and MAPs, metadata-named or registered;
// into BINARY their 16 bytes.
func TestS22UUIDIntoStringIsItsText(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := s22UUIDBatch(t, mem)
	defer rec.Release()
	ls := arrow.BinaryTypes.LargeString
	table := arrow.NewSchema([]arrow.Field{
		{Name: "u", Type: ls, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "u", Type: ls, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(ls), Nullable: true},
		{Name: "m", Type: arrow.MapOf(ls, ls), Nullable: true},
		{Name: "reg", Type: ls, Nullable: true},
	}, nil)
	c, err := PlanCast("t", rec.Schema(), table)
	if err != nil {
		t.Fatalf("PlanCast: %v", err)
	}
	out, nulls, keep, err := c.ApplyWith(t.Context(), mem, rec)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	defer out.Release()
	if out.NumRows() != 3 || len(nulls) != 0 || keep != nil {
		t.Fatalf("%d rows, left out %v; want all 3", out.NumRows(), nulls)
	}
	if !out.Schema().Equal(table) {
		t.Fatalf("schema %v, want the table's %v", out.Schema(), table)
	}
	a, b := s22UUIDText[0], s22UUIDText[1]
	want := map[string]string{
		"u":   `["` + a + `","` + b + `",null]`,
		"st":  `[{"u":"` + a + `"},{"u":"` + b + `"},null]`,
		"l":   `[["` + a + `","` + b + `"],["` + b + `","` + a + `"],null]`,
		"m":   `[[{"key":"` + a + `","value":"` + a + `"}],[{"key":"` + b + `","value":"` + b + `"}],null]`,
		"reg": `["` + a + `","` + b + `",null]`,
	}
	for i, f := range table.Fields() {
		js, err := json.Marshal(out.Column(i))
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := want[f.Name]; ok && string(js) != w {
			t.Errorf("column %s: %s\nwant %s", f.Name, js, w)
		}
	}
	bin := out.Column(1).(*array.LargeBinary)
	for r := range 2 {
		if string(bin.Value(r)) != string(s22UUIDs[r][:]) {
			t.Errorf("bin row %d: %x, want the 16 bytes %x", r, bin.Value(r), s22UUIDs[r])
		}
	}
	if bin.IsValid(2) {
		t.Errorf("bin row 2 is %x, want null", bin.Value(2))
	}
}

// s22 review realinputs M1/L4: UUIDs into a column other than STRING or
// BINARY are refused naming the extension, with a reason that says where
// they go; the other extension types the review met are named too.
func TestS22ExtensionsNamedInMismatches(t *testing.T) {
	opaqueMeta := arrow.NewMetadata([]string{"ARROW:extension:name", "ARROW:extension:metadata"},
		[]string{"arrow.opaque", `{"type_name":"hugeint","vendor_name":"DuckDB"}`})
	bool8Meta := arrow.NewMetadata([]string{"ARROW:extension:name"}, []string{"arrow.bool8"})
	dec := arrow.Field{Name: "v", Type: arrow.BinaryTypes.LargeString, Nullable: true, Metadata: convert.DecimalMeta(38, 0)}
	cases := []struct {
		from   arrow.Field
		to     arrow.Field
		caller string
		reason string
	}{
		{arrow.Field{Name: "v", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta}, arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			"arrow.uuid (fixed_size_binary[16])", convert.UUIDReason},
		{arrow.Field{Name: "v", Type: extensions.NewUUIDType(), Nullable: true}, arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			"arrow.uuid (fixed_size_binary[16])", convert.UUIDReason},
		{arrow.Field{Name: "v", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta}, dec,
			"arrow.uuid (fixed_size_binary[16])", convert.DecimalRefusal(convert.DecimalSpec{Precision: 38, Scale: 0})},
		{arrow.Field{Name: "v", Type: s22FSB16, Nullable: true, Metadata: opaqueMeta}, dec,
			"arrow.opaque[DuckDB hugeint] (fixed_size_binary[16])", convert.OpaqueReason},
		{arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Int8, Nullable: true, Metadata: bool8Meta}, arrow.Field{Name: "v", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
			"arrow.bool8 (int8)", "no safe cast; cast the batch's column to bool, or change the table's column"},
	}
	for _, tc := range cases {
		_, err := PlanCast("t", arrow.NewSchema([]arrow.Field{tc.from}, nil), arrow.NewSchema([]arrow.Field{tc.to}, nil))
		var me *MismatchError
		if !errors.As(err, &me) || len(me.Columns) != 1 {
			t.Fatalf("%s into %s: %v, want one mismatch", tc.caller, tc.to.Type, err)
		}
		if got := me.Columns[0]; got.CallerType != tc.caller || got.Reason != tc.reason {
			t.Errorf("%s into %s: caller type %q, reason %q\nwant %q, %q", tc.caller, tc.to.Type, got.CallerType, got.Reason, tc.caller, tc.reason)
		}
		if !strings.Contains(err.Error(), `column "v" is `+tc.caller+" in the batch") {
			t.Errorf("%q does not name the extension", err)
		}
	}
	// An extra UUID column is named by its extension too.
	_, err := PlanCast("t", arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "u", Type: s22FSB16, Metadata: s22UUIDMeta}}, nil),
		arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil))
	if err == nil || !strings.Contains(err.Error(), `column "u" (arrow.uuid (fixed_size_binary[16]) in the batch) is not in the table`) {
		t.Errorf("extra UUID column: %v", err)
	}
}
