package flightstream

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// Nested columns (STRUCT, ARRAY, MAP) are cast level by level: each level
// is rebuilt around its cast children, and every leaf goes through the
// conversions of a top-level column (JSON text → VARIANT, time units and
// uint64 value by value, views, decimals, the cast kernels). A value a leaf
// cannot encode (JSON text that does not parse, a value out of range) is a
// badValue, lifted level by level to the row that holds it with the path the
// protobuf path names it by: "payload.items[3].v", "attrs[2].value".

// badValue is element i of an array at some level that leaves its row out:
// path is the part of the column path below that level ("" at the value
// itself, ".v", "[3]", "[2].value", …).
type badValue struct {
	i      int
	path   string
	reason string
}

// castTo returns a as type to (the caller releases it) and the elements of a
// whose value could not be encoded. A malformed array (offsets outside its
// child, …) is an error, not a panic.
func castTo(ctx context.Context, mem memory.Allocator, a arrow.Array, to arrow.DataType) (out arrow.Array, bad []badValue, err error) {
	defer func() {
		if r := recover(); r != nil {
			if out != nil {
				out.Release()
			}
			out, bad, err = nil, nil, fmt.Errorf("the Arrow data cannot be read: %v", r)
		}
	}()
	return rebuild(ctx, mem, a, to)
}

func rebuild(ctx context.Context, mem memory.Allocator, a arrow.Array, to arrow.DataType) (arrow.Array, []badValue, error) {
	if to.ID() == arrow.LARGE_STRING && convert.IsUUIDType(encodedValues(a.DataType())) {
		// Registered UUIDs, also under a dictionary or run-end encoding
		// (decode gives their storage): their text, as the protobuf path
		// writes them, not their bytes cast.
		d, err := decode(ctx, mem, a)
		if err != nil {
			return nil, nil, err
		}
		defer d.Release()
		return uuidText(mem, d), nil, nil
	}
	a, err := decode(ctx, mem, a)
	if err != nil {
		return nil, nil, err
	}
	defer a.Release()
	if a.DataType().ID() == arrow.NULL && to.ID() != arrow.NULL {
		// A STRUCT field, ARRAY elements or MAP values of the null type
		// (pyarrow's struct<x: null> from dicts whose x is always None):
		// all nulls of the table's type; checkValues fails the rows where
		// the table cannot hold a null there.
		return nullArray(mem, to, a.Len()), nil, nil
	}
	if arrow.TypeEqual(a.DataType(), to) {
		a.Retain()
		return a, nil, nil
	}
	if isVariant(to) && isJSONText(a.DataType()) {
		v, why, err := encodeVariants(mem, a, to)
		if err != nil {
			return nil, nil, err
		}
		var bad []badValue
		for i := range a.Len() { // in element order
			if r, ok := why[i]; ok {
				bad = append(bad, badValue{i: i, reason: r})
			}
		}
		return v, bad, nil
	}
	switch t := to.(type) {
	case *arrow.StructType:
		if sa, ok := a.(*array.Struct); ok {
			return rebuildStruct(ctx, mem, sa, t)
		}
	case *arrow.MapType:
		if ma, ok := a.(*array.Map); ok {
			return rebuildList(ctx, mem, ma, t, t.Elem())
		}
	case *arrow.ListType:
		if la, ok := a.(array.ListLike); ok {
			return rebuildList(ctx, mem, la, t, t.Elem())
		}
	}
	return castLeaf(ctx, mem, a, to)
}

// encodedValues is the type of t's values under its dictionary and
// run-end encoding layers (t itself for other types).
func encodedValues(t arrow.DataType) arrow.DataType {
	for {
		switch x := t.(type) {
		case *arrow.DictionaryType:
			t = x.ValueType
		case *arrow.RunEndEncodedType:
			t = x.Encoded()
		default:
			return t
		}
	}
}

// rebuildFrom is rebuild of a child array a whose field in its parent's
// type is from: UUIDs named in from's metadata (convert.IsUUIDField) into
// a STRING are written as their text.
func rebuildFrom(ctx context.Context, mem memory.Allocator, a arrow.Array, from arrow.Field, to arrow.DataType) (arrow.Array, []badValue, error) {
	if to.ID() == arrow.LARGE_STRING && convert.IsUUIDField(from) {
		if _, ok := a.(*array.FixedSizeBinary); ok {
			return uuidText(mem, a), nil, nil
		}
	}
	return rebuild(ctx, mem, a, to)
}

