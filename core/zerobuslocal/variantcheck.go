package zerobuslocal

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// A VARIANT column is a string field of JSON text on a PROTO or JSON
// stream (also a VARIANT inside a STRUCT, an ARRAY's elements and a MAP's
// values). The table holds Variant values, so text that is not one JSON
// document (or an object giving a key twice, or a number outside float64)
// cannot be stored: the server walks the wire format of each record for
// those fields and rejects the request naming the record and the field,
// as it does for a string that is not UTF-8. The rule is
// protoarrow.CheckVariantJSON, the one the clients encode and check VARIANT
// text by, so the server refuses exactly what a client fails by row.
// Tables without a VARIANT skip the walk.

type variantPlan struct {
	fields map[protowire.Number]variantField
}

type variantField struct {
	name  string
	text  bool         // JSON text: a VARIANT field, or one element of an ARRAY<VARIANT>
	sub   *variantPlan // a STRUCT (or one STRUCT element of an ARRAY) with VARIANTs inside
	entry bool         // a MAP entry: text or sub is its value's (field 2)
}

// newVariantPlan matches the table's columns to the fields of md (the
// stream's descriptor, by name) and returns nil when the table has no
// VARIANT at any depth.
func newVariantPlan(cols []Column, md protoreflect.MessageDescriptor) *variantPlan {
	return buildVariantPlan(cols, md, 0)
}

func buildVariantPlan(cols []Column, md protoreflect.MessageDescriptor, depth int) *variantPlan {
	if md == nil || depth > 64 {
		return nil
	}
	p := &variantPlan{fields: map[protowire.Number]variantField{}}
	fds := md.Fields()
	for _, c := range cols {
		fd := fds.ByName(protoreflect.Name(c.Name))
		if fd == nil {
			continue
		}
		f := variantField{name: c.Name}
		t := c.Type
		switch {
		case t.Name == TypeVariant && fd.Kind() == protoreflect.StringKind:
			f.text = true
		case t.Name == TypeArray && t.Element.Name == TypeVariant && fd.IsList() && fd.Kind() == protoreflect.StringKind:
			f.text = true
		case t.Name == TypeMap && t.Value.Name == TypeVariant && fd.IsMap() && fd.MapValue().Kind() == protoreflect.StringKind:
			f.text, f.entry = true, true
		case t.Name == TypeStruct && fd.Message() != nil && !fd.IsMap():
			f.sub = buildVariantPlan(t.Fields, fd.Message(), depth+1)
		case t.Name == TypeArray && t.Element.Name == TypeStruct && fd.IsList() && fd.Message() != nil:
			f.sub = buildVariantPlan(t.Element.Fields, fd.Message(), depth+1)
		case t.Name == TypeMap && t.Value.Name == TypeStruct && fd.IsMap() && fd.MapValue().Message() != nil:
			f.sub, f.entry = buildVariantPlan(t.Value.Fields, fd.MapValue().Message(), depth+1), true
		}
		if f.text || f.sub != nil {
			p.fields[fd.Number()] = f
		}
	}
	if len(p.fields) == 0 {
		return nil
	}
	return p
}

// check returns an error naming the path of the first VARIANT field whose
// text is not one JSON document. rec was validated already; malformed
// input just ends the walk.
func (p *variantPlan) check(rec []byte, depth int) error {
	if depth > 100 {
		return nil
	}
	return eachBytes(rec, p.fields, func(f variantField, v []byte) error {
		if err := f.checkValue(v, depth); err != nil {
			return fmt.Errorf("field %q: %w", f.name, err)
		}
		return nil
	})
}

// checkValue checks one occurrence of the field: its text, a STRUCT, one
// element of an ARRAY, or one MAP entry.
func (f variantField) checkValue(v []byte, depth int) error {
	if !f.entry {
		if f.text {
			return protoarrow.CheckVariantJSON(v)
		}
		return f.sub.check(v, depth+1)
	}
	return eachMapValue(v, func(val []byte) error {
		var err error
		if f.text {
			err = protoarrow.CheckVariantJSON(val)
		} else {
			err = f.sub.check(val, depth+1)
		}
		if err != nil {
			return fmt.Errorf("map value: %w", err)
		}
		return nil
	})
}

// checkMessage checks a decoded record (a JSON stream's) in its wire form.
func (p *variantPlan) checkMessage(m proto.Message) error {
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
	if err != nil {
		return err
	}
	return p.check(b, 0)
}
