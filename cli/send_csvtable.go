package cli

// CSV columns read as the target table's column types (-csv-types).
//
// With -csv-types auto (the default) send asks Unity Catalog for the
// table's columns (core.Wrapper.TableSchema: the engine's own Unity Catalog
// -> Arrow mapping) the first time a CSV input is opened, and reads each CSV
// column as its table column's type; when the columns cannot be read (no
// such table yet, the catalog refused or is unreachable, -dry-run) the types
// are inferred from the rows as before. Which one was used is said once on
// stderr. -csv-types table insists on the table's types (an error when they
// cannot be read), infer always infers, strings reads every column as text
// (-csv-strings is its alias).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// The values of -csv-types.
const (
	csvTypesAuto    = "auto"
	csvTypesTable   = "table"
	csvTypesInfer   = "infer"
	csvTypesStrings = "strings"
)

// errNoCatalogDryRun: a dry run contacts nothing, so the table's columns are
// not read.
var errNoCatalogDryRun = errors.New("a dry run (-dry-run, zerobus_writer_disabled) contacts nothing")

// csvTableTypes gives the table's Arrow schema to every CSV input of a run,
// read once (lazily, when the first CSV input is opened); nil (the types
// are inferred) with -csv-types infer or strings, or, with auto, when the
// table's columns cannot be read.
type csvTableTypes struct {
	mode  string // csvTypesAuto or csvTypesTable
	table string
	// ctx is the lookup's: the first interrupt ends it.
	ctx context.Context
	// dryRun: nothing is contacted, the types are inferred.
	dryRun bool
	// wrapper is the send's Wrapper (runWrapper.get), made by the first
	// call: the table's columns are read with it, so that the send uses
	// the token and the catalog's answer the lookup got.
	wrapper   func() (*core.Wrapper, error)
	inferRows int
	note      io.Writer // stderr; nil with -quiet

	once   sync.Once
	schema *arrow.Schema
	err    error

	mu    sync.Mutex
	noted map[string]bool // the notes already written (an input is opened twice: checked, then sent)
}

// tableSchema returns the table's schema (nil: infer the types), or the
// error of -csv-types table when it cannot be read.
func (c *csvTableTypes) tableSchema() (*arrow.Schema, error) {
	if c == nil {
		return nil, nil
	}
	c.once.Do(c.resolve)
	return c.schema, c.err
}

func (c *csvTableTypes) resolve() {
	var s *arrow.Schema
	err := errNoCatalogDryRun
	if !c.dryRun {
		w, werr := c.wrapper()
		if werr != nil {
			return // the send reports it when it wants the Wrapper, by the names that set it (configError)
		}
		s, err = w.TableSchema(c.ctx)
	}
	switch {
	case err == nil:
		c.schema = s
		c.say("zerobus send: CSV columns are read as the column types of table %s (from Unity Catalog); "+
			"-csv-types infer infers them from the rows instead\n", c.table)
		return
	case c.mode == csvTypesTable && errors.Is(err, core.ErrNoTableSchema):
		c.err = fmt.Errorf("-csv-types table: %s; send with -csv-types infer to infer the CSV column types from "+
			"the rows", csvTableUnread(c.table, err))
		return
	case c.mode == csvTypesTable:
		c.err = fmt.Errorf("-csv-types table: the columns of table %s cannot be read: %w; send with -csv-types infer "+
			"to infer the CSV column types from the rows", c.table, err)
		return
	}
	c.say("zerobus send: CSV column types are inferred from the first %d rows: %s\n", c.inferRows, csvTableUnread(c.table, err))
}

// csvTableUnread says why the columns of table were not read (err), the
// engine's words when it says them (ErrNoTableSchema names the table).
func csvTableUnread(table string, err error) string {
	if errors.Is(err, core.ErrNoTableSchema) {
		return strings.TrimPrefix(err.Error(), "zerobus: ")
	}
	return fmt.Sprintf("the columns of table %s cannot be read: %v", table, err)
}

// say writes a note to stderr once (not with -quiet).
func (c *csvTableTypes) say(format string, args ...any) {
	if c.note == nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.noted[msg] {
		return
	}
	if c.noted == nil {
		c.noted = map[string]bool{}
	}
	c.noted[msg] = true
	fmt.Fprint(c.note, msg)
}

// newCSVTableTypes is the -csv-types lookup of a run sending to cfg's
// table (nil for infer and strings), on ctx. The table's columns are read
// by the send's Wrapper, which wrapper makes (or returns) when the first
// CSV input is opened: one token request and one catalog read per run.
func newCSVTableTypes(ctx context.Context, mode string, cfg core.Config, inferRows int, note io.Writer,
	wrapper func() (*core.Wrapper, error)) *csvTableTypes {
	if mode != csvTypesAuto && mode != csvTypesTable {
		return nil
	}
	return &csvTableTypes{mode: mode, table: cfg.TableName, ctx: ctx, dryRun: cfg.WriterDisabled, wrapper: wrapper,
		inferRows: inferRows, note: note}
}