// uuidText returns the UUIDs of a (fixed_size_binary[16], or a registered
// arrow.uuid extension array of it) as large_utf8: each value's canonical
// text (convert.AppendUUID), as the protobuf path writes them into a
// STRING.
func uuidText(mem memory.Allocator, a arrow.Array) arrow.Array {
	if x, ok := a.(array.ExtensionArray); ok {
		a = x.Storage()
	}
	fb := a.(*array.FixedSizeBinary)
	b := array.NewLargeStringBuilder(mem)
	defer b.Release()
	b.Reserve(fb.Len())
	b.ReserveData(36 * (fb.Len() - fb.NullN()))
	buf := make([]byte, 0, 36)
	for i := range fb.Len() {
		if fb.IsNull(i) {
			b.AppendNull()
			continue
		}
		buf = convert.AppendUUID(buf[:0], fb.Value(i))
		b.BinaryBuilder.Append(buf)
	}
	return b.NewArray()
}

// decode returns a's values without their encoding (the caller releases
// it), as the protobuf path reads them: an extension array as its storage,
// a dictionary or run-end encoded array decoded, a list view gathered into
// a list.
func decode(ctx context.Context, mem memory.Allocator, a arrow.Array) (arrow.Array, error) {
	a.Retain()
	for {
		var dense arrow.Array
		var err error
		switch x := a.(type) {
		case array.ExtensionArray:
			dense = x.Storage()
			dense.Retain()
		case *array.Dictionary:
			idx := make([]int64, x.Len())
			for i := range idx {
				idx[i] = -1
				if x.IsValid(i) {
					idx[i] = int64(x.GetValueIndex(i))
				}
			}
			dense, err = gather(ctx, mem, x.Dictionary(), idx)
		case *array.RunEndEncoded:
			dense, err = runEndDecode(ctx, mem, x)
		case *array.ListView, *array.LargeListView:
			dense, err = viewToList(ctx, mem, x.(array.ListLike))
		default:
			return a, nil
		}
		a.Release()
		if err != nil {
			return nil, err
		}
		a = dense
	}
}

// runEndDecode returns the values of a run-end encoded array, one per row.
func runEndDecode(ctx context.Context, mem memory.Allocator, r *array.RunEndEncoded) (arrow.Array, error) {
	idx := make([]int64, r.Len())
	for i := range idx {
		idx[i] = int64(r.GetPhysicalIndex(i))
	}
	return gather(ctx, mem, r.Values(), idx)
}

// takeable reports whether arrow-go's take kernel handles arrays of t
// (arrow-go v18: primitives, decimal128/256, fixed-size binary, binary and
// string, lists, maps and structs of such). It says yes to intervals too,
// but the kernel refuses month_day_nano ones ("invalid values byte width
// for take"): none reaches it, as the cast plan refuses interval columns.
func takeable(t arrow.DataType) bool {
	switch t := t.(type) {
	case *arrow.Decimal128Type, *arrow.Decimal256Type, *arrow.FixedSizeBinaryType, *arrow.NullType:
		return true
	case *arrow.ListType, *arrow.LargeListType, *arrow.FixedSizeListType, *arrow.MapType:
		return takeable(t.(arrow.ListLikeType).Elem())
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if !takeable(f.Type) {
				return false
			}
		}
		return true
	}
	return arrow.IsPrimitive(t.ID()) || arrow.IsBaseBinary(t.ID())
}

