package convert

import (
	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/descriptorpb"
)

// nullMode says what a null at one position does.
type nullMode uint8

const (
	nullOmit     nullMode = iota // optional field: write nothing
	nullRequired                 // required field: the row fails
	nullNotNull                  // required field of a NOT NULL table column (Options.TableNullable): the row fails
	nullElement                  // list element: the row fails (repeated cannot hold null)
	nullMapValue                 // map value: the row fails (map cannot hold null)
)

// node is the compiled, immutable conversion of one Arrow field (or list
// element, or map key/value) into one protobuf field. A Plan holds one node
// per top-level column; Encode binds the nodes to the arrays of a batch.
type node struct {
	tag   uint64         // precomputed field tag varint (set by newPlan)
	name  string         // Arrow field name; "" for a list element
	dt    arrow.DataType // Arrow type at this level
	num   protowire.Number
	ptype descriptorpb.FieldDescriptorProto_Type // protobuf field type
	null  nullMode

	// Integer-like leaves: value*mul (overflow checked), then floor-divided
	// by div. unit names the Arrow unit in overflow messages.
	mul, div int64
	unit     string

	scale int32 // decimal scale
	// fit is the table's DECIMAL(p,s) of a decimal leaf
	// (Options.TableDecimal): each value is checked against it; nil when
	// every value of the type fits (DecimalAlwaysFits).
	fit *DecimalSpec
	// fitInt is the table's integer type of an integer leaf whose values
	// may not all fit it, fitFloat a float64 leaf of a table FLOAT
	// (Options.TableType, narrowTo): each value is checked.
	fitInt   *TableInt
	fitFloat bool
	// dayFit is the table's TINYINT or SMALLINT of a date32 or date64 leaf
	// (days since the epoch; narrowTo): each day is checked against it.
	dayFit *TableInt
	// floatInt is the table's integer type of a float leaf, intFloat an
	// integer leaf of a table FLOAT or DOUBLE (its ptype says which;
	// narrowTo): each value is converted and checked.
	floatInt *TableInt
	intFloat bool
	// allNull: a column of the Arrow null type taken as the table's type
	// (Options.TableType); every value is null.
	allNull bool

	uuid bool // fixed_size_binary[16] leaf of UUIDs into a table STRING: written as UUID text (AppendUUID)

	variant bool // string leaf of a column the table declares VARIANT (Options.TableVariant): each value is checked as JSON

	inner    *node   // dictionary values, run-end encoded values, extension storage
	elem     *node   // list element; same field number
	fields   []*node // struct children, in descriptor order
	key, val *node   // map entry parts (field numbers 1 and 2)

	// from says which child of the batch's STRUCT each of fields reads
	// (-1: none, the node is allNull); nil: fields[k] reads child k. Set
	// when the table's fields are matched by name (Options.TableFields).
	from []int
}

// wireType returns the protobuf wire type of a field type.
func wireType(t descriptorpb.FieldDescriptorProto_Type) protowire.Type {
	switch t {
	case descriptorpb.FieldDescriptorProto_TYPE_FIXED32, descriptorpb.FieldDescriptorProto_TYPE_SFIXED32,
		descriptorpb.FieldDescriptorProto_TYPE_FLOAT:
		return protowire.Fixed32Type
	case descriptorpb.FieldDescriptorProto_TYPE_FIXED64, descriptorpb.FieldDescriptorProto_TYPE_SFIXED64,
		descriptorpb.FieldDescriptorProto_TYPE_DOUBLE:
		return protowire.Fixed64Type
	case descriptorpb.FieldDescriptorProto_TYPE_STRING, descriptorpb.FieldDescriptorProto_TYPE_BYTES,
		descriptorpb.FieldDescriptorProto_TYPE_MESSAGE:
		return protowire.BytesType
	default:
		return protowire.VarintType
	}
}

// valueClass groups Arrow value types by how their values are read.
type valueClass uint8

const (
	classUnsupported valueClass = iota
	classSigned                 // signed integers and temporal types, read as int64
	classUnsigned               // unsigned integers, read as uint64
	classFloat                  // float16/32/64
	classBool
	classString  // utf8, large_utf8, string_view
	classBinary  // binary, large_binary, binary_view, fixed_size_binary
	classDecimal // decimal32/64/128/256, written as decimal text
	classStruct
	classList
	classMap
)

// leafInfo describes how an Arrow leaf type converts by default.
type leafInfo struct {
	class    valueClass
	ptype    descriptorpb.FieldDescriptorProto_Type // default protobuf type
	mul, div int64
	unit     string
	scale    int32
}

const (
	usPerSec   = 1_000_000
	msPerDay   = 86_400_000
	nsPerMicro = 1_000
)

