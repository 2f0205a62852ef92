// Package cext puts back the arrow.uuid extension that arrow-go's Arrow C
// data import (arrow/cdata, v18.5.2 to v18.9.0) loses below a MAP or a
// dictionary.
//
// The import builds no extension type at all: it keeps each ArrowSchema's
// metadata in the field it makes, and the core reads a UUID from a field's
// metadata (ARROW:extension:name = arrow.uuid). That works for a column, a
// STRUCT field and a list element, whose fields the import keeps. A MAP is
// made with arrow.MapOf(key type, item type), which drops the key and value
// fields' metadata, and a dictionary's (or a run-end encoded array's)
// values have no field at all: Go saw map<fixed_size_binary[16], ...> and
// dictionary<values=fixed_size_binary[16]> where Python sent UUIDs.
//
// Restore rebuilds an imported type from the C schema tree (read into a
// Node): MAP keys and values get their metadata back, as the other fields
// have it; dictionary and run-end encoded values that are UUIDs become
// UUIDType (an extension type named arrow.uuid, which the core reads as a
// registered one). Retype then gives an imported batch those types (same
// buffers: an extension array wraps its storage).
package cext

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

const (
	extNameKey = "ARROW:extension:name"
	uuidName   = "arrow.uuid"
	uuidFormat = "w:16" // fixed_size_binary[16]
)

// Node is one ArrowSchema of a C schema tree: what Restore reads of it.
// Metadata need only be read for UUIDFormat nodes (NeedsMetadata).
type Node struct {
	Format     string
	Metadata   arrow.Metadata
	Children   []*Node
	Dictionary *Node
}

// NeedsMetadata reports whether Restore reads the metadata of a node of
// this format (only a fixed_size_binary[16] can be a UUID).
func NeedsMetadata(format string) bool { return format == uuidFormat }

// isUUID reports whether n is a fixed_size_binary[16] named arrow.uuid.
func (n *Node) isUUID() bool {
	if n == nil || n.Format != uuidFormat {
		return false
	}
	v, ok := n.Metadata.GetValue(extNameKey)
	return ok && v == uuidName
}

// Limits of DecodeMetadata: more is not metadata a producer writes, and a
// bound keeps a corrupt count from reading far past the pairs.
const (
	maxPairs = 1 << 16
	maxLen   = 1 << 24
)

// ErrMetadata is wrapped by DecodeMetadata's errors.
var ErrMetadata = errors.New("malformed ArrowSchema metadata")

// DecodeMetadata decodes an ArrowSchema's metadata: an int32 count of
// pairs, then each key and value as an int32 length and that many bytes
// (native byte order). read(off, n) returns the n bytes at offset off, or
// false when they are not there. A null metadata pointer is no metadata:
// the caller does not call this for it.
func DecodeMetadata(read func(off, n int) ([]byte, bool)) (arrow.Metadata, error) {
	off := 0
	next := func() (int, error) {
		b, ok := read(off, 4)
		if !ok || len(b) != 4 {
			return 0, fmt.Errorf("%w: truncated at byte %d", ErrMetadata, off)
		}
		off += 4
		return int(int32(binary.NativeEndian.Uint32(b))), nil
	}
	text := func() (string, error) {
		n, err := next()
		if err != nil {
			return "", err
		}
		if n < 0 || n > maxLen {
			return "", fmt.Errorf("%w: length %d at byte %d", ErrMetadata, n, off-4)
		}
		if n == 0 {
			return "", nil
		}
		b, ok := read(off, n)
		if !ok || len(b) != n {
			return "", fmt.Errorf("%w: truncated at byte %d", ErrMetadata, off)
		}
		off += n
		return string(b), nil
	}
	count, err := next()
	if err != nil {
		return arrow.Metadata{}, err
	}
	if count < 0 || count > maxPairs {
		return arrow.Metadata{}, fmt.Errorf("%w: %d pairs", ErrMetadata, count)
	}
	keys, values := make([]string, 0, min(count, 64)), make([]string, 0, min(count, 64))
	for range count {
		k, err := text()
		if err != nil {
			return arrow.Metadata{}, err
		}
		v, err := text()
		if err != nil {
			return arrow.Metadata{}, err
		}
		keys, values = append(keys, k), append(values, v)
	}
	return arrow.NewMetadata(keys, values), nil
}

