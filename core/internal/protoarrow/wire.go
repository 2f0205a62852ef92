package protoarrow

import (
	"bytes"
	"fmt"
	"math"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Builder accumulates records of one message type into an Arrow record
// batch with the schema of SchemaFromMessage. AppendRecord reads encoded
// records straight from the wire format, without building dynamic messages;
// records the wire walk cannot judge alone (see Validator) are decoded with
// Unmarshal and appended like AppendMessage. Either way the batch equals
// what FromMessages gives for the decoded messages.
//
// A Builder is not safe for concurrent use. Release it when done.
type Builder struct {
	md    protoreflect.MessageDescriptor
	v     *Validator
	rb    *array.RecordBuilder
	root  []*node
	last  [][]int32 // per plan: position of the last occurrence of each field
	count [][]int32 // per plan: occurrences of each field
}

// node is the builder side of one field.
type node struct {
	f    *fieldPlan
	b    array.Builder
	kids []*node // fields of the message (singular, list element or map value)
}

// NewBuilder returns a builder for records of md. A nil mem means
// memory.DefaultAllocator. It fails if md has no Arrow schema (see
// SchemaFromMessage).
func NewBuilder(mem memory.Allocator, md protoreflect.MessageDescriptor) (*Builder, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	schema, err := SchemaFromMessage(md)
	if err != nil {
		return nil, err
	}
	v := NewValidator(md)
	w := &Builder{md: md, v: v, rb: array.NewRecordBuilder(mem, schema),
		last: make([][]int32, v.nplans), count: make([][]int32, v.nplans)}
	fields := make([]array.Builder, len(v.root.fields))
	for i := range fields {
		fields[i] = w.rb.Field(i)
	}
	w.root = w.nodes(v.root, fields)
	return w, nil
}

// nodes pairs the fields of plan p with their builders.
func (w *Builder) nodes(p *msgPlan, builders []array.Builder) []*node {
	if w.last[p.id] == nil {
		w.last[p.id] = make([]int32, len(p.fields))
		w.count[p.id] = make([]int32, len(p.fields))
	}
	out := make([]*node, len(p.fields))
	for i, f := range p.fields {
		n := &node{f: f, b: builders[i]}
		var sub *msgPlan
		var sb array.Builder
		switch {
		case f.key != nil:
			if f.val.kind == kMessage {
				sub, sb = f.val.sub, n.b.(*array.MapBuilder).ItemBuilder()
			}
		case f.kind == kMessage && f.list:
			sub, sb = f.sub, n.b.(*array.ListBuilder).ValueBuilder()
		case f.kind == kMessage:
			sub, sb = f.sub, n.b
		}
		if sub != nil {
			st := sb.(*array.StructBuilder)
			kids := make([]array.Builder, st.NumField())
			for k := range kids {
				kids[k] = st.FieldBuilder(k)
			}
			n.kids = w.nodes(sub, kids)
		}
		out[i] = n
	}
	return out
}

// AppendRecord appends one encoded record. It fails, appending nothing, if
// the record does not decode (the error is Unmarshal's).
func (w *Builder) AppendRecord(rec []byte) error {
	if w.v.fastValid(rec) {
		w.appendMsg(w.v.root, w.root, rec)
		return nil
	}
	m, err := Unmarshal(w.md, rec)
	if err != nil {
		return err
	}
	return w.AppendMessage(m)
}

// AppendMessage appends one decoded message of the builder's type.
func (w *Builder) AppendMessage(m protoreflect.Message) error {
	if m.Descriptor().FullName() != w.md.FullName() {
		return fmt.Errorf("protoarrow: message is a %s, want %s", m.Descriptor().FullName(), w.md.FullName())
	}
	fds := w.md.Fields()
	for j := 0; j < fds.Len(); j++ {
		if err := appendField(w.rb.Field(j), fds.Get(j), m); err != nil {
			return fmt.Errorf("protoarrow: %w", err)
		}
	}
	return nil
}

// NewRecordBatch returns the rows appended so far as a record batch (the
// caller Releases it) and resets the builder.
func (w *Builder) NewRecordBatch() arrow.RecordBatch { return w.rb.NewRecordBatch() }

// Release frees the builder's memory.
func (w *Builder) Release() { w.rb.Release() }

// appendMsg appends the fields of one message body that the wire walk
// accepted: no unknown fields, wire types match, a singular message field
// at most once, at most one member of each oneof.
func (w *Builder) appendMsg(p *msgPlan, nodes []*node, body []byte) {
	last, count := w.last[p.id], w.count[p.id]
	for i := range last {
		last[i], count[i] = -1, 0
	}
	for pos := 0; pos < len(body); {
		num, wt, n := protowire.ConsumeTag(body[pos:])
		f := p.field(num)
		last[f.idx] = int32(pos)
		count[f.idx]++
		pos += n
		pos += protowire.ConsumeFieldValue(num, wt, body[pos:])
	}
	for j, nd := range nodes {
		f := nd.f
		switch {
		case f.key != nil:
			mb := nd.b.(*array.MapBuilder)
			mb.Append(true)
			if count[j] > 0 {
				w.appendMap(nd, body, last[j])
			}
		case f.list:
			lb := nd.b.(*array.ListBuilder)
			lb.Append(true)
			if count[j] == 0 {
				continue
			}
			vb := lb.ValueBuilder()
			eachField(body, f.fd.Number(), last[j], func(wt protowire.Type, v []byte) {
				if wt == protowire.BytesType && f.kind.packable() {
					v, _ := protowire.ConsumeBytes(v)
					for len(v) > 0 {
						v = v[w.appendValue(vb, nd, v):]
					}
					return
				}
				w.appendValue(vb, nd, v)
			})
		case count[j] == 0:
			if fieldNullable(f.fd) {
				nd.b.AppendNull()
			} else if f.kind == kMessage {
				w.appendStruct(nd.b, f.sub, nd.kids, nil)
			} else {
				_ = appendValue(nd.b, f.fd, f.fd.Default())
			}
		default:
			at := int(last[j])
			_, _, n := protowire.ConsumeTag(body[at:])
			w.appendValue(nd.b, nd, body[at+n:])
		}
	}
}

// eachField calls fn with the wire type and the value bytes (from the value
// to the end of body) of every occurrence of num up to the tag at lastPos.
func eachField(body []byte, num protowire.Number, lastPos int32, fn func(protowire.Type, []byte)) {
	for pos := 0; pos <= int(lastPos); {
		n2, wt, n := protowire.ConsumeTag(body[pos:])
		pos += n
		if n2 == num {
			fn(wt, body[pos:])
		}
		pos += protowire.ConsumeFieldValue(n2, wt, body[pos:])
	}
}

// appendValue decodes the value of nd's kind at the start of v, appends it
// to b and returns its length.
func (w *Builder) appendValue(b array.Builder, nd *node, v []byte) int {
	f := nd.f
	switch f.kind {
	case kVarint:
		x, n := protowire.ConsumeVarint(v)
		switch f.fd.Kind() {
		case protoreflect.BoolKind:
			b.(*array.BooleanBuilder).Append(x != 0)
		case protoreflect.EnumKind, protoreflect.Int32Kind:
			b.(*array.Int32Builder).Append(int32(x))
		case protoreflect.Sint32Kind:
			b.(*array.Int32Builder).Append(int32(protowire.DecodeZigZag(x & math.MaxUint32)))
		case protoreflect.Uint32Kind:
			b.(*array.Uint32Builder).Append(uint32(x))
		case protoreflect.Int64Kind:
			b.(*array.Int64Builder).Append(int64(x))
		case protoreflect.Sint64Kind:
			b.(*array.Int64Builder).Append(protowire.DecodeZigZag(x))
		default: // Uint64Kind
			b.(*array.Uint64Builder).Append(x)
		}
		return n
	case kFixed32:
		x, n := protowire.ConsumeFixed32(v)
		switch f.fd.Kind() {
		case protoreflect.Sfixed32Kind:
			b.(*array.Int32Builder).Append(int32(x))
		case protoreflect.FloatKind:
			b.(*array.Float32Builder).Append(math.Float32frombits(x))
		default: // Fixed32Kind
			b.(*array.Uint32Builder).Append(x)
		}
		return n
	case kFixed64:
		x, n := protowire.ConsumeFixed64(v)
		switch f.fd.Kind() {
		case protoreflect.Sfixed64Kind:
			b.(*array.Int64Builder).Append(int64(x))
		case protoreflect.DoubleKind:
			b.(*array.Float64Builder).Append(math.Float64frombits(x))
		default: // Fixed64Kind
			b.(*array.Uint64Builder).Append(x)
		}
		return n
	case kBytes, kUTF8:
		x, n := protowire.ConsumeBytes(v)
		if sb, ok := b.(*array.StringBuilder); ok {
			sb.BinaryBuilder.Append(x)
		} else {
			b.(*array.BinaryBuilder).Append(x)
		}
		return n
	default: // kMessage (list element or singular)
		x, n := protowire.ConsumeBytes(v)
		w.appendStruct(b, f.sub, nd.kids, x)
		return n
	}
}

func (w *Builder) appendStruct(b array.Builder, p *msgPlan, kids []*node, body []byte) {
	b.(*array.StructBuilder).Append(true)
	w.appendMsg(p, kids, body)
}

type mapEntry struct {
	key      []byte // the key value bytes (nil: absent)
	val      []byte // the value bytes (nil: absent)
	i        int64
	u        uint64
	s        []byte
	boolean  bool
	hasKey   bool
	hasValue bool
}

// appendMap appends the entries of map field nd: keys sorted, the last
// entry winning for duplicate keys, as a decoded map would give.
func (w *Builder) appendMap(nd *node, body []byte, lastPos int32) {
	f := nd.f
	var entries []mapEntry
	eachField(body, f.fd.Number(), lastPos, func(_ protowire.Type, v []byte) {
		entry, _ := protowire.ConsumeBytes(v)
		var e mapEntry
		for pos := 0; pos < len(entry); {
			num, wt, n := protowire.ConsumeTag(entry[pos:])
			pos += n
			switch {
			case num == 1 && wt == f.key.kind.wireType():
				e.key, e.hasKey = entry[pos:], true
			case num == 2 && wt == f.val.kind.wireType():
				e.val, e.hasValue = entry[pos:], true
			}
			pos += protowire.ConsumeFieldValue(num, wt, entry[pos:])
		}
		if e.hasKey {
			decodeKey(f.key.fd.Kind(), &e)
		}
		entries = append(entries, e)
	})
	less := keyLess(f.key.fd.Kind())
	sort.SliceStable(entries, func(i, j int) bool { return less(&entries[i], &entries[j]) })
	mb := nd.b.(*array.MapBuilder)
	kb, ib := mb.KeyBuilder(), mb.ItemBuilder()
	keyNode, valNode := &node{f: f.key}, &node{f: f.val, kids: nd.kids}
	for i := range entries {
		e := &entries[i]
		if i+1 < len(entries) && !less(e, &entries[i+1]) {
			continue // a later entry has the same key
		}
		if e.hasKey {
			w.appendValue(kb, keyNode, e.key)
		} else {
			_ = appendValue(kb, f.key.fd, f.key.fd.Default())
		}
		switch {
		case e.hasValue:
			w.appendValue(ib, valNode, e.val)
		case f.val.kind == kMessage:
			w.appendStruct(ib, f.val.sub, nd.kids, nil)
		default:
			_ = appendValue(ib, f.val.fd, f.val.fd.Default())
		}
	}
}

// decodeKey fills the comparable form of a present key.
func decodeKey(kind protoreflect.Kind, e *mapEntry) {
	switch kind {
	case protoreflect.BoolKind:
		x, _ := protowire.ConsumeVarint(e.key)
		e.boolean = x != 0
	case protoreflect.StringKind:
		e.s, _ = protowire.ConsumeBytes(e.key)
	case protoreflect.Int32Kind:
		x, _ := protowire.ConsumeVarint(e.key)
		e.i = int64(int32(x))
	case protoreflect.Sint32Kind:
		x, _ := protowire.ConsumeVarint(e.key)
		e.i = int64(int32(protowire.DecodeZigZag(x & math.MaxUint32)))
	case protoreflect.Int64Kind:
		x, _ := protowire.ConsumeVarint(e.key)
		e.i = int64(x)
	case protoreflect.Sint64Kind:
		x, _ := protowire.ConsumeVarint(e.key)
		e.i = protowire.DecodeZigZag(x)
	case protoreflect.Uint32Kind:
		x, _ := protowire.ConsumeVarint(e.key)
		e.u = uint64(uint32(x))
	case protoreflect.Uint64Kind:
		e.u, _ = protowire.ConsumeVarint(e.key)
	case protoreflect.Sfixed32Kind:
		x, _ := protowire.ConsumeFixed32(e.key)
		e.i = int64(int32(x))
	case protoreflect.Fixed32Kind:
		x, _ := protowire.ConsumeFixed32(e.key)
		e.u = uint64(x)
	case protoreflect.Sfixed64Kind:
		x, _ := protowire.ConsumeFixed64(e.key)
		e.i = int64(x)
	case protoreflect.Fixed64Kind:
		e.u, _ = protowire.ConsumeFixed64(e.key)
	}
}

// keyLess orders map keys as sortMapKeys does (absent keys are the zero
// value, which the zero fields of mapEntry already are).
func keyLess(kind protoreflect.Kind) func(a, b *mapEntry) bool {
	switch kind {
	case protoreflect.BoolKind:
		return func(a, b *mapEntry) bool { return !a.boolean && b.boolean }
	case protoreflect.StringKind:
		return func(a, b *mapEntry) bool { return bytes.Compare(a.s, b.s) < 0 }
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return func(a, b *mapEntry) bool { return a.u < b.u }
	default:
		return func(a, b *mapEntry) bool { return a.i < b.i }
	}
}
