package zerobuslocal

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A STRUCT's fields are optional in the descriptor a table expects (the
// protocol's rule), so a record's wire format may leave out a field the
// table declares NOT NULL inside a STRUCT (also a STRUCT element of an
// ARRAY or a STRUCT value of a MAP). The table refuses such a record, as
// it refuses a null in a NOT NULL column: the server walks the wire format
// of each PROTO and JSON record for those fields and rejects the request
// naming the record and the field's path, as Flight batches are checked
// per value. Tables without a NOT NULL field inside a STRUCT skip the
// walk. Top-level NOT NULL columns are required fields, which the
// validator checks.

type notNullPlan struct {
	required []notNullField                 // NOT NULL fields of this message
	sub      map[protowire.Number]nestedRef // message fields with NOT NULL fields inside
}

type notNullField struct {
	num  protowire.Number
	name string
}

type nestedRef struct {
	name  string
	plan  *notNullPlan
	entry bool // a MAP entry: the plan is the STRUCT value's (field 2)
}

// newNotNullPlan matches the table's columns to the fields of md (the
// stream's descriptor, by name) and returns nil when no STRUCT of the
// table, at any depth, has a NOT NULL field.
func newNotNullPlan(cols []Column, md protoreflect.MessageDescriptor) *notNullPlan {
	return buildNotNullPlan(cols, md, false, 0)
}

func buildNotNullPlan(cols []Column, md protoreflect.MessageDescriptor, nested bool, depth int) *notNullPlan {
	if md == nil || depth > 64 {
		return nil
	}
	p := &notNullPlan{}
	fds := md.Fields()
	for _, c := range cols {
		fd := fds.ByName(protoreflect.Name(c.Name))
		if fd == nil {
			continue
		}
		// An empty ARRAY or MAP is an absent repeated field in protobuf:
		// indistinguishable from a null one, so only the client can check.
		if nested && !c.Nullable && !fd.IsList() && !fd.IsMap() {
			p.required = append(p.required, notNullField{fd.Number(), c.Name})
		}
		var ref nestedRef
		switch t := c.Type; {
		case t.Name == TypeStruct && fd.Message() != nil && !fd.IsMap():
			ref = nestedRef{name: c.Name, plan: buildNotNullPlan(t.Fields, fd.Message(), true, depth+1)}
		case t.Name == TypeArray && t.Element.Name == TypeStruct && fd.IsList() && fd.Message() != nil:
			ref = nestedRef{name: c.Name, plan: buildNotNullPlan(t.Element.Fields, fd.Message(), true, depth+1)}
		case t.Name == TypeMap && t.Value.Name == TypeStruct && fd.IsMap() && fd.MapValue().Message() != nil:
			ref = nestedRef{name: c.Name, plan: buildNotNullPlan(t.Value.Fields, fd.MapValue().Message(), true, depth+1), entry: true}
		}
		if ref.plan != nil {
			if p.sub == nil {
				p.sub = map[protowire.Number]nestedRef{}
			}
			p.sub[fd.Number()] = ref
		}
	}
	if len(p.required) == 0 && len(p.sub) == 0 {
		return nil
	}
	return p
}

// check returns an error naming the path of the first NOT NULL field
// missing from a message. rec was validated already; malformed input just
// ends the walk.
func (p *notNullPlan) check(rec []byte, depth int) error {
	if depth > 100 {
		return nil
	}
	var seen uint64 // bit k: required[k] present (the first 64)
	var seenMore map[protowire.Number]bool
	for w := (wireFields{rec}); ; {
		num, typ, v, ok := w.next()
		if !ok {
			break
		}
		for k, f := range p.required {
			if f.num == num {
				if k < 64 {
					seen |= 1 << k
				} else {
					if seenMore == nil {
						seenMore = map[protowire.Number]bool{}
					}
					seenMore[num] = true
				}
				break
			}
		}
		if ref, ok := p.sub[num]; ok && typ == protowire.BytesType {
			if err := ref.checkValue(v, depth); err != nil {
				return err
			}
		}
	}
	for k, f := range p.required {
		if k < 64 && seen&(1<<k) == 0 || k >= 64 && !seenMore[f.num] {
			return fmt.Errorf("field %q: null in a NOT NULL field (the table declares it NOT NULL; it is absent from the record)", f.name)
		}
	}
	return nil
}

// checkValue checks one occurrence of the message field: a STRUCT, one
// element of an ARRAY of STRUCT (each is one occurrence), or one MAP entry.
func (r nestedRef) checkValue(v []byte, depth int) error {
	if !r.entry {
		if err := r.plan.check(v, depth+1); err != nil {
			return fmt.Errorf("field %q: %w", r.name, err)
		}
		return nil
	}
	return eachMapValue(v, func(val []byte) error {
		if err := r.plan.check(val, depth+1); err != nil {
			return fmt.Errorf("field %q: map value: %w", r.name, err)
		}
		return nil
	})
}

// checkMessage checks a decoded record (a JSON stream's) in its wire form.
func (p *notNullPlan) checkMessage(m proto.Message) error {
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
	if err != nil {
		return err
	}
	return p.check(b, 0)
}
