package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// The demo data: three batches of rowsPerBatch rows; row badRow of batch
// badBatch has a views value over the int64 range, which the protobuf int64
// field cannot hold, so that one row fails conversion.
const (
	numBatches   = 3
	rowsPerBatch = 4
	badBatch     = 1 // 0-based
	badRow       = 1 // 0-based, within the batch
	badColumn    = "views"
)

// demoSchema mixes scalar, temporal, decimal, list and struct columns.
var demoSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "event", Type: arrow.BinaryTypes.String},
	{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
	{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "ok", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "views", Type: arrow.PrimitiveTypes.Uint64},
	{Name: "price", Type: &arrow.Decimal128Type{Precision: 9, Scale: 2}, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	{Name: "place", Type: arrow.StructOf(
		arrow.Field{Name: "city", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "zip", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	), Nullable: true},
}, nil)

// demoBatch builds batch number b (0-based).
func demoBatch(mem memory.Allocator, b int) arrow.RecordBatch {
	events := []string{"signup", "login", "purchase", "logout"}
	cities := []string{"Oslo", "Lima", "Pune", "Kyiv"}
	base := time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	rb := array.NewRecordBuilder(mem, demoSchema)
	defer rb.Release()
	for r := 0; r < rowsPerBatch; r++ {
		id := b*rowsPerBatch + r
		rb.Field(0).(*array.Int64Builder).Append(int64(1000 + id))
		rb.Field(1).(*array.StringBuilder).Append(events[id%len(events)])
		rb.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(base.Add(time.Duration(id) * time.Minute).UnixMicro()))
		if id%3 == 2 {
			rb.Field(3).AppendNull()
		} else {
			rb.Field(3).(*array.Float64Builder).Append(float64(id) * 12.5)
		}
		rb.Field(4).(*array.BooleanBuilder).Append(id%2 == 0)
		views := uint64(id * 7)
		if b == badBatch && r == badRow {
			views = math.MaxUint64 // over the int64 maximum
		}
		rb.Field(5).(*array.Uint64Builder).Append(views)
		if id%4 == 3 {
			rb.Field(6).AppendNull()
		} else {
			price, _ := decimal128.FromString(fmt.Sprintf("%d.%02d", 10+id, id*7%100), 9, 2)
			rb.Field(6).(*array.Decimal128Builder).Append(price)
		}
		lb := rb.Field(7).(*array.ListBuilder)
		lb.Append(true)
		for t := 0; t < id%3; t++ {
			lb.ValueBuilder().(*array.StringBuilder).Append(fmt.Sprintf("t%d", t))
		}
		sb := rb.Field(8).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.StringBuilder).Append(cities[id%len(cities)])
		sb.FieldBuilder(1).(*array.Int32Builder).Append(int32(1000 + id))
	}
	return rb.NewRecordBatch()
}

type demo struct {
	out      io.Writer
	debugDir string
}

func (d *demo) section(title string) {
	fmt.Fprintf(d.out, "\n== %s\n", title)
}

