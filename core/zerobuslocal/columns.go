package zerobuslocal

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The server's own table model: columns in Unity Catalog (Delta) types. A
// table's protobuf descriptor (what PROTO streams must match), its Arrow
// schema (what Flight streams must match), the Unity Catalog tables endpoint
// and Avro checks all derive from it. None of it is shared with the client
// (core/internal/convert), so a conversion bug in the client shows up as a
// mismatch here instead of being reproduced.

// Unity Catalog column type names (ColumnType.Name).
const (
	TypeTinyint      = "TINYINT"
	TypeSmallint     = "SMALLINT"
	TypeInt          = "INT"
	TypeBigint       = "BIGINT"
	TypeFloat        = "FLOAT"
	TypeDouble       = "DOUBLE"
	TypeBoolean      = "BOOLEAN"
	TypeString       = "STRING"
	TypeBinary       = "BINARY"
	TypeDate         = "DATE"
	TypeTimestamp    = "TIMESTAMP"
	TypeTimestampNTZ = "TIMESTAMP_NTZ"
	TypeDecimal      = "DECIMAL"
	TypeVariant      = "VARIANT"
	TypeArray        = "ARRAY"
	TypeMap          = "MAP"
	TypeStruct       = "STRUCT"
)

// ColumnType is a Unity Catalog column type.
type ColumnType struct {
	// Name is one of the Type* constants.
	Name string
	// Precision and Scale of a DECIMAL.
	Precision, Scale int
	// Element is the element type of an ARRAY.
	Element *ColumnType
	// Key and Value are the types of a MAP.
	Key, Value *ColumnType
	// Fields are the fields of a STRUCT.
	Fields []Column
}

// Column is one column of a table (or one field of a STRUCT).
type Column struct {
	Name     string
	Type     ColumnType
	Nullable bool
}

// String is the type in lowercase DDL form: "bigint", "decimal(10,2)",
// "array<string>", "map<string,int>", "struct<a:int,b:string not null>".
func (t ColumnType) String() string { return t.text(true) }

// catalogText is the type_text the Unity Catalog tables endpoint serves:
// String without the nullability of STRUCT fields ("struct<a:int,b:string>",
// Spark's catalog string), which type_json carries. The official
// zerobus.tools.generate_proto reads STRUCT fields as "name:type" and fails
// on "type not null".
func (t ColumnType) catalogText() string { return t.text(false) }

func (t ColumnType) text(notNull bool) string {
	switch t.Name {
	case TypeDecimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case TypeArray:
		return "array<" + t.Element.text(notNull) + ">"
	case TypeMap:
		return "map<" + t.Key.text(notNull) + "," + t.Value.text(notNull) + ">"
	case TypeStruct:
		parts := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			parts[i] = f.Name + ":" + f.Type.text(notNull)
			if notNull && !f.Nullable {
				parts[i] += " not null"
			}
		}
		return "struct<" + strings.Join(parts, ",") + ">"
	default:
		return strings.ToLower(t.Name)
	}
}

// ucTypeName is the type_name enum of the Unity Catalog REST API.
func (t ColumnType) ucTypeName() string {
	switch t.Name {
	case TypeTinyint:
		return "BYTE"
	case TypeSmallint:
		return "SHORT"
	case TypeBigint:
		return "LONG"
	default:
		return t.Name
	}
}

// sparkJSON is the type in the Spark/Delta JSON schema form used by the
// type_json field of the tables endpoint.
func (t ColumnType) sparkJSON() any {
	switch t.Name {
	case TypeTinyint:
		return "byte"
	case TypeSmallint:
		return "short"
	case TypeInt:
		return "integer"
	case TypeBigint:
		return "long"
	case TypeDecimal:
		return fmt.Sprintf("decimal(%d,%d)", t.Precision, t.Scale)
	case TypeArray:
		return map[string]any{"type": "array", "elementType": t.Element.sparkJSON(), "containsNull": true}
	case TypeMap:
		return map[string]any{"type": "map", "keyType": t.Key.sparkJSON(), "valueType": t.Value.sparkJSON(), "valueContainsNull": true}
	case TypeStruct:
		fields := make([]any, len(t.Fields))
		for i, f := range t.Fields {
			fields[i] = f.sparkJSON()
		}
		return map[string]any{"type": "struct", "fields": fields}
	default:
		return strings.ToLower(t.Name)
	}
}