// gather returns values[idx[0]], values[idx[1]], ... (an index -1: a
// null) with arrow-go's take kernel. Values of a type it has no kernel for
// (decimal32 and decimal64, string and binary views, list views,
// dictionaries and run-end encoded arrays inside others, and what holds
// them) are first cast to their takeable form (takeableType), the form the
// table's type takes of them anyway: the kernel is never asked about them
// (for a struct holding a view it panicked in its own goroutine), and
// arrow-go's Concatenate, which joins slices of run-end encoded arrays
// wrongly, is not used. Every decode of a dictionary, run-end encoded array
// or list view goes through it; the result may be of the takeable type.
func gather(ctx context.Context, mem memory.Allocator, values arrow.Array, idx []int64) (arrow.Array, error) {
	var valid *memory.Buffer
	nulls := 0
	for _, k := range idx {
		if k < 0 {
			nulls++
		}
	}
	if nulls > 0 {
		valid = memory.NewResizableBuffer(mem)
		defer valid.Release()
		valid.Resize(int(bitutil.BytesForBits(int64(len(idx)))))
		bits := valid.Bytes()
		for i, k := range idx {
			if k >= 0 {
				bitutil.SetBit(bits, i)
			} else {
				idx[i] = 0
			}
		}
	}
	id := array.NewData(arrow.PrimitiveTypes.Int64, len(idx),
		[]*memory.Buffer{valid, memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(idx))}, nil, nulls, 0)
	defer id.Release()
	ia := array.NewInt64Data(id)
	defer ia.Release()
	if !takeable(values.DataType()) {
		v, _, err := castTo(ctx, mem, values, takeableType(values.DataType()))
		if err != nil {
			return nil, err
		}
		defer v.Release()
		values = v
	}
	return compute.TakeArray(ctx, values, ia)
}

// takeableType is t with what the take kernel lacks replaced by the form
// the table takes of it (castTo makes it, without a value check): views
// large_utf8 / large_binary, decimal32 and decimal64 their text, lists of
// every kind lists, dictionaries, run-end encoded and extension types
// their values'.
func takeableType(t arrow.DataType) arrow.DataType {
	switch t := t.(type) {
	case arrow.ExtensionType:
		return takeableType(t.StorageType())
	case *arrow.DictionaryType:
		return takeableType(t.ValueType)
	case *arrow.RunEndEncodedType:
		return takeableType(t.Encoded())
	case *arrow.StringViewType:
		return arrow.BinaryTypes.LargeString
	case *arrow.BinaryViewType:
		return arrow.BinaryTypes.LargeBinary
	case *arrow.Decimal32Type, *arrow.Decimal64Type:
		return arrow.BinaryTypes.LargeString
	case *arrow.MapType:
		k, v := t.KeyField(), t.ItemField()
		k.Type, v.Type = takeableType(k.Type), takeableType(v.Type)
		m := arrow.MapOfFields(k, v)
		m.KeysSorted = t.KeysSorted
		return m
	case arrow.ListLikeType:
		e := t.ElemField()
		e.Type = takeableType(e.Type)
		return arrow.ListOfField(e)
	case *arrow.StructType:
		fs := slices.Clone(t.Fields())
		for i := range fs {
			fs[i].Type = takeableType(fs[i].Type)
		}
		return arrow.StructOf(fs...)
	}
	return t
}

// viewToList gathers the elements of a list view (whose rows may share or
// reorder elements) into a list of the same element type: each valid row's
// elements in order, from offset 0.
func viewToList(ctx context.Context, mem memory.Allocator, a array.ListLike) (arrow.Array, error) {
	n := a.Len()
	offs := make([]int32, n+1)
	var idx []int64
	for i := range n {
		if a.IsValid(i) {
			s, e := a.ValueOffsets(i)
			for j := s; j < e; j++ {
				idx = append(idx, j)
			}
		}
		if len(idx) > math.MaxInt32 {
			return nil, fmt.Errorf("the list view has over 2^31 elements")
		}
		offs[i+1] = int32(len(idx))
	}
	vals, err := gather(ctx, mem, a.ListValues(), idx)
	if err != nil {
		return nil, err
	}
	defer vals.Release()
	elem := a.DataType().(arrow.ListLikeType).ElemField()
	elem.Type = vals.DataType() // gather may give the takeable form
	d := array.NewData(arrow.ListOfField(elem), n, []*memory.Buffer{validity(a), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs))},
		[]arrow.ArrayData{vals.Data()}, a.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d), nil
}

// castLeaf casts an array that is not a struct, list or map.
func castLeaf(ctx context.Context, mem memory.Allocator, a arrow.Array, to arrow.DataType) (arrow.Array, []badValue, error) {
	if h, ok := a.(*array.Float16); ok {
		if out, ok := widenHalf(mem, h, to); ok {
			return out, nil, nil
		}
	}
	if out, bad, ok := narrowInts(mem, a, to); ok {
		return out, bad, nil
	}
	if out, bad, ok := narrowFloats(mem, a, to); ok {
		return out, bad, nil
	}
	if out, bad, ok := floatsToInts(mem, a, to); ok {
		return out, bad, nil
	}
	if out, bad, ok := intsToFloats(mem, a, to); ok {
		return out, bad, nil
	}
	if out, bad, ok := units(mem, a, to); ok {
		return out, bad, nil
	}
	if out, bad, ok := numbersToText(mem, a, to); ok {
		return out, bad, nil
	}
	out, err := castKernel(ctx, mem, a, to)
	return out, nil, err
}