func (d *demo) run(ctx context.Context) (err error) {
	start := time.Now()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())

	d.section("1. Local Zerobus server")
	srv, err := zerobuslocal.Start(ctx, zerobuslocal.Options{})
	if err != nil {
		return fmt.Errorf("starting the local server: %w", err)
	}
	defer func() {
		if cerr := srv.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing the local server: %w", cerr)
		}
	}()
	fmt.Fprintf(d.out, "gRPC endpoint  %s\nworkspace URL  %s (OAuth token endpoint)\n", srv.Endpoint(), srv.WorkspaceURL())

	d.section("2. Wrapper: debug files and an OpenTelemetry meter provider")
	cfg := core.DefaultConfig()
	cfg.Endpoint, cfg.UnityCatalogURL = srv.Endpoint(), srv.WorkspaceURL()
	cfg.ClientID, cfg.ClientSecret = srv.ClientID(), srv.ClientSecret()
	cfg.TableName = demoTable
	cfg.DebugEnabled = true
	cfg.DebugOutputDir = d.debugDir
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.WithoutCancel(ctx))
	w, err := core.New(ctx, cfg, core.WithMeterProvider(mp))
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			w.Close(ctx)
		}
	}()
	fmt.Fprintf(d.out, "table %s, debug files under %s\n", cfg.TableName, d.debugDir)

	d.section(fmt.Sprintf("3. Sending %d batches of %d rows", numBatches, rowsPerBatch))
	fmt.Fprintf(d.out, "schema: %s\n", schemaLine(demoSchema))
	var sent, failed int
	var failures []string
	for b := 0; b < numBatches; b++ {
		rec := demoBatch(mem, b)
		res, _ := w.SendBatch(ctx, rec) // res is never nil; its Err is the error
		rec.Release()
		fmt.Fprintf(d.out, "batch %d: %s\n", b+1, batchSummary(res))
		sent += res.SuccessfulCount
		failed += res.FailedCount
		for _, fr := range res.FailedRows { // one line per failed row
			var ce *core.ConversionError
			if errors.As(fr.Err, &ce) {
				fmt.Fprintf(d.out, "  failed row %d: column %q: %s\n", fr.Index, ce.Column, ce.Reason)
				failures = append(failures, fmt.Sprintf("%d/%d/%s", b, fr.Index, ce.Column))
			} else {
				fmt.Fprintf(d.out, "  failed row %d: [%s] %s\n", fr.Index, core.KindOf(fr.Err), errorText(fr.Err))
				failures = append(failures, fmt.Sprintf("%d/%d/?", b, fr.Index))
			}
		}
	}
	if want := fmt.Sprintf("%d/%d/%s", badBatch, badRow, badColumn); len(failures) != 1 || failures[0] != want {
		return fmt.Errorf("failed rows %v; the demo expects exactly batch %d row %d column %q to fail", failures, badBatch+1, badRow, badColumn)
	}
	if err := w.Close(ctx); err != nil { // flushes the streams and the debug files
		return fmt.Errorf("closing the wrapper: %w", err)
	}
	closed = true
	fmt.Fprintf(d.out, "total: %d rows acknowledged, %d failed\n", sent, failed)

	d.section("4. Rows the server stored")
	stored, err := srv.ArrowBatch(demoTable, mem)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "server stored %d rows in %s (the table's protobuf types: decimals as text, timestamps\n"+
		"as microseconds since the epoch, shown here as UTC times):\n", stored.NumRows(), demoTable)
	printTable(d.out, stored, timestampColumns(demoSchema))
	nstored := int(stored.NumRows())
	stored.Release()
	if nstored != sent {
		return fmt.Errorf("the server stored %d rows but %d were acknowledged", nstored, sent)
	}

	d.section("5. Debug files")
	if err := d.showDebugFiles(mem, numBatches*rowsPerBatch, sent); err != nil {
		return err
	}

	d.section("6. Metrics recorded (zerobus.*)")
	lines, err := metricLines(ctx, reader)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintln(d.out, l)
	}

	mem.AssertSize(leakReporter{&err}, 0)
	fmt.Fprintf(d.out, "\ndone in %v\n", time.Since(start).Round(time.Millisecond))
	return err
}

