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

// decimalPlan is the plan of the DECIMAL fields (see fieldPlan).
type decimalPlan fieldPlan[decimalLeaf]

// decimalLeaf is a DECIMAL(p,s)'s string field; its text is checked and
// rounded.
type decimalLeaf struct{ p, s int }

func decimalRule(t *ColumnType, fd protoreflect.FieldDescriptor) (decimalLeaf, bool) {
	return decimalLeaf{t.Precision, t.Scale}, t.Name == TypeDecimal && fd.Kind() == protoreflect.StringKind
}

// newDecimalPlan matches the table's columns to the fields of md (the
// stream's descriptor, by name) and returns nil when the table has no
// DECIMAL at any depth.
func newDecimalPlan(cols []Column, md protoreflect.MessageDescriptor) *decimalPlan {
	return (*decimalPlan)(buildFieldPlan(cols, md, decimalRule))
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
			var nv []byte
			var err error
			if f.sub != nil {
				nv, err = (*decimalPlan)(f.sub).fix(v, depth+1, scratch)
			} else {
				nv, err = f.leaf.fix(v, scratch)
			}
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

// fix returns the stored form of the text v (a DECIMAL, one element of an
// ARRAY, a MAP value), or nil when v is in that form already.
func (l decimalLeaf) fix(v []byte, scratch *[]byte) ([]byte, error) {
	if why, _, _ := protoarrow.CheckDecimalText(v, l.p, l.s); why != "" {
		return nil, fmt.Errorf("%s", why)
	}
	r, _ := protoarrow.AppendRoundedDecimal((*scratch)[:0], v, l.p, l.s)
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
