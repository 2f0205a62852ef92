package flightstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/compute/exec"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// ColumnMismatch is one column whose caller type cannot be sent as the
// table's type.
type ColumnMismatch struct {
	Column     string // top-level column name (a STRUCT field's path for a convert.CaseClash)
	CallerType string // "" when the caller's batch lacks the column
	TableType  string // "" when the table lacks the column
	// TableSQL is the table's type in Unity Catalog's words ("INT",
	// "STRING", "ARRAY<BIGINT>"), which the message prints; "" when the
	// table lacks the column.
	TableSQL string
	Reason   string
	// Code is a machine-readable code of Reason: convert.ZonedIntoNTZ when
	// the column holds a zoned timestamp for a TIMESTAMP_NTZ; "" otherwise.
	Code string
}

// MismatchError lists every column of a caller schema that does not fit
// the table; nothing of such a batch is sent.
type MismatchError struct {
	Table   string
	Columns []ColumnMismatch
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	// "(N columns differ)": N counts the mismatched columns, not the table's.
	differ := fmt.Sprintf("%d columns differ", len(e.Columns))
	if len(e.Columns) == 1 {
		differ = "1 column differs"
	}
	fmt.Fprintf(&b, "the Arrow schema does not match table %s (%s): ", e.Table, differ)
	for i, c := range e.Columns {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "column %q", c.Column)
		switch {
		case c.CallerType == "" && c.TableType == "": // the Reason says it all
		case c.CallerType != "" && c.TableType != "":
			fmt.Fprintf(&b, " is %s in the batch and %s in the table", c.CallerType, c.tableShown())
		case c.TableType != "":
			fmt.Fprintf(&b, " (%s in the table) is missing from the batch", c.tableShown())
		default:
			fmt.Fprintf(&b, " (%s in the batch) is not in the table", c.CallerType)
		}
		if c.Reason != "" {
			b.WriteString(": ")
			b.WriteString(c.Reason)
		}
	}
	return b.String()
}

// tableShown is the table's type as a message prints it: Unity Catalog's
// name when known, else the Arrow type.
func (c ColumnMismatch) tableShown() string {
	if c.TableSQL != "" {
		return c.TableSQL
	}
	return c.TableType
}

// TableSQLType is the Unity Catalog type of the table's column f as the
// catalog's type_text spells it ("INT", "DECIMAL(10,2)", "ARRAY<STRING>"):
// the table's own words, which row-level messages use too.
func TableSQLType(f arrow.Field) string {
	if d, ok := convert.FieldDecimal(f); ok {
		return d.String()
	}
	t := f.Type
	switch t.ID() {
	case arrow.INT8:
		return "TINYINT"
	case arrow.INT16:
		return "SMALLINT"
	case arrow.INT32:
		return "INT"
	case arrow.INT64:
		return "BIGINT"
	case arrow.FLOAT32:
		return "FLOAT"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.BOOL:
		return "BOOLEAN"
	case arrow.STRING, arrow.LARGE_STRING:
		return "STRING"
	case arrow.BINARY, arrow.LARGE_BINARY:
		return "BINARY"
	case arrow.DATE32:
		return "DATE"
	case arrow.TIMESTAMP:
		if t.(*arrow.TimestampType).TimeZone == "" {
			return "TIMESTAMP_NTZ"
		}
		return "TIMESTAMP"
	case arrow.LIST, arrow.LARGE_LIST:
		return "ARRAY<" + TableSQLType(t.(arrow.ListLikeType).ElemField()) + ">"
	case arrow.MAP:
		m := t.(*arrow.MapType)
		return "MAP<" + TableSQLType(m.KeyField()) + ", " + TableSQLType(m.ItemField()) + ">"
	case arrow.STRUCT:
		if isVariant(t) {
			return "VARIANT"
		}
		var b strings.Builder
		b.WriteString("STRUCT<")
		for i, sf := range t.(*arrow.StructType).Fields() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(sf.Name + ": " + TableSQLType(sf))
			if !sf.Nullable {
				b.WriteString(" NOT NULL")
			}
		}
		b.WriteString(">")
		return b.String()
	}
	return t.String()
}

// CastError is a cast of one column that failed on the batch's values
// (an integer or timestamp overflow); nothing of the batch is sent.
type CastError struct {
	Column   string
	From, To arrow.DataType
	Err      error
}

func (e *CastError) Error() string {
	return fmt.Sprintf("column %q: cannot cast %s to the table's %s: %v", e.Column, e.From, e.To, e.Err)
}

func (e *CastError) Unwrap() error { return e.Err }

// NullRow is a row left out of the batch sent: a null in a NOT NULL
// column of the table (Reason NullInNotNull), a value a protobuf record
// cannot hold (a string that is not UTF-8, NullElement, NullMapValue,
// NullInField, a MAP key given twice), or a value Apply could not encode, such as text that is not
// JSON for a VARIANT or a timestamp that overflows microseconds.
type NullRow struct {
	Row    int
	Column string // the column's path: "doc", "payload.items[1].v", "m[0].value"
	Reason string
}

// ErrUnreadable is the error (wrapped) of a batch whose Arrow data could
// not be read: a panic while its arrays were cast, checked or encoded
// (buffers shorter than the array's length, offsets out of order, …).
var ErrUnreadable = errors.New("the Arrow data cannot be read")