// castKernel casts what needs no value check.
func castKernel(ctx context.Context, mem memory.Allocator, a arrow.Array, to arrow.DataType) (arrow.Array, error) {
	if v, ok := widen(mem, a, to); ok {
		return v, nil
	}
	if v, ok := views(mem, a); ok {
		// No view → large kernel in arrow-go: copy the values.
		return v, nil
	}
	if isDecimal(a.DataType()) {
		// No decimal → string kernel: format each value with its scale, as
		// Delta shows DECIMAL text.
		return decimalStrings(mem, a), nil
	}
	opts := compute.SafeCastOptions(to)
	opts.AllowTimeTruncate = true // a timestamp to a unit other than µs (units converts those to µs)
	return castArray(ctx, a, opts)
}

// rebuildStruct casts each field of a and puts them under a's validity, in
// the table's order: a's fields are matched to the table's by name
// (convert.MatchFields), a nullable table field a lacks is all nulls.
func rebuildStruct(ctx context.Context, mem memory.Allocator, a *array.Struct, to *arrow.StructType) (arrow.Array, []badValue, error) {
	at := a.DataType().(*arrow.StructType)
	src, extra := convert.MatchStruct(at, to) // src nil: field k is a's field k
	if len(extra) > 0 {
		return nil, nil, fmt.Errorf("field %q is not in the table's STRUCT", at.Field(extra[0]).Name)
	}
	kids := make([]arrow.ArrayData, to.NumFields())
	defer func() {
		for _, k := range kids {
			if k != nil {
				k.Release()
			}
		}
	}()
	var bad []badValue
	for k, f := range to.Fields() {
		j := k
		if src != nil {
			j = src[k]
		}
		if j < 0 {
			if !f.Nullable {
				return nil, nil, fmt.Errorf("field %q (NOT NULL in the table) is missing from the batch's STRUCT", f.Name)
			}
			na := nullArray(mem, f.Type, a.Len())
			kids[k] = na.Data()
			kids[k].Retain()
			na.Release()
			continue
		}
		fa := underParent(mem, a.Field(j), a.NullN() > 0, a.IsValid) // Field is sliced to a's rows
		c, b, err := rebuildFrom(ctx, mem, fa, at.Field(j), f.Type)
		fa.Release()
		if err != nil {
			return nil, nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
		kids[k] = c.Data()
		kids[k].Retain()
		c.Release()
		for _, v := range b {
			if a.IsValid(v.i) { // values under a null struct are not sent
				bad = append(bad, badValue{i: v.i, path: "." + f.Name + v.path, reason: v.reason})
			}
		}
	}
	d := array.NewData(to, a.Len(), []*memory.Buffer{validity(a)}, kids, a.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d), firstPerElement(bad), nil
}

// rebuildList casts the elements of a list-like array (list, large list,
// fixed-size list, map) under new offsets from 0 and a's validity; only the
// elements a's rows refer to are cast.
func rebuildList(ctx context.Context, mem memory.Allocator, a array.ListLike, to, elem arrow.DataType) (arrow.Array, []badValue, error) {
	n := a.Len()
	offs := make([]int32, n+1)
	var lo int64
	if n > 0 {
		lo, _ = a.ValueOffsets(0)
	}
	for i := range n {
		s, e := a.ValueOffsets(i)
		if s < lo || e < s || e-lo > math.MaxInt32 {
			return nil, nil, fmt.Errorf("list offsets of row %d out of order or over 2^31 elements", i)
		}
		offs[i+1] = int32(e - lo)
	}
	vals := array.NewSlice(a.ListValues(), lo, lo+int64(offs[n]))
	defer vals.Release()
	if a.NullN() > 0 {
		// Elements in the range of a null row are undefined: not decoded.
		used := make([]bool, vals.Len())
		for i := range n {
			if a.IsValid(i) {
				for j := offs[i]; j < offs[i+1]; j++ {
					used[j] = true
				}
			}
		}
		v := underParent(mem, vals, true, func(j int) bool { return used[j] })
		defer v.Release()
		vals = v
	}
	if _, ok := to.(*arrow.MapType); ok {
		e := entriesNamed(vals, elem)
		defer e.Release()
		vals = e
	}
	c, b, err := rebuildFrom(ctx, mem, vals, a.DataType().(arrow.ListLikeType).ElemField(), elem)
	if err != nil {
		return nil, nil, err
	}
	if st, ok := c.(*array.Struct); ok && c.Data().Offset() != 0 {
		// The entries of a map kept as they were (a slice): arrow-go's map
		// reads its keys and items without the entries' offset, so they
		// are put under a struct from offset 0.
		flat, _, err := rebuildStruct(ctx, mem, st, elem.(*arrow.StructType))
		c.Release()
		if err != nil {
			return nil, nil, err
		}
		c = flat
	}
	if _, ok := to.(*arrow.MapType); ok {
		c = validKeys(c)
	}
	defer c.Release()
	for k := range b {
		b[k].i += int(lo) // back to a's element positions
	}
	buf := memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(offs))
	d := array.NewData(to, n, []*memory.Buffer{validity(a), buf}, []arrow.ArrayData{c.Data()}, a.NullN(), 0)
	defer d.Release()
	return array.MakeFromData(d), liftElements(a, b), nil
}

