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

// rangePlan is the plan of the TINYINT and SMALLINT fields (see fieldPlan).
type rangePlan fieldPlan[rangeLeaf]

// rangeLeaf is a TINYINT or SMALLINT's int32 field; its values are checked.
type rangeLeaf struct {
	typ      string // TINYINT or SMALLINT
	min, max int64
	kind     protoreflect.Kind // int32, sint32 (zigzag) or sfixed32 on the wire
}

func rangeRule(t *ColumnType, fd protoreflect.FieldDescriptor) (rangeLeaf, bool) {
	switch t.Name {
	case TypeTinyint:
		return rangeLeaf{t.Name, math.MinInt8, math.MaxInt8, fd.Kind()}, true
	case TypeSmallint:
		return rangeLeaf{t.Name, math.MinInt16, math.MaxInt16, fd.Kind()}, true
	}
	return rangeLeaf{}, false
}

// newRangePlan matches the table's columns to the fields of md (by name)
// and returns nil when no TINYINT or SMALLINT is at any depth.
func newRangePlan(cols []Column, md protoreflect.MessageDescriptor) *rangePlan {
	return (*rangePlan)(buildFieldPlan(cols, md, rangeRule))
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
		var x uint64 // a varint's or fixed32's value
		var m int
		switch typ {
		case protowire.VarintType:
			x, m = protowire.ConsumeVarint(rest)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, m = protowire.ConsumeFixed32(rest)
			x = uint64(x32)
		case protowire.BytesType:
			var v []byte
			if v, m = protowire.ConsumeBytes(rest); m >= 0 && want {
				if err := p.checkBytes(f, v, depth); err != nil {
					return err
				}
			}
			want = false
		default:
			m = protowire.ConsumeFieldValue(num, typ, rest)
			want = false
		}
		if m < 0 {
			return nil
		}
		rest = rest[m:]
		if want && f.sub == nil {
			if err := f.leaf.check(f.name, x); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkBytes checks one length-delimited occurrence of f: a STRUCT, an
// ARRAY's STRUCT element or a MAP entry, or a packed ARRAY<TINYINT>'s
// values.
func (p *rangePlan) checkBytes(f planField[rangeLeaf], v []byte, depth int) error {
	if f.sub != nil {
		if err := (*rangePlan)(f.sub).check(v, depth+1); err != nil {
			return fmt.Errorf("field %q: %w", f.name, err)
		}
		return nil
	}
	for len(v) > 0 {
		var x uint64
		var k int
		if f.leaf.kind == protoreflect.Sfixed32Kind {
			var x32 uint32
			x32, k = protowire.ConsumeFixed32(v)
			x = uint64(x32)
		} else {
			x, k = protowire.ConsumeVarint(v)
		}
		if k < 0 {
			return nil
		}
		v = v[k:]
		if err := f.leaf.check(f.name, x); err != nil {
			return err
		}
	}
	return nil
}

// check checks one value of the int32 field name (a varint, or the 4 bytes
// of an sfixed32) against the column's range.
func (l rangeLeaf) check(name string, v uint64) error {
	x := int64(int32(v)) // int32 (sign-extended to 64 bits) and sfixed32
	if l.kind == protoreflect.Sint32Kind {
		x = int64(int32(protowire.DecodeZigZag(v & math.MaxUint32)))
	}
	if x < l.min || x > l.max {
		return fmt.Errorf("field %q: value %d is outside the %s range %d to %d", name, x, l.typ, l.min, l.max)
	}
	return nil
}

// checkMessage checks a decoded record (a JSON or Avro stream's) in its
// wire form.
func (p *rangePlan) checkMessage(m proto.Message) error {
	return checkDecoded(m, p.check)
}