func (c Column) sparkJSON() map[string]any {
	return map[string]any{"name": c.Name, "type": c.Type.sparkJSON(), "nullable": c.Nullable, "metadata": map[string]any{}}
}

// ParseColumns parses a column list in SQL DDL form, for example
//
//	id BIGINT NOT NULL, name STRING, tags ARRAY<STRING>,
//	attrs MAP<STRING,BIGINT>, loc STRUCT<lat:DOUBLE,lon:DOUBLE>, price DECIMAL(10,2)
//
// Type names are case-insensitive; LONG, SHORT, BYTE and INTEGER are
// accepted as BIGINT, SMALLINT, TINYINT and INT. Columns are nullable unless
// followed by NOT NULL.
func ParseColumns(ddl string) ([]Column, error) {
	p := &ddlParser{s: ddl}
	var cols []Column
	for {
		c, err := p.column(' ')
		if err != nil {
			return nil, fmt.Errorf("zerobuslocal: columns %q: %w", ddl, err)
		}
		cols = append(cols, c)
		p.space()
		if p.eof() {
			break
		}
		if !p.accept(",") {
			return nil, fmt.Errorf("zerobuslocal: columns %q: want ',' at position %d", ddl, p.i)
		}
	}
	if err := checkColumns(cols); err != nil {
		return nil, fmt.Errorf("zerobuslocal: columns %q: %w", ddl, err)
	}
	return cols, nil
}

// ParseColumnType parses one type in type_text form ("array<int>").
func ParseColumnType(text string) (ColumnType, error) {
	p := &ddlParser{s: text}
	t, err := p.typ()
	if err == nil {
		p.space()
		if !p.eof() {
			err = fmt.Errorf("unexpected %q at position %d", p.s[p.i:], p.i)
		}
	}
	if err != nil {
		return ColumnType{}, fmt.Errorf("zerobuslocal: column type %q: %w", text, err)
	}
	return t, nil
}

type ddlParser struct {
	s string
	i int
}

func (p *ddlParser) eof() bool { return p.i >= len(p.s) }

func (p *ddlParser) space() {
	for p.i < len(p.s) && unicode.IsSpace(rune(p.s[p.i])) {
		p.i++
	}
}

func (p *ddlParser) accept(tok string) bool {
	p.space()
	if strings.HasPrefix(strings.ToUpper(p.s[p.i:]), tok) {
		p.i += len(tok)
		return true
	}
	return false
}

func (p *ddlParser) ident() (string, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && (p.s[p.i] == '_' || unicode.IsLetter(rune(p.s[p.i])) || unicode.IsDigit(rune(p.s[p.i]))) {
		p.i++
	}
	if p.i == start {
		return "", fmt.Errorf("want a name at position %d", start)
	}
	return p.s[start:p.i], nil
}

// column parses "name TYPE [NOT NULL]" (sep ' ') or "name:TYPE [NOT NULL]"
// (sep ':', inside STRUCT<...>).
func (p *ddlParser) column(sep byte) (Column, error) {
	name, err := p.ident()
	if err != nil {
		return Column{}, err
	}
	if sep == ':' && !p.accept(":") {
		return Column{}, fmt.Errorf("want ':' after struct field %q", name)
	}
	t, err := p.typ()
	if err != nil {
		return Column{}, fmt.Errorf("column %q: %w", name, err)
	}
	c := Column{Name: name, Type: t, Nullable: true}
	save := p.i
	if p.accept("NOT") {
		if !p.accept(" NULL") && !p.accept("NULL") {
			p.i = save
		} else {
			c.Nullable = false
		}
	}
	return c, nil
}

