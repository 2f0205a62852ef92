package zerobuslocal

import (
	"bytes"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// A DECIMAL(p,s) column is a string field of decimal text on every stream
// (PROTO, JSON, Avro after decoding, Flight after conversion; also a
// DECIMAL inside a STRUCT, an ARRAY's elements and a MAP's values). The
// server stores it as the service does, by Spark's cast
// (protoarrow.CheckDecimalText, the rule the clients check by): the value
// rounded half-up to s places, written with exactly s fraction digits
// ("1.234" into DECIMAL(10,2) is stored as "1.23", "7" as "7.00"); text
// that is not a decimal number, or whose rounded value has more than p−s
// digits before the point, cannot be stored and the request is rejected
// naming the record and the field. Records whose text is already in that
// form are stored as received (no copy); tables without a DECIMAL skip the
// walk.

type decimalPlan struct {
	fields map[protowire.Number]decimalField
}

type decimalField struct {
	name string
	p, s int          // text: the column's DECIMAL(p,s)
	text bool         // decimal text: a DECIMAL field, or one element of an ARRAY<DECIMAL>
	sub  *decimalPlan // a STRUCT (or one STRUCT element of an ARRAY, or a MAP entry) with DECIMALs inside
}

// newDecimalPlan matches the table's columns to the fields of md (the
// stream's descriptor, by name) and returns nil when the table has no
// DECIMAL at any depth.
func newDecimalPlan(cols []Column, md protoreflect.MessageDescriptor) *decimalPlan {
	return buildDecimalPlan(cols, md, 0)
}

func buildDecimalPlan(cols []Column, md protoreflect.MessageDescriptor, depth int) *decimalPlan {
	if md == nil || depth > 64 {
		return nil
	}
	p := &decimalPlan{fields: map[protowire.Number]decimalField{}}
	fds := md.Fields()
	for _, c := range cols {
		fd := fds.ByName(protoreflect.Name(c.Name))
		if fd == nil {
			continue
		}
		f, ok := decimalFieldFor(c.Name, c.Type, fd, depth)
		if ok {
			p.fields[fd.Number()] = f
		}
	}
	if len(p.fields) == 0 {
		return nil
	}
	return p
}

// decimalFieldFor is the plan entry of a column of type t written as fd.
func decimalFieldFor(name string, t ColumnType, fd protoreflect.FieldDescriptor, depth int) (decimalField, bool) {
	f := decimalField{name: name}
	switch {
	case t.Name == TypeDecimal && fd.Kind() == protoreflect.StringKind && !fd.IsMap():
		f.text, f.p, f.s = true, t.Precision, t.Scale
	case t.Name == TypeArray && t.Element != nil && t.Element.Name == TypeDecimal && fd.IsList() && fd.Kind() == protoreflect.StringKind:
		f.text, f.p, f.s = true, t.Element.Precision, t.Element.Scale
	case t.Name == TypeStruct && fd.Message() != nil && !fd.IsMap() && !fd.IsList():
		f.sub = buildDecimalPlan(t.Fields, fd.Message(), depth+1)
	case t.Name == TypeArray && t.Element != nil && t.Element.Name == TypeStruct && fd.IsList() && fd.Message() != nil:
		f.sub = buildDecimalPlan(t.Element.Fields, fd.Message(), depth+1)
	case t.Name == TypeMap && t.Value != nil && fd.IsMap():
		// An entry is a message whose field 2 is the value.
		if v, ok := decimalFieldFor("value", *t.Value, fd.MapValue(), depth+1); ok {
			f.sub = &decimalPlan{fields: map[protowire.Number]decimalField{2: v}}
		}
	}
	return f, f.text || f.sub != nil
}

// fix returns rec with every DECIMAL text in its stored form, or nil when
// rec is already so, or an error naming the path of the first value that
// cannot be stored. rec was validated already; malformed input just ends
// the walk. scratch is reused between calls.
func (p *decimalPlan) fix(rec []byte, depth int, scratch *[]byte) ([]byte, error) {
	if depth > 100 {
		return nil, nil
	}
	var out []byte // nil until a value changes
	done := 0      // rec[:done] is in out
	for rest := rec; len(rest) > 0; {
		start := len(rec) - len(rest)
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			break
		}
		m := protowire.ConsumeFieldValue(num, typ, rest[n:])
		if m < 0 {
			break
		}
		if f, ok := p.fields[num]; ok && typ == protowire.BytesType {
			v, _ := protowire.ConsumeBytes(rest[n:])
			nv, err := f.fixValue(v, depth, scratch)
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.name, err)
			}
			if nv != nil {
				if out == nil {
					out = make([]byte, 0, len(rec)+16)
				}
				out = append(out, rec[done:start]...)
				out = protowire.AppendTag(out, num, typ)
				out = protowire.AppendBytes(out, nv)
				done = start + n + m
			}
		}
		rest = rest[n+m:]
	}
	if out == nil {
		return nil, nil
	}
	return append(out, rec[done:]...), nil
}

// fixValue is fix for one occurrence of the field: its text, a STRUCT, one
// element of an ARRAY, or one MAP entry.
func (f decimalField) fixValue(v []byte, depth int, scratch *[]byte) ([]byte, error) {
	if f.sub != nil {
		return f.sub.fix(v, depth+1, scratch)
	}
	if why, _, _ := protoarrow.CheckDecimalText(v, f.p, f.s); why != "" {
		return nil, fmt.Errorf("%s", why)
	}
	r, _ := protoarrow.AppendRoundedDecimal((*scratch)[:0], v, f.p, f.s)
	*scratch = r
	if bytes.Equal(r, v) {
		return nil, nil
	}
	return r, nil
}

// fixMessage is fix for a decoded record (a JSON stream's): m itself, or a
// new message of its descriptor holding the stored values.
func (p *decimalPlan) fixMessage(m *dynamicpb.Message, scratch *[]byte) (*dynamicpb.Message, error) {
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	out, err := p.fix(b, 0, scratch)
	if err != nil || out == nil {
		return m, err
	}
	fixed := dynamicpb.NewMessage(m.Descriptor())
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(out, fixed); err != nil {
		return nil, err
	}
	return fixed, nil
}

// roundDecimals is fix for the records of a converted Flight batch (buf,
// spans): the same buffer when none changes, else a new one.
func (r *rpc) roundDecimals(buf []byte, spans []span) ([]byte, []span, error) {
	var out []byte
	var outSpans []span
	for i, sp := range spans {
		rec := buf[sp.start:sp.end]
		fixed, err := r.decimals.fix(rec, 0, &r.decScratch)
		if err != nil {
			return nil, nil, fmt.Errorf("row %d: %w", i, err)
		}
		if fixed == nil && out == nil {
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(buf)+len(buf)/8)
			outSpans = make([]span, len(spans))
			for j, s := range spans[:i] {
				outSpans[j] = span{uint32(len(out)), 0}
				out = append(out, buf[s.start:s.end]...)
				outSpans[j].end = uint32(len(out))
			}
		}
		if fixed == nil {
			fixed = rec
		}
		outSpans[i].start = uint32(len(out))
		out = append(out, fixed...)
		outSpans[i].end = uint32(len(out))
	}
	if out == nil {
		return buf, spans, nil
	}
	return out, outSpans, nil
}