// classify returns how a non-wrapper Arrow type converts, or class
// classUnsupported with a reason. Wrapper types (dictionary, run-end
// encoded, extension) must be unwrapped by the caller.
func classify(dt arrow.DataType) (leafInfo, string) {
	const (
		i32 = descriptorpb.FieldDescriptorProto_TYPE_INT32
		i64 = descriptorpb.FieldDescriptorProto_TYPE_INT64
	)
	switch dt.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32:
		return leafInfo{class: classSigned, ptype: i32, mul: 1, div: 1}, ""
	case arrow.UINT8, arrow.UINT16:
		return leafInfo{class: classUnsigned, ptype: i32, mul: 1, div: 1}, ""
	case arrow.INT64:
		return leafInfo{class: classSigned, ptype: i64, mul: 1, div: 1}, ""
	case arrow.UINT32, arrow.UINT64:
		return leafInfo{class: classUnsigned, ptype: i64, mul: 1, div: 1}, ""
	case arrow.FLOAT16, arrow.FLOAT32:
		return leafInfo{class: classFloat, ptype: descriptorpb.FieldDescriptorProto_TYPE_FLOAT}, ""
	case arrow.FLOAT64:
		return leafInfo{class: classFloat, ptype: descriptorpb.FieldDescriptorProto_TYPE_DOUBLE}, ""
	case arrow.BOOL:
		return leafInfo{class: classBool, ptype: descriptorpb.FieldDescriptorProto_TYPE_BOOL}, ""
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return leafInfo{class: classString, ptype: descriptorpb.FieldDescriptorProto_TYPE_STRING}, ""
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return leafInfo{class: classBinary, ptype: descriptorpb.FieldDescriptorProto_TYPE_BYTES}, ""
	case arrow.DATE32:
		return leafInfo{class: classSigned, ptype: i32, mul: 1, div: 1, unit: "days"}, ""
	case arrow.DATE64:
		return leafInfo{class: classSigned, ptype: i32, mul: 1, div: msPerDay, unit: "ms"}, ""
	case arrow.TIMESTAMP:
		mul, div, unit := toMicros(dt.(*arrow.TimestampType).Unit)
		return leafInfo{class: classSigned, ptype: i64, mul: mul, div: div, unit: unit}, ""
	case arrow.TIME32:
		mul, div, unit := toMicros(dt.(*arrow.Time32Type).Unit)
		return leafInfo{class: classSigned, ptype: i64, mul: mul, div: div, unit: unit}, ""
	case arrow.TIME64:
		mul, div, unit := toMicros(dt.(*arrow.Time64Type).Unit)
		return leafInfo{class: classSigned, ptype: i64, mul: mul, div: div, unit: unit}, ""
	case arrow.DURATION:
		mul, div, unit := toMicros(dt.(*arrow.DurationType).Unit)
		return leafInfo{class: classSigned, ptype: i64, mul: mul, div: div, unit: unit}, ""
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return leafInfo{class: classDecimal, ptype: descriptorpb.FieldDescriptorProto_TYPE_STRING,
			scale: dt.(arrow.DecimalType).GetScale()}, ""
	case arrow.STRUCT:
		return leafInfo{class: classStruct, ptype: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE}, ""
	case arrow.LIST, arrow.LARGE_LIST, arrow.FIXED_SIZE_LIST, arrow.LIST_VIEW, arrow.LARGE_LIST_VIEW:
		return leafInfo{class: classList}, ""
	case arrow.MAP:
		return leafInfo{class: classMap, ptype: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE}, ""
	case arrow.NULL:
		return leafInfo{}, "the null type holds no values and has no protobuf equivalent; drop the column or cast it to the table's type"
	case arrow.INTERVAL_MONTHS, arrow.INTERVAL_DAY_TIME, arrow.INTERVAL_MONTH_DAY_NANO,
		arrow.SPARSE_UNION, arrow.DENSE_UNION:
		return leafInfo{}, NoEquivalent(dt)
	default:
		return leafInfo{}, "this Arrow type has no protobuf mapping; cast the column to a supported type"
	}
}

// IntervalReason and UnionReason are why an interval or union column cannot
// be sent, on both transports (the protobuf plan, classify, and the Flight
// cast plan say the same): Unity Catalog has no type that takes them, and
// no cast of pyarrow's turns them into one.
const (
	IntervalReason = "interval types have no Zerobus equivalent; convert to a duration (int64 microseconds) or a string first"
	UnionReason    = "union types have no Zerobus equivalent; split the union into separate nullable columns"
)

// NoEquivalent returns IntervalReason for an interval type, UnionReason for
// a union, "" for other types (wrappers are not unwrapped).
func NoEquivalent(dt arrow.DataType) string {
	switch dt.ID() {
	case arrow.INTERVAL_MONTHS, arrow.INTERVAL_DAY_TIME, arrow.INTERVAL_MONTH_DAY_NANO:
		return IntervalReason
	case arrow.SPARSE_UNION, arrow.DENSE_UNION:
		return UnionReason
	}
	return ""
}

// toMicros returns the multiplier, divisor and unit name that convert an
// Arrow time unit to microseconds.
func toMicros(u arrow.TimeUnit) (mul, div int64, unit string) {
	switch u {
	case arrow.Second:
		return usPerSec, 1, "s"
	case arrow.Millisecond:
		return 1000, 1, "ms"
	case arrow.Microsecond:
		return 1, 1, "us"
	default:
		return 1, nsPerMicro, "ns"
	}
}

// UnwrapType strips dictionary, run-end encoding and extension layers and
// returns the value type that decides the protobuf mapping.
func UnwrapType(dt arrow.DataType) arrow.DataType {
	for {
		switch t := dt.(type) {
		case *arrow.DictionaryType:
			dt = t.ValueType
		case *arrow.RunEndEncodedType:
			dt = t.Encoded()
		case arrow.ExtensionType:
			dt = t.StorageType()
		default:
			return dt
		}
	}
}

// listElem returns the element field of a list-like type.
func listElem(dt arrow.DataType) arrow.Field {
	return dt.(arrow.ListLikeType).ElemField()
}
