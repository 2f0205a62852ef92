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
// with the stream's error (acks stalled, the RPC ended once every request is
// stored, until retries run out) holds one failed run, not one per request:
// each request's error is its own value, but they have the same kind, state
// and message.
//
// The failure is tied to an event, not a timer: the server ends each RPC
// with UNAVAILABLE when it has stored the batch's last request (the count
// comes from a fault-free send of the same batch), so every request is out
// and unacknowledged when its RPC fails however slowly the batch is encoded.
// (An ack timeout did this before; under load it fired while requests were
// still being encoded, and the unsent ones got another state.)
func TestFailedRunsMergeAcrossRequests(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.runs_merge"
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

	config := func(table string) Config {
		cfg := localConfig(srv, table)
		cfg.RetryMaxAttempts = 1
		cfg.RetryBaseDelay, cfg.RetryMaxDelay = time.Millisecond, 5*time.Millisecond
		cfg.AckTimeout = 10 * time.Minute // never the cause: the RPCs end by the fault below
		cfg.MaxMessageBytes = 512 << 10   // about 20 requests
		return cfg
	}
	ingestRequests := func() int {
		st := srv.Stats()
		return int(st.MessagesReceived - st.StreamsCreated - st.StreamsRejected)
	}
	// How many requests the batch makes: a fault-free send of it.
	probe, err := New(context.Background(), config("main.default.runs_merge_count"), WithRowRangesOnly())
	if err != nil {
		t.Fatal(err)
	}
	if res, err := probe.SendBatch(context.Background(), rec); err != nil || res.SuccessfulCount != n {
		t.Fatalf("fault-free send: %v (%v)", err, res)
	}
	if err := probe.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := ingestRequests()
	if reqs < 4 {
		t.Fatalf("the batch is %d ingest requests; the test needs several per RPC", reqs)
	}
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, AfterMessages: reqs, Persistent: true})
	w, err := New(context.Background(), config(table), WithRowRangesOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(context.Background()) }()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := w.SendBatch(ctx, rec)
	if err == nil || res == nil {
		t.Fatalf("SendBatch with stalled acks: %v %v, want a failure", res, err)
	}
	if res.FailedCount != n || res.SuccessfulCount != 0 {
		t.Fatalf("failed %d, successful %d; want %d and 0", res.FailedCount, res.SuccessfulCount, n)
	}
	// Every RPC carried the whole batch (the retry, if any, re-sent it all).
	if sent := ingestRequests() - reqs; sent < reqs || sent%reqs != 0 {
		t.Fatalf("%d ingest requests to %s, want a multiple of the batch's %d", sent, table, reqs)
	}
	t.Logf("the batch is %d ingest requests; %v", reqs, err)
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
