package core_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestDurationHistogramsHaveSecondBuckets: the duration histograms are in
// seconds, and had the SDK's default bounds (0, 5, 10 … 10000, meant for
// milliseconds), which put every send under 5 s in one bucket (s15
// review-otel H1).
func TestDurationHistogramsHaveSecondBuckets(t *testing.T) {
	const table = "main.default.tel_buckets"
	srv := localServer(t)
	h := newHarness(t)
	w := h.wrapper(t, localConfig(srv, table))
	defer closeWrapper(t, w)
	rec := telBatch(memory.NewGoAllocator(), 20)
	defer rec.Release()
	for range 3 {
		if _, err := w.SendBatch(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	rm := h.collect(t)
	for _, name := range []string{"zerobus.send.duration", "zerobus.conversion.duration", "zerobus.ack.duration"} {
		m, ok := findMetric(rm, name)
		if !ok {
			t.Fatalf("%s not recorded", name)
		}
		if m.Unit != "s" {
			t.Errorf("%s unit %q, want s", name, m.Unit)
		}
		for _, dp := range m.Data.(metricdata.Histogram[float64]).DataPoints {
			if !slices.Equal(dp.Bounds, telemetry.DurationBuckets) {
				t.Errorf("%s bounds %v, want %v", name, dp.Bounds, telemetry.DurationBuckets)
			}
			var n uint64
			for _, c := range dp.BucketCounts {
				n += c
			}
			if n != dp.Count || dp.Count == 0 {
				t.Errorf("%s buckets hold %d of %d values", name, n, dp.Count)
			}
		}
	}
}

// TestRowsFailedByState: zerobus.rows.failed carries zerobus.row.state, so
// a dashboard tells rows certainly not stored (not_written) from rows that
// may have landed (unknown), as the per-row results do (s15 review-otel
// H2); and a send refused after Close is counted like any failed send.
func TestRowsFailedByState(t *testing.T) {
	const table = "main.default.tel_state"
	srv := localServer(t)
	h := newHarness(t)
	w := h.wrapper(t, localConfig(srv, table))
	mem := memory.NewGoAllocator()
	// 3 rows fail conversion (not written), 7 are sent
	rec := telBatch(mem, 10, 1, 4, 8)
	defer rec.Release()
	res, _ := w.SendBatch(context.Background(), rec)
	if res.NotWrittenCount != 3 || res.SuccessfulCount != 7 {
		t.Fatalf("result %v; want 3 not written, 7 durable", res)
	}
	// acks stall on another table: its send times out with its 5 rows unknown
	const stalled = "main.default.tel_state_stalled"
	srv.InjectFault(stalled, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	w2 := h.wrapper(t, localConfig(srv, stalled))
	rec5 := telBatch(mem, 5)
	defer rec5.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	res2, _ := w2.SendBatch(ctx, rec5)
	cancel()
	if res2.UnknownCount != 5 {
		t.Fatalf("result %v; want 5 unknown", res2)
	}
	abort, cancelAbort := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_ = w2.Close(abort) // acks never come: the stream is aborted
	cancelAbort()
	closeCtx, cancelClose := context.WithTimeout(context.Background(), 10*time.Second)
	_ = w.Close(closeCtx)
	cancelClose()
	res3, _ := w.SendBatch(context.Background(), rec5)
	if res3.NotWrittenCount != 5 {
		t.Fatalf("after Close: %v; want 5 not written", res3)
	}
	rm := h.collect(t)
	state := func(s string) int64 {
		return sumInt(rm, "zerobus.rows.failed", telemetry.KeyRowState.String(s))
	}
	if got := state("not_written"); got != 3+5 {
		t.Errorf("rows.failed{not_written} = %d, want 8 (3 conversion, 5 after Close)", got)
	}
	if got := state("unknown"); got != 5 {
		t.Errorf("rows.failed{unknown} = %d, want 5", got)
	}
	if got := sumInt(rm, "zerobus.rows.failed", telemetry.KeyErrorKind.String(string(core.KindClosed))); got != 5 {
		t.Errorf("rows.failed{closed} = %d, want 5", got)
	}
	if got := sumInt(rm, "zerobus.batches.sent"); got != 3 {
		t.Errorf("batches.sent = %d, want 3 (the one after Close too)", got)
	}
}

// TestTokenFetchAfterRevocationIsARefresh: a token fetched because the
// server refused the cached one replaces a token, so it is counted with
// zerobus.token.refresh=true (it was false: the cache had been emptied;
// s15 review-otel L1).
func TestTokenFetchAfterRevocationIsARefresh(t *testing.T) {
	const table = "main.default.tel_revoked"
	srv := localServer(t)
	h := newHarness(t)
	w := h.wrapper(t, localConfig(srv, table))
	defer closeWrapper(t, w)
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultExpireToken, AfterMessages: 1})
	rec := telBatch(memory.NewGoAllocator(), 4)
	defer rec.Release()
	for range 3 {
		if _, err := w.SendBatch(context.Background(), rec); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.RecordCount(table); n < 12 {
		t.Fatalf("server stored %d rows, want the 12 sent", n)
	}
	rm := h.collect(t)
	first := sumInt(rm, "zerobus.token.fetches", telemetry.KeyRefresh.Bool(false))
	refresh := sumInt(rm, "zerobus.token.fetches", telemetry.KeyRefresh.Bool(true))
	if first != 1 || refresh != 1 {
		t.Errorf("token.fetches refresh=false %d, refresh=true %d; want 1 and 1", first, refresh)
	}
}

// TestSendReaderIsOneTrace: a SendReader call is one zerobus.SendReader
// span whose children are its parts' zerobus.SendBatch spans; each part
// was an unrelated root trace before (s15 review-otel L2).
func TestSendReaderIsOneTrace(t *testing.T) {
	const table = "main.default.tel_reader_trace"
	srv := localServer(t)
	h := newHarness(t)
	w := h.wrapper(t, localConfig(srv, table))
	defer closeWrapper(t, w)
	mem := memory.NewGoAllocator()
	recs := []arrow.RecordBatch{telBatch(mem, 10), telBatch(mem, 10), telBatch(mem, 10)}
	rdr, _ := array.NewRecordReader(telSchema, recs)
	for _, r := range recs {
		r.Release()
	}
	defer rdr.Release()
	res, err := w.SendReader(context.Background(), rdr, core.WithSendWindow(40, 1<<20)) // parts of 40/4 rows
	if err != nil || res.SuccessfulCount != 30 {
		t.Fatalf("SendReader = %v, %v", res, err)
	}
	spans := h.spans.GetSpans()
	root := oneSpan(t, spans, "zerobus.SendReader")
	if root.Parent.IsValid() {
		t.Errorf("zerobus.SendReader has a parent %v, want none", root.Parent.SpanID())
	}
	if v, _ := spanAttr(root, "zerobus.rows"); v.AsInt64() != 30 {
		t.Errorf("zerobus.SendReader zerobus.rows = %v, want 30", v)
	}
	parts := spansNamed(spans, "zerobus.SendBatch")
	if len(parts) != 3 {
		t.Fatalf("%d zerobus.SendBatch spans, want one per part (3)", len(parts))
	}
	for _, p := range parts {
		if p.Parent.SpanID() != root.SpanContext.SpanID() || p.SpanContext.TraceID() != root.SpanContext.TraceID() {
			t.Errorf("a part's span is not a child of zerobus.SendReader (parent %v, trace %v)", p.Parent.SpanID(), p.SpanContext.TraceID())
		}
	}
}
