package zerobuslocal

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// Flight ingest: the rows of a record batch (already checked against the
// table's Arrow schema) are written straight into the protobuf wire form of
// the table's descriptor, column by column bound once per batch, row by row
// into one buffer, without a message per row. The stored records are then
// what a PROTO stream would have sent, and every reader (Rows, ArrowBatch,
// the HTTP API, Persist, eviction) treats them alike. The server's own
// reading of the Unity Catalog types, independent of the client's encoder:
// dates stay days, timestamps microseconds, decimals arrive as text.
//
// Checks, per value while writing: a null in a NOT NULL column or struct
// field, a null array element or map key or value, a string that is not
// UTF-8, a DECIMAL(20,0) text of an unsigned field that does not parse, an
// enum name the enum lacks. Any fails the whole batch, naming row and column.
// Encoding follows proto.Marshal: fields in column order, a field without
// presence (proto3 implicit) omitted when zero, packed repeated scalars when
// the descriptor packs them, map entries with key and value always written.

// fieldWriter appends field fd of row i (tag included) to b. It is bound
// to one array of one batch.
type fieldWriter func(b []byte, i int) ([]byte, error)

// valueWriter appends the value of element i (no tag) to b.
type valueWriter func(b []byte, i int) ([]byte, error)

// encodeArrowRows writes the rows of rec as protobuf records of md into
// one buffer and returns it with each record's span.
// sizeHint is the expected size (the IPC body's is close).
func encodeArrowRows(rec arrow.RecordBatch, md protoreflect.MessageDescriptor, want *arrow.Schema, sizeHint int) (buf []byte, spans []span, err error) {
	defer func() {
		// A type mismatch the schema check let through is a server bug;
		// report it as an error rather than take the process down.
		if p := recover(); p != nil {
			err = fmt.Errorf("zerobuslocal: internal error converting the batch: %v", p)
		}
	}()
	n := int(rec.NumRows())
	fds := md.Fields()
	writers := make([]fieldWriter, rec.NumCols())
	for c := range writers {
		w, err := bindField(fds.Get(c), want.Field(c).Type, rec.Column(c))
		if err != nil {
			return nil, nil, fmt.Errorf("column %q: %w", rec.ColumnName(c), err)
		}
		writers[c] = w
	}
	spans = make([]span, n)
	b := make([]byte, 0, sizeHint)
	for i := range n {
		start := len(b)
		for c, w := range writers {
			if b, err = w(b, i); err != nil {
				return nil, nil, fmt.Errorf("row %d, column %q: %w", i, rec.ColumnName(c), err)
			}
		}
		if int64(len(b)) > math.MaxUint32 {
			return nil, nil, fmt.Errorf("row %d: the batch is too large to store", i)
		}
		spans[i] = span{uint32(start), uint32(len(b))}
	}
	if cap(b)-len(b) > len(b)/8 {
		b = append([]byte(nil), b...) // do not keep a grown buffer's slack
	}
	return b, spans, nil
}