// validKeys returns the entries of a map (c, which it releases; c itself
// when neither is null) with no null entry and no null key, which a map
// cannot hold (arrow-go refuses to build it, and the whole batch failed):
// entries in the range of a null map row were made null (underParent), and
// a key whose cast failed (a duration that overflows microseconds, 300 into
// a TINYINT key) is null. Such an entry's row is null or left out anyway,
// so what it holds does not matter.
func validKeys(c arrow.Array) arrow.Array {
	st, ok := c.(*array.Struct)
	if !ok || st.NumField() == 0 || st.NullN() == 0 && st.Field(0).NullN() == 0 {
		return c
	}
	defer c.Release()
	kd := st.Field(0).Data()
	bufs := append([]*memory.Buffer{nil}, kd.Buffers()[1:]...)
	keys := array.NewData(kd.DataType(), kd.Len(), bufs, kd.Children(), 0, kd.Offset())
	defer keys.Release()
	children := []arrow.ArrayData{keys}
	for i := 1; i < st.NumField(); i++ {
		children = append(children, st.Field(i).Data())
	}
	d := st.Data()
	sbufs := append([]*memory.Buffer{nil}, d.Buffers()[1:]...)
	nd := array.NewData(d.DataType(), d.Len(), sbufs, children, 0, d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}

// validity is a's validity bitmap from bit 0 (nil without nulls).
func validity(a arrow.Array) *memory.Buffer {
	if a.NullN() == 0 {
		return nil
	}
	if a.Data().Offset() == 0 && a.Data().Buffers()[0] != nil {
		return a.Data().Buffers()[0]
	}
	bits := make([]byte, bitutil.CeilByte(a.Len())/8)
	for i := range a.Len() {
		if a.IsValid(i) {
			bitutil.SetBit(bits, i)
		}
	}
	return memory.NewBufferBytes(bits)
}

// firstPerElement keeps the first bad value of each element, in element
// order (fields are visited one after the other).
func firstPerElement(bad []badValue) []badValue {
	if len(bad) < 2 {
		return bad
	}
	seen := map[int]bool{}
	out := bad[:0:0]
	for _, v := range bad {
		if !seen[v.i] {
			seen[v.i] = true
			out = append(out, v)
		}
	}
	return out
}

// Values a protobuf record cannot hold fail their row on both transports
// (the table stores records the protobuf way; the local server refuses a
// batch holding them): a string that is not UTF-8, a null ARRAY element, a
// null MAP value, a MAP value giving a key twice (convert.MapKeys), a null
// in a NOT NULL STRUCT field; and a VARIANT given as
// struct{metadata, value} with one of the two null or bytes that are not a
// well-formed Variant (see checkVariants). Values under a null struct, list
// or map are not looked at; a null list or map is sent as empty, as
// protobuf writes it.

// Reasons of the rows checkValues leaves out: the protobuf path's.
const (
	NullElement  = convert.NullElement
	NullMapValue = convert.NullMapValue
	NullInField  = convert.NullInNotNull
)

// needsCheck reports whether values of the table's type t can hold what
// checkValues looks for.
func needsCheck(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.LARGE_STRING, arrow.STRUCT, arrow.LIST, arrow.MAP:
		return true
	}
	return false
}

