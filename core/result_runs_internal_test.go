package core

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestFailedRunsMergeAcrossRequests: a 1M-row batch whose requests all fail
// with the stream's error (acks stalled until retries run out) holds one
// failed run, not one per request: each request's error is its own value,
// but they have the same kind, state and message.
func TestFailedRunsMergeAcrossRequests(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.runs_merge"
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	cfg := localConfig(srv, table)
	cfg.RetryMaxAttempts = 1
	cfg.RetryBaseDelay, cfg.RetryMaxDelay = time.Millisecond, 5*time.Millisecond
	cfg.AckTimeout = 3 * time.Second // every request is out before it fires (one state for all rows)
	cfg.MaxMessageBytes = 512 << 10  // about 20 requests
	w, err := New(context.Background(), cfg, WithRowRangesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(context.Background()) }()

	const n = 1_000_000
	b := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range int64(n) {
		b.Append(i)
	}
	col := b.NewArray()
	b.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil), []arrow.Array{col}, n)
	col.Release()
	defer rec.Release()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := w.SendBatch(ctx, rec)
	if err == nil || res == nil {
		t.Fatalf("SendBatch with stalled acks: %v %v, want a failure", res, err)
	}
	if res.FailedCount != n || res.SuccessfulCount != 0 {
		t.Fatalf("failed %d, successful %d; want %d and 0", res.FailedCount, res.SuccessfulCount, n)
	}
	st := srv.Stats()
	if reqs := st.MessagesReceived - st.StreamsCreated - st.StreamsRejected; reqs < 4 {
		t.Fatalf("%d ingest requests over %d RPCs; the test needs several per RPC", reqs, st.StreamsCreated)
	}
	t.Logf("%d ingest requests over %d RPCs", st.MessagesReceived-st.StreamsCreated-st.StreamsRejected, st.StreamsCreated)
	if len(res.failedRuns) != 1 {
		t.Errorf("%d failed runs, want 1 (first: %v)", len(res.failedRuns), res.failedRuns[:min(3, len(res.failedRuns))])
	}
	groups := res.FailedGroups()
	if len(groups) != 1 || !reflect.DeepEqual(groups[0].Ranges, [][2]int{{0, n}}) || groups[0].State != RowUnknown {
		t.Fatalf("FailedGroups: %d groups, first %+v; want one unknown group with the range [0, %d)", len(groups), groups[0], n)
	}
	if KindOf(groups[0].Err) != KindRetryExhausted {
		t.Errorf("group error %v (kind %s), want retry_exhausted", groups[0].Err, KindOf(groups[0].Err))
	}
}
