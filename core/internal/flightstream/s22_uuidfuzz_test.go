package flightstream

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// uuidFuzz hands out values derived from the fuzz input, zeros once it
// runs out.
type uuidFuzz struct{ b []byte }

func (r *uuidFuzz) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *uuidFuzz) intn(n int) int { return int(r.byte()) % n }

func (r *uuidFuzz) uuid() [16]byte {
	var v [16]byte
	for i := range v {
		v[i] = r.byte()
	}
	return v
}

// uuidFuzzLeaf builds n UUID values of shape k as the batch holds them: 0
// fixed_size_binary[16] named arrow.uuid in the field's metadata, 1 a
// registered arrow.uuid, 2 a dictionary of registered ones, 3 a run-end
// encoded one. nullable lets values be null.
func uuidFuzzLeaf(r *uuidFuzz, mem memory.Allocator, k, n int, name string, nullable bool) (arrow.Field, arrow.Array) {
	null := func() bool { return nullable && r.intn(4) == 0 }
	switch k {
	case 0:
		b := array.NewFixedSizeBinaryBuilder(mem, &arrow.FixedSizeBinaryType{ByteWidth: 16})
		defer b.Release()
		for range n {
			if null() {
				b.AppendNull()
			} else {
				v := r.uuid()
				b.Append(v[:])
			}
		}
		a := b.NewArray()
		return arrow.Field{Name: name, Type: a.DataType(), Nullable: true, Metadata: s22UUIDMeta}, a
	case 2:
		vb := extensions.NewUUIDBuilder(mem)
		defer vb.Release()
		nv := r.intn(3) + 1
		for range nv {
			if null() {
				vb.AppendNull()
			} else {
				vb.AppendBytes(r.uuid())
			}
		}
		vals := vb.NewArray()
		defer vals.Release()
		ib := array.NewInt32Builder(mem)
		defer ib.Release()
		for range n {
			if null() {
				ib.AppendNull()
			} else {
				ib.Append(int32(r.intn(nv)))
			}
		}
		idx := ib.NewArray()
		defer idx.Release()
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: vals.DataType()}
		a := array.NewDictionaryArray(dt, idx, vals)
		return arrow.Field{Name: name, Type: dt, Nullable: true}, a
	case 3:
		rb := array.NewRunEndEncodedBuilder(mem, arrow.PrimitiveTypes.Int32, extensions.NewUUIDType())
		defer rb.Release()
		vb := rb.ValueBuilder().(*extensions.UUIDBuilder)
		for i := range n {
			if i > 0 && r.intn(2) == 0 {
				rb.ContinueRun(1)
				continue
			}
			rb.Append(1)
			if null() {
				vb.AppendNull()
			} else {
				vb.AppendBytes(r.uuid())
			}
		}
		a := rb.NewArray()
		return arrow.Field{Name: name, Type: a.DataType(), Nullable: true}, a
	}
	b := extensions.NewUUIDBuilder(mem)
	defer b.Release()
	for range n {
		if null() {
			b.AppendNull()
		} else {
			b.AppendBytes(r.uuid())
		}
	}
	a := b.NewArray()
	return arrow.Field{Name: name, Type: a.DataType(), Nullable: true}, a
}

// offsetsOf returns the offsets of n lists of 1 to 3 elements.
func offsetsOf(r *uuidFuzz, n int) []int32 {
	offs := []int32{0}
	for range n {
		offs = append(offs, offs[len(offs)-1]+int32(r.intn(3)+1))
	}
	return offs
}

