package core_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// rowOutcome is a row's result: "ok", or its state and error kind.
func rowOutcomes(res *core.TransmissionResult) []string {
	out := make([]string, res.TotalRows)
	for _, r := range res.SuccessfulRows {
		out[r] = "ok"
	}
	for _, f := range res.FailedRows {
		var ce *core.ConversionError
		col := ""
		if errors.As(f.Err, &ce) {
			col = ce.Column
		}
		out[f.Index] = fmt.Sprintf("%v/%v/%s", f.State, core.KindOf(f.Err), col)
	}
	return out
}

// storedText is every stored row of table, one string per row, sorted.
func storedText(t *testing.T, srv *zerobuslocal.Server, table string) []string {
	t.Helper()
	ab, err := srv.ArrowBatch(table, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ab.Release()
	rows := make([]string, ab.NumRows())
	for r := range rows {
		var b strings.Builder
		for c := range int(ab.NumCols()) {
			fmt.Fprintf(&b, "%s=%s;", ab.ColumnName(c), ab.Column(c).ValueStr(r))
		}
		rows[r] = b.String()
	}
	slices.Sort(rows)
	return rows
}

// longColumnBatch is a batch of 3 rows whose columns hold 5 values
// (array.NewRecordBatch allows columns longer than the batch): id
// [10, 1<<40, 30 | 1<<41, null], s ["a", "b", "c" | "d", "e"], with s a
// slice of a longer array (a non-zero offset). Only the first 3 rows are
// the batch's.
func longColumnBatch(mem memory.Allocator) arrow.RecordBatch {
	ib := array.NewInt64Builder(mem)
	defer ib.Release()
	ib.AppendValues([]int64{10, 1 << 40, 30, 1 << 41}, nil)
	ib.AppendNull()
	ids := ib.NewArray()
	defer ids.Release()
	sb := array.NewStringBuilder(mem)
	defer sb.Release()
	sb.AppendValues([]string{"x", "a", "b", "c", "d", "e"}, nil)
	all := sb.NewArray()
	defer all.Release()
	s := array.NewSlice(all, 1, 6)
	defer s.Release()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	return array.NewRecordBatch(schema, []arrow.Array{ids, s}, 3)
}

// A batch whose columns are longer than its NumRows (legal in arrow-go)
// sends the same rows on arrow_flight as on protobuf: only its NumRows rows,
// a value out of the table's range failing its row alone, a null beyond
// the rows ignored for a NOT NULL column; no panic, no damaged IPC. The
// caller's memory (a CheckedAllocator) is all freed by its own Release and
// the encoder arena is empty after Close. SendBatch, SendReader and
// ExtractFailedBatch each see the batch's rows only.
func TestS17LongColumnsSameRowsOnBothTransports(t *testing.T) {
	settleArena(t)
	srv := localServer(t)
	ctx := context.Background()
	input := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer input.AssertSize(t, 0)
	for _, tc := range []struct {
		name, ddl string
		outcome   []string // per row: "ok" or state/kind/column
		stored    []string
	}{
		{"bigint", "id BIGINT NOT NULL, s STRING", []string{"ok", "ok", "ok"},
			[]string{"id=1099511627776;s=b;", "id=10;s=a;", "id=30;s=c;"}},
		{"int", "id INT NOT NULL, s STRING", []string{"ok", "not_written/conversion/id", "ok"},
			[]string{"id=10;s=a;", "id=30;s=c;"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2][]string
			for i, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
				for _, reader := range []bool{false, true} {
					table := fmt.Sprintf("main.default.s17_long_%s_%s_%v", tc.name, tr, reader)
					cols, err := zerobuslocal.ParseColumns(tc.ddl)
					if err != nil {
						t.Fatal(err)
					}
					if err := srv.CreateTableColumns(table, cols); err != nil {
						t.Fatal(err)
					}
					w := newWrapper(t, srv, table, func(c *core.Config) { c.Transport = tr })
					rec := longColumnBatch(input)
					var res *core.TransmissionResult
					if reader {
						rdr, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
						if err != nil {
							t.Fatal(err)
						}
						res, _ = w.SendReader(ctx, rdr)
						rdr.Release()
					} else {
						res, _ = w.SendBatch(ctx, rec)
					}
					if res == nil || res.TotalRows != 3 {
						t.Fatalf("%s reader=%v: result %v; want 3 rows", tr, reader, res)
					}
					outs := rowOutcomes(res)
					if !slices.Equal(outs, tc.outcome) {
						t.Errorf("%s reader=%v: rows %q; want %q (%v)", tr, reader, outs, tc.outcome, res.Err)
					}
					if st := storedText(t, srv, table); !slices.Equal(st, tc.stored) {
						t.Errorf("%s reader=%v: stored %q; want %q", tr, reader, st, tc.stored)
					}
					if !reader {
						got[i] = outs
						fb, err := res.ExtractFailedBatch(rec)
						if err != nil {
							t.Fatal(err)
						}
						if int(fb.NumRows()) != res.FailedCount || int(fb.NumRows()) > 0 && fb.Column(0).(*array.Int64).Value(0) != 1<<40 {
							t.Errorf("%s: ExtractFailedBatch = %v; want the failed rows of the batch", tr, fb)
						}
						fb.Release()
					}
					rec.Release()
					closeWrapper(t, w)
				}
			}
			if !slices.Equal(got[0], got[1]) {
				t.Errorf("per-row results differ: protobuf %q, arrow_flight %q", got[0], got[1])
			}
		})
	}
	if n := convert.ReadArenaStats().InUse; n != 0 {
		t.Errorf("encoder arena: %d bytes in use after Close", n)
	}
}

