package cext

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// encodeMetadata is the C data interface's metadata encoding, written here
// independently of DecodeMetadata.
func encodeMetadata(keys, values []string) []byte {
	var b bytes.Buffer
	put := func(n int) { _ = binary.Write(&b, binary.NativeEndian, int32(n)) }
	put(len(keys))
	for i := range keys {
		put(len(keys[i]))
		b.WriteString(keys[i])
		put(len(values[i]))
		b.WriteString(values[i])
	}
	return b.Bytes()
}

var uuidMeta = arrow.NewMetadata([]string{extNameKey, "ARROW:extension:metadata"}, []string{uuidName, ""})

func TestDecodeMetadata(t *testing.T) {
	keys, values := []string{extNameKey, "ARROW:extension:metadata", "", "k"}, []string{uuidName, "", "v", ""}
	b := encodeMetadata(keys, values)
	md, err := DecodeMetadataBytes(append(b, 0xff, 0xff)) // bytes after it are not read
	if err != nil {
		t.Fatal(err)
	}
	if !slicesEqual(md.Keys(), keys) || !slicesEqual(md.Values(), values) {
		t.Errorf("decoded %v, want keys %q values %q", md, keys, values)
	}
	if md, err := DecodeMetadataBytes(encodeMetadata(nil, nil)); err != nil || md.Len() != 0 {
		t.Errorf("no pairs: %v, %v", md, err)
	}
	for cut := range len(b) {
		if _, err := DecodeMetadataBytes(b[:cut]); !errors.Is(err, ErrMetadata) {
			t.Errorf("cut at %d of %d: error %v, want ErrMetadata", cut, len(b), err)
		}
	}
	for name, bad := range map[string][]byte{
		"negative count":  encodeInts(-1),
		"huge count":      encodeInts(maxPairs + 1),
		"negative length": encodeInts(1, -5),
		"huge length":     encodeInts(1, maxLen+1),
	} {
		if _, err := DecodeMetadataBytes(bad); !errors.Is(err, ErrMetadata) {
			t.Errorf("%s: error %v, want ErrMetadata", name, err)
		}
	}
}

func encodeInts(ns ...int) []byte {
	var b bytes.Buffer
	for _, n := range ns {
		_ = binary.Write(&b, binary.NativeEndian, int32(n))
	}
	return b.Bytes()
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzDecodeMetadata: no panic on any bytes; what decodes encodes back to
// the bytes it was read from.
func FuzzDecodeMetadata(f *testing.F) {
	f.Add(encodeMetadata([]string{extNameKey}, []string{uuidName}))
	f.Add(encodeMetadata(nil, nil))
	f.Add(encodeInts(2, 1))
	f.Add(encodeInts(-1))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		md, err := DecodeMetadataBytes(b)
		if err != nil {
			if !errors.Is(err, ErrMetadata) {
				t.Fatalf("error %v is not ErrMetadata", err)
			}
			return
		}
		enc := encodeMetadata(md.Keys(), md.Values())
		if !bytes.HasPrefix(b, enc) {
			t.Fatalf("decoded %v, which encodes to %x, not a prefix of %x", md, enc, b)
		}
	})
}

func fsb16() arrow.DataType { return &arrow.FixedSizeBinaryType{ByteWidth: 16} }

func uuidNode() *Node { return &Node{Format: uuidFormat, Metadata: uuidMeta} }

func isUUIDField(f arrow.Field) bool {
	v, _ := f.Metadata.GetValue(extNameKey)
	return v == uuidName && arrow.TypeEqual(f.Type, fsb16())
}

func isUUIDType(t arrow.DataType) bool {
	_, ok := t.(*UUIDType)
	return ok
}

