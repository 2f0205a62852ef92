package zerobuslocal

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/linkedin/goavro/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// AVRO streams (record_type 4): create_stream carries the writer schema
// JSON (field 5); records are Avro binary (ingest_record field 4,
// ingest_record_batch field 4 AvroRecordBatch). The schema is parsed twice:
// by goavro (github.com/linkedin/goavro/v2), which validates it and decodes
// the records, and here into the server's table model so that it can be
// checked against the table's columns (or create the table).

// maxAvroBlockCount bounds the item count of one Avro array or map block.
// goavro sizes its slice from the count before reading the items, and its
// default bound (MaxInt32) lets a corrupt record ask for tens of gigabytes;
// real records hold at most MaxMessageBytes of items. The bound is goavro's
// process-wide setting, only ever tightened here.
const maxAvroBlockCount = 1 << 24

func init() {
	if goavro.MaxBlockCount > maxAvroBlockCount {
		goavro.MaxBlockCount = maxAvroBlockCount
	}
}

// avroNode is the part of an Avro schema the table model needs.
type avroNode struct {
	typ      string // boolean int long float double string bytes fixed enum array map record
	logical  string
	union    bool // ["null", T]: the value comes wrapped as {branch: value} or nil
	scale    int  // decimal
	prec     int
	items    *avroNode // array
	values   *avroNode // map
	fields   []avroField
	fullName string // record, enum, fixed
}

type avroField struct {
	name string
	node *avroNode
}

type avroSchema struct {
	codec *goavro.Codec
	root  *avroNode
	cols  []Column
}

// parseAvroSchema validates a writer schema, which must be a record whose
// fields map to table columns.
func parseAvroSchema(text string) (*avroSchema, error) {
	codec, err := goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("invalid Avro schema: %v", err)
	}
	var raw any
	if err := json.Unmarshal([]byte(text), &raw); err != nil {
		return nil, fmt.Errorf("invalid Avro schema JSON: %v", err)
	}
	p := avroParser{named: map[string]*avroNode{}, open: map[string]bool{}}
	root, err := p.node(raw, "")
	if err != nil {
		return nil, err
	}
	if root.typ != "record" || root.union {
		return nil, fmt.Errorf("the Avro schema must be a record, not %s", root.typ)
	}
	cols := make([]Column, len(root.fields))
	budget := maxAvroColumnTypes
	for i, f := range root.fields {
		t, err := avroColumnType(f.name, f.node, &budget)
		if err != nil {
			return nil, err
		}
		cols[i] = Column{Name: f.name, Type: t, Nullable: f.node.union}
	}
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	return &avroSchema{codec: codec, root: root, cols: cols}, nil
}

type avroParser struct {
	named map[string]*avroNode // named types by full name
	open  map[string]bool      // records whose fields are being read
	depth int
}

func (p *avroParser) node(raw any, ns string) (*avroNode, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 64 {
		return nil, fmt.Errorf("the Avro schema nests deeper than 64 levels")
	}
	switch v := raw.(type) {
	case string:
		switch v {
		case "boolean", "int", "long", "float", "double", "string", "bytes":
			return &avroNode{typ: v}, nil
		case "null":
			return nil, fmt.Errorf("a null type is allowed only in a [\"null\", T] union")
		}
		name := v
		if !strings.Contains(name, ".") && ns != "" {
			name = ns + "." + name
		}
		for _, n := range []string{name, v} {
			if nd, ok := p.named[n]; ok {
				if p.open[n] {
					return nil, fmt.Errorf("record %s refers to itself: recursive records have no column type", n)
				}
				return nd, nil // a named type defined earlier, used again
			}
		}
		return nil, fmt.Errorf("unknown Avro type %q", v)
	case []any:
		var branch *avroNode
		nulls := 0
		for _, b := range v {
			if b == "null" {
				nulls++
				continue
			}
			if branch != nil {
				return nil, fmt.Errorf("Avro unions other than [\"null\", T] have no column type")
			}
			nd, err := p.node(b, ns)
			if err != nil {
				return nil, err
			}
			branch = nd
		}
		if branch == nil || nulls != 1 {
			return nil, fmt.Errorf("Avro unions other than [\"null\", T] have no column type")
		}
		out := *branch
		out.union = true
		return &out, nil
	case map[string]any:
		typ, _ := v["type"].(string)
		if typ == "" {
			// {"type": {...}} or {"type": [...]} wraps another schema.
			if inner, ok := v["type"]; ok {
				return p.node(inner, ns)
			}
			return nil, fmt.Errorf("Avro schema object without a type")
		}
		nd := &avroNode{typ: typ}
		nd.logical, _ = v["logicalType"].(string)
		if prec, ok := v["precision"].(float64); ok {
			nd.prec = int(prec)
		}
		if scale, ok := v["scale"].(float64); ok {
			nd.scale = int(scale)
		}
		switch typ {
		case "boolean", "int", "long", "float", "double", "string", "bytes":
			return nd, nil
		case "fixed", "enum", "record":
			name, _ := v["name"].(string)
			if n, ok := v["namespace"].(string); ok && n != "" && !strings.Contains(name, ".") {
				ns = n
			}
			if !strings.Contains(name, ".") && ns != "" {
				name = ns + "." + name
			} else if i := strings.LastIndexByte(name, '.'); i >= 0 {
				ns = name[:i]
			}
			nd.fullName = name
			p.named[name] = nd
			if typ != "record" {
				return nd, nil
			}
			p.open[name] = true // until its fields are read: a reference is recursion
			fields, _ := v["fields"].([]any)
			for _, f := range fields {
				fm, _ := f.(map[string]any)
				fname, _ := fm["name"].(string)
				fn, err := p.node(fm["type"], ns)
				if err != nil {
					return nil, fmt.Errorf("field %q: %w", fname, err)
				}
				nd.fields = append(nd.fields, avroField{name: fname, node: fn})
			}
			delete(p.open, name)
			return nd, nil
		case "array":
			items, err := p.node(v["items"], ns)
			if err != nil {
				return nil, fmt.Errorf("array items: %w", err)
			}
			nd.items = items
			return nd, nil
		case "map":
			values, err := p.node(v["values"], ns)
			if err != nil {
				return nil, fmt.Errorf("map values: %w", err)
			}
			nd.values = values
			return nd, nil
		default:
			return p.node(typ, ns)
		}
	default:
		return nil, fmt.Errorf("unexpected Avro schema element %v", raw)
	}
}

