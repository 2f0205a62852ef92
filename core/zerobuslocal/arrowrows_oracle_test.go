package zerobuslocal

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// arrowToMessages turns the rows of a Flight batch (already checked against
// the table's Arrow schema) into messages of the table's descriptor: the
// server's own reading of the Unity Catalog types, independent of the
// client's encoder. Dates stay days, timestamps microseconds, decimals
// arrive as text. A null in a NOT NULL column, a null list element or map
// value, or a string that is not UTF-8 fails the batch, naming row and
// column.
func arrowToMessages(rec arrow.RecordBatch, md protoreflect.MessageDescriptor, want *arrow.Schema) (_ []*dynamicpb.Message, err error) {
	defer func() {
		// A kind mismatch inside dynamicpb is a server bug; report it
		// as an error rather than take the process down.
		if p := recover(); p != nil {
			err = fmt.Errorf("zerobuslocal: internal error converting the batch: %v", p)
		}
	}()
	n := int(rec.NumRows())
	msgs := make([]*dynamicpb.Message, n)
	for i := range msgs {
		msgs[i] = dynamicpb.NewMessage(md)
	}
	fds := md.Fields()
	for c := 0; c < int(rec.NumCols()); c++ {
		fd := fds.Get(c)
		col := rec.Column(c)
		wt := want.Field(c).Type
		for i := 0; i < n; i++ {
			if err := setField(msgs[i], fd, wt, col, i); err != nil {
				return nil, fmt.Errorf("row %d, column %q: %w", i, rec.ColumnName(c), err)
			}
		}
	}
	return msgs, nil
}

// setField sets fd of m from element i of arr; want is the column's type in
// the table's Arrow schema (its struct fields say which are NOT NULL).
func setField(m protoreflect.Message, fd protoreflect.FieldDescriptor, want arrow.DataType, arr arrow.Array, i int) error {
	if arr.IsNull(i) {
		if fd.Cardinality() == protoreflect.Required {
			return fmt.Errorf("null in a NOT NULL column")
		}
		return nil // absent; a null list or map is empty
	}
	switch {
	case fd.IsMap():
		ma := arr.(*array.Map)
		start, end := ma.ValueOffsets(i)
		keys, items := ma.Keys(), ma.Items()
		mp := m.Mutable(fd).Map()
		for j := int(start); j < int(end); j++ {
			kv, err := scalar(fd.MapKey(), keys, j)
			if err != nil {
				return fmt.Errorf("key %d: %w", j-int(start), err)
			}
			if items.IsNull(j) {
				return fmt.Errorf("value of key %v is null (a map value cannot be null)", kv.Interface())
			}
			var vv protoreflect.Value
			if fd.MapValue().Message() != nil {
				vv = mp.NewValue()
				if err := setStruct(vv.Message(), want.(*arrow.MapType).ItemType().(*arrow.StructType), items, j); err != nil {
					return fmt.Errorf("value of key %v: %w", kv.Interface(), err)
				}
			} else if vv, err = scalar(fd.MapValue(), items, j); err != nil {
				return fmt.Errorf("value of key %v: %w", kv.Interface(), err)
			}
			mp.Set(kv.MapKey(), vv)
		}
		return nil
	case fd.IsList():
		la := arr.(*array.List)
		start, end := la.ValueOffsets(i)
		elems := la.ListValues()
		l := m.Mutable(fd).List()
		for j := int(start); j < int(end); j++ {
			if elems.IsNull(j) {
				return fmt.Errorf("element %d is null (an array element cannot be null)", j-int(start))
			}
			if fd.Message() != nil {
				ev := l.NewElement()
				if err := setStruct(ev.Message(), want.(*arrow.ListType).Elem().(*arrow.StructType), elems, j); err != nil {
					return fmt.Errorf("element %d: %w", j-int(start), err)
				}
				l.Append(ev)
				continue
			}
			v, err := scalar(fd, elems, j)
			if err != nil {
				return fmt.Errorf("element %d: %w", j-int(start), err)
			}
			l.Append(v)
		}
		return nil
	case fd.Message() != nil:
		return setStruct(m.Mutable(fd).Message(), want.(*arrow.StructType), arr, i)
	default:
		v, err := scalar(fd, arr, i)
		if err != nil {
			return err
		}
		m.Set(fd, v)
		return nil
	}
}