// bindField returns the writer of field fd from arr, whose type in the
// table's Arrow schema is want.
func bindField(fd protoreflect.FieldDescriptor, want arrow.DataType, arr arrow.Array) (fieldWriter, error) {
	if fd.Kind() == protoreflect.GroupKind {
		return nil, fmt.Errorf("group fields are not supported over Arrow Flight")
	}
	num := fd.Number()
	required := fd.Cardinality() == protoreflect.Required
	nullCheck := func(w fieldWriter) fieldWriter {
		if arr.NullN() == 0 {
			return w
		}
		return func(b []byte, i int) ([]byte, error) {
			if arr.IsNull(i) {
				if required {
					return b, fmt.Errorf("null in a NOT NULL column")
				}
				return b, nil // absent; a null list or map is empty
			}
			return w(b, i)
		}
	}
	switch {
	case fd.IsMap():
		ma, ok := arr.(*array.Map)
		if !ok {
			return nil, fmt.Errorf("Arrow type %s is not readable into a map", arr.DataType())
		}
		keys, items := ma.Keys(), ma.Items()
		kfd, vfd := fd.MapKey(), fd.MapValue()
		kw, err := bindValue(kfd, keys)
		if err != nil {
			return nil, err
		}
		var vw valueWriter
		if vfd.Message() != nil {
			vw, err = bindMessage(vfd.Message(), want.(*arrow.MapType).ItemType().(*arrow.StructType), items)
		} else {
			vw, err = bindValue(vfd, items)
		}
		if err != nil {
			return nil, err
		}
		ktag := protowire.EncodeTag(1, wireType(kfd))
		vtag := protowire.EncodeTag(2, wireType(vfd))
		return nullCheck(func(b []byte, i int) ([]byte, error) {
			start, end := ma.ValueOffsets(i)
			for j := int(start); j < int(end); j++ {
				if keys.IsNull(j) {
					return b, fmt.Errorf("key %d is null (a map key cannot be null)", j-int(start))
				}
				if items.IsNull(j) {
					return b, fmt.Errorf("value of key %v is null (a map value cannot be null)", keyText(keys, j))
				}
				b = protowire.AppendTag(b, num, protowire.BytesType)
				at := len(b)
				b = protowire.AppendVarint(b, ktag)
				var err error
				if b, err = kw(b, j); err != nil {
					return b, fmt.Errorf("key %d: %w", j-int(start), err)
				}
				b = protowire.AppendVarint(b, vtag)
				if b, err = vw(b, j); err != nil {
					return b, fmt.Errorf("value of key %v: %w", keyText(keys, j), err)
				}
				b = prefixLength(b, at)
			}
			return b, nil
		}), nil
	case fd.IsList():
		la, ok := arr.(*array.List)
		if !ok {
			return nil, fmt.Errorf("Arrow type %s is not readable into a repeated field", arr.DataType())
		}
		elems := la.ListValues()
		var ew valueWriter
		var err error
		if fd.Message() != nil {
			ew, err = bindMessage(fd.Message(), want.(*arrow.ListType).Elem().(*arrow.StructType), elems)
		} else {
			ew, err = bindValue(fd, elems)
		}
		if err != nil {
			return nil, err
		}
		packed := fd.IsPacked()
		tag := protowire.EncodeTag(num, wireType(fd))
		return nullCheck(func(b []byte, i int) ([]byte, error) {
			start, end := la.ValueOffsets(i)
			if start == end {
				return b, nil
			}
			at := -1
			if packed {
				b = protowire.AppendTag(b, num, protowire.BytesType)
				at = len(b)
			}
			for j := int(start); j < int(end); j++ {
				if elems.IsNull(j) {
					return b, fmt.Errorf("element %d is null (an array element cannot be null)", j-int(start))
				}
				if !packed {
					b = protowire.AppendVarint(b, tag)
				}
				var err error
				if b, err = ew(b, j); err != nil {
					return b, fmt.Errorf("element %d: %w", j-int(start), err)
				}
			}
			if packed {
				b = prefixLength(b, at)
			}
			return b, nil
		}), nil
	default:
		var vw valueWriter
		var err error
		if fd.Message() != nil {
			st, ok := want.(*arrow.StructType)
			if !ok {
				return nil, fmt.Errorf("Arrow type %s is not readable into a message", arr.DataType())
			}
			vw, err = bindMessage(fd.Message(), st, arr)
		} else {
			vw, err = bindValue(fd, arr)
		}
		if err != nil {
			return nil, err
		}
		tag := protowire.EncodeTag(num, wireType(fd))
		implicit := !fd.HasPresence()
		return nullCheck(func(b []byte, i int) ([]byte, error) {
			at := len(b)
			b = protowire.AppendVarint(b, tag)
			vat := len(b)
			b, err := vw(b, i)
			if err == nil && implicit && allZero(b[vat:]) {
				b = b[:at] // proto3 implicit presence: a zero value is not written
			}
			return b, err
		}), nil
	}
}

// bindMessage returns the writer of the length-prefixed message md from
// row i of a struct array; want is the table's struct type, whose non-nullable
// fields must not be null.
func bindMessage(md protoreflect.MessageDescriptor, want *arrow.StructType, arr arrow.Array) (valueWriter, error) {
	sa, ok := arr.(*array.Struct)
	if !ok {
		return nil, fmt.Errorf("Arrow type %s is not readable into a message", arr.DataType())
	}
	fds := md.Fields()
	type child struct {
		name     string
		notNull  bool
		arr      arrow.Array
		w        fieldWriter
		anyNulls bool
	}
	kids := make([]child, sa.NumField())
	for k := range kids {
		wf := want.Field(k)
		w, err := bindField(fds.Get(k), wf.Type, sa.Field(k))
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", wf.Name, err)
		}
		kids[k] = child{name: wf.Name, notNull: !wf.Nullable, arr: sa.Field(k), w: w, anyNulls: sa.Field(k).NullN() > 0}
	}
	return func(b []byte, i int) ([]byte, error) {
		at := len(b)
		for _, k := range kids {
			if k.notNull && k.anyNulls && k.arr.IsNull(i) {
				return b, fmt.Errorf("field %q: null in a NOT NULL field", k.name)
			}
			var err error
			if b, err = k.w(b, i); err != nil {
				return b, fmt.Errorf("field %q: %w", k.name, err)
			}
		}
		return prefixLength(b, at), nil
	}, nil
}