// FitRows returns rec with every column cut to rec.NumRows() (a slice of
// rec) when some column is longer, which arrow-go allows; else rec, retained.
// The caller releases the result. A column shorter than NumRows is an
// error.
func FitRows(rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	n := rec.NumRows()
	long := false
	for i, col := range rec.Columns() {
		switch l := int64(col.Len()); {
		case l < n:
			return nil, fmt.Errorf("%w: column %q has %d values for a batch of %d rows", ErrUnreadable, rec.ColumnName(i), l, n)
		case l > n:
			long = true
		}
	}
	if !long {
		rec.Retain()
		return rec, nil
	}
	cut := rec.NewSlice(0, n)
	for i, col := range cut.Columns() {
		if int64(col.Len()) != n {
			cut.Release()
			return nil, fmt.Errorf("%w: column %q has %d values for a batch of %d rows, also in a slice of the batch's rows", ErrUnreadable, rec.ColumnName(i), col.Len(), n)
		}
	}
	return cut, nil
}

// NullInNotNull is the Reason of a row left out for a null in a NOT NULL
// column.
const NullInNotNull = convert.NullInNotNull

// Caster turns caller batches of one schema into batches of the table's
// Arrow schema: columns matched by name and put in the table's order,
// missing nullable columns filled with nulls, types cast where safe.
type Caster struct {
	target  *arrow.Schema
	cols    []colPlan
	notNull []int         // target columns that are NOT NULL
	checked []int         // target columns whose values checkValues looks at
	decimal []int         // target columns holding a DECIMAL(p,s) that caller decimals are cast to
	table   *arrow.Schema // to as given, with the DECIMAL(p,s) metadata target leaves out
	same    bool          // the caller's batches are already in the table's schema
}

type colPlan struct {
	src  int // caller column, -1: fill with nulls
	cast bool
	uuid bool // UUIDs (convert.IsUUIDField) into STRING: written as their text (uuidText)
}

// PlanCast checks from against the table schema to, column by column, and
// returns the Caster or a *MismatchError naming every column that does not
// fit (caller type and table type).
func PlanCast(table string, from, to *arrow.Schema) (*Caster, error) {
	c := &Caster{target: to, cols: make([]colPlan, to.NumFields())}
	var bad []ColumnMismatch
	for j, f := range from.Fields() {
		if idx := from.FieldIndices(f.Name); len(idx) > 1 && idx[0] == j {
			bad = append(bad, ColumnMismatch{Column: f.Name, Reason: fmt.Sprintf("the batch has %d columns of this name; rename or drop all but one", len(idx))})
		}
	}
	for _, cc := range convert.CaseClashes(from) {
		bad = append(bad, ColumnMismatch{Column: cc.Path, Reason: cc.Reason()})
	}
	if len(bad) > 0 {
		return nil, &MismatchError{Table: table, Columns: bad}
	}
	// Columns matched by name: the exact spelling, else the one that
	// differs only in case (the protobuf plan's rule).
	src, extra := convert.MatchFields(from.Fields(), to.Fields())
	for i, tf := range to.Fields() {
		j := src[i]
		if j < 0 {
			if !tf.Nullable {
				bad = append(bad, ColumnMismatch{Column: tf.Name, TableType: tf.Type.String(), TableSQL: TableSQLType(tf),
					Reason: "the column is NOT NULL: add it to the batch"})
				continue
			}
			c.cols[i] = colPlan{src: -1}
			continue
		}
		ff := from.Field(j)
		if !tf.Nullable {
			c.notNull = append(c.notNull, i)
		}
		if arrow.TypeEqual(ff.Type, tf.Type) {
			c.cols[i] = colPlan{src: j}
			if hasDecimalSpec(tf) {
				c.decimal = append(c.decimal, i) // DECIMAL text given as large_utf8
			}
			continue
		}
		if ff.Type.ID() == arrow.NULL {
			// A column of nulls only (pandas' object column of None,
			// polars' Null): all nulls of the table's type, each row
			// failing as a null in a NOT NULL column.
			c.cols[i] = colPlan{src: -1}
			continue
		}
		if why := castableField(convert.MarkedType(ff), tf); why != "" {
			switch {
			case convert.ExtensionName(ff) == convert.OpaqueExtension:
				why = convert.OpaqueReason
			case why == noSafeCast && encodedBytes16(ff.Type) && tf.Type.ID() == arrow.LARGE_STRING:
				why = EncodedUUIDReason
			case why == noSafeCast:
				why = fmt.Sprintf("no safe cast; cast the batch's column to %s, or change the table's column", tf.Type)
			}
			cm := ColumnMismatch{Column: tf.Name, CallerType: convert.FieldTypeName(ff), TableType: tableTypeName(tf), TableSQL: TableSQLType(tf), Reason: why}
			if convert.ZonedIntoNTZAnywhere(ff.Type, tf.Type) {
				cm.Code = convert.ZonedIntoNTZ
			}
			bad = append(bad, cm)
			continue
		}
		c.cols[i] = colPlan{src: j, cast: true, uuid: convert.IsUUIDField(ff) && tf.Type.ID() == arrow.LARGE_STRING}
		if hasDecimalSpec(tf) {
			c.decimal = append(c.decimal, i)
		}
	}
	for i, tf := range to.Fields() {
		if needsCheck(tf.Type) {
			c.checked = append(c.checked, i)
		}
	}
	for _, j := range extra {
		f := from.Field(j)
		bad = append(bad, ColumnMismatch{Column: f.Name, CallerType: convert.FieldTypeName(f), Reason: ExtraColumnReason(f.Name)})
	}
	if len(bad) > 0 {
		return nil, &MismatchError{Table: table, Columns: bad}
	}
	c.table = to
	if slices.ContainsFunc(to.Fields(), hasDecimalSpec) {
		// The batches sent carry no metadata of the catalog read's.
		fs := slices.Clone(to.Fields())
		for i := range fs {
			fs[i].Type, fs[i].Metadata = withoutMeta(fs[i].Type), arrow.Metadata{}
		}
		c.target = arrow.NewSchema(fs, nil)
	}
	c.same = from.NumFields() == to.NumFields()
	for i, p := range c.cols {
		if p.src != i || p.cast || from.Field(i).Nullable != to.Field(i).Nullable || from.Field(i).Name != to.Field(i).Name {
			c.same = false
		}
	}
	return c, nil
}