// setStruct fills m from row i of a struct array; want is the table's
// struct type, whose non-nullable fields must not be null.
func setStruct(m protoreflect.Message, want *arrow.StructType, arr arrow.Array, i int) error {
	sa := arr.(*array.Struct)
	fds := m.Descriptor().Fields()
	for k := 0; k < sa.NumField(); k++ {
		fd := fds.Get(k)
		child := sa.Field(k)
		wf := want.Field(k)
		if child.IsNull(i) && !wf.Nullable {
			return fmt.Errorf("field %q: null in a NOT NULL field", wf.Name)
		}
		if err := setField(m, fd, wf.Type, child, i); err != nil {
			return fmt.Errorf("field %q: %w", wf.Name, err)
		}
	}
	return nil
}

// scalar reads element i of arr as a value of fd's kind.
func scalar(fd protoreflect.FieldDescriptor, arr arrow.Array, i int) (protoreflect.Value, error) {
	switch a := arr.(type) {
	case *array.Int8:
		return protoreflect.ValueOfInt32(int32(a.Value(i))), nil
	case *array.Int16:
		return protoreflect.ValueOfInt32(int32(a.Value(i))), nil
	case *array.Int32:
		return protoreflect.ValueOfInt32(a.Value(i)), nil
	case *array.Int64:
		if fd.Kind() == protoreflect.Uint64Kind || fd.Kind() == protoreflect.Fixed64Kind {
			return protoreflect.ValueOfUint64(uint64(a.Value(i))), nil
		}
		if fd.Kind() == protoreflect.Uint32Kind || fd.Kind() == protoreflect.Fixed32Kind {
			return protoreflect.ValueOfUint32(uint32(a.Value(i))), nil
		}
		return protoreflect.ValueOfInt64(a.Value(i)), nil
	case *array.Date32:
		return protoreflect.ValueOfInt32(int32(a.Value(i))), nil
	case *array.Timestamp:
		return protoreflect.ValueOfInt64(int64(a.Value(i))), nil
	case *array.Float32:
		return protoreflect.ValueOfFloat32(a.Value(i)), nil
	case *array.Float64:
		return protoreflect.ValueOfFloat64(a.Value(i)), nil
	case *array.Boolean:
		return protoreflect.ValueOfBool(a.Value(i)), nil
	case *array.LargeString:
		return stringValue(fd, a.Value(i))
	case *array.String:
		return stringValue(fd, a.Value(i))
	case *array.LargeBinary:
		return protoreflect.ValueOfBytes(append([]byte(nil), a.Value(i)...)), nil
	case *array.Binary:
		return protoreflect.ValueOfBytes(append([]byte(nil), a.Value(i)...)), nil
	default:
		return protoreflect.Value{}, fmt.Errorf("Arrow type %s is not readable into %v", arr.DataType(), fd.Kind())
	}
}

func stringValue(fd protoreflect.FieldDescriptor, s string) (protoreflect.Value, error) {
	if !utf8.ValidString(s) {
		return protoreflect.Value{}, fmt.Errorf("string is not valid UTF-8")
	}
	switch fd.Kind() {
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind: // DECIMAL(20,0) of an unsigned field
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not an unsigned 64-bit integer", s)
		}
		return protoreflect.ValueOfUint64(u), nil
	case protoreflect.EnumKind:
		ev := fd.Enum().Values().ByName(protoreflect.Name(s))
		if ev == nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not a value of enum %s", s, fd.Enum().FullName())
		}
		return protoreflect.ValueOfEnum(ev.Number()), nil
	}
	return protoreflect.ValueOfString(s), nil
}
