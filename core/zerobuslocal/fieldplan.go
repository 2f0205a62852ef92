package zerobuslocal

import (
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// The per-record checks that look at a few column types (VARIANT text,
// DECIMAL text, TINYINT and SMALLINT ranges) walk each record's wire
// format by a plan: the table's columns matched by name to the fields of
// the stream's descriptor, through STRUCTs, ARRAY elements and MAP
// entries, keeping only the paths to the leaves the check's rule picks.
// A table without such a leaf gets no plan (nil), and its records skip the
// walk.

// fieldPlan is the plan of one message (a record, a STRUCT, a MAP entry).
type fieldPlan[L any] struct {
	fields map[protowire.Number]planField[L] // the fields with a leaf at some depth
	entry  bool                              // a MAP entry: field 1 is the key, field 2 the value
}

// planField is one field of a fieldPlan: a leaf (a column, each element of
// an ARRAY, a MAP's key or value) or a message with leaves inside.
type planField[L any] struct {
	name string        // the column's (or STRUCT field's) name; "key" or "value" in a MAP entry
	sub  *fieldPlan[L] // a STRUCT, each STRUCT element of an ARRAY, or each MAP entry (nil: a leaf)
	leaf L             // what the check needs of a leaf
}

// leafRule says whether a value of column type t, written as fd (for a MAP
// key or value: the entry's field), is a leaf the check looks at, and what
// the check needs of it. VARIANT and DECIMAL cannot be MAP keys.
type leafRule[L any] func(t *ColumnType, fd protoreflect.FieldDescriptor) (L, bool)

// buildFieldPlan matches cols to the fields of md (by name) and returns
// nil when no leaf the rule picks is at any depth.
func buildFieldPlan[L any](cols []Column, md protoreflect.MessageDescriptor, rule leafRule[L]) *fieldPlan[L] {
	return planMessage(cols, md, rule, 0)
}

func planMessage[L any](cols []Column, md protoreflect.MessageDescriptor, rule leafRule[L], depth int) *fieldPlan[L] {
	if md == nil || depth > 64 {
		return nil
	}
	p := &fieldPlan[L]{fields: map[protowire.Number]planField[L]{}}
	fds := md.Fields()
	for i := range cols {
		c := &cols[i]
		fd := fds.ByName(protoreflect.Name(c.Name))
		if fd == nil {
			continue
		}
		if f, ok := planColumn(c.Name, &c.Type, fd, rule, depth); ok {
			p.fields[fd.Number()] = f
		}
	}
	if len(p.fields) == 0 {
		return nil
	}
	return p
}

// planColumn is the plan entry of a column (or STRUCT field) of type t
// written as fd: an ARRAY is planned by its element (each occurrence of
// the repeated field is one), a MAP by its entry.
func planColumn[L any](name string, t *ColumnType, fd protoreflect.FieldDescriptor, rule leafRule[L], depth int) (planField[L], bool) {
	switch t.Name {
	case TypeArray:
		return planValue(name, t.Element, fd, rule, depth)
	case TypeMap:
		if !fd.IsMap() {
			return planField[L]{}, false
		}
		entry := &fieldPlan[L]{fields: map[protowire.Number]planField[L]{}, entry: true}
		if f, ok := planValue("key", t.Key, fd.MapKey(), rule, depth+1); ok {
			entry.fields[1] = f
		}
		if f, ok := planValue("value", t.Value, fd.MapValue(), rule, depth+1); ok {
			entry.fields[2] = f
		}
		return planField[L]{name: name, sub: entry}, len(entry.fields) > 0
	}
	return planValue(name, t, fd, rule, depth)
}

// planValue is the plan entry of one value of type t written as fd: a
// STRUCT's plan, or a leaf if the rule picks it.
func planValue[L any](name string, t *ColumnType, fd protoreflect.FieldDescriptor, rule leafRule[L], depth int) (planField[L], bool) {
	if t == nil {
		return planField[L]{}, false
	}
	if t.Name == TypeStruct {
		if fd.Message() == nil || fd.IsMap() {
			return planField[L]{}, false
		}
		sub := planMessage(t.Fields, fd.Message(), rule, depth+1)
		return planField[L]{name: name, sub: sub}, sub != nil
	}
	leaf, ok := rule(t, fd)
	return planField[L]{name: name, leaf: leaf}, ok
}

// checkDecoded runs check on a decoded record (a JSON or Avro stream's) in
// its wire form.
func checkDecoded(m proto.Message, check func(rec []byte, depth int) error) error {
	b, err := proto.MarshalOptions{AllowPartial: true}.Marshal(m)
	if err != nil {
		return err
	}
	return check(b, 0)
}