func (p *ddlParser) typ() (ColumnType, error) {
	word, err := p.ident()
	if err != nil {
		return ColumnType{}, fmt.Errorf("want a type (BIGINT, STRING, ARRAY<INT>, ...) at position %d", p.i)
	}
	name := strings.ToUpper(word)
	switch name {
	case "LONG":
		name = TypeBigint
	case "SHORT":
		name = TypeSmallint
	case "BYTE":
		name = TypeTinyint
	case "INTEGER":
		name = TypeInt
	case "BOOL":
		name = TypeBoolean
	case "VARCHAR", "CHAR":
		name = TypeString
		if p.accept("(") {
			if _, err := p.number(); err != nil || !p.accept(")") {
				return ColumnType{}, fmt.Errorf("%s(n): bad length", word)
			}
		}
	}
	t := ColumnType{Name: name}
	switch name {
	case TypeTinyint, TypeSmallint, TypeInt, TypeBigint, TypeFloat, TypeDouble, TypeBoolean, TypeString,
		TypeBinary, TypeDate, TypeTimestamp, TypeTimestampNTZ, TypeVariant:
	case TypeDecimal:
		t.Precision, t.Scale = 10, 0
		if p.accept("(") {
			if t.Precision, err = p.number(); err != nil {
				return t, err
			}
			if p.accept(",") {
				if t.Scale, err = p.number(); err != nil {
					return t, err
				}
			}
			if !p.accept(")") {
				return t, fmt.Errorf("want ')' after DECIMAL precision and scale")
			}
		}
	case TypeArray:
		if !p.accept("<") {
			return t, fmt.Errorf("want ARRAY<type>")
		}
		e, err := p.typ()
		if err != nil {
			return t, err
		}
		t.Element = &e
		if !p.accept(">") {
			return t, fmt.Errorf("want '>' closing ARRAY<")
		}
	case TypeMap:
		if !p.accept("<") {
			return t, fmt.Errorf("want MAP<key,value>")
		}
		k, err := p.typ()
		if err != nil {
			return t, err
		}
		if !p.accept(",") {
			return t, fmt.Errorf("want ',' in MAP<key,value>")
		}
		v, err := p.typ()
		if err != nil {
			return t, err
		}
		t.Key, t.Value = &k, &v
		if !p.accept(">") {
			return t, fmt.Errorf("want '>' closing MAP<")
		}
	case TypeStruct:
		if !p.accept("<") {
			return t, fmt.Errorf("want STRUCT<name:type,...>")
		}
		for {
			f, err := p.column(':')
			if err != nil {
				return t, err
			}
			t.Fields = append(t.Fields, f)
			if p.accept(">") {
				break
			}
			if !p.accept(",") {
				return t, fmt.Errorf("want ',' or '>' in STRUCT<")
			}
		}
	default:
		return t, fmt.Errorf("unknown type %q", word)
	}
	return t, nil
}

func (p *ddlParser) number() (int, error) {
	p.space()
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	return strconv.Atoi(p.s[start:p.i])
}

// checkColumns applies the table rules: names of ASCII letters, digits and
// _, not empty, unique per level; at most 2000 columns; DECIMAL precision
// 1..38 and 0 <= scale <= precision; map keys of a scalar type; no arrays of
// arrays (a protobuf descriptor cannot express them).
func checkColumns(cols []Column) error {
	if len(cols) == 0 {
		return fmt.Errorf("a table needs at least one column")
	}
	if len(cols) > 2000 {
		return fmt.Errorf("%d columns: at most 2000", len(cols))
	}
	return checkFields("", cols, 0)
}

func checkFields(path string, cols []Column, depth int) error {
	if depth > 32 {
		return fmt.Errorf("%s: nested deeper than 32 levels", path)
	}
	seen := map[string]string{}
	for _, c := range cols {
		name := path + c.Name
		if !fieldNameRE(c.Name) {
			return fmt.Errorf("column %q: names are ASCII letters, digits and _, not starting with a digit", name)
		}
		switch first, ok := seen[strings.ToLower(c.Name)]; {
		case ok && first == c.Name:
			return fmt.Errorf("column %q appears twice", name)
		case ok:
			return fmt.Errorf("columns %q and %q differ only in case: column names are case-insensitive", path+first, name)
		}
		seen[strings.ToLower(c.Name)] = c.Name
		if err := checkType(name, c.Type, depth); err != nil {
			return err
		}
	}
	return nil
}