// checkValues lists the elements of a (of the table's type t) that hold
// such a value, the first per element.
func checkValues(a arrow.Array, t arrow.DataType) []badValue {
	if isVariant(t) {
		return checkVariants(a)
	}
	switch t := t.(type) {
	case *arrow.LargeStringType:
		return invalidUTF8(a)
	case *arrow.StructType:
		sa, ok := a.(*array.Struct)
		if !ok || sa.NullN() == a.Len() {
			return nil
		}
		var bad []badValue
		for k, f := range t.Fields() {
			c := sa.Field(k)
			var b []badValue
			if !f.Nullable && c.NullN() > 0 {
				for i := range c.Len() {
					if c.IsNull(i) {
						b = append(b, badValue{i: i, reason: NullInField})
					}
				}
			}
			b = append(b, checkValues(c, f.Type)...)
			for _, v := range b {
				if sa.IsValid(v.i) {
					bad = append(bad, badValue{i: v.i, path: "." + f.Name + v.path, reason: v.reason})
				}
			}
		}
		slices.SortStableFunc(bad, func(x, y badValue) int { return cmp.Compare(x.i, y.i) })
		return firstPerElement(bad)
	case *arrow.MapType:
		ma, ok := a.(*array.Map)
		if !ok {
			return nil
		}
		ents := ma.ListValues().(*array.Struct)
		items := ents.Field(1)
		b := duplicateKeys(ma, ents.Field(0))
		if items.NullN() > 0 {
			for j := range items.Len() {
				if items.IsNull(j) {
					b = append(b, badValue{i: j, path: ".value", reason: NullMapValue})
				}
			}
		}
		b = append(b, checkValues(ents, t.Elem())...)
		return liftElements(ma, b)
	case *arrow.ListType:
		la, ok := a.(array.ListLike)
		if !ok {
			return nil
		}
		vals := la.ListValues()
		var b []badValue
		if vals.NullN() > 0 {
			for j := range vals.Len() {
				if vals.IsNull(j) {
					b = append(b, badValue{i: j, reason: NullElement})
				}
			}
		}
		b = append(b, checkValues(vals, t.Elem())...)
		return liftElements(la, b)
	}
	return nil
}

// duplicateKeys lists the entries of map a (keys: its keys, of the table's
// key type) that give a key an earlier entry of their map gave, the first
// per map, by the rule of convert.MapKeys (as the protobuf path checks).
func duplicateKeys(a *array.Map, keys arrow.Array) []badValue {
	var seen convert.MapKeys
	var b []badValue
	for i := range a.Len() {
		if a.IsNull(i) {
			continue
		}
		s, e := a.ValueOffsets(i)
		if dup, first := seen.KeysDuplicate(keys, int(s), int(e)); dup >= 0 {
			j := int(s) + dup
			b = append(b, badValue{i: j, path: ".key", reason: convert.DuplicateMapKey(convert.MapKeyText(keys, j), first)})
		}
	}
	return b
}

// invalidUTF8 lists the strings of a large_string array that are not UTF-8
// (the protobuf path refuses them, the service stores STRING as UTF-8).
func invalidUTF8(a arrow.Array) []badValue {
	s, ok := a.(*array.LargeString)
	if !ok {
		return nil
	}
	if n := s.Len(); n > 0 {
		// Fast path: the values are one run of bytes; when the run is UTF-8
		// and no value starts inside a character, every value is UTF-8.
		offs, data := s.ValueOffsets(), s.ValueBytes()
		ok := utf8.Valid(data)
		for i := 1; ok && i < n; i++ {
			if at := offs[i] - offs[0]; at < int64(len(data)) && !utf8.RuneStart(data[at]) {
				ok = false
			}
		}
		if ok {
			return nil
		}
	}
	var bad []badValue
	for i := range s.Len() {
		v := s.Value(i)
		if utf8.ValidString(v) || s.IsNull(i) {
			continue
		}
		bad = append(bad, badValue{i: i, reason: convert.InvalidUTF8Reason(v)})
	}
	return bad
}

