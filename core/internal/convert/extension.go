package convert

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Arrow's canonical extension types arrive two ways: as an
// arrow.ExtensionType when the extension is registered with arrow-go (a Go
// caller importing arrow/extensions), or, as the core imports them through
// the C stream interface without registering any, as their storage type with
// the extension's name in the field's metadata (ARROW:extension:name). The
// functions here read both.

const (
	extNameKey = "ARROW:extension:name"
	extMetaKey = "ARROW:extension:metadata"

	// UUIDExtension is the canonical UUID extension's name: 16 bytes
	// (fixed_size_binary[16]) a value, what pyarrow infers for uuid.UUID
	// objects (so a pandas object column of UUIDs), pa.uuid(), and DuckDB's
	// UUID with arrow_lossless_conversion.
	UUIDExtension = "arrow.uuid"
	// OpaqueExtension is the canonical extension of a type Arrow has no
	// type for (DuckDB's HUGEINT with arrow_lossless_conversion).
	OpaqueExtension = "arrow.opaque"
)

// ExtensionName returns the name of the extension type field f holds (a
// registered arrow.ExtensionType's, else its metadata's), "" for none.
func ExtensionName(f arrow.Field) string {
	if et, ok := f.Type.(arrow.ExtensionType); ok {
		return et.ExtensionName()
	}
	if v, ok := f.Metadata.GetValue(extNameKey); ok {
		return v
	}
	return ""
}

// FieldTypeName is field f's type as messages name it: an extension type
// by its name with its storage type ("arrow.uuid (fixed_size_binary[16])",
// "arrow.opaque[DuckDB hugeint] (fixed_size_binary[16])", "arrow.bool8
// (int8)"), as the storage type alone hides what the column holds; other
// types as arrow-go prints them.
func FieldTypeName(f arrow.Field) string {
	name := ExtensionName(f)
	if name == "" {
		return namedType(f.Type).String() // extensions below named too
	}
	storage, meta := f.Type, ""
	if et, ok := f.Type.(arrow.ExtensionType); ok {
		storage, meta = et.StorageType(), et.Serialize()
	} else if v, ok := f.Metadata.GetValue(extMetaKey); ok {
		meta = v
	}
	if name == OpaqueExtension {
		var o struct {
			Type   string `json:"type_name"`
			Vendor string `json:"vendor_name"`
		}
		if json.Unmarshal([]byte(meta), &o) == nil && (o.Type != "" || o.Vendor != "") {
			name += "[" + strings.TrimSpace(o.Vendor+" "+o.Type) + "]"
		}
	}
	return name + " (" + storage.String() + ")"
}

// namedType is t for messages: the extension types of its STRUCT fields,
// list elements, MAP keys and values, dictionary values and run-end encoded
// values (registered, or named in their field's metadata) shown as
// FieldTypeName shows them ("list<item: arrow.uuid (fixed_size_binary[16])>"),
// not as their storage type alone. Only its String is meant to be used.
func namedType(t arrow.DataType) arrow.DataType {
	field := func(f arrow.Field) arrow.Field {
		if ExtensionName(f) != "" {
			f.Type = typeText{DataType: f.Type, text: FieldTypeName(f)}
		} else {
			f.Type = namedType(f.Type)
		}
		f.Metadata = arrow.Metadata{}
		return f
	}
	value := func(v arrow.DataType) arrow.DataType { return field(arrow.Field{Type: v}).Type }
	switch x := t.(type) {
	case *arrow.ListType:
		return arrow.ListOfField(field(x.ElemField()))
	case *arrow.LargeListType:
		return arrow.LargeListOfField(field(x.ElemField()))
	case *arrow.FixedSizeListType:
		return arrow.FixedSizeListOfField(x.Len(), field(x.ElemField()))
	case *arrow.ListViewType:
		return arrow.ListViewOfField(field(x.ElemField()))
	case *arrow.LargeListViewType:
		return arrow.LargeListViewOfField(field(x.ElemField()))
	case *arrow.MapType:
		m := arrow.MapOfFields(field(x.KeyField()), field(x.ItemField()))
		m.KeysSorted = x.KeysSorted
		return m
	case *arrow.StructType:
		fs := make([]arrow.Field, x.NumFields())
		for i, f := range x.Fields() {
			fs[i] = field(f)
		}
		return arrow.StructOf(fs...)
	case *arrow.DictionaryType:
		return &arrow.DictionaryType{IndexType: x.IndexType, ValueType: value(x.ValueType), Ordered: x.Ordered}
	case *arrow.RunEndEncodedType:
		return arrow.RunEndEncodedOf(x.RunEnds(), value(x.Encoded()))
	}
	return t
}

// typeText is a type that prints as text (namedType).
type typeText struct {
	arrow.DataType
	text string
}