func TestRestore(t *testing.T) {
	mapNode := func(k, v *Node) *Node {
		return &Node{Format: "+m", Children: []*Node{{Format: "+s", Children: []*Node{k, v}}}}
	}
	dictNode := func(v *Node) *Node { return &Node{Format: "c", Dictionary: v} }
	plain := func(f string) *Node { return &Node{Format: f} }
	dict := func(v arrow.DataType) *arrow.DictionaryType {
		return &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: v}
	}
	opaque := &Node{Format: uuidFormat, Metadata: arrow.NewMetadata([]string{extNameKey}, []string{"arrow.opaque"})}

	// map<uuid, uuid>, sorted keys
	m := arrow.MapOf(fsb16(), fsb16())
	m.KeysSorted = true
	got, changed := Restore(mapNode(uuidNode(), uuidNode()), arrow.Field{Name: "m", Type: m, Nullable: true})
	gm := got.Type.(*arrow.MapType)
	if !changed || !isUUIDField(gm.KeyField()) || !isUUIDField(gm.ItemField()) || !gm.KeysSorted || gm.KeyField().Nullable {
		t.Errorf("map<uuid, uuid> = %v %v (key %v, item %v)", got, changed, gm.KeyField(), gm.ItemField())
	}
	if got.Name != "m" || !got.Nullable {
		t.Errorf("the field's own name and nullability changed: %v", got)
	}

	// list<map<string, uuid>> in a struct
	st := arrow.StructOf(arrow.Field{Name: "l", Type: arrow.ListOf(arrow.MapOf(arrow.BinaryTypes.String, fsb16())), Nullable: true})
	n := &Node{Format: "+s", Children: []*Node{{Format: "+l", Children: []*Node{mapNode(plain("u"), uuidNode())}}}}
	got, changed = Restore(n, arrow.Field{Type: st})
	lm := got.Type.(*arrow.StructType).Field(0).Type.(*arrow.ListType).Elem().(*arrow.MapType)
	if !changed || !isUUIDField(lm.ItemField()) || lm.KeyField().Metadata.Len() != 0 {
		t.Errorf("struct<l: list<map<string, uuid>>> = %v", got.Type)
	}

	// dictionary<uuid>, in a map's value and a run-end encoded one
	got, changed = Restore(dictNode(uuidNode()), arrow.Field{Type: dict(fsb16())})
	if !changed || !isUUIDType(got.Type.(*arrow.DictionaryType).ValueType) {
		t.Errorf("dictionary<uuid> = %v %v", got.Type, changed)
	}
	got, changed = Restore(mapNode(plain("u"), dictNode(uuidNode())), arrow.Field{Type: arrow.MapOf(arrow.BinaryTypes.String, dict(fsb16()))})
	if !changed || !isUUIDType(got.Type.(*arrow.MapType).ItemType().(*arrow.DictionaryType).ValueType) {
		t.Errorf("map<string, dictionary<uuid>> = %v %v", got.Type, changed)
	}
	ree := arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, fsb16())
	got, changed = Restore(&Node{Format: "+r", Children: []*Node{plain("i"), uuidNode()}}, arrow.Field{Type: ree})
	if !changed || !isUUIDType(got.Type.(*arrow.RunEndEncodedType).Encoded()) {
		t.Errorf("ree<uuid> = %v %v", got.Type, changed)
	}

	// Left as they are: other extensions, a field that has its metadata,
	// other widths, a tree of another shape.
	for name, c := range map[string]struct {
		n *Node
		t arrow.DataType
	}{
		"opaque map":          {mapNode(opaque, opaque), arrow.MapOf(fsb16(), fsb16())},
		"opaque dictionary":   {dictNode(opaque), dict(fsb16())},
		"plain fsb16":         {dictNode(plain(uuidFormat)), dict(fsb16())},
		"fsb8 named uuid":     {dictNode(uuidNode()), dict(&arrow.FixedSizeBinaryType{ByteWidth: 8})},
		"map node short":      {&Node{Format: "+m"}, arrow.MapOf(fsb16(), fsb16())},
		"map entries short":   {&Node{Format: "+m", Children: []*Node{{Format: "+s", Children: []*Node{uuidNode()}}}}, arrow.MapOf(fsb16(), fsb16())},
		"struct count":        {&Node{Format: "+s", Children: []*Node{uuidNode()}}, arrow.StructOf(arrow.Field{Name: "a", Type: fsb16()}, arrow.Field{Name: "b", Type: fsb16()})},
		"dictionary missing":  {&Node{Format: "c"}, dict(fsb16())},
		"nil children":        {&Node{Format: "+l", Children: []*Node{nil}}, arrow.ListOf(fsb16())},
		"list of named field": {&Node{Format: "+l", Children: []*Node{uuidNode()}}, arrow.ListOfField(arrow.Field{Name: "item", Type: fsb16(), Metadata: uuidMeta})},
	} {
		got, changed := Restore(c.n, arrow.Field{Type: c.t})
		if changed || got.Type != c.t {
			t.Errorf("%s: %v changed to %v", name, c.t, got.Type)
		}
	}
	if got, changed := Restore(nil, arrow.Field{Type: fsb16()}); changed || got.Type.ID() != arrow.FIXED_SIZE_BINARY {
		t.Errorf("nil node: %v", got)
	}
}

