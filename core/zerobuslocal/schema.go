package zerobuslocal

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Causes reported in the "causes" metadata of a SCHEMA_VALIDATION_FAILED
// google.rpc.ErrorInfo (comma separated, sorted, no repeats).
const (
	CauseFieldNotInTable         = "FIELD_NOT_IN_TABLE"
	CauseMissingRequiredColumn   = "MISSING_REQUIRED_COLUMN"
	CauseFieldOutOfOrder         = "FIELD_OUT_OF_ORDER"
	CauseTypeIncompatible        = "TYPE_INCOMPATIBLE"
	CauseFieldCountMismatch      = "FIELD_COUNT_MISMATCH"
	ReasonSchemaValidationFailed = "SCHEMA_VALIDATION_FAILED"
	// ErrorDomain is the ErrorInfo domain of the service's errors; official
	// clients read a SCHEMA_VALIDATION_FAILED ErrorInfo as a typed schema
	// error only with this domain.
	ErrorDomain = "zerobus.databricks.com"
	// ErrorCodeSchemaValidation is the "error_code" metadata of a schema
	// validation ErrorInfo.
	ErrorCodeSchemaValidation = "8001"
)

type schemaProblem struct {
	cause, detail string
}

// compareFieldNames is the part of a schema check shared by the Arrow
// (Flight) and Avro streams: the field count, fields that are no column of
// the table, fields out of the table's order, and NOT NULL columns with no
// field. kind names the stream's schema ("Arrow", "Avro") in the messages;
// path prefixes nested names ("addr."). match is called for each field that
// names a column, with its qualified name and both positions, to compare
// the types.
func compareFieldNames(path, kind string, want []string, wantNotNull func(i int) bool, got []string,
	add func(cause, format string, args ...any), match func(name string, wi, gi int)) {
	if len(want) != len(got) {
		where := "the table"
		if path != "" {
			where = "struct column " + strings.TrimSuffix(path, ".")
		}
		add(CauseFieldCountMismatch, "%s has %d columns, the %s schema has %d", where, len(want), kind, len(got))
	}
	idx := make(map[string]int, len(want))
	for i, n := range want {
		idx[n] = i
	}
	seen := make(map[string]bool, len(got))
	for gi, g := range got {
		name := path + g
		wi, ok := idx[g]
		if !ok {
			add(CauseFieldNotInTable, "field %q is not a column of the table", name)
			continue
		}
		seen[g] = true
		if wi != gi && len(want) == len(got) {
			add(CauseFieldOutOfOrder, "field %q is at position %d, the table has it at %d", name, gi+1, wi+1)
		}
		match(name, wi, gi)
	}
	for i, n := range want {
		if !seen[n] && wantNotNull(i) {
			add(CauseMissingRequiredColumn, "NOT NULL column %q has no field in the %s schema", path+n, kind)
		}
	}
}

// compareSchemas checks the stream's descriptor against the table's: same
// field names in the same order, same count, compatible types and the same
// optionality, recursively for nested messages. Field numbers may differ
// (records are mapped by name). cols (the table's columns, nil for a table
// known only by its descriptor) tell which columns are NOT NULL where the
// descriptor cannot: an ARRAY or MAP column, a STRUCT's field. A NOT NULL
// column with no field is MISSING_REQUIRED_COLUMN at every level, as for
// Avro and Arrow schemas.
func compareSchemas(table, stream protoreflect.MessageDescriptor, cols []Column) []schemaProblem {
	var out []schemaProblem
	compareMessage("", table, stream, cols, 0, &out)
	return out
}

// columnNamed is the column of cols named name (nil: none).
func columnNamed(cols []Column, name protoreflect.Name) *Column {
	for i := range cols {
		if cols[i].Name == string(name) {
			return &cols[i]
		}
	}
	return nil
}

// structFields are the fields of the STRUCT a message field of column c
// holds (a STRUCT column, an ARRAY of STRUCTs, a MAP's STRUCT values).
func structFields(c *Column) []Column {
	if c == nil {
		return nil
	}
	t := c.Type
	switch {
	case t.Name == TypeArray && t.Element != nil:
		t = *t.Element
	case t.Name == TypeMap && t.Value != nil:
		t = *t.Value
	}
	if t.Name != TypeStruct {
		return nil
	}
	return t.Fields
}