// csvTableCols is how a CSV file's columns map to the table's: the Arrow
// type each is read as and the table type it is named by in messages.
type csvTableCols struct {
	table    string
	types    []arrow.DataType // per CSV column
	sqlTypes []string         // per CSV column: "BIGINT", "DECIMAL(10,2)"
}

// matchCSVTable maps the CSV header to the table's columns (names match
// case-insensitively, as Unity Catalog's do). A CSV column the table lacks,
// or a NOT NULL table column the CSV lacks, is an error naming them; the
// nullable table columns the CSV lacks are named in a note (stored as null).
// inferred are the types inferred from the sample rows: a BIGINT column
// whose sampled cells are all timestamps is read as timestamps, an INT
// column of dates as dates, which the engine casts to the integers the
// protobuf wire carries (microseconds, days since the epoch), as when the
// types were inferred: a table created by a protobuf stream (the local
// server's auto-created tables) describes its TIMESTAMP and DATE columns so.
func (c *csvTableTypes) matchCSVTable(path string, header []string, inferred []arrow.DataType, s *arrow.Schema) (*csvTableCols, error) {
	byName := make(map[string]int, s.NumFields())
	for i, f := range s.Fields() {
		byName[strings.ToLower(f.Name)] = i
	}
	tc := &csvTableCols{table: c.table, types: make([]arrow.DataType, len(header)), sqlTypes: make([]string, len(header))}
	used := make([]int, s.NumFields()) // 1 + the CSV column naming each table column
	var extra, twice, nested []string
	for i, h := range header {
		j, ok := byName[strings.ToLower(h)]
		if !ok {
			extra = append(extra, strconv.Quote(h))
			continue
		}
		if used[j] != 0 {
			twice = append(twice, fmt.Sprintf("CSV columns %q and %q both name table column %q (names are case-insensitive): keep one",
				header[used[j]-1], h, s.Field(j).Name))
			continue
		}
		used[j] = i + 1
		f := s.Field(j)
		if nestedColumn(f.Type) {
			nested = append(nested, fmt.Sprintf("CSV column %q goes into table column %q of type %s, which a CSV cell does "+
				"not hold: send those rows as Arrow IPC or Parquet, or remove the column", h, f.Name, f.Type))
			continue
		}
		tc.types[i], tc.sqlTypes[i] = csvReadType(f)
		if i < len(inferred) {
			switch {
			case f.Type.ID() == arrow.INT64 && inferred[i].ID() == arrow.TIMESTAMP,
				f.Type.ID() == arrow.INT32 && inferred[i].ID() == arrow.DATE32:
				tc.types[i] = inferred[i]
				tc.sqlTypes[i] += fmt.Sprintf(" (read as %s, as its first rows are)", inferred[i])
			}
		}
	}
	var notNull, nullable []string
	for j, f := range s.Fields() {
		switch {
		case used[j] != 0:
		case f.Nullable:
			nullable = append(nullable, strconv.Quote(f.Name))
		default:
			notNull = append(notNull, strconv.Quote(f.Name))
		}
	}
	problems := append(twice, nested...)
	if len(extra) > 0 {
		problems = append(problems, fmt.Sprintf("CSV %s %s %s not in table %s (its columns: %s): rename %s to the table's "+
			"column names (case does not matter) or remove %s",
			pick(len(extra), "column", "columns"), strings.Join(extra, ", "), isAre(len(extra)), c.table, columnNames(s),
			pick(len(extra), "it", "them"), pick(len(extra), "it", "them")))
	}
	if len(notNull) > 0 {
		problems = append(problems, fmt.Sprintf("table %s's NOT NULL %s %s %s missing from the CSV header: add %s",
			c.table, pick(len(notNull), "column", "columns"), strings.Join(notNull, ", "), isAre(len(notNull)), pick(len(notNull), "it", "them")))
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "; "))
	}
	if len(nullable) > 0 {
		c.say("zerobus send: %s: table %s's %s %s %s not in the CSV header: stored as null\n",
			inputName(path), c.table, pick(len(nullable), "column", "columns"), strings.Join(nullable, ", "), isAre(len(nullable)))
	}
	return tc, nil
}

