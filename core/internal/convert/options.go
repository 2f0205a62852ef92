package convert

import (
	"math"
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
)

// DefaultMaxRecordBytes is the default per-record size limit: 4 MiB minus the
// 19 bytes of framing that older Zerobus servers reserve around one record.
// Servers that accept 10 MiB requests allow a larger Options.MaxRecordBytes.
const DefaultMaxRecordBytes = 4<<20 - 19

// maxRecordLimit caps Options.MaxRecordBytes: a protobuf message is below
// 2 GiB, and a framed record's length must fit an int32.
const maxRecordLimit = math.MaxInt32 - 16

// DefaultMessageName is the top-level message name used when
// Options.MessageName is empty.
const DefaultMessageName = "Record"

// MaxColumns is the largest number of top-level columns a plan accepts; it is
// the Zerobus limit on fields in one record.
const MaxColumns = 2000

// MaxNestingDepth bounds how deeply struct, list and map types may nest. A
// top-level scalar column has depth 0; a struct column's children have
// depth 1, and so on.
const MaxNestingDepth = 32

// parallelMinRows is the smallest chunk of rows worth handing to its own
// goroutine. A batch is split only when it holds at least two such chunks.
const parallelMinRows = 4096

// Options controls how a Plan is built and how it encodes. The zero value is
// valid and means the defaults documented on each field.
type Options struct {
	// MessageName is the name of the top-level protobuf message; it must be a
	// valid protobuf identifier (ASCII letters, digits and '_', not starting
	// with a digit, not a keyword). Default DefaultMessageName ("Record").
	// SanitizeMessageName turns a table name into a valid one. Ignored by
	// NewPlanForDescriptor and NewPlanForMessage: a caller-supplied descriptor
	// keeps its own name.
	MessageName string

	// AllOptional makes every field optional, even when its Arrow field is
	// non-nullable, so that nulls are omitted instead of failing the row.
	// Default false: a non-nullable Arrow column becomes a required field and
	// a null in it fails the row. Ignored for caller-supplied descriptors,
	// whose labels decide.
	AllOptional bool

	// TableNullable gives, by column path, the nullability the target
	// table declares (true: nullable, a null is omitted; false: NOT NULL,
	// a null fails its row). TableNullability builds it from the table's
	// schema. Paths are the column name for a top-level column, whose field
	// is then optional or required; "addr.zip" for a STRUCT field,
	// "items[].sku" for a field of an ARRAY's STRUCT elements and
	// "m.value.x" for a field of a MAP's STRUCT values, whose fields stay
	// optional in the descriptor (the service wants STRUCT fields optional)
	// and only the null handling follows the table. It overrides the Arrow
	// field's nullability and AllOptional for the paths it names; the
	// others follow them. Ignored for caller-supplied descriptors, whose
	// labels decide.
	TableNullable map[string]bool

	// TableVariant names, by the paths TableNullable uses ("payload.v",
	// "vs[]" for an ARRAY's elements, "m.value" for a MAP's values), the
	// places the target table declares VARIANT; TableVariants builds it
	// from the table's schema. A string value there is JSON text, and
	// each is checked with the rule the Flight path encodes VARIANT text
	// by (protoarrow.ParseVariantJSON): text that is not one JSON
	// document, or an object giving a key twice, fails its row with
	// ErrInvalidVariant. Ignored for caller-supplied descriptors.
	TableVariant map[string]bool

	// TableDecimal gives, by the paths TableNullable uses, the DECIMAL(p,s)
	// the table declares (TableDecimals builds it from the table's
	// schema; MAP keys are "m.key"). A decimal value there too large for
	// it (DecimalFit: more than p−s integer digits after rounding half-up
	// to s places) fails its row with ErrOutOfRange. A string value there
	// is decimal text checked by the same rule (protoarrow.CheckDecimalText):
	// text that is not a number fails its row with ErrInvalidDecimal, a
	// value too large with ErrOutOfRange; plain text is sent as given, other
	// decimal text rounded to s places. An integer or float value there is
	// sent as decimal text (number_decimal.go: an integer's digits, a
	// float's shortest text rounded half-up to s places; too large fails
	// with ErrOutOfRange, NaN and ±Inf with ErrInvalidDecimal); another
	// type there is refused, naming DECIMAL(p,s). Ignored for
	// caller-supplied descriptors.
	TableDecimal map[string]DecimalSpec

	// TableType gives the table's Arrow type of each column (TableTypes
	// builds it from the table's schema). A column of the Arrow null type
	// there is taken as all nulls of that type: omitted where the column is
	// nullable, each row failing as a null in a NOT NULL column otherwise.
	// So is a STRUCT field of the null type (its type found inside its
	// column's: "s.x", "items[].sku", "m.value.x"; a NOT NULL field fails
	// each row whose STRUCT is not null), and ARRAY elements or MAP values
	// of the null type (each element or value fails its row, as a null
	// there does). Without it such a column or field is refused. Ignored
	// for caller-supplied descriptors.
	TableType map[string]arrow.DataType

	// TableFields gives, for each level of the table (its columns under
	// "", a STRUCT's fields under the path TableNullable names it by:
	// "addr", "items[]", "m.value"), the fields the table declares there
	// in its order; TableLevels builds it from the table's schema. At a
	// level it gives, the batch's fields are matched to the table's by
	// name (MatchFields: the exact spelling, else the one case-insensitive
	// match) and the descriptor lists them in the table's order with the
	// table's spelling, each read from its matched batch field; a nullable
	// table field the batch lacks is listed too and always null (omitted),
	// as the Flight cast fills a missing nullable column. A batch field the
	// table lacks follows, so that the service refuses it by name
	// (FIELD_NOT_IN_TABLE); a NOT NULL table field the batch lacks is left
	// out, which the service refuses (MISSING_REQUIRED_COLUMN). Without it
	// the descriptor follows the batch's order and spelling. Ignored for
	// caller-supplied descriptors.
	TableFields map[string][]arrow.Field

	// MaxRecordBytes is the largest encoded record accepted; larger rows are
	// reported as row errors. Zero or negative means DefaultMaxRecordBytes;
	// values above maxRecordLimit mean maxRecordLimit.
	MaxRecordBytes int

	// Parallelism is the most goroutines one Encode call uses for a large
	// batch (at least 2*4096 rows). Zero or negative means
	// runtime.GOMAXPROCS(0) at Encode time; 1 encodes on the caller's
	// goroutine only.
	Parallelism int
}

// withDefaults returns o with zero fields replaced by their defaults. The
// Parallelism default is resolved at Encode time.
func (o Options) withDefaults() Options {
	if o.MessageName == "" {
		o.MessageName = DefaultMessageName
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
	o.MaxRecordBytes = min(o.MaxRecordBytes, maxRecordLimit)
	return o
}

// parallelism returns how many goroutines may encode one batch.
func (o Options) parallelism() int {
	if o.Parallelism > 0 {
		return o.Parallelism
	}
	return runtime.GOMAXPROCS(0)
}
