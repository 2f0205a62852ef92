package convert

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors carried by RowError.Err and returned by Encode; match them
// with errors.Is.
var (
	// ErrNullValue: a null where protobuf cannot hold one (a required field,
	// a list element, a map value).
	ErrNullValue = errors.New("convert: null value not allowed here")
	// ErrOutOfRange: a value that does not fit the protobuf field or the
	// table's type (a uint64 over the int64 range, an integer outside the
	// table's TINYINT, SMALLINT, INT or BIGINT, a float64 beyond FLOAT, a
	// float not a whole number in a table integer's range, an integer a
	// table FLOAT or DOUBLE would round, a timestamp or duration that
	// overflows int64 microseconds, a date outside int32 days).
	ErrOutOfRange = errors.New("convert: value out of range")
	// ErrInvalidUTF8: a value bound to a protobuf string field (a utf8,
	// large_utf8 or string_view column) is not valid UTF-8. Arrow does not
	// enforce it; the Zerobus service rejects such records.
	ErrInvalidUTF8 = errors.New("convert: string value is not valid UTF-8")
	// ErrInvalidVariant: the text of a column the table declares VARIANT
	// (Options.TableVariant) is not one JSON document, or gives an object
	// key twice.
	ErrInvalidVariant = errors.New("convert: VARIANT value is not one JSON document")
	// ErrInvalidDecimal: the text of a string column sent into a column
	// the table declares DECIMAL (Options.TableDecimal) is not a decimal
	// number (protoarrow.CheckDecimalText).
	ErrInvalidDecimal = errors.New("convert: DECIMAL value is not a decimal number")
	// ErrDuplicateMapKey: a MAP value gives one key twice (see MapKeys); a
	// protobuf map keeps only the last entry of a key.
	ErrDuplicateMapKey = errors.New("convert: MAP value gives a key twice")
	// ErrRecordTooLarge: the encoded record is over Options.MaxRecordBytes.
	ErrRecordTooLarge = errors.New("convert: record too large")
	// ErrSchemaMismatch: Encode was given a record batch whose schema is not
	// the plan's schema.
	ErrSchemaMismatch = errors.New("convert: record batch schema does not match the plan")
	// ErrInvalidData: the Arrow data itself is malformed (for example offsets
	// pointing outside a buffer); Encode returns it instead of panicking.
	ErrInvalidData = errors.New("convert: invalid Arrow data")
)

// RowError reports one row that could not be encoded. The other rows of the
// batch are unaffected.
type RowError struct {
	// Row is the index of the row in the record batch given to Encode.
	Row int
	// Column is the dotted path of the value at fault, e.g. "price",
	// "address.zip", "tags[3]" (list element 3) or "attrs[2].value" (map
	// entry 2). Empty when the whole record is at fault.
	Column string
	// Reason says what is wrong and what to do about it.
	Reason string
	// Err is one of ErrNullValue, ErrOutOfRange, ErrInvalidUTF8,
	// ErrInvalidVariant, ErrInvalidDecimal, ErrDuplicateMapKey or
	// ErrRecordTooLarge.
	Err error
}

// Error returns `row 12, column "price": <reason>`.
func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("row %d: %s", e.Row, e.Reason)
	}
	return fmt.Sprintf("row %d, column %q: %s", e.Row, e.Column, e.Reason)
}

// Unwrap returns Err so that errors.Is(err, ErrNullValue) and friends work.
func (e *RowError) Unwrap() error { return e.Err }

// Problem is one reason a schema cannot be converted.
type Problem struct {
	// Column is the dotted path of the Arrow field ("address.zip"); list
	// elements appear as "tags[]", map parts as "attrs.key"/"attrs.value".
	// Empty for problems with the message as a whole.
	Column string
	// Type is the Arrow type of the column, as Arrow prints it.
	Type string
	// Reason says what is wrong and what to do about it.
	Reason string
	// Code is a machine-readable code of Reason (ZonedIntoNTZ), "" when
	// the problem has none.
	Code string
}

// String formats the problem as `column "a" (uint8): reason`.
func (p Problem) String() string {
	var b strings.Builder
	if p.Column != "" {
		fmt.Fprintf(&b, "column %q", p.Column)
		if p.Type != "" {
			fmt.Fprintf(&b, " (%s)", p.Type)
		}
		b.WriteString(": ")
	}
	b.WriteString(p.Reason)
	return b.String()
}

// SchemaError lists every problem found while building a Plan, so that a
// caller can fix them all at once.
type SchemaError struct {
	Problems []Problem
}

// Error lists all problems, one per line after a summary line.
func (e *SchemaError) Error() string {
	var b strings.Builder
	if len(e.Problems) == 1 {
		b.WriteString("convert: schema cannot be converted to protobuf: ")
		b.WriteString(e.Problems[0].String())
		return b.String()
	}
	fmt.Fprintf(&b, "convert: schema cannot be converted to protobuf (%d problems):", len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  - ")
		b.WriteString(p.String())
	}
	return b.String()
}

// problems collects schema problems during plan building.
type problems struct {
	list []Problem
}

func (p *problems) add(column, typ, format string, args ...any) {
	p.list = append(p.list, Problem{Column: column, Type: typ, Reason: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return &SchemaError{Problems: p.list}
}

// fail is the internal per-row failure, allocated only when a row fails.
// path is built from the innermost value outwards as the failure returns
// through the nested encoders.
type fail struct {
	path   string
	reason string
	err    error
}
