package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

func init() {
	register(command{name: "debug", summary: "read debug files (.arrow, .proto) written by the wrapper", run: runDebug})
}

const debugUsage = `usage: zerobus debug read FILE [-format json|table|arrow] [-limit N] [-o OUT]

Reads a debug file written with debug output on:
  {dir}/zerobus/arrow/<table>[-<stamp>-<seq>].arrow   Arrow IPC stream
  {dir}/zerobus/proto/<table>[-<stamp>-<seq>].proto   length-delimited protobuf records;
      the descriptor is read from the .descriptor.pb file beside it.
<table>.<ext> is the active file, <table>-<stamp>-<seq>.<ext> a rotated one.
A second writer of the same table in the same directory (another process,
or another wrapper) writes <table>-<pid>_<n>.<ext> and rotates it to
<table>-<stamp>-<seq>-<pid>_<n>.<ext>.
A file still being written can be read; it shows what has been flushed so far.

Rows the writer had to drop (the disk did not keep up) are recorded in the
sidecar <stem>.drops.jsonl; debug read shows each gap where it happened: a
{"zerobus_gap": {...}} line in json, a "-- gap: ..." line in table (arrow: on
stderr only), and one note on stderr with the total.

Formats:
  json   one JSON object per row (default; protobuf records via protojson)
  table  aligned text columns
  arrow  an Arrow IPC stream (for pyarrow.ipc.open_stream, arrow-go, ...);
         the records of a .proto file become Arrow columns too
`

func runDebug(ctx context.Context, args []string, env Env) error {
	return debugMain(ctx, args, env.Stdout, env.Stderr)
}

func debugMain(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageErrorf("debug", "missing subcommand: read")
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, debugUsage)
		return nil
	case "read":
		if err := debugRead(args[1:], stdout, stderr); err != nil {
			return &inCommand{command: "debug read", err: err}
		}
		return nil
	default:
		msg := fmt.Sprintf("unknown subcommand %q; the only one is read", args[0])
		if strings.HasPrefix(args[0], "-") {
			msg = fmt.Sprintf("%s before the subcommand; flags follow it: zerobus debug read FILE %s", args[0], args[0])
		}
		return usageErrorf("debug", "%s", msg)
	}
}