// liftElements maps bad values of a's child elements to a's rows (the
// first per row; elements of null rows or of no row are dropped).
func liftElements(a array.ListLike, b []badValue) []badValue {
	if len(b) == 0 {
		return nil
	}
	at := map[int]badValue{}
	for _, v := range b {
		if _, ok := at[v.i]; !ok {
			at[v.i] = v
		}
	}
	var out []badValue
	for i := range a.Len() {
		if a.IsNull(i) {
			continue
		}
		s, e := a.ValueOffsets(i)
		for j := s; j < e; j++ {
			if v, ok := at[int(j)]; ok {
				out = append(out, badValue{i: i, path: "[" + strconv.FormatInt(j-s, 10) + "]" + v.path, reason: v.reason})
				break
			}
		}
	}
	return out
}

// widenHalf returns float16 a as float32 or float64 (to), each value widened
// exactly by convert.HalfToFloat32 as the protobuf path does (arrow-go's cast
// kernel widened subnormals wrongly: 2^-24 became 2^-136); ok is false for
// other targets.
func widenHalf(mem memory.Allocator, a *array.Float16, to arrow.DataType) (arrow.Array, bool) {
	switch to.ID() {
	case arrow.FLOAT32:
		return widenHalfInto(array.NewFloat32Builder(mem), a, func(f float32) float32 { return f }), true
	case arrow.FLOAT64:
		return widenHalfInto(array.NewFloat64Builder(mem), a, func(f float32) float64 { return float64(f) }), true
	}
	return nil, false
}

// widenHalfInto appends each value of a, widened and then converted by to,
// to b, and returns the array b built (b is released).
func widenHalfInto[T float32 | float64, B interface {
	Reserve(int)
	AppendNull()
	UnsafeAppend(T)
	NewArray() arrow.Array
	Release()
}](b B, a *array.Float16, to func(float32) T) arrow.Array {
	defer b.Release()
	b.Reserve(a.Len())
	for i, v := range a.Values() {
		if a.IsNull(i) {
			b.AppendNull()
		} else {
			b.UnsafeAppend(to(convert.HalfToFloat32(v.Uint16())))
		}
	}
	return b.NewArray()
}

// underParent returns c, a struct's field or a list's elements (the
// caller releases it), as a dictionary or struct with the positions valid
// says are under a null parent made null: a value under a null struct or
// list row is undefined in Arrow (pyarrow leaves index 0 of an empty
// dictionary there), so it is not decoded. Other arrays, or when the
// parent has no nulls, are c.
func underParent(mem memory.Allocator, c arrow.Array, parentNulls bool, valid func(i int) bool) arrow.Array {
	c.Retain()
	if !parentNulls {
		return c
	}
	d := c.Data()
	switch d.DataType().ID() {
	case arrow.DICTIONARY, arrow.STRUCT:
	default:
		return c
	}
	defer c.Release()
	off, n := d.Offset(), d.Len()
	bits := memory.NewResizableBuffer(mem)
	defer bits.Release()
	bits.Resize(int(bitutil.BytesForBits(int64(off + n))))
	b := bits.Bytes()
	nulls := 0
	for i := range n {
		ok := valid(i) && c.IsValid(i)
		bitutil.SetBitTo(b, off+i, ok)
		if !ok {
			nulls++
		}
	}
	bufs := slices.Clone(d.Buffers())
	bufs[0] = bits
	var nd *array.Data
	if d.DataType().ID() == arrow.DICTIONARY {
		nd = array.NewDataWithDictionary(d.DataType(), n, bufs, nulls, off, d.Dictionary().(*array.Data))
	} else {
		nd = array.NewData(d.DataType(), n, bufs, d.Children(), nulls, off)
	}
	defer nd.Release()
	return array.MakeFromData(nd)
}

// entriesNamed returns a map's entries under the table's names for its key
// and value (the caller releases it; the same arrays, relabelled): a map's
// key and value are matched by position, whatever a producer names them,
// while rebuildStruct matches the fields of a STRUCT by name.
func entriesNamed(vals arrow.Array, elem arrow.DataType) arrow.Array {
	st, ok := vals.DataType().(*arrow.StructType)
	et, ok2 := elem.(*arrow.StructType)
	if !ok || !ok2 || st.NumFields() != et.NumFields() || convert.InTableOrder(st.Fields(), et.Fields()) {
		vals.Retain()
		return vals
	}
	fs := slices.Clone(st.Fields())
	for i := range fs {
		fs[i].Name = et.Field(i).Name
	}
	d := vals.Data()
	nd := array.NewData(arrow.StructOf(fs...), d.Len(), d.Buffers(), d.Children(), vals.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}