// A null beyond NumRows in a column longer than the batch does not fail a
// row of a NOT NULL column; a null within the rows fails its row alone,
// the same on both transports (arrow_flight's NOT NULL check indexed past
// the batch's rows and panicked).
func TestS17LongColumnNullBeyondRows(t *testing.T) {
	srv := localServer(t)
	ctx := context.Background()
	input := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer input.AssertSize(t, 0)
	var got [2][]string
	for i, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.s17_longnull_" + tr
		cols, _ := zerobuslocal.ParseColumns("id BIGINT NOT NULL")
		if err := srv.CreateTableColumns(table, cols); err != nil {
			t.Fatal(err)
		}
		w := newWrapper(t, srv, table, func(c *core.Config) { c.Transport = tr })
		ib := array.NewInt64Builder(input)
		ib.AppendValues([]int64{1, 0, 3, 0, 0}, []bool{true, false, true, false, false})
		ids := ib.NewArray()
		ib.Release()
		schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
		rec := array.NewRecordBatch(schema, []arrow.Array{ids}, 3)
		ids.Release()
		res, _ := w.SendBatch(ctx, rec)
		rec.Release()
		got[i] = rowOutcomes(res)
		if want := []string{"ok", "not_written/conversion/id", "ok"}; !slices.Equal(got[i], want) {
			t.Errorf("%s: rows %q; want %q", tr, got[i], want)
		}
		if st, want := storedText(t, srv, table), []string{"id=1;", "id=3;"}; !slices.Equal(st, want) {
			t.Errorf("%s: stored %q; want %q", tr, st, want)
		}
	}
}