func compareMessage(path string, want, got protoreflect.MessageDescriptor, cols []Column, depth int, out *[]schemaProblem) {
	if depth > 64 {
		return
	}
	add := func(cause, format string, args ...any) {
		*out = append(*out, schemaProblem{cause, fmt.Sprintf(format, args...)})
	}
	wf, gf := want.Fields(), got.Fields()
	if wf.Len() != gf.Len() {
		where := "the table"
		if path != "" {
			where = "struct column " + strings.TrimSuffix(path, ".")
		}
		add(CauseFieldCountMismatch, "%s has %d columns, the stream descriptor has %d", where, wf.Len(), gf.Len())
	}
	for i := 0; i < gf.Len(); i++ {
		g := gf.Get(i)
		name := path + string(g.Name())
		w := wf.ByName(g.Name())
		if w == nil {
			add(CauseFieldNotInTable, "field %q is not a column of the table", name)
			continue
		}
		if w.Index() != i && wf.Len() == gf.Len() {
			add(CauseFieldOutOfOrder, "field %q is at position %d, the table has it at %d", name, i+1, w.Index()+1)
		}
		if wt, gt := typeName(w), typeName(g); wt != gt {
			add(CauseTypeIncompatible, "field %q has type %s, the table column needs %s", name, gt, wt)
			continue
		}
		if wl, gl := labelName(w), labelName(g); wl != gl && !requiredNotNullField(path, wl, gl, columnNamed(cols, w.Name())) {
			add(CauseTypeIncompatible, "field %q is %s, the table column is %s (nullable columns are optional, NOT NULL columns required)", name, gl, wl)
		}
		sub := structFields(columnNamed(cols, w.Name()))
		switch {
		case w.IsMap():
			if w.MapValue().Message() != nil {
				compareMessage(name+".value.", w.MapValue().Message(), g.MapValue().Message(), sub, depth+1, out)
			}
		case w.Message() != nil:
			compareMessage(name+".", w.Message(), g.Message(), sub, depth+1, out)
		}
	}
	for i := 0; i < wf.Len(); i++ {
		w := wf.Get(i)
		c := columnNamed(cols, w.Name())
		if gf.ByName(w.Name()) == nil && (w.Cardinality() == protoreflect.Required || c != nil && !c.Nullable) {
			add(CauseMissingRequiredColumn, "NOT NULL column %q has no field in the stream descriptor", path+string(w.Name()))
		}
	}
}

// typeName is the column type a field maps to; wire encodings of the same
// column type (int32/sint32/sfixed32, ...) are interchangeable.
func typeName(fd protoreflect.FieldDescriptor) string {
	if fd.IsMap() {
		return "map<" + typeName(fd.MapKey()) + "," + typeName(fd.MapValue()) + ">"
	}
	var base string
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		base = "int32"
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		base = "int64"
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		base = "uint32"
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		base = "uint64"
	case protoreflect.MessageKind, protoreflect.GroupKind:
		base = "struct"
	default:
		base = fd.Kind().String()
	}
	if fd.IsList() {
		return "repeated " + base
	}
	return base
}

// requiredNotNullField: a STRUCT's field is optional in the table's
// descriptor whatever its nullability (the protocol's generator table), but
// a client may mark a NOT NULL one required, as the official Rust SDK's
// descriptor_from_uc_columns does; that agrees with the table. A nullable
// field marked required does not (its nulls could not be sent).
func requiredNotNullField(path, want, got string, c *Column) bool {
	return path != "" && want == "optional" && got == "required" && c != nil && !c.Nullable
}

func labelName(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsList() || fd.IsMap():
		return "repeated"
	case fd.Cardinality() == protoreflect.Required:
		return "required"
	default:
		return "optional"
	}
}

// schemaError builds the INVALID_ARGUMENT status with its ErrorInfo.
func schemaError(table string, problems []schemaProblem) error {
	seen := map[string]bool{}
	var causes, details []string
	for _, p := range problems {
		if !seen[p.cause] {
			seen[p.cause] = true
			causes = append(causes, p.cause)
		}
		details = append(details, p.cause+": "+p.detail)
	}
	sort.Strings(causes)
	st := status.New(codes.InvalidArgument, fmt.Sprintf("schema validation failed for table %s: %s", table, strings.Join(details, "; ")))
	if withInfo, err := st.WithDetails(&errdetails.ErrorInfo{
		Reason:   ReasonSchemaValidationFailed,
		Domain:   ErrorDomain,
		Metadata: map[string]string{"causes": strings.Join(causes, ","), "error_code": ErrorCodeSchemaValidation, "table": table},
	}); err == nil {
		st = withInfo
	}
	return st.Err()
}