// uuidFuzzColumn builds column name (h gives its shape, r its values): UUIDs (uuidFuzzLeaf) at the top level,
// in a STRUCT field, as a list's elements or as a map's values (int32 keys
// 0, 1, ...; lists and maps never null, their elements and values never
// null: the transports differ there on purpose), and its table field: the
// UUIDs into STRING or BINARY.
func uuidFuzzColumn(h, r *uuidFuzz, mem memory.Allocator, name string, n int) (arrow.Field, arrow.Array, arrow.Field) {
	leaf := h.intn(4)
	tt := []arrow.DataType{arrow.BinaryTypes.LargeString, arrow.BinaryTypes.LargeBinary}[h.intn(2)]
	switch h.intn(4) {
	case 1: // STRUCT{x}
		f, x := uuidFuzzLeaf(r, mem, leaf, n, "x", true)
		defer x.Release()
		f.Name = "x"
		s, err := array.NewStructArrayWithFields([]arrow.Array{x}, []arrow.Field{f})
		if err != nil {
			panic(err)
		}
		return arrow.Field{Name: name, Type: s.DataType(), Nullable: true}, s,
			arrow.Field{Name: name, Type: arrow.StructOf(arrow.Field{Name: "x", Type: tt, Nullable: true}), Nullable: true}
	case 2: // list<UUID>
		offs := offsetsOf(r, n)
		f, x := uuidFuzzLeaf(r, mem, leaf, int(offs[n]), "item", false)
		defer x.Release()
		lt := arrow.ListOfField(f)
		d := array.NewData(lt, n, []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs))}, []arrow.ArrayData{x.Data()}, 0, 0)
		defer d.Release()
		return arrow.Field{Name: name, Type: lt, Nullable: true}, array.MakeFromData(d),
			arrow.Field{Name: name, Type: arrow.ListOf(tt), Nullable: true}
	case 3: // map<int32, UUID>
		offs := offsetsOf(r, n)
		m := int(offs[n])
		f, v := uuidFuzzLeaf(r, mem, leaf, m, "value", false)
		defer v.Release()
		kb := array.NewInt32Builder(mem)
		defer kb.Release()
		for i := range n {
			for k := range offs[i+1] - offs[i] {
				kb.Append(k)
			}
		}
		keys := kb.NewArray()
		defer keys.Release()
		mt := arrow.MapOfWithMetadata(arrow.PrimitiveTypes.Int32, arrow.Metadata{}, f.Type, f.Metadata)
		entries := array.NewData(mt.Elem(), m, []*memory.Buffer{nil}, []arrow.ArrayData{keys.Data(), v.Data()}, 0, 0)
		defer entries.Release()
		d := array.NewData(mt, n, []*memory.Buffer{nil, memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs))}, []arrow.ArrayData{entries}, 0, 0)
		defer d.Release()
		return arrow.Field{Name: name, Type: mt, Nullable: true}, array.MakeFromData(d),
			arrow.Field{Name: name, Type: arrow.MapOf(arrow.PrimitiveTypes.Int32, tt), Nullable: true}
	}
	f, a := uuidFuzzLeaf(r, mem, leaf, n, name, true)
	return f, a, arrow.Field{Name: name, Type: tt, Nullable: true}
}

// protoJSON is field f of m as json.Marshal writes an Arrow value: bytes
// as base64, a message as an object, a list as an array, a map as its
// entries ({"key", "value"}) in key order, an unset field as null.
func protoJSON(m protoreflect.Message, f protoreflect.FieldDescriptor) any {
	scalar := func(fd protoreflect.FieldDescriptor, v protoreflect.Value) any {
		if fd.Kind() == protoreflect.MessageKind {
			o := map[string]any{}
			fs := fd.Message().Fields()
			for i := range fs.Len() {
				o[string(fs.Get(i).Name())] = protoJSON(v.Message(), fs.Get(i))
			}
			return o
		}
		return v.Interface() // string, []byte (base64 in JSON), int32
	}
	switch {
	case f.IsList():
		l := m.Get(f).List()
		out := []any{}
		for i := range l.Len() {
			out = append(out, scalar(f, l.Get(i)))
		}
		return out
	case f.IsMap():
		var out []map[string]any
		m.Get(f).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
			out = append(out, map[string]any{"key": k.Interface(), "value": scalar(f.MapValue(), v)})
			return true
		})
		slices.SortFunc(out, func(a, b map[string]any) int { return cmp.Compare(a["key"].(int32), b["key"].(int32)) })
		if out == nil {
			return []any{}
		}
		return out
	case !m.Has(f):
		return nil
	}
	return scalar(f, m.Get(f))
}