func debugRead(args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("debug read", debugUsage)
	format := fs.String("format", "json", "output format: json, table or arrow")
	limit := fs.Int("limit", 0, "print at most N rows (0: all)")
	outPath := fs.String("o", "", "write to this file instead of standard output")
	// Flags may come before or after FILE.
	files, err := fs.parse(args, stdout)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return usageErrorf("debug read", "want exactly one FILE, got %d", len(files))
	}
	switch *format {
	case "json", "table", "arrow":
	default:
		return usageErrorf("debug read", "-format %q: must be json, table or arrow", *format)
	}
	if *limit < 0 {
		return usageErrorf("debug read", "-limit %d: must be 0 (all rows) or positive", *limit)
	}
	path := files[0]
	if st, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return usageErrorf("debug read", "%s: no such file", path) // not its descriptor's absence
	} else if err == nil && st.IsDir() {
		return usageErrorf("debug read", "%s is a directory; give a .arrow or .proto file", path)
	}
	kind, err := core.DebugFileKind(path)
	if err != nil {
		return err
	}

	out := stdout
	if *outPath != "" {
		// -o is truncated when opened: it may not be a file the read uses
		// (the file, its descriptor, its drops record).
		if ost, err := os.Stat(*outPath); err == nil {
			for _, used := range core.DebugFilesOf(path) {
				if ist, err := os.Stat(used); err == nil && os.SameFile(ist, ost) {
					what := "the file to read"
					if used != path {
						what = "a file reading " + path + " needs"
					}
					return usageErrorf("debug read", "-o %s is %s (%s); give another output file", *outPath, what, used)
				}
			}
		}
		// Opened at the first write (or at the end of a read that wrote
		// nothing): a read that fails before any output leaves it as it was.
		f := &lazyFile{path: *outPath}
		defer func() {
			if err == nil {
				err = f.open() // an empty output is an empty file
			}
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}()
		out = f
	}

	g, err := core.ReadDebugDrops(path)
	var damaged interface{ DamagedLines() []string }
	if errors.As(err, &damaged) {
		// A damaged line (a short write on a full disk) loses at most its
		// gap's mark: the data file is printed all the same.
		for _, l := range damaged.DamagedLines() {
			fmt.Fprintf(stderr, "note: %s; a gap it recorded may not be shown\n", l)
		}
	} else if err != nil {
		return err
	}
	gaps := &gapMarks{gaps: g, limit: int64(*limit)}
	defer gaps.note(stderr, path)

	switch kind {
	case "arrow":
		// -limit reads only the batches it prints (a large file).
		recs, tail, more, readErr := core.ReadDebugArrowFileRows(path, memory.DefaultAllocator, int64(*limit))
		if more {
			gaps.rows = 1 // rows follow the printed ones: a gap after them is not trailing
		}
		defer func() {
			for _, r := range recs {
				r.Release()
			}
		}()
		defer stillWriting(stderr, path, tail)
		if len(recs) == 0 && readErr != nil {
			return readErr
		}
		if len(recs) == 0 && tail.Schema == nil && *format == "arrow" {
			// No schema to write (a file with one and no batch writes it).
			if tail.StillWriting {
				return fmt.Errorf("%s has no schema yet (its writer has not written one): there is no Arrow stream to write yet; read it again later", path)
			}
			return fmt.Errorf("%s is a file of no byte (a crash right after a rotation can leave one): it holds no schema, so there is no Arrow stream to write", path)
		}
		if err := printBatches(out, *format, tail.Schema, recs, *limit, gaps); err != nil {
			return err
		}
		var read int64
		for _, r := range recs {
			read += r.NumRows()
		}
		if readErr != nil && *limit > 0 && read >= int64(*limit) {
			// The damage is past the rows asked for (read to tell whether
			// more follow): said, not a failure.
			fmt.Fprintf(stderr, "note: the file is damaged after the %d rows printed: %v\n", *limit, readErr)
			return nil
		}
		return readErr // rows before a damaged part were printed
	default: // "proto"
		if *format == "arrow" {
			rec, tail, readErr := core.ReadDebugProtoFileArrowTail(path, memory.DefaultAllocator)
			if rec == nil {
				return readErr
			}
			defer rec.Release()
			defer stillWriting(stderr, path, tail)
			if err := printBatches(out, *format, rec.Schema(), []arrow.RecordBatch{rec}, *limit, gaps); err != nil {
				return err
			}
			return readErr // the records before a damaged part were printed
		}
		return printProto(out, stderr, *format, path, *limit, gaps)
	}
}

// lazyFile is the -o file, created (or truncated) at the first Write.
type lazyFile struct {
	path string
	f    *os.File
	err  error
}