// bindValue returns the writer of element i of arr as a scalar of fd's kind.
func bindValue(fd protoreflect.FieldDescriptor, arr arrow.Array) (valueWriter, error) {
	kind := fd.Kind()
	ints := intReader(arr)
	mismatch := func() (valueWriter, error) {
		return nil, fmt.Errorf("Arrow type %s is not readable into %v", arr.DataType(), kind)
	}
	switch kind {
	case protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.Uint64Kind:
		if ints == nil {
			if kind == protoreflect.Uint64Kind {
				return bindText(fd, arr)
			}
			return mismatch()
		}
		conv := func(v int64) uint64 { return uint64(v) }
		switch kind {
		case protoreflect.Int32Kind:
			conv = func(v int64) uint64 { return uint64(int64(int32(v))) }
		case protoreflect.Uint32Kind:
			conv = func(v int64) uint64 { return uint64(uint32(v)) }
		}
		return func(b []byte, i int) ([]byte, error) { return protowire.AppendVarint(b, conv(ints(i))), nil }, nil
	case protoreflect.Sint32Kind:
		if ints == nil {
			return mismatch()
		}
		return func(b []byte, i int) ([]byte, error) {
			return protowire.AppendVarint(b, protowire.EncodeZigZag(int64(int32(ints(i))))), nil
		}, nil
	case protoreflect.Sint64Kind:
		if ints == nil {
			return mismatch()
		}
		return func(b []byte, i int) ([]byte, error) {
			return protowire.AppendVarint(b, protowire.EncodeZigZag(ints(i))), nil
		}, nil
	case protoreflect.Sfixed32Kind, protoreflect.Fixed32Kind:
		if ints == nil {
			return mismatch()
		}
		return func(b []byte, i int) ([]byte, error) { return protowire.AppendFixed32(b, uint32(ints(i))), nil }, nil
	case protoreflect.Sfixed64Kind, protoreflect.Fixed64Kind:
		if ints == nil {
			if kind == protoreflect.Fixed64Kind {
				return bindText(fd, arr)
			}
			return mismatch()
		}
		return func(b []byte, i int) ([]byte, error) { return protowire.AppendFixed64(b, uint64(ints(i))), nil }, nil
	case protoreflect.FloatKind:
		a, ok := arr.(*array.Float32)
		if !ok {
			return mismatch()
		}
		return func(b []byte, i int) ([]byte, error) {
			return protowire.AppendFixed32(b, math.Float32bits(a.Value(i))), nil
		}, nil
	case protoreflect.DoubleKind:
		a, ok := arr.(*array.Float64)
		if !ok {
			return mismatch()
		}
		return func(b []byte, i int) ([]byte, error) {
			return protowire.AppendFixed64(b, math.Float64bits(a.Value(i))), nil
		}, nil
	case protoreflect.BoolKind:
		a, ok := arr.(*array.Boolean)
		if !ok {
			return mismatch()
		}
		return func(b []byte, i int) ([]byte, error) {
			return protowire.AppendVarint(b, protowire.EncodeBool(a.Value(i))), nil
		}, nil
	case protoreflect.StringKind, protoreflect.EnumKind:
		return bindText(fd, arr)
	case protoreflect.BytesKind:
		switch a := arr.(type) {
		case *array.LargeBinary:
			return func(b []byte, i int) ([]byte, error) { return protowire.AppendBytes(b, a.Value(i)), nil }, nil
		case *array.Binary:
			return func(b []byte, i int) ([]byte, error) { return protowire.AppendBytes(b, a.Value(i)), nil }, nil
		}
	}
	return mismatch()
}