// EncodedUUIDReason is why a dictionary (or run-end encoded array) of 16-byte
// values that are not typed arrow.uuid does not go into a STRING: the bytes
// are no text. (A pyarrow dictionary of pa.uuid() values arrives typed since
// s24: pybind puts back what arrow-go's C import drops, internal/cext.) If
// they are UUIDs, pyarrow can type them (cast to pa.uuid(), checked with
// pyarrow 26; it cannot cast them to large_utf8).
const EncodedUUIDReason = "no safe cast: the 16-byte values of a dictionary (or run-end encoded array) have no text; " +
	"if they are UUIDs, give them the arrow.uuid type and they go in as their text (pyarrow: pc.cast(col, pa.uuid()); " +
	"run-end encoded: pc.cast(pc.run_end_decode(col), pa.uuid())), or change the table's column"

// encodedBytes16 reports whether t is a dictionary or run-end encoded array
// of fixed_size_binary[16].
func encodedBytes16(t arrow.DataType) bool {
	v := encodedValues(t)
	fb, ok := v.(*arrow.FixedSizeBinaryType)
	return ok && fb.ByteWidth == 16 && v != t
}

// ExtraColumnReason is what to do about a batch column the table lacks.
func ExtraColumnReason(name string) string {
	q := strconv.Quote(name)
	return fmt.Sprintf("drop it from the batch (pandas: df.drop(columns=[%s]); polars: df.drop(%s); pyarrow: table.drop_columns([%s])), or add the column to the table", q, q, q)
}

// Target is the table's schema.
func (c *Caster) Target() *arrow.Schema { return c.target }