// maxAvroColumnTypes bounds the column types (columns, STRUCT fields,
// ARRAY elements, MAP values) a writer schema maps to. A named record is
// written once and used by name any number of times, so a schema of a few
// kilobytes (record A1 with two fields of record A0, A2 with two of A1, …)
// stands for column types exponentially many: mapping them took seconds
// at 16 levels and would take hours at 30, and the memory with it.
// The bound is far above any valid table (2000 columns each a record of
// 50 fields is 102,000) and stops the exponential case at 15 levels.
const maxAvroColumnTypes = protoarrow.MaxColumnTypes

// avroColumnType maps an Avro type to a Unity Catalog type: boolean
// BOOLEAN, int INT (date DATE), long BIGINT (timestamp-millis/micros
// TIMESTAMP, local-timestamp-millis/micros TIMESTAMP_NTZ), float FLOAT,
// double DOUBLE, string and enum STRING, bytes and fixed BINARY (decimal
// DECIMAL(p,s)), array ARRAY, map MAP<STRING,V>, record STRUCT. Each
// column type it makes takes one from *budget; none left is an error.
func avroColumnType(path string, n *avroNode, budget *int) (ColumnType, error) {
	if *budget--; *budget < 0 {
		return ColumnType{}, fmt.Errorf("the Avro schema maps to more than %d column types (columns and nested fields, a named type counted at each use)", maxAvroColumnTypes)
	}
	switch n.typ {
	case "boolean":
		return ColumnType{Name: TypeBoolean}, nil
	case "int":
		if n.logical == "date" {
			return ColumnType{Name: TypeDate}, nil
		}
		return ColumnType{Name: TypeInt}, nil
	case "long":
		switch n.logical {
		case "timestamp-micros", "timestamp-millis":
			return ColumnType{Name: TypeTimestamp}, nil
		case "local-timestamp-micros", "local-timestamp-millis":
			return ColumnType{Name: TypeTimestampNTZ}, nil
		}
		return ColumnType{Name: TypeBigint}, nil
	case "float":
		return ColumnType{Name: TypeFloat}, nil
	case "double":
		return ColumnType{Name: TypeDouble}, nil
	case "string", "enum":
		return ColumnType{Name: TypeString}, nil
	case "bytes", "fixed":
		if n.logical == "decimal" {
			return ColumnType{Name: TypeDecimal, Precision: n.prec, Scale: n.scale}, nil
		}
		return ColumnType{Name: TypeBinary}, nil
	case "array":
		e, err := avroColumnType(path+".element", n.items, budget)
		if err != nil {
			return e, err
		}
		return ColumnType{Name: TypeArray, Element: &e}, nil
	case "map":
		v, err := avroColumnType(path+".value", n.values, budget)
		if err != nil {
			return v, err
		}
		return ColumnType{Name: TypeMap, Key: &ColumnType{Name: TypeString}, Value: &v}, nil
	case "record":
		out := ColumnType{Name: TypeStruct}
		for _, f := range n.fields {
			ft, err := avroColumnType(path+"."+f.name, f.node, budget)
			if err != nil {
				return ft, err
			}
			out.Fields = append(out.Fields, Column{Name: f.name, Type: ft, Nullable: f.node.union})
		}
		return out, nil
	default:
		return ColumnType{}, fmt.Errorf("column %q: Avro type %s has no column type", path, n.typ)
	}
}