func TestRetype(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	vb := array.NewFixedSizeBinaryBuilder(mem, &arrow.FixedSizeBinaryType{ByteWidth: 16})
	for i := range 4 {
		if i == 2 {
			vb.AppendNull()
		} else {
			vb.Append(bytes.Repeat([]byte{byte('a' + i)}, 16))
		}
	}
	values := vb.NewArray()
	vb.Release()
	defer values.Release()
	ib := array.NewInt8Builder(mem)
	ib.AppendValues([]int8{3, 0, 2, 1, 1}, []bool{true, true, true, false, true})
	idx := ib.NewArray()
	ib.Release()
	defer idx.Release()
	plainDict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: fsb16()}
	d := array.NewDictionaryArray(plainDict, idx, values)
	defer d.Release()
	sliced := array.NewSlice(d, 1, 5)
	defer sliced.Release()
	m := arrow.MapOf(arrow.BinaryTypes.String, fsb16())
	mb := array.NewMapBuilder(mem, arrow.BinaryTypes.String, fsb16(), false)
	mb.Append(true)
	mb.KeyBuilder().(*array.StringBuilder).Append("k")
	mb.ItemBuilder().(*array.FixedSizeBinaryBuilder).Append(bytes.Repeat([]byte{'z'}, 16))
	mb.AppendNull()
	mb.Append(true)
	mb.Append(true)
	mb.KeyBuilder().(*array.StringBuilder).Append("n")
	mb.ItemBuilder().AppendNull()
	ma := mb.NewArray()
	mb.Release()
	defer ma.Release()

	from := arrow.NewSchema([]arrow.Field{{Name: "d", Type: plainDict, Nullable: true}, {Name: "m", Type: m, Nullable: true}}, nil)
	rec := array.NewRecordBatch(from, []arrow.Array{sliced, ma}, 4)
	defer rec.Release()
	n := &Node{Format: "+s", Children: []*Node{
		{Format: "c", Dictionary: uuidNode()},
		{Format: "+m", Children: []*Node{{Format: "+s", Children: []*Node{{Format: "u"}, uuidNode()}}}},
	}}
	restored, changed := Restore(n, arrow.Field{Type: arrow.StructOf(from.Fields()...)})
	if !changed {
		t.Fatal("nothing restored")
	}
	to := arrow.NewSchema(restored.Type.(*arrow.StructType).Fields(), nil)
	out, err := Retype(rec, to)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Release()
	if !out.Schema().Equal(to) {
		t.Errorf("schema %s, want %s", out.Schema(), to)
	}
	od := out.Column(0).(*array.Dictionary)
	ud, ok := od.Dictionary().(*UUIDArray)
	if !ok {
		t.Fatalf("dictionary is %T", od.Dictionary())
	}
	var texts []string
	for i := range od.Len() {
		if od.IsNull(i) || ud.IsNull(od.GetValueIndex(i)) {
			texts = append(texts, "null")
			continue
		}
		texts = append(texts, string(ud.Storage().(*array.FixedSizeBinary).Value(od.GetValueIndex(i))[:2]))
	}
	if want := []string{"aa", "null", "null", "bb"}; !slicesEqual(texts, want) {
		t.Errorf("dictionary values %q, want %q (the slice's rows 1 to 4)", texts, want)
	}
	om := out.Column(1).(*array.Map)
	if !isUUIDField(om.DataType().(*arrow.MapType).ItemField()) || om.NullN() != 1 || om.Items().NullN() != 1 {
		t.Errorf("map column %v (%v)", om, om.DataType())
	}
	back, err := Retype(out, from) // and back to the plain types
	if err != nil {
		t.Fatal(err)
	}
	defer back.Release()
	for i := range from.NumFields() {
		if !array.Equal(back.Column(i), rec.Column(i)) {
			t.Errorf("column %d back = %v, want %v", i, back.Column(i), rec.Column(i))
		}
	}

	// Another layout, or another column count, is an error.
	wrong := arrow.NewSchema([]arrow.Field{{Name: "d", Type: arrow.BinaryTypes.String}, {Name: "m", Type: m}}, nil)
	if _, err := Retype(rec, wrong); err == nil {
		t.Error("retyped a dictionary as a string")
	}
	if _, err := Retype(rec, arrow.NewSchema(from.Fields()[:1], nil)); err == nil {
		t.Error("retyped 2 columns to a schema of 1")
	}
}

func TestUUIDType(t *testing.T) {
	u := NewUUIDType()
	if u.ExtensionName() != "arrow.uuid" || !arrow.TypeEqual(u.StorageType(), fsb16()) || u.String() != "extension<arrow.uuid>" {
		t.Errorf("UUIDType %v over %v", u, u.StorageType())
	}
	if d, err := u.Deserialize(fsb16(), ""); err != nil || !arrow.TypeEqual(d, u) {
		t.Errorf("Deserialize = %v, %v", d, err)
	}
	if _, err := u.Deserialize(arrow.BinaryTypes.Binary, ""); err == nil {
		t.Error("deserialized over binary")
	}
}