// castable returns "" when from can be cast safely to the table type to,
// else why not.
func castable(from, to arrow.DataType) string {
	if arrow.TypeEqual(from, to) || from.ID() == arrow.NULL {
		return "" // the null type: all nulls of the table's type (rebuild)
	}
	switch f := from.(type) {
	case *arrow.DictionaryType:
		return castable(f.ValueType, to)
	case *arrow.RunEndEncodedType:
		return castable(f.Encoded(), to)
	case arrow.ExtensionType:
		if convert.IsUUIDType(f) {
			switch to.ID() {
			case arrow.LARGE_STRING:
				if !isVariant(to) {
					return "" // the UUIDs' text (uuidText)
				}
			case arrow.LARGE_BINARY:
				return "" // their 16 bytes
			}
			return convert.UUIDReason
		}
		return castable(f.StorageType(), to)
	case *arrow.ListViewType:
		return castable(arrow.ListOfField(f.ElemField()), to)
	case *arrow.LargeListViewType:
		return castable(arrow.ListOfField(f.ElemField()), to)
	}
	if why := convert.NoEquivalent(from); why != "" {
		return why // the protobuf plan's reason: no cast makes them a table's type
	}
	if isVariant(to) {
		if isJSONText(from) {
			return ""
		}
		if _, ok := from.(*arrow.StructType); !ok {
			return "a VARIANT column takes JSON text (a string column) or struct{metadata, value} binaries in the Variant encoding"
		}
	}
	switch t := to.(type) {
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type:
		tb := t.(arrow.FixedWidthDataType).BitWidth()
		if convert.IsInteger(from) {
			return "" // a value the table's type cannot hold fails its row (narrowInts)
		}
		switch from.(type) {
		case *arrow.Float16Type, *arrow.Float32Type, *arrow.Float64Type:
			return "" // a value not a whole number in the type's range fails its row (floatsToInts)
		case *arrow.Time32Type, *arrow.Time64Type, *arrow.DurationType, *arrow.TimestampType:
			if tb == 64 {
				return "" // microseconds (since the epoch for a timestamp), each value checked for overflow (units)
			}
			return "TIME, DURATION and TIMESTAMP values go to BIGINT columns as int64 microseconds (on both transports); make the table's column BIGINT, or cast the column to an integer type yourself"
		case *arrow.Date32Type, *arrow.Date64Type:
			if tb <= 32 {
				return "" // days since the epoch, each value checked against the table's range (units)
			}
			return "DATE values go to INT, SMALLINT or TINYINT columns as days since the epoch (on both transports); make the table's column INT or DATE, or cast the column to int32 (days) yourself"
		}
	case *arrow.Float32Type:
		switch from.(type) {
		case *arrow.Float16Type:
			return ""
		case *arrow.Float64Type:
			return "" // a finite value beyond FLOAT's range fails its row (narrowFloats)
		}
		if convert.IsInteger(from) {
			return "" // a value the FLOAT does not hold exactly fails its row (intsToFloats)
		}
	case *arrow.Float64Type:
		switch from.(type) {
		case *arrow.Float16Type, *arrow.Float32Type:
			return ""
		}
		if convert.IsInteger(from) {
			return "" // a value the DOUBLE does not hold exactly fails its row (intsToFloats)
		}
	case *arrow.LargeStringType:
		switch from.(type) {
		case *arrow.StringType, *arrow.StringViewType, *arrow.Decimal128Type, *arrow.Decimal256Type, *arrow.Decimal32Type, *arrow.Decimal64Type:
			return ""
		}
	case *arrow.LargeBinaryType:
		switch from.(type) {
		case *arrow.BinaryType, *arrow.BinaryViewType, *arrow.FixedSizeBinaryType:
			return ""
		}
	case *arrow.Date32Type:
		switch from.ID() {
		case arrow.DATE64:
			return ""
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.UINT8, arrow.UINT16:
			return "" // days since the epoch: every value fits a DATE (units)
		case arrow.INT64, arrow.UINT32, arrow.UINT64:
			return "an integer column for a DATE holds days since the epoch and must be int32 or narrower (on both transports); cast the column to int32 or date32"
		}
		return "a DATE column takes date32 or date64 values, or int32 days since the epoch; cast the column to date32"
	case *arrow.TimestampType:
		switch from.(type) {
		case *arrow.TimestampType:
			// A zone other than UTC into TIMESTAMP_NTZ is refused, UTC is
			// sent as its UTC wall clock (units): the protobuf plan's rule.
			return convert.TimestampIntoTable(from, t)
		case *arrow.Time32Type, *arrow.Time64Type, *arrow.DurationType:
			return "" // microseconds, each value checked for overflow (units)
		}
		switch from.ID() {
		case arrow.INT64, arrow.UINT32, arrow.UINT64:
			return "" // microseconds since the epoch; a uint64 over the int64 maximum fails its row (units)
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.UINT8, arrow.UINT16:
			return "an integer column for a TIMESTAMP holds microseconds since the epoch and must be int64 (on both transports); cast the column to int64 or timestamp[us]"
		}
		return "a TIMESTAMP column takes timestamps, TIME or DURATION values, or int64 microseconds since the epoch; cast the column to timestamp[us]"
	case *arrow.ListType:
		var elem arrow.DataType
		switch f := from.(type) {
		case *arrow.ListType, *arrow.LargeListType, *arrow.FixedSizeListType:
			elem = convert.MarkedType(f.(arrow.ListLikeType).ElemField())
		}
		if elem != nil {
			if why := castableField(elem, t.ElemField()); why != "" {
				return "element: " + why
			}
			return ""
		}
	case *arrow.StructType:
		if f, ok := from.(*arrow.StructType); ok {
			// Fields matched by name (rebuildStruct puts them in the
			// table's order, a missing nullable one all nulls).
			src, extra := convert.MatchStruct(f, t)
			if len(extra) > 0 {
				return fmt.Sprintf("field %q is not in the table's STRUCT", f.Field(extra[0]).Name)
			}
			for i, tf := range t.Fields() {
				j := i
				if src != nil {
					j = src[i]
				}
				if j < 0 {
					if !tf.Nullable {
						return fmt.Sprintf("field %q (NOT NULL in the table) is missing from the batch's STRUCT", tf.Name)
					}
					continue
				}
				if why := castableField(convert.MarkedType(f.Field(j)), tf); why != "" {
					return fmt.Sprintf("field %q: %s", tf.Name, why)
				}
			}
			return ""
		}
	case *arrow.MapType:
		if f, ok := from.(*arrow.MapType); ok {
			if f.KeyType().ID() == arrow.NULL {
				return "key: a MAP key cannot be null"
			}
			if why := castableField(convert.MarkedType(f.KeyField()), t.KeyField()); why != "" {
				return "key: " + why
			}
			if why := castableField(convert.MarkedType(f.ItemField()), t.ItemField()); why != "" {
				return "value: " + why
			}
			return ""
		}
	}
	return noSafeCast
}

// noSafeCast is castable's reason when no cast of the type goes; PlanCast
// words it for the column with what to do.
const noSafeCast = "no safe cast"

// Apply returns rec in the table's schema (the caller releases it). Rows
// with a null in a NOT NULL column, a null a protobuf record cannot hold
// (see checkValues), or a value that cannot be encoded (JSON text for a
// VARIANT that does not parse), are left out and listed in row order, the
// column named by its path ("payload.items[1].v"); keep maps the result's
// rows to rec's (nil when every row is kept).
func (c *Caster) Apply(ctx context.Context, rec arrow.RecordBatch) (out arrow.RecordBatch, nulls []NullRow, keep []int, err error) {
	return c.ApplyWith(ctx, memory.DefaultAllocator, rec)
}