// showDebugFiles lists the table's active debug files and reads them back
// with core.ReadDebugArrowFile and core.ReadDebugProtoFile: the Arrow file
// must hold every row sent (failed ones too), the protobuf file every record
// that was converted.
func (d *demo) showDebugFiles(mem memory.Allocator, wantArrowRows, wantRecords int) error {
	base := demoTable // table names made of [A-Za-z0-9_.] are used as file names unchanged
	arrowPath := filepath.Join(d.debugDir, "zerobus", "arrow", base+".arrow")
	protoPath := filepath.Join(d.debugDir, "zerobus", "proto", base+".proto")
	for _, p := range []string{arrowPath, protoPath,
		filepath.Join(d.debugDir, "zerobus", "proto", base+".descriptor.pb"),
		filepath.Join(d.debugDir, "zerobus", "proto", base+".descriptor.textproto")} {
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("debug file missing: %w", err)
		}
		fmt.Fprintf(d.out, "%-64s %6d bytes\n", p, st.Size())
	}
	batches, err := core.ReadDebugArrowFile(arrowPath, mem)
	rows := 0
	for _, b := range batches {
		rows += int(b.NumRows())
		b.Release()
	}
	if err != nil {
		return err
	}
	desc, records, err := core.ReadDebugProtoFile(protoPath)
	if err != nil {
		return err
	}
	fmt.Fprintf(d.out, "read back: the Arrow file holds %d batches, %d rows (everything handed to SendBatch)\n", len(batches), rows)
	fmt.Fprintf(d.out, "read back: the protobuf file holds %d records of message %s (everything converted)\n", len(records), desc.GetName())
	if rows != wantArrowRows || len(records) != wantRecords {
		return fmt.Errorf("debug files hold %d Arrow rows and %d records; want %d and %d", rows, len(records), wantArrowRows, wantRecords)
	}
	if len(records) == 0 {
		return nil
	}
	msgs, err := core.DecodeDebugRecords(desc, records[:1])
	if err != nil {
		return fmt.Errorf("%s: %w", protoPath, err)
	}
	fmt.Fprintf(d.out, "first record: %s\n", strings.Join(strings.Fields(prototext.Format(msgs[0])), " "))
	if at := msgs[0].ProtoReflect().Descriptor().Fields().ByName("at"); at != nil {
		us := msgs[0].ProtoReflect().Get(at).Int()
		fmt.Fprintf(d.out, "              (at: %d µs since the epoch = %s)\n", us, formatMicros(us))
	}
	return nil
}

// metricLines collects reader and formats every zerobus.* data point as
// "name{attributes} = value", sorted (the table attribute is left out: it is
// the same everywhere).
func metricLines(ctx context.Context, reader *sdkmetric.ManualReader) ([]string, error) {
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		return nil, fmt.Errorf("collecting metrics: %w", err)
	}
	var lines []string
	add := func(name string, attrs attribute.Set, value string) {
		var kv []string
		for _, a := range attrs.ToSlice() {
			if a.Key != "zerobus.table" {
				kv = append(kv, fmt.Sprintf("%s=%s", strings.TrimPrefix(string(a.Key), "zerobus."), a.Value.Emit()))
			}
		}
		label := name
		if len(kv) > 0 {
			label += "{" + strings.Join(kv, ",") + "}"
		}
		lines = append(lines, fmt.Sprintf("%s = %s", label, value))
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if !strings.HasPrefix(m.Name, "zerobus.") {
				continue
			}
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range data.DataPoints {
					add(m.Name, p.Attributes, fmt.Sprint(p.Value))
				}
			case metricdata.Sum[float64]:
				for _, p := range data.DataPoints {
					add(m.Name, p.Attributes, fmt.Sprintf("%g", p.Value))
				}
			case metricdata.Gauge[int64]:
				for _, p := range data.DataPoints {
					add(m.Name, p.Attributes, fmt.Sprint(p.Value))
				}
			case metricdata.Gauge[float64]:
				for _, p := range data.DataPoints {
					add(m.Name, p.Attributes, fmt.Sprintf("%g", p.Value))
				}
			case metricdata.Histogram[float64]:
				for _, p := range data.DataPoints {
					add(m.Name, p.Attributes, fmt.Sprintf("count %d, sum %.6g %s", p.Count, p.Sum, m.Unit))
				}
			case metricdata.Histogram[int64]:
				for _, p := range data.DataPoints {
					add(m.Name, p.Attributes, fmt.Sprintf("count %d, sum %d %s", p.Count, p.Sum, m.Unit))
				}
			}
		}
	}
	sort.Strings(lines)
	return lines, nil
}