// DecodeMetadataBytes is DecodeMetadata over b (which may hold more bytes
// than the metadata).
func DecodeMetadataBytes(b []byte) (arrow.Metadata, error) {
	return DecodeMetadata(func(off, n int) ([]byte, bool) {
		if off < 0 || n < 0 || off > len(b) || n > len(b)-off {
			return nil, false
		}
		return b[off : off+n], true
	})
}

// Restore returns f (a field arrow-go imported from the C schema n) with
// the UUIDs the import lost put back (see the package doc), and whether
// anything changed. A tree whose shape does not match f's type is left as
// it is.
func Restore(n *Node, f arrow.Field) (arrow.Field, bool) {
	return restoreField(n, f)
}

func restoreField(n *Node, f arrow.Field) (arrow.Field, bool) {
	if n == nil {
		return f, false
	}
	changed := false
	if n.isUUID() && isFSB16(f.Type) {
		if _, ok := f.Metadata.GetValue(extNameKey); !ok {
			f.Metadata = merge(f.Metadata, n.Metadata)
			changed = true
		}
	}
	t, c := restoreType(n, f.Type)
	f.Type = t
	return f, changed || c
}

// restoreValues is restoreType for a type with no field of its own to
// name it (dictionary and run-end encoded values): a UUID becomes UUIDType.
func restoreValues(n *Node, t arrow.DataType) (arrow.DataType, bool) {
	if n.isUUID() && isFSB16(t) {
		return NewUUIDType(), true
	}
	return restoreType(n, t)
}

func restoreType(n *Node, t arrow.DataType) (arrow.DataType, bool) {
	if n == nil || t == nil {
		return t, false
	}
	if d, ok := t.(*arrow.DictionaryType); ok {
		if n.Dictionary == nil {
			return t, false
		}
		v, c := restoreValues(n.Dictionary, d.ValueType)
		if !c {
			return t, false
		}
		return &arrow.DictionaryType{IndexType: d.IndexType, ValueType: v, Ordered: d.Ordered}, true
	}
	child := func(i int) *Node {
		if i < len(n.Children) {
			return n.Children[i]
		}
		return nil
	}
	switch x := t.(type) {
	case *arrow.ListType:
		if e, c := restoreField(child(0), x.ElemField()); c {
			return arrow.ListOfField(e), true
		}
	case *arrow.LargeListType:
		if e, c := restoreField(child(0), x.ElemField()); c {
			return arrow.LargeListOfField(e), true
		}
	case *arrow.ListViewType:
		if e, c := restoreField(child(0), x.ElemField()); c {
			return arrow.ListViewOfField(e), true
		}
	case *arrow.LargeListViewType:
		if e, c := restoreField(child(0), x.ElemField()); c {
			return arrow.LargeListViewOfField(e), true
		}
	case *arrow.FixedSizeListType:
		if e, c := restoreField(child(0), x.ElemField()); c {
			return arrow.FixedSizeListOfField(x.Len(), e), true
		}
	case *arrow.StructType:
		if len(n.Children) != x.NumFields() {
			return t, false
		}
		fs, changed := make([]arrow.Field, x.NumFields()), false
		for i, f := range x.Fields() {
			var c bool
			fs[i], c = restoreField(n.Children[i], f)
			changed = changed || c
		}
		if changed {
			return arrow.StructOf(fs...), true
		}
	case *arrow.MapType:
		entries := child(0)
		if entries == nil || len(entries.Children) != 2 {
			return t, false
		}
		k, kc := restoreField(entries.Children[0], x.KeyField())
		v, vc := restoreField(entries.Children[1], x.ItemField())
		if kc || vc {
			m := arrow.MapOfWithMetadata(k.Type, k.Metadata, v.Type, v.Metadata)
			m.KeysSorted = x.KeysSorted
			return m, true
		}
	case *arrow.RunEndEncodedType:
		if v, c := restoreValues(child(1), x.Encoded()); c {
			r := arrow.RunEndEncodedOf(x.RunEnds(), v)
			r.ValueNullable = x.ValueNullable
			return r, true
		}
	case arrow.UnionType:
		if len(n.Children) != len(x.Fields()) {
			return t, false
		}
		fs, changed := make([]arrow.Field, len(x.Fields())), false
		for i, f := range x.Fields() {
			var c bool
			fs[i], c = restoreField(n.Children[i], f)
			changed = changed || c
		}
		if changed {
			return arrow.UnionOf(x.Mode(), fs, x.TypeCodes()), true
		}
	}
	return t, false
}

func isFSB16(t arrow.DataType) bool {
	b, ok := t.(*arrow.FixedSizeBinaryType)
	return ok && b.ByteWidth == 16
}