// ApplyWith is Apply with the arrays it builds (casts, null columns, the
// filtered result) allocated from mem; columns that need no cast are rec's
// own arrays, retained.
//
// Columns longer than rec.NumRows() (arrow-go allows them) are cut to its
// rows first: only those rows are cast, checked and sent. A panic while
// rec's arrays are read (malformed Arrow data) is returned as an error.
func (c *Caster) ApplyWith(ctx context.Context, mem memory.Allocator, rec arrow.RecordBatch) (out arrow.RecordBatch, nulls []NullRow, keep []int, err error) {
	defer func() {
		if r := recover(); r != nil {
			if out != nil {
				out.Release()
			}
			out, nulls, keep, err = nil, nil, nil, fmt.Errorf("%w: %v", ErrUnreadable, r)
		}
	}()
	if rec, err = FitRows(rec); err != nil {
		return nil, nil, nil, err
	}
	defer rec.Release()
	n := rec.NumRows()
	if c.same && len(c.notNull) == 0 && len(c.checked) == 0 && len(c.decimal) == 0 {
		rec.Retain()
		return rec, nil, nil, nil
	}
	cols := make([]arrow.Array, len(c.cols))
	defer func() {
		for _, a := range cols {
			if a != nil {
				a.Release()
			}
		}
	}()
	ctx = exec.WithAllocator(ctx, mem) // the compute kernels' output
	var unencodable []NullRow          // rows whose value could not be encoded
	for i, p := range c.cols {
		tf := c.target.Field(i)
		switch {
		case p.src < 0:
			cols[i] = nullArray(mem, tf.Type, int(n))
		case !p.cast:
			a := rec.Column(p.src)
			a.Retain()
			cols[i] = a
		case p.uuid:
			cols[i] = uuidText(mem, rec.Column(p.src))
		default:
			a := rec.Column(p.src)
			v, why, err := castTo(ctx, mem, a, tf.Type)
			if err != nil {
				return nil, nil, nil, &CastError{Column: tf.Name, From: a.DataType(), To: tf.Type, Err: err}
			}
			cols[i] = v
			for _, u := range why {
				unencodable = append(unencodable, NullRow{Row: u.i, Column: tf.Name + u.path, Reason: u.reason})
			}
		}
	}
	for _, i := range c.decimal {
		tf := c.table.Field(i)
		from := rec.Column(c.cols[i].src).DataType()
		for _, u := range checkDecimals(cols[i], from, tf) {
			unencodable = append(unencodable, NullRow{Row: u.i, Column: tf.Name + u.path, Reason: u.reason})
		}
		if d, ok := roundDecimalTexts(mem, cols[i].Data(), from, tf); ok {
			cols[i].Release()
			cols[i] = array.MakeFromData(d)
			d.Release()
		}
	}
	for _, i := range c.checked {
		for _, u := range checkValues(cols[i], c.target.Field(i).Type) {
			unencodable = append(unencodable, NullRow{Row: u.i, Column: c.target.Field(i).Name + u.path, Reason: u.reason})
		}
	}
	// Rows that could not be encoded (the first column wins), and rows with
	// nulls in NOT NULL columns; put in row order below.
	var bad []bool
	if len(unencodable) > 0 {
		bad = make([]bool, n)
		for _, u := range unencodable {
			if !bad[u.Row] {
				nulls = append(nulls, u)
			}
			bad[u.Row] = true
		}
	}
	for _, i := range c.notNull {
		a := cols[i]
		if a.NullN() == 0 {
			continue
		}
		if bad == nil {
			bad = make([]bool, n)
		}
		for r := range int(n) {
			if a.IsNull(r) {
				if !bad[r] {
					nulls = append(nulls, NullRow{Row: r, Column: c.target.Field(i).Name, Reason: NullInNotNull})
				}
				bad[r] = true
			}
		}
	}
	if len(unencodable) > 0 {
		slices.SortStableFunc(nulls, func(a, b NullRow) int { return cmp.Compare(a.Row, b.Row) })
	}
	res := array.NewRecordBatch(c.target, cols, n)
	if bad == nil {
		return res, nil, nil, nil
	}
	defer res.Release()
	mb := array.NewBooleanBuilder(mem)
	defer mb.Release()
	keep = make([]int, 0, int(n)-len(nulls))
	for r, b := range bad {
		mb.Append(!b)
		if !b {
			keep = append(keep, r)
		}
	}
	mask := mb.NewBooleanArray()
	defer mask.Release()
	filtered, err := compute.FilterRecordBatch(ctx, res, mask, compute.DefaultFilterOptions())
	if err != nil {
		return nil, nil, nil, fmt.Errorf("zerobus: leaving out rows with nulls in NOT NULL columns: %w", err)
	}
	return filtered, nulls, keep, nil
}

func isDecimal(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return true
	}
	return false
}

// decimalStrings formats a decimal array as large_utf8 ("123.45").
func decimalStrings(mem memory.Allocator, a arrow.Array) arrow.Array {
	b := array.NewLargeStringBuilder(mem)
	defer b.Release()
	b.Reserve(a.Len())
	var buf []byte
	for i := 0; i < a.Len(); i++ {
		if a.IsNull(i) {
			b.AppendNull()
			continue
		}
		buf, _ = convert.AppendDecimalText(buf[:0], a, i)
		b.BinaryBuilder.Append(buf)
	}
	return b.NewArray()
}

