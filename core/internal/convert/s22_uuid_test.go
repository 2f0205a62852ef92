package convert

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/reflect/protoreflect"
)

var (
	s22UUIDMeta = arrow.NewMetadata([]string{"ARROW:extension:name"}, []string{"arrow.uuid"})
	s22FSB16    = &arrow.FixedSizeBinaryType{ByteWidth: 16}
	// the UUIDs of rows 0 and 1 and their text (Python's str(uuid.UUID))
	s22UUIDs = [][16]byte{
		{0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f},
		{0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xf0},
	}
	s22UUIDText = []string{"00010203-0405-0607-0809-0a0b0c0d0e0f", "ffeeddcc-bbaa-9988-7766-5544332211f0"}
)

func TestS22AppendUUID(t *testing.T) {
	for i, u := range s22UUIDs {
		if got := string(AppendUUID([]byte("x"), u[:])); got != "x"+s22UUIDText[i] {
			t.Errorf("AppendUUID(%x) = %q, want %q", u, got, "x"+s22UUIDText[i])
		}
	}
}

// s22UUIDBatch is a batch of UUID columns as the C stream import gives
// them (fixed_size_binary[16], arrow.uuid in the field's metadata; also in
// a STRUCT field, a list's elements and a map's keys and values), and one
// registered arrow.uuid column: row 0 holds s22UUIDs[0], row 1
// s22UUIDs[1], row 2 nulls.
func s22UUIDBatch(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	uf := arrow.Field{Name: "u", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta}
	st := arrow.StructOf(uf)
	lt := arrow.ListOfField(arrow.Field{Name: "item", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta})
	mt := arrow.MapOfWithMetadata(s22FSB16, s22UUIDMeta, s22FSB16, s22UUIDMeta)
	fields := []arrow.Field{
		uf,
		{Name: "bin", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta},
		{Name: "st", Type: st, Nullable: true},
		{Name: "l", Type: lt, Nullable: true},
		{Name: "m", Type: mt, Nullable: true},
		{Name: "reg", Type: extensions.NewUUIDType(), Nullable: true},
	}
	rb := array.NewRecordBuilder(mem, arrow.NewSchema(fields, nil))
	defer rb.Release()
	for r := range 3 {
		if r == 2 {
			for k := range fields {
				rb.Field(k).AppendNull()
			}
			continue
		}
		u := s22UUIDs[r][:]
		rb.Field(0).(*array.FixedSizeBinaryBuilder).Append(u)
		rb.Field(1).(*array.FixedSizeBinaryBuilder).Append(u)
		sb := rb.Field(2).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.FixedSizeBinaryBuilder).Append(u)
		lb := rb.Field(3).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.FixedSizeBinaryBuilder).Append(u)
		lb.ValueBuilder().(*array.FixedSizeBinaryBuilder).Append(s22UUIDs[1-r][:])
		mb := rb.Field(4).(*array.MapBuilder)
		mb.Append(true)
		mb.KeyBuilder().(*array.FixedSizeBinaryBuilder).Append(u)
		mb.ItemBuilder().(*array.FixedSizeBinaryBuilder).Append(u)
		rb.Field(5).(*extensions.UUIDBuilder).AppendBytes(s22UUIDs[r])
	}
	return rb.NewRecordBatch()
}