func checkType(name string, t ColumnType, depth int) error {
	switch t.Name {
	case TypeDecimal:
		if t.Precision < 1 || t.Precision > 38 || t.Scale < 0 || t.Scale > t.Precision {
			return fmt.Errorf("column %q: %s: precision must be 1..38 and scale 0..precision", name, t)
		}
	case TypeArray:
		if t.Element == nil {
			return fmt.Errorf("column %q: ARRAY without element type", name)
		}
		if t.Element.Name == TypeArray || t.Element.Name == TypeMap {
			return fmt.Errorf("column %q: %s: arrays of arrays or maps have no protobuf form", name, t)
		}
		return checkType(name+".element", *t.Element, depth+1)
	case TypeMap:
		if t.Key == nil || t.Value == nil {
			return fmt.Errorf("column %q: MAP without key or value type", name)
		}
		switch t.Key.Name {
		case TypeTinyint, TypeSmallint, TypeInt, TypeBigint, TypeBoolean, TypeString:
		default:
			return fmt.Errorf("column %q: %s: map keys must be an integer, BOOLEAN or STRING", name, t)
		}
		if t.Value.Name == TypeMap || t.Value.Name == TypeArray {
			return fmt.Errorf("column %q: %s: map values cannot be maps or arrays in protobuf", name, t)
		}
		return checkType(name+".value", *t.Value, depth+1)
	case TypeStruct:
		if len(t.Fields) == 0 {
			return fmt.Errorf("column %q: STRUCT without fields", name)
		}
		return checkFields(name+".", t.Fields, depth+1)
	case TypeTinyint, TypeSmallint, TypeInt, TypeBigint, TypeFloat, TypeDouble, TypeBoolean, TypeString,
		TypeBinary, TypeDate, TypeTimestamp, TypeTimestampNTZ, TypeVariant:
	default:
		return fmt.Errorf("column %q: unknown type %q", name, t.Name)
	}
	return nil
}

