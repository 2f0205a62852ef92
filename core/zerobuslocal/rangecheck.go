package zerobuslocal

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TINYINT and SMALLINT columns travel as protobuf int32 fields (as INT
// does), which hold values the column cannot: the service refuses a record
// with 300 in a TINYINT. The server walks the wire format of each record
// for those fields (also a STRUCT's fields, an ARRAY's elements, packed or
// not, a MAP's keys and values) and rejects the request naming the record,
// the field, the value and the column's type, as it does for a string that
// is not UTF-8. Tables without such a column skip the walk.

type rangePlan struct {
	fields map[protowire.Number]rangeField
}

type rangeField struct {
	name     string
	typ      string // TINYINT or SMALLINT: the field's values are checked ("": none)
	min, max int64
	kind     protoreflect.Kind // int32, sint32 (zigzag) or sfixed32 on the wire
	sub      *rangePlan        // a STRUCT (or an ARRAY's STRUCT element, a MAP entry) with such fields inside
}

// smallIntRange returns the range of a TINYINT or SMALLINT column type.
func smallIntRange(t *ColumnType) (lo, hi int64, ok bool) {
	switch {
	case t == nil:
	case t.Name == TypeTinyint:
		return math.MinInt8, math.MaxInt8, true
	case t.Name == TypeSmallint:
		return math.MinInt16, math.MaxInt16, true
	}
	return 0, 0, false
}

// newRangePlan matches the table's columns to the fields of md (by name)
// and returns nil when no TINYINT or SMALLINT is at any depth.
func newRangePlan(cols []Column, md protoreflect.MessageDescriptor) *rangePlan {
	return buildRangePlan(cols, md, 0)
}

func buildRangePlan(cols []Column, md protoreflect.MessageDescriptor, depth int) *rangePlan {
	if md == nil || depth > 64 {
		return nil
	}
	p := &rangePlan{fields: map[protowire.Number]rangeField{}}
	fds := md.Fields()
	for _, c := range cols {
		fd := fds.ByName(protoreflect.Name(c.Name))
		if fd == nil {
			continue
		}
		f := rangeField{name: c.Name}
		t := c.Type
		leaf := &t
		if t.Name == TypeArray {
			leaf = t.Element
		}
		switch {
		case t.Name == TypeMap && fd.IsMap():
			entry := &rangePlan{fields: map[protowire.Number]rangeField{}}
			for num, part := range map[protowire.Number]*ColumnType{1: t.Key, 2: t.Value} {
				pf := rangeField{name: map[protowire.Number]string{1: "key", 2: "value"}[num]}
				pfd := fd.MapKey()
				if num == 2 {
					pfd = fd.MapValue()
				}
				if lo, hi, ok := smallIntRange(part); ok {
					pf.typ, pf.min, pf.max, pf.kind = part.Name, lo, hi, pfd.Kind()
				} else if part != nil && part.Name == TypeStruct && num == 2 && fd.MapValue().Message() != nil {
					pf.sub = buildRangePlan(part.Fields, fd.MapValue().Message(), depth+1)
				}
				if pf.typ != "" || pf.sub != nil {
					entry.fields[num] = pf
				}
			}
			if len(entry.fields) > 0 {
				f.sub = entry
			}
		case leaf == nil:
		case leaf.Name == TypeStruct && fd.Message() != nil:
			f.sub = buildRangePlan(leaf.Fields, fd.Message(), depth+1)
		default:
			if lo, hi, ok := smallIntRange(leaf); ok {
				f.typ, f.min, f.max, f.kind = leaf.Name, lo, hi, fd.Kind()
			}
		}
		if f.typ != "" || f.sub != nil {
			p.fields[fd.Number()] = f
		}
	}
	if len(p.fields) == 0 {
		return nil
	}
	return p
}

// check returns an error naming the first field whose value is outside its
// column's TINYINT or SMALLINT range. rec was validated already; malformed
// input just ends the walk.
func (p *rangePlan) check(rec []byte, depth int) error {
	if depth > 100 {
		return nil
	}
	for rest := rec; len(rest) > 0; {
		num, typ, n := protowire.ConsumeTag(rest)
		if n < 0 {
			return nil
		}
		rest = rest[n:]
		f, want := p.fields[num]
		switch typ {
		case protowire.VarintType:
			v, m := protowire.ConsumeVarint(rest)
			if m < 0 {
				return nil
			}
			rest = rest[m:]
			if want && f.typ != "" {
				if err := f.checkValue(v); err != nil {
					return err
				}
			}
		case protowire.BytesType:
			v, m := protowire.ConsumeBytes(rest)
			if m < 0 {
				return nil
			}
			rest = rest[m:]
			if !want {
				continue
			}
			if f.sub != nil {
				if err := f.sub.check(v, depth+1); err != nil {
					return fmt.Errorf("field %q: %w", f.name, err)
				}
				continue
			}
			for len(v) > 0 && f.typ != "" { // a packed ARRAY<TINYINT>
				var x uint64
				var k int
				if f.kind == protoreflect.Sfixed32Kind {
					var x32 uint32
					x32, k = protowire.ConsumeFixed32(v)
					x = uint64(x32)
				} else {
					x, k = protowire.ConsumeVarint(v)
				}
				if k < 0 {
					break
				}
				v = v[k:]
				if err := f.checkValue(x); err != nil {
					return err
				}
			}
		case protowire.Fixed32Type:
			v, m := protowire.ConsumeFixed32(rest)
			if m < 0 {
				return nil
			}
			rest = rest[m:]
			if want && f.typ != "" {
				if err := f.checkValue(uint64(v)); err != nil {
					return err
				}
			}
		default:
			m := protowire.ConsumeFieldValue(num, typ, rest)
			if m < 0 {
				return nil
			}
			rest = rest[m:]
		}
	}
	return nil
}

// checkValue checks one varint of an int32 field against the column's range.
func (f rangeField) checkValue(v uint64) error {
	x := int64(int32(v)) // int32 (sign-extended to 64 bits) and sfixed32
	if f.kind == protoreflect.Sint32Kind {
		x = int64(int32(protowire.DecodeZigZag(v & math.MaxUint32)))
	}
	if x < f.min || x > f.max {
		return fmt.Errorf("field %q: value %d is outside the %s range %d to %d", f.name, x, f.typ, f.min, f.max)
	}
	return nil
}

// checkMessage checks a decoded record (a JSON or Avro stream's) in its
// wire form.
func (p *rangePlan) checkMessage(m proto.Message) error {
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
	if err != nil {
		return err
	}
	return p.check(b, 0)
}
