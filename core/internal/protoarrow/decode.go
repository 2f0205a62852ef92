package protoarrow

import (
	"cmp"
	"fmt"
	"slices"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Decode parses each record with desc and returns them as one Arrow record
// batch with the schema of SchemaFromDescriptor. Records that do not parse,
// that lack a required field, or that carry field numbers unknown to desc are
// an error naming the record index. The caller owns the returned batch and
// must Release it; on error nothing is left allocated. A nil mem means
// memory.DefaultAllocator. Safe for concurrent use.
func Decode(mem memory.Allocator, desc *descriptorpb.DescriptorProto, records [][]byte) (arrow.RecordBatch, error) {
	md, err := MessageDescriptor(desc)
	if err != nil {
		return nil, err
	}
	b, err := NewBuilder(mem, md)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	for i, rec := range records {
		if err := b.AppendRecord(rec); err != nil {
			return nil, fmt.Errorf("protoarrow: record %d: %w", i, err)
		}
	}
	return b.NewRecordBatch(), nil
}

// Unmarshal parses one record strictly: required fields must be present and
// every field number on the wire must be known to md (anything else would be
// silently dropped data). Malformed input never panics: proto.Unmarshal
// panics on some malformed map entries (a second key with another wire
// type), which is reported as an error.
func Unmarshal(md protoreflect.MessageDescriptor, rec []byte) (_ *dynamicpb.Message, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot decode as %s: malformed record (%v)", md.FullName(), p)
		}
	}()
	m := dynamicpb.NewMessage(md)
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(rec, m); err != nil {
		return nil, fmt.Errorf("cannot decode as %s: %w", md.FullName(), err)
	}
	// protobuf-go's check names the first required field missing from a
	// message, but walks nested messages in dynamicpb's map order, so with
	// two incomplete messages the error named either at random: the
	// incomplete one is found in field order, as for an unknown field.
	if err := proto.CheckInitialized(m); err != nil {
		if sub := firstMessage(m.ProtoReflect(), 0, func(x protoreflect.Message) bool { return !ownRequiredSet(x) }); sub != nil {
			err = proto.CheckInitialized(sub.Interface()) // its own fields are checked first: deterministic
		}
		return nil, fmt.Errorf("cannot decode as %s: %w", md.FullName(), err)
	}
	if err := checkNoUnknown(m.ProtoReflect(), 0); err != nil {
		if sub := firstMessage(m.ProtoReflect(), 0, func(x protoreflect.Message) bool { return len(x.GetUnknown()) > 0 }); sub != nil {
			err = unknownFields(sub)
		}
		return nil, err
	}
	return m, nil
}

// ownRequiredSet reports whether m has each of its own required fields.
func ownRequiredSet(m protoreflect.Message) bool {
	md := m.Descriptor()
	for i, nums := 0, md.RequiredNumbers(); i < nums.Len(); i++ {
		if !m.Has(md.Fields().ByNumber(nums.Get(i))) {
			return false
		}
	}
	return true
}

// firstMessage is the first message in m (m itself, then its fields'
// messages in the descriptor's field order, a list's in order, a map's by
// key) for which bad is true, down to maxDepth; nil if none.
func firstMessage(m protoreflect.Message, depth int, bad func(protoreflect.Message) bool) protoreflect.Message {
	if bad(m) {
		return m
	}
	if depth > maxDepth {
		return nil
	}
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if !m.Has(fd) {
			continue
		}
		v := m.Get(fd)
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				continue
			}
			var keys []protoreflect.MapKey
			v.Map().Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k)
				return true
			})
			slices.SortFunc(keys, compareMapKeys)
			for _, k := range keys {
				if sub := firstMessage(v.Map().Get(k).Message(), depth+1, bad); sub != nil {
					return sub
				}
			}
		case fd.IsList():
			if fd.Message() == nil {
				continue
			}
			for j := 0; j < v.List().Len(); j++ {
				if sub := firstMessage(v.List().Get(j).Message(), depth+1, bad); sub != nil {
					return sub
				}
			}
		case fd.Message() != nil:
			if sub := firstMessage(v.Message(), depth+1, bad); sub != nil {
				return sub
			}
		}
	}
	return nil
}

// compareMapKeys orders the keys of one map (all of one kind).
func compareMapKeys(a, b protoreflect.MapKey) int {
	switch x := a.Interface().(type) {
	case string:
		return cmp.Compare(x, b.String())
	case bool:
		if x == b.Bool() {
			return 0
		} else if x {
			return 1
		}
		return -1
	case int32, int64:
		return cmp.Compare(a.Int(), b.Int())
	}
	return cmp.Compare(a.Uint(), b.Uint())
}

func unknownFields(m protoreflect.Message) error {
	return fmt.Errorf("message %s carries field numbers not in the descriptor", m.Descriptor().FullName())
}

// checkNoUnknown finds whether a message in m carries unknown fields (the
// one it names may be any of them: Unmarshal finds the first).
func checkNoUnknown(m protoreflect.Message, depth int) error {
	if len(m.GetUnknown()) > 0 {
		return unknownFields(m)
	}
	if depth > maxDepth {
		return nil
	}
	var err error
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() != nil {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					err = checkNoUnknown(mv.Message(), depth+1)
					return err == nil
				})
			}
		case fd.IsList():
			if fd.Message() != nil {
				l := v.List()
				for i := 0; i < l.Len() && err == nil; i++ {
					err = checkNoUnknown(l.Get(i).Message(), depth+1)
				}
			}
		case fd.Message() != nil:
			err = checkNoUnknown(v.Message(), depth+1)
		}
		return err == nil
	})
	return err
}