// roundTrip is v through JSON, so values from both sides compare alike.
func roundTrip(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzCastUUIDMatchesEncode: UUID columns of every shape the batch can
// hold them in (metadata-named, registered, dictionary, run-end encoded;
// at the top level, in a STRUCT, a list, a map's values; sliced) into
// STRING or BINARY: the Arrow Flight cast and the protobuf encoder both
// take the batch or both refuse it, and what they send decodes to the same
// rows. Run with
//
//	go test -run '^$' -fuzz FuzzCastUUIDMatchesEncode ./core/internal/flightstream/
func FuzzCastUUIDMatchesEncode(f *testing.F) {
	// values: some null (a byte ≡ 0 mod 4 before a value), some valid UTF-8
	values := bytes.Repeat([]byte{0x01, 0x30, 0x31, 0xff, 0x00, 0x61, 0x02, 0x62, 0x63, 0x03, 0xc3, 0xa9, 0x05}, 30)
	for _, hdr := range [][]byte{
		// columns, rows, slice offset, then (values, table type, shape) a
		// column; values 0 metadata-named, 1 registered, 2 dictionary,
		// 3 run-end encoded; table type 0 STRING, 1 BINARY; shape 0 top
		// level, 1 STRUCT field, 2 list elements, 3 map values
		{2, 9, 1, 2, 0, 0, 3, 0, 0, 1, 1, 0},
		{2, 8, 0, 2, 0, 1, 3, 0, 1, 0, 0, 1},
		{2, 7, 2, 2, 0, 2, 3, 0, 2, 1, 0, 2},
		{2, 9, 1, 2, 0, 3, 3, 0, 3, 2, 1, 3},
	} {
		f.Add(append(hdr, values...))
	}
	f.Add([]byte(nil))
	f.Fuzz(castUUIDMatchesEncode)
}

func castUUIDMatchesEncode(t *testing.T, data []byte) {
	{
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		h := &uuidFuzz{b: data[:min(12, len(data))]}
		r := &uuidFuzz{b: data[min(12, len(data)):]}
		ncols, n, lo := h.intn(3)+1, h.intn(10), int64(h.intn(3))
		var fields, tfields []arrow.Field
		var cols []arrow.Array
		for i := range ncols {
			f, a, tf := uuidFuzzColumn(h, r, mem, fmt.Sprintf("c%d", i), n)
			defer a.Release()
			fields, tfields, cols = append(fields, f), append(tfields, tf), append(cols, a)
		}
		full := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(n))
		defer full.Release()
		lo = min(lo, full.NumRows())
		rec := full.NewSlice(lo, full.NumRows())
		defer rec.Release()
		table := arrow.NewSchema(tfields, nil)

		p, perr := convert.NewPlan(rec.Schema(), convert.Options{TableType: convert.TableTypes(table), TableNullable: convert.TableNullability(table)})
		c, cerr := PlanCast("t", rec.Schema(), table)
		if (perr == nil) != (cerr == nil) {
			t.Fatalf("schema %s into %s:\nprotobuf plan: %v\narrow_flight plan: %v", rec.Schema(), table, perr, cerr)
		}
		if perr != nil {
			return
		}
		out, nulls, _, err := c.ApplyWith(t.Context(), mem, rec)
		if err != nil {
			t.Fatalf("Apply(%s): %v", rec.Schema(), err)
		}
		defer out.Release()
		b, err := p.Encode(rec)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		defer b.Release()
		if len(nulls) != 0 || len(b.Errors) != 0 || out.NumRows() != rec.NumRows() || len(b.Records) != int(rec.NumRows()) {
			t.Fatalf("%d rows: arrow_flight sent %d (left out %v), protobuf %d (errors %v)", rec.NumRows(), out.NumRows(), nulls, len(b.Records), b.Errors)
		}
		md := p.MessageDescriptor()
		for c, tf := range table.Fields() {
			js, err := json.Marshal(out.Column(c))
			if err != nil {
				t.Fatal(err)
			}
			var got any
			if err := json.Unmarshal(js, &got); err != nil {
				t.Fatal(err)
			}
			rows := []any{}
			for _, rb := range b.Records {
				m := dynamicpb.NewMessage(md)
				if err := proto.Unmarshal(rb, m); err != nil {
					t.Fatal(err)
				}
				rows = append(rows, protoJSON(m, md.Fields().ByName(protoreflect.Name(tf.Name))))
			}
			if want := roundTrip(t, rows); !reflect.DeepEqual(got, want) {
				t.Fatalf("column %s (%s into %s):\narrow_flight %s\nprotobuf     %v", tf.Name, convert.FieldTypeName(rec.Schema().Field(c)), tf.Type, js, roundTrip(t, rows))
			}
		}
	}
}