func (l *lazyFile) open() error {
	if l.f == nil && l.err == nil {
		l.f, l.err = os.OpenFile(l.path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	}
	return l.err
}

func (l *lazyFile) Write(p []byte) (int, error) {
	if err := l.open(); err != nil {
		return 0, err
	}
	return l.f.Write(p)
}

func (l *lazyFile) Close() error {
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// printProto prints each record as one protojson line (field names as in
// the descriptor) or as a table row. The file is read twice, a record at a
// time (a file larger than memory can be read): the first pass counts the
// records and checks that those to print decode, so that one that does not
// is an error before any output; the second prints them.
func printProto(out, stderr io.Writer, format, path string, limit int, gaps *gapMarks) error {
	recs, err := core.OpenDebugProtoRecords(path)
	if err != nil {
		return err
	}
	defer recs.Close()
	dec, decErr := core.NewDebugRecordDecoder(recs.Descriptor())
	n := 0
	for recs.Next() {
		if decErr == nil && (limit == 0 || n < limit) {
			_, decErr = dec.Decode(n, recs.Record())
		}
		n++
	}
	readErr := recs.Err()
	if n == 0 && readErr != nil {
		return readErr
	}
	defer stillWriting(stderr, path, recs.Tail())
	if gaps != nil {
		gaps.rows = int64(n)
	}
	if decErr != nil {
		// As core.ReadDebugProtoFileArrow says it (-format arrow, Python).
		return fmt.Errorf("%q: %w (the records do not decode with the descriptor %s beside the file: is it another table's?)",
			path, decErr, filepath.Base(strings.TrimSuffix(path, filepath.Ext(path))+".descriptor.pb"))
	}
	if limit > 0 {
		n = min(n, limit)
	}
	each := func(f func(i int, m proto.Message) error) error { return eachRecord(path, recs, dec, n, f) }
	if format == "table" {
		if err := printProtoTable(out, n, each, gaps); err != nil {
			return err
		}
		return readErr
	}
	opts := protojson.MarshalOptions{UseProtoNames: true}
	var buf bytes.Buffer
	err = each(func(i int, m proto.Message) error {
		if err := gaps.jsonBefore(out, int64(i)); err != nil {
			return err
		}
		b, err := opts.Marshal(m)
		if err != nil {
			return err
		}
		// protojson may emit random spaces (it is deliberately unstable); compact it.
		buf.Reset()
		if err := json.Compact(&buf, b); err != nil {
			return err
		}
		buf.WriteByte('\n')
		_, err = out.Write(buf.Bytes())
		return err
	})
	if err != nil {
		return err
	}
	if err := gaps.jsonBefore(out, -1); err != nil {
		return err
	}
	return readErr
}

// eachRecord calls f with each of the first n records of recs (of the file
// at path), read again from the first and decoded with dec (the first pass
// of printProto read and decoded them).
func eachRecord(path string, recs *core.DebugProtoRecords, dec *core.DebugRecordDecoder, n int, f func(i int, m proto.Message) error) error {
	if err := recs.Rewind(); err != nil {
		return err
	}
	changed := func(i int, what string) error { // the first pass read and decoded record i
		return fmt.Errorf("%q: record %d %s: the file changed while it was read; read it again", path, i, what)
	}
	for i := range n {
		if !recs.Next() {
			if err := recs.Err(); err != nil {
				return changed(i, fmt.Sprintf("cannot be read again (%v)", err))
			}
			return changed(i, "is gone")
		}
		m, err := dec.Decode(i, recs.Record())
		if err != nil {
			return changed(i, fmt.Sprintf("no longer decodes (%v)", err))
		}
		if err := f(i, m); err != nil {
			return err
		}
	}
	return nil
}

// stillWriting notes on stderr that the active debug file path ended
// inside a message (or before its schema): its writer is still writing it.
func stillWriting(stderr io.Writer, path string, tail core.DebugTail) {
	if tail.StillWriting {
		fmt.Fprintf(stderr, "note: %s is %s\n", path, tail)
	}
}

// printBatches writes up to limit rows (0: all) of recs in format. schema
// is the file's (nil when it has none): with no batch, -format arrow writes
// it alone (a stream of no batch) and table its header.
func printBatches(out io.Writer, format string, schema *arrow.Schema, recs []arrow.RecordBatch, limit int, gaps *gapMarks) error {
	if len(recs) > 0 {
		schema = recs[0].Schema()
	}
	if format != "arrow" && schema != nil {
		// arrow-go formats a timestamp whose time zone does not load
		// with a nil function (a panic): say so instead.
		for _, f := range schema.Fields() {
			if err := zonesLoad(f.Name, f.Type); err != nil {
				return fmt.Errorf("%w; -format arrow writes the rows unchanged", err)
			}
		}
	}
	// Apply the limit by slicing.
	var sliced []arrow.RecordBatch
	defer func() {
		for _, r := range sliced {
			r.Release()
		}
	}()
	left := int64(limit)
	for _, r := range recs {
		if gaps != nil {
			gaps.rows += r.NumRows()
		}
		if limit > 0 {
			if left == 0 {
				break
			}
			n := min(left, r.NumRows())
			left -= n
			r = r.NewSlice(0, n)
		} else {
			r.Retain()
		}
		sliced = append(sliced, r)
	}

	switch format {
	case "arrow":
		if schema == nil {
			return errors.New("the file holds no schema to write")
		}
		w := ipc.NewWriter(out, ipc.WithSchema(schema))
		for _, r := range sliced {
			if err := w.Write(r); err != nil {
				return err
			}
		}
		return w.Close()
	case "table":
		return printTable(out, schema, sliced, gaps)
	default:
		return printArrowJSON(out, sliced, gaps)
	}
}

// printArrowJSON prints one JSON object per row, keys in column order.
func printArrowJSON(out io.Writer, recs []arrow.RecordBatch, gaps *gapMarks) error {
	var buf bytes.Buffer
	row := int64(0)
	for _, r := range recs {
		fields := r.Schema().Fields()
		for i := 0; i < int(r.NumRows()); i++ {
			if err := gaps.jsonBefore(out, row); err != nil {
				return err
			}
			row++
			buf.Reset()
			buf.WriteByte('{')
			for j, col := range r.Columns() {
				if j > 0 {
					buf.WriteByte(',')
				}
				k, _ := json.Marshal(fields[j].Name)
				v, err := json.Marshal(marshalValue(col, i))
				if err != nil {
					return fmt.Errorf("column %q row %d: %w", fields[j].Name, i, err)
				}
				buf.Write(k)
				buf.WriteByte(':')
				buf.Write(v)
			}
			buf.WriteString("}\n")
			if _, err := out.Write(buf.Bytes()); err != nil {
				return err
			}
		}
	}
	return gaps.jsonBefore(out, -1)
}

// marshalValue is col.GetOneForMarshal(i), with a decimal as its exact text,
// also one nested in a struct, list, map, union, dictionary, run-end
// encoded or extension value (arrow-go formats those as floats: "1e-08").
// A value holding no decimal is arrow-go's, unchanged; one that does is
// built as arrow-go builds it (a struct as an object, a map as a list of
// {"key", "value"} objects, a union as [type code, value]).
func marshalValue(col arrow.Array, i int) any {
	if d, ok := decimalText(col, i); ok {
		return d
	}
	if col.IsNull(i) || !holdsDecimal(col.DataType()) {
		return col.GetOneForMarshal(i)
	}
	switch a := col.(type) {
	case *array.Struct:
		fields := a.DataType().(*arrow.StructType).Fields()
		obj := make(map[string]any, len(fields))
		for j := range fields {
			obj[fields[j].Name] = marshalValue(a.Field(j), i)
		}
		return obj
	case array.ListLike: // list, large list, list view, fixed-size list, map
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		elems := make([]any, 0, end-start)
		for k := start; k < end; k++ {
			elems = append(elems, marshalValue(vals, int(k)))
		}
		return elems
	case *array.Dictionary:
		return marshalValue(a.Dictionary(), a.GetValueIndex(i))
	case *array.RunEndEncoded:
		return marshalValue(a.Values(), a.GetPhysicalIndex(i))
	case *array.SparseUnion:
		return unionValue(a.RawTypeCodes()[i], a.Field(a.ChildID(i)), i)
	case *array.DenseUnion:
		return unionValue(a.RawTypeCodes()[i], a.Field(a.ChildID(i)), int(a.RawValueOffsets()[i]))
	case array.ExtensionArray:
		return marshalValue(a.Storage(), i)
	}
	return col.GetOneForMarshal(i)
}

// unionValue is a union's value as arrow-go marshals it: [type code, value]
// of row i of its child, nil when that is null.
func unionValue(code arrow.UnionTypeCode, child arrow.Array, i int) any {
	if child.IsNull(i) {
		return nil
	}
	return []any{code, marshalValue(child, i)}
}

// holdsDecimal reports whether values of type dt are or hold a decimal.
func holdsDecimal(dt arrow.DataType) bool {
	switch dt := dt.(type) {
	case arrow.DecimalType:
		return true
	case *arrow.DictionaryType:
		return holdsDecimal(dt.ValueType)
	case arrow.ExtensionType:
		return holdsDecimal(dt.StorageType())
	case arrow.NestedType:
		for _, f := range dt.Fields() {
			if holdsDecimal(f.Type) {
				return true
			}
		}
	}
	return false
}

// decimalText is the exact text of the decimal at row i of col, with all
// digits of its scale ("1.10000000", as the protobuf debug file has it);
// arrow-go formats a decimal as a float ("1.1", "1e-08"). ok is false for a
// null or for another type.
func decimalText(col arrow.Array, i int) (string, bool) {
	if col.IsNull(i) {
		return "", false
	}
	dt, ok := col.DataType().(arrow.DecimalType)
	if !ok {
		return "", false
	}
	scale := dt.GetScale()
	switch a := col.(type) {
	case *array.Decimal32:
		return a.Value(i).ToString(scale), true
	case *array.Decimal64:
		return a.Value(i).ToString(scale), true
	case *array.Decimal128:
		return a.Value(i).ToString(scale), true
	case *array.Decimal256:
		return a.Value(i).ToString(scale), true
	}
	return "", false
}

// valueText is the text of the valid value at row i of col in a table: a
// decimal's exact text, a nested value holding a decimal as the JSON of
// marshalValue (its decimals exact), anything else as arrow-go's ValueStr.
func valueText(col arrow.Array, i int) string {
	if d, ok := decimalText(col, i); ok {
		return d
	}
	if holdsDecimal(col.DataType()) {
		if b, err := json.Marshal(marshalValue(col, i)); err == nil {
			return string(b)
		}
	}
	return col.ValueStr(i)
}

// printTable prints aligned columns; a schema change starts a new header.
// With no batch, the header is schema's (nil: nothing).
func printTable(out io.Writer, schema *arrow.Schema, recs []arrow.RecordBatch, gaps *gapMarks) error {
	const maxCell = 60
	tw := tabwriter.NewWriter(&gapLineWriter{w: out}, 0, 4, 2, ' ', 0)
	var last *arrow.Schema
	header := func(sc *arrow.Schema) {
		if last != nil {
			fmt.Fprintln(tw)
		}
		names := make([]string, sc.NumFields())
		for j, f := range sc.Fields() {
			names[j] = cell(f.Name, maxCell) // escaped as the cells are
		}
		fmt.Fprintln(tw, strings.Join(names, "\t"))
		last = sc
	}
	if len(recs) == 0 && schema != nil {
		header(schema)
	}
	row := int64(0)
	for _, r := range recs {
		if last == nil || !last.Equal(r.Schema()) {
			header(r.Schema())
		}
		for i := 0; i < int(r.NumRows()); i++ {
			gaps.textBefore(tw, row, int(r.NumCols()))
			row++
			cells := make([]string, r.NumCols())
			for j, col := range r.Columns() {
				c := "null"
				if col.IsValid(i) {
					c = valueText(col, i)
				}
				cells[j] = cell(c, maxCell)
			}
			fmt.Fprintln(tw, strings.Join(cells, "\t"))
		}
	}
	ncols := 0
	if last != nil {
		ncols = len(last.Fields())
	}
	gaps.textBefore(tw, -1, ncols)
	return tw.Flush()
}

// printProtoTable prints one column per top-level field of the n records
// each gives (nested values as compact protojson; lists as [a, b], maps as
// {k: v}).
func printProtoTable(out io.Writer, n int, each func(func(int, proto.Message) error) error, gaps *gapMarks) error {
	if n == 0 {
		gaps.textBefore(out, -1, 0)
		return nil
	}
	const maxCell = 60
	tw := tabwriter.NewWriter(&gapLineWriter{w: out}, 0, 4, 2, ' ', 0)
	var fds protoreflect.FieldDescriptors
	err := each(func(i int, m proto.Message) error {
		if i == 0 {
			fds = m.ProtoReflect().Descriptor().Fields()
			names := make([]string, fds.Len())
			for j := range names {
				names[j] = cell(string(fds.Get(j).Name()), maxCell)
			}
			fmt.Fprintln(tw, strings.Join(names, "\t"))
		}
		gaps.textBefore(tw, int64(i), fds.Len())
		cells := make([]string, fds.Len())
		for j := range cells {
			cells[j] = cell(protoValueText(m.ProtoReflect(), fds.Get(j)), maxCell)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
		return nil
	})
	if err != nil {
		return err
	}
	gaps.textBefore(tw, -1, fds.Len())
	return tw.Flush()
}

func protoValueText(m protoreflect.Message, fd protoreflect.FieldDescriptor) string {
	if !fd.IsList() && !fd.IsMap() && fd.HasPresence() && !m.Has(fd) {
		return "null"
	}
	// Get of an unset list or map is a read-only empty value: it is only
	// read here, never set into another message.
	v := m.Get(fd)
	switch {
	case fd.IsList():
		l := v.List()
		elems := make([]string, l.Len())
		for i := range elems {
			elems[i] = protoElemText(fd, l.Get(i))
		}
		return "[" + strings.Join(elems, ", ") + "]"
	case fd.IsMap():
		type entry struct{ k, v string }
		var entries []entry
		v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
			entries = append(entries, entry{protoElemText(fd.MapKey(), k.Value()), protoElemText(fd.MapValue(), mv)})
			return true
		})
		slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.k, b.k) })
		parts := make([]string, len(entries))
		for i, e := range entries {
			parts[i] = e.k + ": " + e.v
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case fd.Kind() == protoreflect.StringKind:
		return v.String()
	default:
		return protoElemText(fd, v)
	}
}