// merge is m with the pairs of add whose keys m lacks.
func merge(m, add arrow.Metadata) arrow.Metadata {
	keys, values := append([]string(nil), m.Keys()...), append([]string(nil), m.Values()...)
	for i, k := range add.Keys() {
		if m.FindKey(k) < 0 {
			keys, values = append(keys, k), append(values, add.Values()[i])
		}
	}
	return arrow.NewMetadata(keys, values)
}

// Retype returns rec with schema's types (Restore's): each column whose
// type differs is the same data under its new type. rec is not released.
func Retype(rec arrow.RecordBatch, schema *arrow.Schema) (arrow.RecordBatch, error) {
	if int(rec.NumCols()) != schema.NumFields() {
		return nil, fmt.Errorf("cext: batch of %d columns for a schema of %d", rec.NumCols(), schema.NumFields())
	}
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, col := range rec.Columns() {
		t := schema.Field(i).Type
		if arrow.TypeEqual(col.DataType(), t, arrow.CheckMetadata()) {
			col.Retain()
			cols[i] = col
			continue
		}
		d, err := retypeData(col.Data(), t)
		if err != nil {
			return nil, fmt.Errorf("cext: column %q: %w", schema.Field(i).Name, err)
		}
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	return array.NewRecordBatch(schema, cols, rec.NumRows()), nil
}

// retypeData is d under type t, whose layout (its storage's, for an
// extension type) must be d's: the same buffers, children retyped.
func retypeData(d arrow.ArrayData, t arrow.DataType) (arrow.ArrayData, error) {
	storage := t
	if et, ok := t.(arrow.ExtensionType); ok {
		storage = et.StorageType()
	}
	from := d.DataType()
	if et, ok := from.(arrow.ExtensionType); ok {
		from = et.StorageType()
	}
	if storage.ID() != from.ID() {
		return nil, fmt.Errorf("type %s does not have the layout of %s", t, d.DataType())
	}
	var fields []arrow.Field
	if nt, ok := storage.(arrow.NestedType); ok {
		fields = nt.Fields()
	}
	if len(fields) != len(d.Children()) {
		return nil, fmt.Errorf("type %s has %d children where the data has %d", t, len(fields), len(d.Children()))
	}
	children := make([]arrow.ArrayData, len(fields))
	defer func() {
		for _, c := range children {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range d.Children() {
		nc, err := retypeData(c, fields[i].Type)
		if err != nil {
			return nil, err
		}
		children[i] = nc
	}
	out := array.NewData(t, d.Len(), d.Buffers(), children, d.NullN(), d.Offset())
	if dt, ok := storage.(*arrow.DictionaryType); ok {
		if d.Dictionary() == nil {
			out.Release()
			return nil, fmt.Errorf("dictionary type %s without a dictionary", t)
		}
		dict, err := retypeData(d.Dictionary(), dt.ValueType)
		if err != nil {
			out.Release()
			return nil, err
		}
		out.SetDictionary(dict)
		dict.Release()
	}
	return out, nil
}

// UUIDType is the arrow.uuid extension over fixed_size_binary[16], for
// UUID values that have no field to name them (Restore). It is not
// registered (a caller may register arrow-go's own): the core reads any
// extension type by its name.
type UUIDType struct{ arrow.ExtensionBase }

// NewUUIDType returns a UUIDType.
func NewUUIDType() *UUIDType {
	return &UUIDType{ExtensionBase: arrow.ExtensionBase{Storage: &arrow.FixedSizeBinaryType{ByteWidth: 16}}}
}

// UUIDArray is the array of a UUIDType.
type UUIDArray struct{ array.ExtensionArrayBase }

func (*UUIDType) ArrayType() reflect.Type { return reflect.TypeOf(UUIDArray{}) }
func (*UUIDType) ExtensionName() string   { return uuidName }
func (*UUIDType) Serialize() string       { return "" }
func (t *UUIDType) String() string        { return "extension<" + uuidName + ">" }

func (*UUIDType) Deserialize(storage arrow.DataType, _ string) (arrow.ExtensionType, error) {
	if !isFSB16(storage) {
		return nil, fmt.Errorf("cext: %s over %s, want fixed_size_binary[16]", uuidName, storage)
	}
	return NewUUIDType(), nil
}

func (t *UUIDType) ExtensionEquals(o arrow.ExtensionType) bool {
	return o.ExtensionName() == uuidName && arrow.TypeEqual(t.Storage, o.StorageType())
}