// csvReadType is the Arrow type a CSV column going into table column f is
// read as, and the table's type name for messages. f's type is the
// engine's (core.Wrapper.TableSchema); a DECIMAL(p,s), sent as text, is
// read as decimal128(p,s) so that a value that is not a number, or too
// large for the column, is an error naming its cell. A column type a CSV
// VARIANT is read as text (JSON), which the engine's cast encodes;
// ARRAY, MAP and STRUCT columns are refused before (nestedColumn).
func csvReadType(f arrow.Field) (arrow.DataType, string) {
	if ps, ok := f.Metadata.GetValue(core.DecimalMetadataKey); ok {
		p, s, _ := strings.Cut(ps, ",")
		pi, err1 := strconv.Atoi(p)
		si, err2 := strconv.Atoi(s)
		if err1 == nil && err2 == nil && pi >= 1 && pi <= 38 && si >= 0 && si <= pi {
			return &arrow.Decimal128Type{Precision: int32(pi), Scale: int32(si)}, fmt.Sprintf("DECIMAL(%d,%d)", pi, si)
		}
		return arrow.BinaryTypes.String, "DECIMAL(" + ps + ")"
	}
	switch t := f.Type.(type) {
	case *arrow.StringType, *arrow.LargeStringType:
		return arrow.BinaryTypes.String, "STRING"
	case *arrow.Int8Type:
		return t, "TINYINT"
	case *arrow.Int16Type:
		return t, "SMALLINT"
	case *arrow.Int32Type:
		return t, "INT"
	case *arrow.Int64Type:
		return t, "BIGINT"
	case *arrow.Float32Type:
		return t, "FLOAT"
	case *arrow.Float64Type:
		return t, "DOUBLE"
	case *arrow.BooleanType:
		return t, "BOOLEAN"
	case *arrow.Date32Type:
		return t, "DATE"
	case *arrow.TimestampType:
		if t.TimeZone == "" {
			return t, "TIMESTAMP_NTZ"
		}
		return t, "TIMESTAMP"
	case *arrow.BinaryType, *arrow.LargeBinaryType:
		return arrow.BinaryTypes.Binary, "BINARY (base64)"
	}
	return arrow.BinaryTypes.String, f.Type.String()
}

// nestedColumn reports an ARRAY, MAP or STRUCT table column (a VARIANT,
// struct{metadata, value: large_binary}, takes JSON text and is not one).
func nestedColumn(dt arrow.DataType) bool {
	switch t := dt.(type) {
	case arrow.ListLikeType:
		return true
	case *arrow.StructType:
		return !(t.NumFields() == 2 && t.Field(0).Name == "metadata" && t.Field(1).Name == "value" &&
			arrow.TypeEqual(t.Field(0).Type, arrow.BinaryTypes.LargeBinary) && arrow.TypeEqual(t.Field(1).Type, arrow.BinaryTypes.LargeBinary))
	}
	return false
}

// columnNames lists s's column names, quoted, the first 20.
func columnNames(s *arrow.Schema) string {
	names := make([]string, 0, min(s.NumFields(), 20))
	for i, f := range s.Fields() {
		if i == 20 {
			names = append(names, fmt.Sprintf("and %d more", s.NumFields()-20))
			break
		}
		names = append(names, strconv.Quote(f.Name))
	}
	return strings.Join(names, ", ")
}

func pick(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func isAre(n int) string { return pick(n, "is", "are") }

// sampleFallback: under -csv-types auto, a column of the CSV file at path
// whose sampled cells (the first sample data rows) do not all read as the
// table's type, but all read as a number, time or date (the type inferred
// from them), is read as that type, as -csv-types infer reads it, and the
// engine casts it as it then does: epoch integers into a TIMESTAMP, "1.0"
// into a BIGINT. A note names each such column. Cells inferred as text
// ("12.x", "2024-13-01") stay refused naming the cell, and so does a
// DECIMAL column (read as a float it would lose its exact digits); only
// -csv-types table reads every column as the table's type.
func (c *csvTableTypes) sampleFallback(path string, header []string, inferred []arrow.DataType, tc *csvTableCols, sample int) {
	if c == nil || c.mode != csvTypesAuto {
		return
	}
	for _, i := range csvSampleMisfits(path, tc.types, sample) {
		if i >= len(inferred) || inferred[i] == nil || arrow.TypeEqual(inferred[i], tc.types[i]) {
			continue
		}
		switch inferred[i].ID() {
		case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY, arrow.NULL:
			continue
		}
		switch tc.types[i].ID() {
		case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
			continue
		}
		c.say("zerobus send: %s: CSV column %q is read as %s, as its first rows are: not every one of them reads as "+
			"table %s's %s column (-csv-types table reads it so, and names the cell)\n",
			inputName(path), header[i], inferred[i], c.table, tc.sqlTypes[i])
		tc.types[i] = inferred[i]
		tc.sqlTypes[i] += fmt.Sprintf(" (read as %s, as its first rows are)", inferred[i])
	}
}

// csvSampleMisfits returns the columns of the CSV file at path having a
// cell in the first sample data rows that does not read as its type in
// types (csvMisfits); none when the file cannot be read.
func csvSampleMisfits(path string, types []arrow.DataType, sample int) []int {
	misfit := make([]bool, len(types))
	var cols []int
	csvFileMisfits(path, types, 0, int64(sample), func(c csvCell) bool {
		if !misfit[c.col] {
			misfit[c.col] = true
			cols = append(cols, c.col)
		}
		return true
	})
	return cols
}
