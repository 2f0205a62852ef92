package zerobuslocal

import (
	"fmt"

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

// variantPlan is the plan of the VARIANT fields (see fieldPlan).
type variantPlan fieldPlan[variantLeaf]

// variantLeaf is a VARIANT's string field; its text is checked.
type variantLeaf struct{}

func variantRule(t *ColumnType, fd protoreflect.FieldDescriptor) (variantLeaf, bool) {
	return variantLeaf{}, t.Name == TypeVariant && fd.Kind() == protoreflect.StringKind
}

// newVariantPlan matches the table's columns to the fields of md (the
// stream's descriptor, by name) and returns nil when the table has no
// VARIANT at any depth.
func newVariantPlan(cols []Column, md protoreflect.MessageDescriptor) *variantPlan {
	return (*variantPlan)(buildFieldPlan(cols, md, variantRule))
}

// check returns an error naming the path of the first VARIANT field whose
// text is not one JSON document (in a MAP entry, "map value: ..."). rec
// was validated already; malformed input just ends the walk.
func (p *variantPlan) check(rec []byte, depth int) error {
	if depth > 100 {
		return nil
	}
	return eachBytes(rec, p.fields, func(f planField[variantLeaf], v []byte) error {
		var err error
		if f.sub != nil {
			err = (*variantPlan)(f.sub).check(v, depth+1)
		} else {
			err = protoarrow.CheckVariantJSON(v)
		}
		switch {
		case err == nil:
			return nil
		case p.entry:
			return fmt.Errorf("map %s: %w", f.name, err)
		}
		return fmt.Errorf("field %q: %w", f.name, err)
	})
}

// checkMessage checks a decoded record (a JSON stream's) in its wire form.
func (p *variantPlan) checkMessage(m proto.Message) error {
	return checkDecoded(m, p.check)
}