// s22 review realinputs M1 (protobuf): UUIDs into a table STRING are
// written as their canonical text, at the top level and inside STRUCTs,
// ARRAYs and MAPs, metadata-named or registered; into BINARY, and without
// the table's types, their 16 bytes as before.
func TestS22UUIDIntoStringIsItsText(t *testing.T) {
	mem := checkedMem(t)
	rec := s22UUIDBatch(t, mem)
	defer rec.Release()
	ls, lb := arrow.BinaryTypes.LargeString, arrow.BinaryTypes.LargeBinary
	table := arrow.NewSchema([]arrow.Field{
		{Name: "u", Type: ls, Nullable: true},
		{Name: "bin", Type: lb, Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "u", Type: ls, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(ls), Nullable: true},
		{Name: "m", Type: arrow.MapOf(ls, ls), Nullable: true},
		{Name: "reg", Type: ls, Nullable: true},
	}, nil)
	p, err := NewPlan(rec.Schema(), Options{TableType: TableTypes(table), TableNullable: TableNullability(table)})
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	b := encodeOK(t, p, rec)
	defer b.Release()
	if len(b.Records) != 3 {
		t.Fatalf("%d records, errors %v; want 3", len(b.Records), b.Errors)
	}
	md := p.MessageDescriptor()
	fd := func(name string) protoreflect.FieldDescriptor { return md.Fields().ByName(protoreflect.Name(name)) }
	for _, name := range []string{"u", "reg"} {
		if k := fd(name).Kind(); k != protoreflect.StringKind {
			t.Errorf("field %s is %v, want string", name, k)
		}
	}
	if k := fd("bin").Kind(); k != protoreflect.BytesKind {
		t.Errorf("field bin is %v, want bytes", k)
	}
	for r := range 2 {
		m := decode(t, md, b.Records[r])
		want := s22UUIDText[r]
		if got := m.Get(fd("u")).String(); got != want {
			t.Errorf("row %d: u = %q, want %q", r, got, want)
		}
		if got := m.Get(fd("reg")).String(); got != want {
			t.Errorf("row %d: reg = %q, want %q", r, got, want)
		}
		if got := m.Get(fd("bin")).Bytes(); string(got) != string(s22UUIDs[r][:]) {
			t.Errorf("row %d: bin = %x, want the 16 bytes %x", r, got, s22UUIDs[r])
		}
		st := m.Get(fd("st")).Message()
		if got := st.Get(st.Descriptor().Fields().ByName("u")).String(); got != want {
			t.Errorf("row %d: st.u = %q, want %q", r, got, want)
		}
		l := m.Get(fd("l")).List()
		if l.Len() != 2 || l.Get(0).String() != want || l.Get(1).String() != s22UUIDText[1-r] {
			t.Errorf("row %d: l = %v, want [%q %q]", r, l, want, s22UUIDText[1-r])
		}
		mv := m.Get(fd("m")).Map()
		if mv.Len() != 1 || mv.Get(protoreflect.ValueOfString(want).MapKey()).String() != want {
			t.Errorf("row %d: m has %d entries, m[%q] = %q; want {%q: %q}", r, mv.Len(), want,
				mv.Get(protoreflect.ValueOfString(want).MapKey()), want, want)
		}
	}
	if m := decode(t, md, b.Records[2]); m.Has(fd("u")) || m.Has(fd("reg")) || m.Has(fd("bin")) {
		t.Errorf("row 2 (nulls) = %v, want no u, reg, bin", m)
	}
	// Without the table's types (no catalog), and into BINARY: the 16 bytes.
	fs := rec.Schema().Fields()
	plain, err := NewPlan(arrow.NewSchema([]arrow.Field{fs[0], fs[1], fs[5]}, nil), Options{}) // (a map key of bytes is refused)
	if err != nil {
		t.Fatalf("NewPlan without the table: %v", err)
	}
	for _, name := range []string{"u", "bin", "reg"} {
		if k := plain.MessageDescriptor().Fields().ByName(protoreflect.Name(name)).Kind(); k != protoreflect.BytesKind {
			t.Errorf("without the table, field %s is %v, want bytes", name, k)
		}
	}
}

// Into a table DECIMAL (sent as text) or INT, UUIDs are refused as
// before, with a reason that says where they go.
func TestS22UUIDIntoOtherColumnsRefused(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "u", Type: s22FSB16, Nullable: true, Metadata: s22UUIDMeta}}, nil)
	d := DecimalSpec{Precision: 38, Scale: 0}
	_, err := NewPlan(schema, Options{TableType: map[string]arrow.DataType{"u": arrow.BinaryTypes.LargeString}, TableDecimal: map[string]DecimalSpec{"u": d}})
	if err == nil || !strings.Contains(err.Error(), DecimalRefusal(d)) {
		t.Errorf("UUIDs into DECIMAL(38,0): %v, want the DECIMAL refusal", err)
	}
}