// FromMessages converts already decoded messages of type md into one Arrow
// record batch. The caller owns and must Release the batch. A nil mem means
// memory.DefaultAllocator.
func FromMessages(mem memory.Allocator, md protoreflect.MessageDescriptor, msgs []protoreflect.Message) (arrow.RecordBatch, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	schema, err := SchemaFromMessage(md)
	if err != nil {
		return nil, err
	}
	rb := array.NewRecordBuilder(mem, schema)
	defer rb.Release()
	rb.Reserve(len(msgs))
	fds := md.Fields()
	for i, m := range msgs {
		if m.Descriptor().FullName() != md.FullName() {
			return nil, fmt.Errorf("protoarrow: message %d is a %s, want %s", i, m.Descriptor().FullName(), md.FullName())
		}
		for j := 0; j < fds.Len(); j++ {
			if err := appendField(rb.Field(j), fds.Get(j), m); err != nil {
				return nil, fmt.Errorf("protoarrow: message %d: %w", i, err)
			}
		}
	}
	return rb.NewRecordBatch(), nil
}

func appendField(b array.Builder, fd protoreflect.FieldDescriptor, m protoreflect.Message) error {
	switch {
	case fd.IsMap():
		mb, ok := b.(*array.MapBuilder)
		if !ok {
			return typeErr(fd, b)
		}
		mb.Append(true)
		mp := m.Get(fd).Map()
		keys := make([]protoreflect.MapKey, 0, mp.Len())
		mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			keys = append(keys, k)
			return true
		})
		sortMapKeys(fd.MapKey().Kind(), keys)
		for _, k := range keys {
			if err := appendValue(mb.KeyBuilder(), fd.MapKey(), k.Value()); err != nil {
				return err
			}
			if err := appendValue(mb.ItemBuilder(), fd.MapValue(), mp.Get(k)); err != nil {
				return err
			}
		}
		return nil
	case fd.IsList():
		lb, ok := b.(*array.ListBuilder)
		if !ok {
			return typeErr(fd, b)
		}
		lb.Append(true)
		l := m.Get(fd).List()
		vb := lb.ValueBuilder()
		for i := 0; i < l.Len(); i++ {
			if err := appendValue(vb, fd, l.Get(i)); err != nil {
				return err
			}
		}
		return nil
	default:
		if fieldNullable(fd) && !m.Has(fd) {
			b.AppendNull()
			return nil
		}
		return appendValue(b, fd, m.Get(fd))
	}
}

// appendValue appends one element value of fd's kind.
func appendValue(b array.Builder, fd protoreflect.FieldDescriptor, v protoreflect.Value) error {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		if bb, ok := b.(*array.BooleanBuilder); ok {
			bb.Append(v.Bool())
			return nil
		}
	case protoreflect.EnumKind:
		if ib, ok := b.(*array.Int32Builder); ok {
			ib.Append(int32(v.Enum()))
			return nil
		}
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		if ib, ok := b.(*array.Int32Builder); ok {
			ib.Append(int32(v.Int()))
			return nil
		}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		if ib, ok := b.(*array.Int64Builder); ok {
			ib.Append(v.Int())
			return nil
		}
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		if ub, ok := b.(*array.Uint32Builder); ok {
			ub.Append(uint32(v.Uint()))
			return nil
		}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		if ub, ok := b.(*array.Uint64Builder); ok {
			ub.Append(v.Uint())
			return nil
		}
	case protoreflect.FloatKind:
		if fb, ok := b.(*array.Float32Builder); ok {
			fb.Append(float32(v.Float()))
			return nil
		}
	case protoreflect.DoubleKind:
		if fb, ok := b.(*array.Float64Builder); ok {
			fb.Append(v.Float())
			return nil
		}
	case protoreflect.StringKind:
		if sb, ok := b.(*array.StringBuilder); ok {
			sb.Append(v.String())
			return nil
		}
	case protoreflect.BytesKind:
		if bb, ok := b.(*array.BinaryBuilder); ok {
			bb.Append(v.Bytes())
			return nil
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		if sb, ok := b.(*array.StructBuilder); ok {
			sb.Append(true)
			sub := v.Message()
			fds := fd.Message().Fields()
			for i := 0; i < fds.Len(); i++ {
				if err := appendField(sb.FieldBuilder(i), fds.Get(i), sub); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return typeErr(fd, b)
}

func typeErr(fd protoreflect.FieldDescriptor, b array.Builder) error {
	return fmt.Errorf("field %s: internal mismatch between kind %v and Arrow builder %T", fd.FullName(), fd.Kind(), b)
}

func sortMapKeys(kind protoreflect.Kind, keys []protoreflect.MapKey) {
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i].Value(), keys[j].Value()
		switch kind {
		case protoreflect.BoolKind:
			return !a.Bool() && b.Bool()
		case protoreflect.StringKind:
			return a.String() < b.String()
		case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
			return a.Uint() < b.Uint()
		default:
			return a.Int() < b.Int()
		}
	})
}