// units converts, value by value as the protobuf path does, the arrays
// whose values are time units or days: time32, time64, duration and
// timestamps of any unit to int64 microseconds (BIGINT) or to
// timestamp[us] (TIMESTAMP, TIMESTAMP_NTZ); date64 to days (DATE, or INT,
// SMALLINT, TINYINT); date32 to days in an integer column; integers to a
// DATE (days) or a TIMESTAMP (microseconds) as they are. Finer units round
// down (floor: -1 ns is -1 µs, a date64 of -1 ms is day -1); a value that
// overflows or falls outside the table's type is a bad element (null in
// out, its row left out). ok is false for other conversions (integers into
// integer columns: narrowInts).
func units(mem memory.Allocator, a arrow.Array, to arrow.DataType) (out arrow.Array, bad []badValue, ok bool) {
	var (
		unit string // the source's unit, for the reasons
		at   func(i int) int64
		over func(i int) bool // a uint64 over the int64 maximum
	)
	mul, div := int64(1), int64(1)
	scale := func(u arrow.TimeUnit) {
		unit = u.String()
		switch u {
		case arrow.Second:
			mul = 1_000_000
		case arrow.Millisecond:
			mul = 1_000
		case arrow.Nanosecond:
			div = 1_000
		}
	}
	temporal := true // a time, duration, timestamp or date source
	switch t := a.(type) {
	case *array.Time32:
		scale(t.DataType().(*arrow.Time32Type).Unit)
		at = func(i int) int64 { return int64(t.Value(i)) }
	case *array.Time64:
		scale(t.DataType().(*arrow.Time64Type).Unit)
		at = func(i int) int64 { return int64(t.Value(i)) }
	case *array.Duration:
		scale(t.DataType().(*arrow.DurationType).Unit)
		at = func(i int) int64 { return int64(t.Value(i)) }
	case *array.Timestamp:
		scale(t.DataType().(*arrow.TimestampType).Unit)
		at = func(i int) int64 { return int64(t.Value(i)) }
	case *array.Date64:
		unit, div = "ms", 86_400_000
		at = func(i int) int64 { return int64(t.Value(i)) }
	case *array.Date32:
		unit = "days"
		at = func(i int) int64 { return int64(t.Value(i)) }
	default:
		temporal = false
		at = intValues(a)
		if at == nil {
			return nil, nil, false
		}
		if u, isU64 := a.(*array.Uint64); isU64 {
			over = func(i int) bool { return u.Value(i) > math.MaxInt64 }
		}
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	var what string // the range's name
	var b array.Builder
	var put func(v int64)
	switch tt := to.(type) {
	case *arrow.TimestampType:
		if tt.Unit != arrow.Microsecond || a.DataType().ID() == arrow.DATE32 || a.DataType().ID() == arrow.DATE64 {
			return nil, nil, false
		}
		tb := array.NewTimestampBuilder(mem, tt)
		b, put, what = tb, func(v int64) { tb.UnsafeAppend(arrow.Timestamp(v)) }, "TIMESTAMP microseconds"
	case *arrow.Date32Type:
		if a.DataType().ID() == arrow.DATE32 || temporal && a.DataType().ID() != arrow.DATE64 {
			return nil, nil, false
		}
		lo, hi, what = math.MinInt32, math.MaxInt32, "DATE days"
		db := array.NewDate32Builder(mem)
		b, put = db, func(v int64) { db.UnsafeAppend(arrow.Date32(v)) }
	default:
		ti, isInt := convert.TableIntOf(to)
		if !isInt || !temporal {
			return nil, nil, false
		}
		lo, hi, what = ti.Min, ti.Max, ti.Name
		switch to.ID() {
		case arrow.INT8:
			ib := array.NewInt8Builder(mem)
			b, put = ib, func(v int64) { ib.UnsafeAppend(int8(v)) }
		case arrow.INT16:
			ib := array.NewInt16Builder(mem)
			b, put = ib, func(v int64) { ib.UnsafeAppend(int16(v)) }
		case arrow.INT32:
			ib := array.NewInt32Builder(mem)
			b, put = ib, func(v int64) { ib.UnsafeAppend(int32(v)) }
		default:
			ib := array.NewInt64Builder(mem)
			b, put, what = ib, ib.UnsafeAppend, "int64 microseconds"
		}
	}
	if unit == "" {
		unit = a.DataType().String()
	}
	defer b.Release()
	b.Reserve(a.Len())
	for i := range a.Len() {
		if a.IsNull(i) {
			b.UnsafeAppendBoolToBitmap(false)
			continue
		}
		if over != nil && over(i) {
			bad = append(bad, badValue{i: i, reason: fmt.Sprintf("uint64 value %d is over the int64 maximum %d that a %s holds; filter the row or cast the column", uint64(at(i)), int64(math.MaxInt64), what)})
			b.UnsafeAppendBoolToBitmap(false)
			continue
		}
		v := at(i)
		if mul != 1 && (v > math.MaxInt64/mul || v < math.MinInt64/mul) {
			bad = append(bad, badValue{i: i, reason: fmt.Sprintf("value %d %s overflows int64 microseconds; filter the row or correct the value", v, unit)})
			b.UnsafeAppendBoolToBitmap(false)
			continue
		}
		v *= mul
		if div != 1 {
			q := v / div
			if v%div < 0 {
				q--
			}
			v = q
		}
		if v < lo || v > hi {
			bad = append(bad, badValue{i: i, reason: fmt.Sprintf("value %d %s is outside the %s range; filter the row or correct the value", at(i), unit, what)})
			b.UnsafeAppendBoolToBitmap(false)
			continue
		}
		put(v)
	}
	return b.NewArray(), bad, true
}

// intValues returns the value at i of integer array a as an int64 (a
// uint64 over the int64 maximum wraps: the caller checks it), nil for
// other arrays.
func intValues(a arrow.Array) func(i int) int64 {
	switch t := a.(type) {
	case *array.Int8:
		return func(i int) int64 { return int64(t.Value(i)) }
	case *array.Int16:
		return func(i int) int64 { return int64(t.Value(i)) }
	case *array.Int32:
		return func(i int) int64 { return int64(t.Value(i)) }
	case *array.Int64:
		return t.Value
	case *array.Uint8:
		return func(i int) int64 { return int64(t.Value(i)) }
	case *array.Uint16:
		return func(i int) int64 { return int64(t.Value(i)) }
	case *array.Uint32:
		return func(i int) int64 { return int64(t.Value(i)) }
	case *array.Uint64:
		return func(i int) int64 { return int64(t.Value(i)) }
	}
	return nil
}

// widen returns a string or binary array a as large_utf8 or large_binary
// (to) from offset 0: 64-bit offsets rebased to a's first value, exactly
// one per row plus one, and a's own value bytes, shared (not copied; the
// array keeps a's values buffer). ok is false for other arrays and casts,
// and for offsets out of order or beyond the values (the kernel's errors).
//
// This is what arrow-go's cast kernel does, but for a slice (every chunk of
// a batch but the first): the kernel keeps the slice's offset and sizes the
// new offsets by offset plus length (for the last of ten chunks, ten times
// the chunk's), and the IPC encoder then rebases them into a third buffer.
// Those transient buffers were most of the encoder arena's use above the
// IPC bodies in flight.
func widen(mem memory.Allocator, a arrow.Array, to arrow.DataType) (arrow.Array, bool) {
	var offs []int32
	switch x := a.(type) {
	case *array.FixedSizeBinary:
		if to.ID() != arrow.LARGE_BINARY {
			return nil, false
		}
		return widenFixed(mem, x, to), true
	case *array.String:
		if to.ID() != arrow.LARGE_STRING {
			return nil, false
		}
		offs = x.ValueOffsets()
	case *array.Binary:
		if to.ID() != arrow.LARGE_BINARY {
			return nil, false
		}
		offs = x.ValueOffsets()
	default:
		return nil, false
	}
	d := a.Data()
	n := d.Len()
	vals := d.Buffers()[2]
	if len(offs) != n+1 || offs[0] < 0 || (vals == nil && offs[n] != offs[0]) || (vals != nil && int(offs[n]) > vals.Len()) {
		return nil, false
	}
	ob := memory.NewResizableBuffer(mem)
	defer ob.Release()
	ob.Resize(arrow.Int64Traits.BytesRequired(n + 1))
	out := arrow.Int64Traits.CastFromBytes(ob.Bytes())
	base := offs[0]
	for i, o := range offs {
		if o < base || (i > 0 && o < offs[i-1]) {
			return nil, false
		}
		out[i] = int64(o - base)
	}
	var vb *memory.Buffer
	if vals != nil {
		vb = memory.SliceBuffer(vals, int(base), int(offs[n]-base)) // retains vals
		defer vb.Release()
	}
	nulls := a.NullN() // (the Data's count is unknown in a slice)
	bits, ok := validityFrom0(mem, d, nulls)
	if !ok {
		return nil, false
	}
	if bits != nil {
		defer bits.Release()
	}
	wd := array.NewData(to, n, []*memory.Buffer{bits, ob, vb}, nil, nulls, 0)
	defer wd.Release()
	return array.MakeFromData(wd), true
}

// validityFrom0 returns d's validity bitmap copied to start at offset 0
// (nil when it has no nulls; the caller releases it), or false when d has
// nulls but no bitmap.
func validityFrom0(mem memory.Allocator, d arrow.ArrayData, nulls int) (*memory.Buffer, bool) {
	if nulls == 0 {
		return nil, true
	}
	if d.Buffers()[0] == nil {
		return nil, false
	}
	bits := memory.NewResizableBuffer(mem)
	bits.Resize(int(bitutil.BytesForBits(int64(d.Len()))))
	bitutil.CopyBitmap(d.Buffers()[0].Bytes(), d.Offset(), d.Len(), bits.Bytes(), 0)
	return bits, true
}

// widenFixed returns fixed-size binary a as large_binary (to) from offset
// 0, sharing a's value bytes. arrow-go's cast kernel is not used: it
// dereferences a's validity bitmap when it has none (no nulls, as IPC
// and Parquet readers and Concatenate give them), which crashed the process
// in the kernel's goroutine.
func widenFixed(mem memory.Allocator, a *array.FixedSizeBinary, to arrow.DataType) arrow.Array {
	d := a.Data()
	n := d.Len()
	w := int64(a.DataType().(*arrow.FixedSizeBinaryType).ByteWidth)
	ob := memory.NewResizableBuffer(mem)
	defer ob.Release()
	ob.Resize(arrow.Int64Traits.BytesRequired(n + 1))
	out := arrow.Int64Traits.CastFromBytes(ob.Bytes())
	for i := range out {
		out[i] = int64(i) * w
	}
	var vb *memory.Buffer
	if vals := d.Buffers()[1]; vals != nil && n > 0 {
		vb = memory.SliceBuffer(vals, int(int64(d.Offset())*w), int(int64(n)*w)) // retains vals
		defer vb.Release()
	}
	nulls := a.NullN()
	bits, _ := validityFrom0(mem, d, nulls) // a fixed-size binary with nulls has its bitmap
	if bits != nil {
		defer bits.Release()
	}
	wd := array.NewData(to, n, []*memory.Buffer{bits, ob, vb}, nil, nulls, 0)
	defer wd.Release()
	return array.MakeFromData(wd)
}

// views copies a string_view or binary_view array into large_utf8 or
// large_binary; ok is false for other arrays.
func views(mem memory.Allocator, a arrow.Array) (arrow.Array, bool) {
	switch v := a.(type) {
	case *array.StringView:
		b := array.NewLargeStringBuilder(mem)
		defer b.Release()
		b.Reserve(v.Len())
		for i := 0; i < v.Len(); i++ {
			if v.IsNull(i) {
				b.AppendNull()
			} else {
				b.Append(v.Value(i))
			}
		}
		return b.NewArray(), true
	case *array.BinaryView:
		b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.LargeBinary)
		defer b.Release()
		b.Reserve(v.Len())
		for i := 0; i < v.Len(); i++ {
			if v.IsNull(i) {
				b.AppendNull()
			} else {
				b.Append(v.Value(i))
			}
		}
		return b.NewArray(), true
	}
	return nil, false
}