func (t typeText) String() string { return t.text }

// IsUUIDField reports whether field f holds UUIDs: the arrow.uuid
// extension over fixed_size_binary[16], registered or named in the
// field's metadata.
func IsUUIDField(f arrow.Field) bool {
	if et, ok := f.Type.(arrow.ExtensionType); ok {
		return IsUUIDType(et)
	}
	if v, ok := f.Metadata.GetValue(extNameKey); !ok || v != UUIDExtension {
		return false
	}
	fb, ok := f.Type.(*arrow.FixedSizeBinaryType)
	return ok && fb.ByteWidth == 16
}

// IsUUIDType reports whether t is an extension type named arrow.uuid over
// fixed_size_binary[16] (a registered one, or MarkedType's mark).
func IsUUIDType(t arrow.DataType) bool {
	et, ok := t.(arrow.ExtensionType)
	if !ok || et.ExtensionName() != UUIDExtension {
		return false
	}
	fb, ok := et.StorageType().(*arrow.FixedSizeBinaryType)
	return ok && fb.ByteWidth == 16
}

// MarkedType is f's type for planning a conversion: for a field whose
// metadata names arrow.uuid over fixed_size_binary[16] (the extension not
// registered), an extension type that says so (IsUUIDType; its String is
// FieldTypeName's), as a registered one would; else f.Type. Only types are
// marked: the arrays stay as they are (fixed_size_binary[16]).
func MarkedType(f arrow.Field) arrow.DataType {
	if _, ok := f.Type.(arrow.ExtensionType); !ok && IsUUIDField(f) {
		return uuidMark
	}
	return f.Type
}

// IsUUIDMark reports whether t is MarkedType's mark (whose arrays are the
// storage's), not a registered extension type (whose arrays are extension
// arrays).
func IsUUIDMark(t arrow.DataType) bool {
	_, ok := t.(*uuidMarkType)
	return ok
}

var uuidMark = &uuidMarkType{ExtensionBase: arrow.ExtensionBase{Storage: &arrow.FixedSizeBinaryType{ByteWidth: 16}}}

// uuidMarkType is MarkedType's arrow.uuid; never registered, and no array
// is made of it.
type uuidMarkType struct{ arrow.ExtensionBase }

type uuidMarkArray struct{ array.ExtensionArrayBase }

func (*uuidMarkType) ArrayType() reflect.Type { return reflect.TypeOf(uuidMarkArray{}) }
func (*uuidMarkType) ExtensionName() string   { return UUIDExtension }
func (*uuidMarkType) Serialize() string       { return "" }
func (t *uuidMarkType) String() string {
	return UUIDExtension + " (" + t.Storage.String() + ")"
}

func (t *uuidMarkType) Deserialize(storage arrow.DataType, _ string) (arrow.ExtensionType, error) {
	return nil, fmt.Errorf("convert: %s marks are not read from data", UUIDExtension)
}

func (t *uuidMarkType) ExtensionEquals(o arrow.ExtensionType) bool {
	return o.ExtensionName() == UUIDExtension
}

// AppendUUID appends the canonical text of the 16 bytes b (lowercase hex,
// 8-4-4-4-12, as Python's str(uuid.UUID) and Spark's uuid() write it) to
// buf.
func AppendUUID(buf, b []byte) []byte {
	const hex = "0123456789abcdef"
	for i, c := range b[:16] {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, hex[c>>4], hex[c&0x0f])
	}
	return buf
}

// UUIDReason is why a UUID column does not go into a table column other
// than STRING or BINARY, on both transports.
const UUIDReason = "a UUID column goes into a STRING column (as its text, 8-4-4-4-12 lowercase hex) or a BINARY column (its 16 bytes); change the table's column, or convert the UUIDs to text first (pandas: df[col].map(str, na_action=\"ignore\"), which keeps nulls null)"

// UUIDKeyReason is why UUID MAP keys do not go into a table's key other
// than STRING over protobuf (whose map keys are integers, booleans or
// strings: no 16 bytes).
const UUIDKeyReason = "protobuf map keys must be integers, booleans or strings: UUID keys go into a table's STRING key (as their text, 8-4-4-4-12 lowercase hex); change the table's key type, or convert the UUIDs to text first"

// OpaqueReason is why an arrow.opaque column (values of a type Arrow has no
// type for) cannot be sent: nothing reads its bytes.
const OpaqueReason = "an arrow.opaque column holds values of a type Arrow has no type for, which nothing here can read; convert them where they come from (DuckDB: cast the column in SQL, to DECIMAL(38,0) or VARCHAR for a HUGEINT, or leave arrow_lossless_conversion off)"

// isTableString reports whether the table type t is a STRING.
func isTableString(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return true
	}
	return false
}