// bindText writes strings: STRING as is, an enum by name, DECIMAL(20,0)
// text of an unsigned 64-bit field as its number. Every string must be
// UTF-8.
func bindText(fd protoreflect.FieldDescriptor, arr arrow.Array) (valueWriter, error) {
	var str func(int) string
	switch a := arr.(type) {
	case *array.LargeString:
		str = a.Value
	case *array.String:
		str = a.Value
	case *array.Struct:
		if fd.Kind() == protoreflect.StringKind && isVariantStruct(a.DataType().(*arrow.StructType)) {
			return bindVariant(a)
		}
		return nil, fmt.Errorf("Arrow type %s is not readable into %v", arr.DataType(), fd.Kind())
	default:
		return nil, fmt.Errorf("Arrow type %s is not readable into %v", arr.DataType(), fd.Kind())
	}
	read := func(i int) (string, error) {
		s := str(i)
		if !utf8.ValidString(s) {
			return "", fmt.Errorf("string is not valid UTF-8")
		}
		return s, nil
	}
	switch fd.Kind() {
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind: // DECIMAL(20,0) of an unsigned field
		fixed := fd.Kind() == protoreflect.Fixed64Kind
		return func(b []byte, i int) ([]byte, error) {
			s, err := read(i)
			if err != nil {
				return b, err
			}
			u, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return b, fmt.Errorf("%q is not an unsigned 64-bit integer", s)
			}
			if fixed {
				return protowire.AppendFixed64(b, u), nil
			}
			return protowire.AppendVarint(b, u), nil
		}, nil
	case protoreflect.EnumKind:
		values := fd.Enum().Values()
		return func(b []byte, i int) ([]byte, error) {
			s, err := read(i)
			if err != nil {
				return b, err
			}
			ev := values.ByName(protoreflect.Name(s))
			if ev == nil {
				return b, fmt.Errorf("%q is not a value of enum %s", s, fd.Enum().FullName())
			}
			return protowire.AppendVarint(b, uint64(int64(ev.Number()))), nil
		}, nil
	}
	return func(b []byte, i int) ([]byte, error) {
		s, err := read(i)
		if err != nil {
			return b, err
		}
		return protowire.AppendString(b, s), nil
	}, nil
}

// intReader reads element i of an integer-like array as int64; nil for
// other arrays.
func intReader(arr arrow.Array) func(int) int64 {
	switch a := arr.(type) {
	case *array.Int8:
		return func(i int) int64 { return int64(a.Value(i)) }
	case *array.Int16:
		return func(i int) int64 { return int64(a.Value(i)) }
	case *array.Int32:
		return func(i int) int64 { return int64(a.Value(i)) }
	case *array.Int64:
		return a.Value
	case *array.Date32:
		return func(i int) int64 { return int64(a.Value(i)) }
	case *array.Timestamp:
		return func(i int) int64 { return int64(a.Value(i)) }
	}
	return nil
}

// keyText is map key j as text for error messages.
func keyText(keys arrow.Array, j int) string {
	return keys.ValueStr(j)
}

// wireType is the wire type of one value of fd (an element for a list).
func wireType(fd protoreflect.FieldDescriptor) protowire.Type {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind, protoreflect.StringKind, protoreflect.BytesKind:
		return protowire.BytesType
	case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return protowire.Fixed32Type
	case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return protowire.Fixed64Type
	}
	return protowire.VarintType
}

// prefixLength turns b[at:] into a length-delimited value: its length as
// a varint, then the bytes.
func prefixLength(b []byte, at int) []byte {
	n := len(b) - at
	k := protowire.SizeVarint(uint64(n))
	for range k {
		b = append(b, 0)
	}
	copy(b[at+k:], b[at:at+n])
	protowire.AppendVarint(b[:at], uint64(n))
	return b
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// bindVariant writes a VARIANT (struct{metadata, value} in the Parquet
// Variant encoding) as the JSON text a PROTO stream sends for it.
func bindVariant(a *array.Struct) (valueWriter, error) {
	bin := func(c arrow.Array) (func(int) []byte, error) {
		switch b := c.(type) {
		case *array.Binary:
			return b.Value, nil
		case *array.LargeBinary:
			return b.Value, nil
		}
		return nil, fmt.Errorf("VARIANT field of Arrow type %s is not a binary", c.DataType())
	}
	meta, err := bin(a.Field(0))
	if err != nil {
		return nil, err
	}
	value, err := bin(a.Field(1))
	if err != nil {
		return nil, err
	}
	return func(b []byte, i int) ([]byte, error) {
		if a.Field(0).IsNull(i) || a.Field(1).IsNull(i) {
			return b, fmt.Errorf("VARIANT value without metadata or value bytes")
		}
		text, err := protoarrow.VariantJSON(meta(i), value(i))
		if err != nil {
			return b, err
		}
		return protowire.AppendBytes(b, text), nil
	}, nil
}