// compareColumns checks a stream's columns (from its Avro schema) against
// the table's: names, order, count, types (an Avro int also fills TINYINT
// and SMALLINT, a string VARIANT), and nullability (a nullable Avro field
// cannot fill a NOT NULL column).
func compareColumns(path string, want, got []Column) []schemaProblem {
	var out []schemaProblem
	add := func(cause, format string, args ...any) {
		out = append(out, schemaProblem{cause, fmt.Sprintf(format, args...)})
	}
	compareFieldNames(path, "Avro", columnNames(want), func(i int) bool { return !want[i].Nullable }, columnNames(got), add,
		func(name string, wi, gi int) {
			w, g := want[wi], got[gi]
			if !w.Nullable && g.Nullable {
				add(CauseTypeIncompatible, "field %q is nullable, the table column is NOT NULL", name)
			}
			if ws, gs, prefix, ok := structsInside(w.Type, g.Type); ok {
				// A STRUCT, or the STRUCTs of an ARRAY or MAP: the causes
				// of their fields, as for PROTO and Arrow schemas.
				out = append(out, compareColumns(name+prefix, ws, gs)...)
			} else if !avroTypeFits(w.Type, g.Type) {
				add(CauseTypeIncompatible, "field %q has type %s, the table column needs %s", name, g.Type, w.Type)
			}
		})
	return out
}

// structsInside returns the fields of the STRUCTs want and got are or
// hold in the same place (a STRUCT, an ARRAY's elements, a MAP's values with
// fitting keys) and the path prefix of those fields.
func structsInside(want, got ColumnType) (w, g []Column, prefix string, ok bool) {
	switch {
	case want.Name != got.Name:
		return nil, nil, "", false
	case want.Name == TypeStruct:
		return want.Fields, got.Fields, ".", true
	case want.Name == TypeArray && want.Element.Name == TypeStruct && got.Element.Name == TypeStruct:
		return want.Element.Fields, got.Element.Fields, ".", true
	case want.Name == TypeMap && want.Value.Name == TypeStruct && got.Value.Name == TypeStruct && avroTypeFits(*want.Key, *got.Key):
		return want.Value.Fields, got.Value.Fields, ".value.", true
	}
	return nil, nil, "", false
}

func columnNames(cs []Column) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func avroTypeFits(want, got ColumnType) bool {
	switch {
	case want.Name == TypeTinyint || want.Name == TypeSmallint:
		return got.Name == TypeInt
	case want.Name == TypeVariant:
		return got.Name == TypeString
	case want.Name != got.Name:
		return false
	case want.Name == TypeArray:
		return avroTypeFits(*want.Element, *got.Element)
	case want.Name == TypeMap:
		return avroTypeFits(*want.Key, *got.Key) && avroTypeFits(*want.Value, *got.Value)
	case want.Name == TypeStruct:
		return len(compareColumns("", want.Fields, got.Fields)) == 0
	case want.Name == TypeDecimal:
		return want.Precision == got.Precision && want.Scale == got.Scale
	}
	return true
}

// decodeAvro decodes one record into a message of the table's descriptor.
func (a *avroSchema) decode(rec []byte, md protoreflect.MessageDescriptor) (_ *dynamicpb.Message, err error) {
	defer func() {
		// Corrupt input must not take the server down, whichever decoder
		// trips over it.
		if p := recover(); p != nil {
			err = fmt.Errorf("not Avro binary of the stream's schema (decoder failed: %v)", p)
		}
	}()
	native, rest, err := a.codec.NativeFromBinary(rec)
	if err != nil {
		return nil, fmt.Errorf("not Avro binary of the stream's schema: %v", err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%d bytes left after the record", len(rest))
	}
	m := dynamicpb.NewMessage(md)
	if err := setAvroRecord(m, a.root, native); err != nil {
		return nil, err
	}
	return m, nil
}

func setAvroRecord(m protoreflect.Message, n *avroNode, native any) error {
	fields, ok := native.(map[string]any)
	if !ok {
		return fmt.Errorf("record decoded as %T", native)
	}
	fds := m.Descriptor().Fields()
	for _, f := range n.fields {
		fd := fds.ByName(protoreflect.Name(f.name))
		if fd == nil {
			continue // checked at create: cannot happen
		}
		if err := setAvroField(m, fd, f.node, fields[f.name]); err != nil {
			return fmt.Errorf("field %q: %w", f.name, err)
		}
	}
	return nil
}

// unwrap returns the value inside a ["null", T] union (nil for null).
func unwrap(n *avroNode, v any) any {
	if !n.union || v == nil {
		return v
	}
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		for _, inner := range m {
			return inner
		}
	}
	return v
}