func fieldNameRE(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// descriptorFromColumns is the protobuf descriptor a table expects (the
// protocol's Unity Catalog -> proto2 table): one message named msgName with
// nested messages for STRUCTs and map entries; nullable columns optional,
// NOT NULL ones required, STRUCT fields optional; field numbers from 1 in
// column order, skipping 19000-19999. DATE is int32 days, TIMESTAMP(_NTZ)
// int64 microseconds, DECIMAL and VARIANT strings (decimal text, JSON).
// A map column whose entry message name (protobuf's rule: its field's
// name in CamelCase + "Entry") another column or map entry of the same
// message takes is an error naming both columns.
func descriptorFromColumns(msgName string, cols []Column) (*descriptorpb.DescriptorProto, error) {
	b := &descBuilder{}
	m := b.message(msgName, "."+msgName, "", cols, true)
	return m, b.err
}

type descBuilder struct {
	err error // the first name clash found
}

func fieldNumber(i int) int32 {
	n := int32(i + 1)
	if n >= 19000 {
		n += 1000
	}
	return n
}

// message builds the message of cols, the fields of the column at path
// ("": the table's).
func (b *descBuilder) message(name, fullName, path string, cols []Column, top bool) *descriptorpb.DescriptorProto {
	m := &descriptorpb.DescriptorProto{Name: proto.String(name)}
	// Nested type names are unique in the message and differ from its
	// field names (one namespace in protobuf): a struct column "c_value"
	// and the value message of a map column "c" would both be "CValue", a
	// struct column "Point" and its message "Point" ("_2", "_3"... are
	// appended).
	used := map[string]bool{}
	owner := map[string]string{} // a name a column or map entry takes: that column's
	for _, c := range cols {
		used[c.Name], owner[c.Name] = true, c.Name
	}
	for _, c := range cols {
		if c.Type.Name == TypeMap {
			// A map's entry message must be named after its field
			// (protobuf's rule): taken first, the other names go around it.
			e := camel(c.Name) + "Entry"
			if o, ok := owner[e]; ok && b.err == nil {
				b.err = fmt.Errorf("column %q (%s): a map column needs a nested message named %q for its entries, "+
					"which column %q already uses (protobuf field and nested message names share one namespace); rename one of them",
					joinColumn(path, c.Name), c.Type, e, joinColumn(path, o))
			}
			used[e], owner[e] = true, c.Name
		}
	}
	uniq := func(n string) string {
		out := n
		for k := 2; used[out]; k++ {
			out = fmt.Sprintf("%s_%d", n, k)
		}
		used[out] = true
		return out
	}
	for i, c := range cols {
		f := &descriptorpb.FieldDescriptorProto{Name: proto.String(c.Name), Number: proto.Int32(fieldNumber(i))}
		label := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
		if top && !c.Nullable {
			label = descriptorpb.FieldDescriptorProto_LABEL_REQUIRED
		}
		t := c.Type
		switch t.Name {
		case TypeArray:
			label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
			t = *t.Element
		case TypeMap:
			label = descriptorpb.FieldDescriptorProto_LABEL_REPEATED
			entryName := camel(c.Name) + "Entry" // reserved above
			entry := &descriptorpb.DescriptorProto{
				Name:    proto.String(entryName),
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
			}
			kf := &descriptorpb.FieldDescriptorProto{Name: proto.String("key"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
			b.scalar(kf, *t.Key)
			vf := &descriptorpb.FieldDescriptorProto{Name: proto.String("value"), Number: proto.Int32(2), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()}
			if t.Value.Name == TypeStruct {
				// A map entry may not declare nested types: the value
				// message is the entry's sibling.
				vname := uniq(camel(c.Name) + "Value")
				m.NestedType = append(m.NestedType, b.message(vname, fullName+"."+vname, joinColumn(path, c.Name)+".value", t.Value.Fields, false))
				vf.Type = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
				vf.TypeName = proto.String(fullName + "." + vname)
			} else {
				b.scalar(vf, *t.Value)
			}
			entry.Field = []*descriptorpb.FieldDescriptorProto{kf, vf}
			m.NestedType = append(m.NestedType, entry)
			f.Type = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
			f.TypeName = proto.String(fullName + "." + entryName)
			f.Label = label.Enum()
			m.Field = append(m.Field, f)
			continue
		}
		f.Label = label.Enum()
		if t.Name == TypeStruct {
			sub := uniq(camel(c.Name))
			m.NestedType = append(m.NestedType, b.message(sub, fullName+"."+sub, joinColumn(path, c.Name), t.Fields, false))
			f.Type = descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
			f.TypeName = proto.String(fullName + "." + sub)
		} else {
			b.scalar(f, t)
		}
		m.Field = append(m.Field, f)
	}
	return m
}

func (b *descBuilder) scalar(f *descriptorpb.FieldDescriptorProto, t ColumnType) {
	var k descriptorpb.FieldDescriptorProto_Type
	switch t.Name {
	case TypeTinyint, TypeSmallint, TypeInt, TypeDate:
		k = descriptorpb.FieldDescriptorProto_TYPE_INT32
	case TypeBigint, TypeTimestamp, TypeTimestampNTZ:
		k = descriptorpb.FieldDescriptorProto_TYPE_INT64
	case TypeFloat:
		k = descriptorpb.FieldDescriptorProto_TYPE_FLOAT
	case TypeDouble:
		k = descriptorpb.FieldDescriptorProto_TYPE_DOUBLE
	case TypeBoolean:
		k = descriptorpb.FieldDescriptorProto_TYPE_BOOL
	case TypeBinary:
		k = descriptorpb.FieldDescriptorProto_TYPE_BYTES
	default: // STRING, DECIMAL, VARIANT
		k = descriptorpb.FieldDescriptorProto_TYPE_STRING
	}
	f.Type = k.Enum()
}

// camel turns a column name into a message name: "ship_to" -> "ShipTo".
func camel(s string) string {
	var sb strings.Builder
	up := true
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			sb.WriteRune(unicode.ToUpper(r))
			up = false
		} else {
			sb.WriteRune(r)
		}
	}
	if sb.Len() == 0 {
		return "Field"
	}
	return sb.String()
}

// columnsFromMessage is the table model of a table created from a PROTO
// stream's descriptor: int32 kinds INT, int64 kinds (and uint32) BIGINT,
// uint64 DECIMAL(20,0), float FLOAT, double DOUBLE, bool BOOLEAN, string and
// enum STRING, bytes BINARY, messages STRUCT, repeated ARRAY, maps MAP.
// Required fields are NOT NULL.
func columnsFromMessage(md protoreflect.MessageDescriptor) []Column {
	fds := md.Fields()
	cols := make([]Column, 0, fds.Len())
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		cols = append(cols, Column{Name: string(fd.Name()), Type: fieldColumnType(fd, 0), Nullable: fd.Cardinality() != protoreflect.Required})
	}
	return cols
}