// protoElemText formats one value of field fd (an element of a list or a
// map, or a singular value): strings quoted, bytes in hex, enums by name,
// messages in compact protojson.
func protoElemText(fd protoreflect.FieldDescriptor, v protoreflect.Value) string {
	switch {
	case fd.Message() != nil:
		b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(v.Message().Interface())
		if err != nil {
			return "<" + err.Error() + ">"
		}
		// protojson may emit random spaces (it is deliberately unstable); compact it.
		var buf bytes.Buffer
		if json.Compact(&buf, b) != nil {
			return string(b)
		}
		return buf.String()
	case fd.Kind() == protoreflect.StringKind:
		return strconv.Quote(v.String())
	case fd.Kind() == protoreflect.BytesKind:
		return fmt.Sprintf("%x", v.Bytes())
	case fd.Enum() != nil:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name())
		}
		return fmt.Sprint(int32(v.Enum()))
	default:
		return v.String()
	}
}

func cell(c string, maxLen int) string {
	c = strings.NewReplacer("\t", `\t`, "\n", `\n`, "\x00", `\x00`).Replace(c)
	if len(c) > maxLen {
		c = c[:maxLen-3] + "..."
	}
	return c
}

// gapMarks shows the gaps recorded in a debug file's drops sidecar where
// they happened: before the row printed next (BeforeRow), or after the last
// one. A nil *gapMarks shows nothing.
type gapMarks struct {
	gaps  []core.DebugGap
	next  int   // gaps[:next] are shown
	limit int64 // -limit (0: all rows)
	rows  int64 // rows read from the file
}