func setAvroField(m protoreflect.Message, fd protoreflect.FieldDescriptor, n *avroNode, native any) error {
	v := unwrap(n, native)
	if v == nil {
		if fd.Cardinality() == protoreflect.Required {
			return fmt.Errorf("null in a NOT NULL column")
		}
		return nil
	}
	switch {
	case fd.IsMap():
		mv, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("map decoded as %T", v)
		}
		mp := m.Mutable(fd).Map()
		for k, item := range mv {
			if !utf8.ValidString(k) {
				return fmt.Errorf("map key is not valid UTF-8")
			}
			item = unwrap(n.values, item)
			if item == nil {
				return fmt.Errorf("value of key %q is null (a map value cannot be null)", k)
			}
			var val protoreflect.Value
			if fd.MapValue().Message() != nil {
				val = mp.NewValue()
				if err := setAvroRecord(val.Message(), n.values, item); err != nil {
					return fmt.Errorf("value of key %q: %w", k, err)
				}
			} else {
				var err error
				if val, err = avroScalar(fd.MapValue(), n.values, item); err != nil {
					return fmt.Errorf("value of key %q: %w", k, err)
				}
			}
			mp.Set(protoreflect.ValueOfString(k).MapKey(), val)
		}
		return nil
	case fd.IsList():
		items, ok := v.([]any)
		if !ok {
			return fmt.Errorf("array decoded as %T", v)
		}
		l := m.Mutable(fd).List()
		for j, item := range items {
			item = unwrap(n.items, item)
			if item == nil {
				return fmt.Errorf("element %d is null (an array element cannot be null)", j)
			}
			if fd.Message() != nil {
				ev := l.NewElement()
				if err := setAvroRecord(ev.Message(), n.items, item); err != nil {
					return fmt.Errorf("element %d: %w", j, err)
				}
				l.Append(ev)
				continue
			}
			val, err := avroScalar(fd, n.items, item)
			if err != nil {
				return fmt.Errorf("element %d: %w", j, err)
			}
			l.Append(val)
		}
		return nil
	case fd.Message() != nil:
		return setAvroRecord(m.Mutable(fd).Message(), n, v)
	default:
		val, err := avroScalar(fd, n, v)
		if err != nil {
			return err
		}
		m.Set(fd, val)
		return nil
	}
}

// avroScalar converts a goavro native to fd's kind: dates to days,
// timestamps (also local-timestamp-millis) to microseconds, decimals to exact text with the column's
// scale. Strings must be UTF-8.
func avroScalar(fd protoreflect.FieldDescriptor, n *avroNode, v any) (protoreflect.Value, error) {
	switch x := v.(type) {
	case int32:
		switch fd.Kind() {
		case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
			return protoreflect.ValueOfInt64(int64(x)), nil
		}
		return protoreflect.ValueOfInt32(x), nil
	case int64:
		if n.logical == "local-timestamp-millis" {
			// goavro has no local-timestamp-* types: the long arrives as
			// is, in milliseconds for this one.
			if x > math.MaxInt64/1000 || x < math.MinInt64/1000 {
				return protoreflect.Value{}, fmt.Errorf("local-timestamp-millis %d is out of range", x)
			}
			x *= 1000
		}
		return protoreflect.ValueOfInt64(x), nil
	case float32:
		return protoreflect.ValueOfFloat32(x), nil
	case float64:
		return protoreflect.ValueOfFloat64(x), nil
	case bool:
		return protoreflect.ValueOfBool(x), nil
	case string:
		if !utf8.ValidString(x) {
			return protoreflect.Value{}, fmt.Errorf("string is not valid UTF-8")
		}
		return protoreflect.ValueOfString(x), nil
	case []byte:
		return protoreflect.ValueOfBytes(x), nil
	case time.Time:
		if n.logical == "date" {
			days := x.Unix() / 86400
			if x.Unix() < 0 && x.Unix()%86400 != 0 {
				days--
			}
			return protoreflect.ValueOfInt32(int32(days)), nil
		}
		return protoreflect.ValueOfInt64(x.UnixMicro()), nil
	case *big.Rat:
		return protoreflect.ValueOfString(x.FloatString(n.scale)), nil
	default:
		return protoreflect.Value{}, fmt.Errorf("Avro value of type %T has no column type", v)
	}
}

// marshalRecord encodes a decoded record in the table's protobuf form.
func marshalRecord(m *dynamicpb.Message) ([]byte, error) {
	return proto.MarshalOptions{}.Marshal(m)
}