// castArray is compute.CastArray for a leaf (castTo rebuilds nested arrays
// around their cast leaves); a panic of a kernel becomes an error.
func castArray(ctx context.Context, a arrow.Array, opts *compute.CastOptions) (out arrow.Array, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("the Arrow cast kernel failed: %v", r)
		}
	}()
	return compute.CastArray(ctx, a, opts)
}

// isNested reports whether t has child arrays (struct, list, map, …).
func isNested(t arrow.DataType) bool {
	_, ok := t.(arrow.NestedType)
	return ok
}

// hasDecimalSpec reports whether the table field f, or a field, element,
// key or value inside it, is a DECIMAL whose precision and scale the catalog gave
// (convert.DecimalMeta).
func hasDecimalSpec(f arrow.Field) bool {
	if _, ok := convert.FieldDecimal(f); ok {
		return true
	}
	switch t := f.Type.(type) {
	case *arrow.StructType:
		return slices.ContainsFunc(t.Fields(), hasDecimalSpec)
	case *arrow.MapType:
		return hasDecimalSpec(t.KeyField()) || hasDecimalSpec(t.ItemField())
	case arrow.ListLikeType:
		return hasDecimalSpec(t.ElemField())
	}
	return false
}

// plainType is t without a dictionary, run-end or extension encoding.
func plainType(t arrow.DataType) arrow.DataType { return convert.UnwrapType(t) }