// Malformed Arrow data (a validity bitmap shorter than the column) fails
// the batch's rows with a ConversionError on both transports, nothing
// stored: a panic while the Flight send path reads the arrays is recovered
// into an error, not left to end the caller's program.
func TestS17FlightMalformedDataIsAnError(t *testing.T) {
	srv := localServer(t)
	ctx := context.Background()
	const rows = 64
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.s17_malformed_" + tr
		cols, _ := zerobuslocal.ParseColumns("id BIGINT NOT NULL")
		if err := srv.CreateTableColumns(table, cols); err != nil {
			t.Fatal(err)
		}
		w := newWrapper(t, srv, table, func(c *core.Config) { c.Transport = tr })
		vals := memory.NewBufferBytes(make([]byte, rows*8))
		bits := memory.NewBufferBytes([]byte{0xfe}) // 8 bits for 64 rows; row 0 null
		d := array.NewData(arrow.PrimitiveTypes.Int64, rows, []*memory.Buffer{bits, vals}, nil, 1, 0)
		ids := array.MakeFromData(d)
		d.Release()
		schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
		rec := array.NewRecordBatch(schema, []arrow.Array{ids}, rows)
		ids.Release()
		res, err := w.SendBatch(ctx, rec)
		rec.Release()
		if err == nil || core.KindOf(err) != core.KindConversion {
			t.Errorf("%s: SendBatch = %v; want a conversion error", tr, err)
		}
		if res == nil || res.TotalRows != rows || res.SuccessfulCount != 0 || res.NotWrittenCount != rows {
			t.Errorf("%s: result %v; want all %d rows not written", tr, res, rows)
		}
		if n := srv.RecordCount(table); n != 0 {
			t.Errorf("%s: %d rows stored; want none", tr, n)
		}
	}
}

// protobufDebugFitsRows: the protobuf path's Arrow debug file holds only
// the batch's rows too. It does not yet (core/send.go writes the batch as
// given, its long columns a damaged IPC batch in the file); the fix is
// /work/notes/s17-flightfix-send.go.patch, which sets this to true.
const protobufDebugFitsRows = true

// With no per-row check to make (nullable columns of the batch's types),
// a batch with long columns is stored as its NumRows rows on both
// transports (arrow_flight sent the whole columns, which the server
// refused as damaged IPC), and the Arrow debug file holds those rows only.
func TestS17LongColumnsNoCheckAndDebugFile(t *testing.T) {
	srv := localServer(t)
	ctx := context.Background()
	input := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer input.AssertSize(t, 0)
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		table := "main.default.s17_longplain_" + tr
		cols, _ := zerobuslocal.ParseColumns("id BIGINT, s STRING")
		if err := srv.CreateTableColumns(table, cols); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		w := newWrapper(t, srv, table, func(c *core.Config) {
			c.Transport, c.DebugOutputDir = tr, dir
			c.DebugArrowEnabled, c.DebugKindsExplicit = true, true
		})
		rec := longColumnBatch(input)
		res, err := w.SendBatch(ctx, rec)
		rec.Release()
		if err != nil || !slices.Equal(rowOutcomes(res), []string{"ok", "ok", "ok"}) {
			t.Errorf("%s: SendBatch = %v, rows %q; want 3 rows ok", tr, err, rowOutcomes(res))
		}
		want := []string{"id=1099511627776;s=b;", "id=10;s=a;", "id=30;s=c;"}
		if st := storedText(t, srv, table); !slices.Equal(st, want) {
			t.Errorf("%s: stored %q; want %q", tr, st, want)
		}
		closeWrapper(t, w)
		if tr == core.TransportProtobuf && !protobufDebugFitsRows {
			continue
		}
		var files []string
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".arrow") {
				files = append(files, p)
			}
			return nil
		})
		if len(files) != 1 {
			t.Fatalf("%s: debug Arrow files %q; want one", tr, files)
		}
		recs, err := core.ReadDebugArrowFile(files[0], memory.DefaultAllocator)
		if err != nil {
			t.Fatalf("%s: reading the debug file: %v", tr, err)
		}
		var rows []string
		for _, r := range recs {
			for i := range int(r.NumRows()) {
				rows = append(rows, fmt.Sprintf("id=%s;s=%s;", r.Column(0).ValueStr(i), r.Column(1).ValueStr(i)))
			}
			r.Release()
		}
		slices.Sort(rows)
		if !slices.Equal(rows, want) {
			t.Errorf("%s: debug file rows %q; want %q", tr, rows, want)
		}
	}
}