func fieldColumnType(fd protoreflect.FieldDescriptor, depth int) ColumnType {
	switch {
	case fd.IsMap():
		k, v := kindColumnType(fd.MapKey(), depth), kindColumnType(fd.MapValue(), depth)
		return ColumnType{Name: TypeMap, Key: &k, Value: &v}
	case fd.IsList():
		e := kindColumnType(fd, depth)
		return ColumnType{Name: TypeArray, Element: &e}
	default:
		return kindColumnType(fd, depth)
	}
}

func kindColumnType(fd protoreflect.FieldDescriptor, depth int) ColumnType {
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return ColumnType{Name: TypeInt}
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind, protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return ColumnType{Name: TypeBigint}
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return ColumnType{Name: TypeDecimal, Precision: 20}
	case protoreflect.FloatKind:
		return ColumnType{Name: TypeFloat}
	case protoreflect.DoubleKind:
		return ColumnType{Name: TypeDouble}
	case protoreflect.BoolKind:
		return ColumnType{Name: TypeBoolean}
	case protoreflect.BytesKind:
		return ColumnType{Name: TypeBinary}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		t := ColumnType{Name: TypeStruct}
		if depth < 64 {
			fds := fd.Message().Fields()
			for i := 0; i < fds.Len(); i++ {
				sf := fds.Get(i)
				t.Fields = append(t.Fields, Column{Name: string(sf.Name()), Type: fieldColumnType(sf, depth+1), Nullable: sf.Cardinality() != protoreflect.Required})
			}
		}
		return t
	default: // string, enum
		return ColumnType{Name: TypeString}
	}
}

// ColumnJSON is one column as the Unity Catalog tables endpoint serves it.
type ColumnJSON struct {
	Name      string `json:"name"`
	TypeName  string `json:"type_name"`
	TypeText  string `json:"type_text"`
	TypeJSON  string `json:"type_json"`
	Nullable  bool   `json:"nullable"`
	Position  int    `json:"position"`
	Precision int    `json:"type_precision,omitempty"`
	Scale     int    `json:"type_scale,omitempty"`
}

func columnsJSON(cols []Column) []ColumnJSON {
	out := make([]ColumnJSON, len(cols))
	for i, c := range cols {
		tj, _ := json.Marshal(c.sparkJSON())
		out[i] = ColumnJSON{Name: c.Name, TypeName: c.Type.ucTypeName(), TypeText: c.Type.catalogText(), TypeJSON: string(tj), Nullable: c.Nullable, Position: i}
		if c.Type.Name == TypeDecimal {
			out[i].Precision, out[i].Scale = c.Type.Precision, c.Type.Scale
		}
	}
	return out
}

func cloneColumns(cols []Column) []Column {
	if cols == nil {
		return nil
	}
	out := make([]Column, len(cols))
	for i, c := range cols {
		out[i] = Column{Name: c.Name, Type: c.Type.clone(), Nullable: c.Nullable}
	}
	return out
}

func (t ColumnType) clone() ColumnType {
	out := t
	if t.Element != nil {
		e := t.Element.clone()
		out.Element = &e
	}
	if t.Key != nil {
		k := t.Key.clone()
		out.Key = &k
	}
	if t.Value != nil {
		v := t.Value.clone()
		out.Value = &v
	}
	out.Fields = cloneColumns(t.Fields)
	return out
}

// joinColumn is the path of column name inside the column at path ("":
// the table's).
func joinColumn(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