// checkDecimals lists the elements of out (cast to the table field to from
// the caller's type from) whose value was a caller decimal that does not fit
// the DECIMAL(p,s) the table declares there (convert.DecimalFit, the
// protobuf path's rule), or caller text that is not a decimal number or
// does not fit (checkDecimalText), the first per element (a MAP entry's key
// before its value).
func checkDecimals(out arrow.Array, from arrow.DataType, to arrow.Field) []badValue {
	from = plainType(from)
	if d, ok := convert.FieldDecimal(to); ok {
		s, ok := out.(*array.LargeString)
		if ok && (isJSONText(from) || convert.IsNumberIntoDecimal(from)) {
			return checkDecimalText(s, d)
		}
		if !ok || !isDecimal(from) || convert.DecimalAlwaysFits(from, d) {
			return nil
		}
		var bad []badValue
		for i := range s.Len() {
			if s.IsValid(i) {
				if why := convert.DecimalFit([]byte(s.Value(i)), d); why != "" {
					bad = append(bad, badValue{i: i, reason: why})
				}
			}
		}
		return bad
	}
	switch t := to.Type.(type) {
	case *arrow.StructType:
		sa, ok := out.(*array.Struct)
		ft, ok2 := from.(*arrow.StructType)
		if !ok || !ok2 {
			return nil
		}
		src, _ := convert.MatchStruct(ft, t) // as rebuildStruct matched them
		var bad []badValue
		for k, f := range t.Fields() {
			j := k
			if src != nil {
				j = src[k]
			}
			if j < 0 {
				continue // all nulls
			}
			for _, v := range checkDecimals(sa.Field(k), ft.Field(j).Type, f) {
				if sa.IsValid(v.i) {
					bad = append(bad, badValue{i: v.i, path: "." + f.Name + v.path, reason: v.reason})
				}
			}
		}
		slices.SortStableFunc(bad, func(x, y badValue) int { return cmp.Compare(x.i, y.i) })
		return firstPerElement(bad)
	case *arrow.MapType:
		ma, ok := out.(*array.Map)
		fm, ok2 := from.(*arrow.MapType)
		if !ok || !ok2 {
			return nil
		}
		ents := ma.ListValues().(*array.Struct)
		b := checkDecimals(ents.Field(0), fm.KeyType(), t.KeyField())
		for k := range b {
			b[k].path = ".key" + b[k].path
		}
		v := checkDecimals(ents.Field(1), fm.ItemType(), t.ItemField())
		for k := range v {
			v[k].path = ".value" + v[k].path
		}
		return liftElements(ma, append(b, v...))
	case *arrow.ListType:
		la, ok := out.(array.ListLike)
		fl, ok2 := from.(arrow.ListLikeType)
		if !ok || !ok2 {
			return nil
		}
		return liftElements(la, checkDecimals(la.ListValues(), fl.Elem(), t.ElemField()))
	}
	return nil
}

// withoutMeta is t without field metadata (the catalog read's DECIMAL(p,s),
// convert.DecimalMeta) in its fields, elements and values.
func withoutMeta(t arrow.DataType) arrow.DataType {
	switch t := t.(type) {
	case *arrow.StructType:
		fs := slices.Clone(t.Fields())
		for i := range fs {
			fs[i].Type, fs[i].Metadata = withoutMeta(fs[i].Type), arrow.Metadata{}
		}
		return arrow.StructOf(fs...)
	case *arrow.MapType:
		k, v := t.KeyField(), t.ItemField()
		k.Type, k.Metadata = withoutMeta(k.Type), arrow.Metadata{}
		v.Type, v.Metadata = withoutMeta(v.Type), arrow.Metadata{}
		m := arrow.MapOfFields(k, v)
		m.KeysSorted = t.KeysSorted
		return m
	case *arrow.ListType:
		e := t.ElemField()
		e.Type, e.Metadata = withoutMeta(e.Type), arrow.Metadata{}
		return arrow.ListOfField(e)
	}
	return t
}