// batchSummary is a one-line account of res: rows acknowledged, failures by
// kind, bytes, latency and attempts. (TransmissionResult.String also names
// the first error, which the demo prints on its own line per failed row.)
func batchSummary(res *core.TransmissionResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d rows acknowledged", res.SuccessfulCount, res.TotalRows)
	if res.FailedCount > 0 {
		var kinds []string
		for k, rows := range res.GroupErrorsByType() {
			kinds = append(kinds, fmt.Sprintf("%s: %d", k, len(rows)))
		}
		sort.Strings(kinds)
		fmt.Fprintf(&b, ", %d failed (%s)", res.FailedCount, strings.Join(kinds, ", "))
	}
	fmt.Fprintf(&b, ", %d bytes in %v, %d attempt", res.BatchSizeBytes, res.Latency.Round(time.Microsecond), res.Attempts)
	if res.Attempts != 1 {
		b.WriteString("s")
	}
	return b.String()
}

// errorText is err's message without the "zerobus: " prefix the library's
// errors start with (the demo's lines already say where they come from).
func errorText(err error) string {
	return strings.TrimPrefix(err.Error(), "zerobus: ")
}

// timestampColumns names the columns of s that are timestamps in
// microseconds: the server stores them as int64 microseconds since the epoch.
func timestampColumns(s *arrow.Schema) map[string]bool {
	cols := map[string]bool{}
	for _, f := range s.Fields() {
		if ts, ok := f.Type.(*arrow.TimestampType); ok && ts.Unit == arrow.Microsecond {
			cols[f.Name] = true
		}
	}
	return cols
}

// formatMicros renders microseconds since the epoch as a UTC time.
func formatMicros(us int64) string {
	return time.UnixMicro(us).UTC().Format("2006-01-02 15:04:05.999999Z07:00")
}

// printTable prints rec as an aligned text table (cells cut at 28 runes);
// the int64 cells of the columns in micros are shown as UTC times.
func printTable(w io.Writer, rec arrow.RecordBatch, micros map[string]bool) {
	const maxCell = 28
	ncols := int(rec.NumCols())
	cells := make([][]string, rec.NumRows()+1)
	widths := make([]int, ncols)
	cells[0] = make([]string, ncols)
	for c := 0; c < ncols; c++ {
		cells[0][c] = rec.ColumnName(c)
	}
	for r := 0; r < int(rec.NumRows()); r++ {
		cells[r+1] = make([]string, ncols)
		for c := 0; c < ncols; c++ {
			v := rec.Column(c).ValueStr(r)
			if col, ok := rec.Column(c).(*array.Int64); ok && micros[rec.ColumnName(c)] && col.IsValid(r) {
				v = formatMicros(col.Value(r))
			}
			if rs := []rune(v); len(rs) > maxCell {
				v = string(rs[:maxCell-1]) + "…"
			}
			cells[r+1][c] = v
		}
	}
	for _, row := range cells {
		for c, v := range row {
			widths[c] = max(widths[c], len([]rune(v)))
		}
	}
	for i, row := range cells {
		var b strings.Builder
		for c, v := range row {
			if c > 0 {
				b.WriteString("  ")
			}
			b.WriteString(v)
			if c < ncols-1 {
				b.WriteString(strings.Repeat(" ", widths[c]-len([]rune(v))))
			}
		}
		fmt.Fprintf(w, "  %s\n", b.String())
		if i == 0 {
			var sep []string
			for _, wd := range widths {
				sep = append(sep, strings.Repeat("-", wd))
			}
			fmt.Fprintf(w, "  %s\n", strings.Join(sep, "  "))
		}
	}
}

// schemaLine is a one-line "name type, ..." rendering of s.
func schemaLine(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = f.Name + " " + f.Type.String()
		if !f.Nullable {
			parts[i] += " not null"
		}
	}
	return strings.Join(parts, ", ")
}

// leakReporter adapts memory.CheckedAllocator.AssertSize to return an error
// instead of failing a test.
type leakReporter struct{ err *error }

func (l leakReporter) Helper() {}
func (l leakReporter) Errorf(format string, args ...any) {
	if *l.err == nil {
		*l.err = fmt.Errorf("memory leak: "+format, args...)
	}
}
