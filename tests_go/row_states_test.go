package tests_go

import (
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestRowStatesSplitQuarantine: rows that fail conversion are not written;
// rows sent to a server that stores but never acknowledges are unknown, and
// the server does hold them. The result's helpers split the quarantine
// batch accordingly.
func TestRowStatesSplitQuarantine(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.states"
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	cfg := serverConfig(srv, table)
	cfg.AckTimeout = 100 * time.Millisecond
	cfg.RetryMaxAttempts = 1
	w := newWrapper(t, cfg)

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "big", Type: arrow.PrimitiveTypes.Uint64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const rows = 8
	for i := 0; i < rows; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i == 2 || i == 5 {
			b.Field(1).(*array.Uint64Builder).Append(1 << 63) // over int64: a conversion error
		} else {
			b.Field(1).(*array.Uint64Builder).Append(uint64(i))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	res, err := w.SendBatch(testCtx(t), rec)
	if err == nil {
		t.Fatal("SendBatch: nil error, want failures")
	}
	checkInvariant(t, res, rows)
	wantNW, wantUnknown := []int{2, 5}, []int{0, 1, 3, 4, 6, 7}
	if res.SuccessfulCount != 0 || res.NotWrittenCount != 2 || res.UnknownCount != 6 || res.FailedCount != 8 {
		t.Errorf("counts: durable %d, not written %d, unknown %d, failed %d; want 0, 2, 6, 8",
			res.SuccessfulCount, res.NotWrittenCount, res.UnknownCount, res.FailedCount)
	}
	if d := cmp.Diff(wantNW, res.NotWrittenRowIndices()); d != "" {
		t.Errorf("NotWrittenRowIndices (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantUnknown, res.UnknownRowIndices()); d != "" {
		t.Errorf("UnknownRowIndices (-want +got):\n%s", d)
	}
	for _, f := range res.FailedRows {
		want := core.RowUnknown
		if f.Index == 2 || f.Index == 5 {
			want = core.RowNotWritten
		}
		if f.State != want {
			t.Errorf("row %d: State %v, want %v", f.Index, f.State, want)
		}
	}
	if st := res.ErrorStatistics(); st.NotWrittenRows != 2 || st.UnknownRows != 6 {
		t.Errorf("ErrorStatistics = %+v, want 2 not written, 6 unknown", st)
	}
	if s := res.String(); !strings.Contains(s, "0/8 rows acknowledged (8 not acknowledged: ") || !strings.Contains(s, "; 2 not written, 6 unknown (may be stored))") {
		t.Errorf("String() = %q, want the failed and unknown counts", s)
	}
	if core.RowNotWritten.String() != "not_written" || core.RowUnknown.String() != "unknown" {
		t.Errorf("RowState strings: %q, %q", core.RowNotWritten, core.RowUnknown)
	}
	ids := func(r arrow.RecordBatch) []int {
		defer r.Release()
		var out []int
		for _, v := range r.Column(0).(*array.Int64).Int64Values() {
			out = append(out, int(v))
		}
		return out
	}
	for _, c := range []struct {
		name    string
		extract func(memory.Allocator, arrow.RecordBatch) (arrow.RecordBatch, error)
		want    []int
	}{
		{"not written", res.ExtractNotWrittenBatchWith, wantNW},
		{"unknown", res.ExtractUnknownBatchWith, wantUnknown},
		{"failed", res.ExtractFailedBatchWith, []int{0, 1, 2, 3, 4, 5, 6, 7}},
	} {
		got, err := c.extract(mem, rec)
		if err != nil {
			t.Fatalf("extract %s: %v", c.name, err)
		}
		if d := cmp.Diff(c.want, ids(got)); d != "" {
			t.Errorf("extract %s (-want +got):\n%s", c.name, d)
		}
	}
	// The unknown rows did land (stored, never acknowledged); the not
	// written ones did not.
	stored := storedIDs(t, srv, table)
	for _, i := range wantUnknown {
		if stored[int64(i)] == 0 {
			t.Errorf("unknown row %d not stored (the stalled server stores every message)", i)
		}
	}
	for _, i := range wantNW {
		if stored[int64(i)] != 0 {
			t.Errorf("not-written row %d stored", i)
		}
	}
}