// due returns the gaps to show before row (-1: after the last printed row;
// trailing gaps are shown only when every row read was printed).
func (g *gapMarks) due(row int64) []core.DebugGap {
	if g == nil {
		return nil
	}
	from := g.next
	for g.next < len(g.gaps) {
		b := g.gaps[g.next].BeforeRow
		if row >= 0 && b > row || row < 0 && g.limit > 0 && g.limit < g.rows && b >= g.limit {
			break
		}
		g.next++
	}
	return g.gaps[from:g.next]
}

// jsonBefore writes {"zerobus_gap": {...}} lines for the gaps due before row.
func (g *gapMarks) jsonBefore(out io.Writer, row int64) error {
	for _, gap := range g.due(row) {
		b, err := json.Marshal(map[string]core.DebugGap{"zerobus_gap": gap})
		if err != nil {
			return err
		}
		if _, err := out.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// textBefore writes one "-- gap: ..." line for each gap due before row.
// In a table of ncols columns (0: plain text) the line is written as the
// trailing cell of a row of empty cells, marked with a NUL (cells never hold
// one: cell escapes it), so the columns around it stay aligned;
// gapLineWriter prints the text alone.
func (g *gapMarks) textBefore(out io.Writer, row int64, ncols int) {
	prefix := ""
	if ncols > 0 {
		prefix = strings.Repeat("\t", ncols-1) + "\x00"
	}
	for _, gap := range g.due(row) {
		fmt.Fprintf(out, "%s-- gap: %s rows dropped here (%s writes, %s bytes; %s) --\n", prefix,
			thousands(gap.DroppedRows), thousands(gap.DroppedWrites), thousands(gap.DroppedBytes), gap.Reason)
	}
}

// gapLineWriter passes a tabwriter's output on, replacing each line that
// holds a NUL by the text after it (the gap lines of textBefore).
type gapLineWriter struct {
	w       io.Writer
	partial []byte
}

func (g *gapLineWriter) Write(p []byte) (int, error) {
	g.partial = append(g.partial, p...)
	var out []byte
	for {
		i := bytes.IndexByte(g.partial, '\n')
		if i < 0 {
			break
		}
		line := g.partial[:i+1]
		if j := bytes.IndexByte(line, 0); j >= 0 {
			line = line[j+1:]
		}
		out = append(out, line...)
		g.partial = g.partial[i+1:]
	}
	if len(g.partial) == 0 {
		g.partial = nil
	}
	if _, err := g.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// note prints one line on stderr when rows are missing from the file.
func (g *gapMarks) note(stderr io.Writer, path string) {
	if g == nil || len(g.gaps) == 0 {
		return
	}
	var rows int64
	var reasons []string
	for _, gap := range g.gaps {
		rows += gap.DroppedRows
		for _, r := range strings.Split(gap.Reason, "; ") {
			if r != "" && !slices.Contains(reasons, r) {
				reasons = append(reasons, r)
			}
		}
	}
	gapWord := "gaps"
	if len(g.gaps) == 1 {
		gapWord = "gap"
	}
	stem := strings.TrimSuffix(path, filepath.Ext(path))
	fmt.Fprintf(stderr, "note: %s rows are missing from %s (%d %s: %s; the writer dropped them, see %s.drops.jsonl)\n",
		thousands(rows), path, len(g.gaps), gapWord, strings.Join(reasons, ", "), stem)
}

// zonesLoad checks that every timestamp in the column path of type dt
// (nested ones too) has a time zone this machine can load (a damaged file,
// or a zone missing from the tz database here).
func zonesLoad(path string, dt arrow.DataType) error {
	switch dt := dt.(type) {
	case *arrow.TimestampType:
		if _, err := dt.GetZone(); err != nil {
			return fmt.Errorf("column %q: the time zone %q of its timestamps does not load here: %v", path, dt.TimeZone, err)
		}
	case *arrow.DictionaryType:
		return zonesLoad(path, dt.ValueType)
	case arrow.ExtensionType:
		return zonesLoad(path, dt.StorageType())
	case arrow.NestedType:
		for _, f := range dt.Fields() {
			if err := zonesLoad(path+"."+f.Name, f.Type); err != nil {
				return err
			}
		}
	}
	return nil
}
