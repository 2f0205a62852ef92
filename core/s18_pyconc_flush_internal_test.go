package core

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A Flush that Close overtakes (Close drains and closes the streams the
// flush was waiting on) reported the closed stream's "wrapper closed (stream
// closed)" even though Close had every request acknowledged (s18 review
// pyconc M2). It now reports the drain's outcome: nil here.
func TestFlushOvertakenByACleanCloseReportsSuccess(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.s18flushclean"
	w, err := New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	rec := textRows(0, 500, nil)
	defer rec.Release()
	if _, err := w.SendBatch(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	// Flush has passed its "closed?" check and taken its snapshot; Close
	// then runs to its end before Flush waits on the streams.
	snap, err := w.flushStart()
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.states) == 0 {
		t.Fatal("no schema in the flush snapshot: the test does not reach a stream")
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := w.flushWait(context.Background(), snap); err != nil {
		t.Errorf("flush overtaken by a clean Close = %v; want nil (every request was acknowledged)", err)
	}
	if n := srv.RecordCount(table); n != 500 {
		t.Errorf("server stored %d rows, want 500", n)
	}
	// A Flush called after Close is still refused.
	if err := w.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v; want ErrClosed", err)
	}
}

// When the Close that overtakes a Flush aborts requests the flush waited for
// (its ctx ended first), the flush's error is Close's (a timeout), not
// "wrapper closed".
func TestFlushOvertakenByAnAbortingCloseReportsTheClosesError(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.s18flushabort"
	if err := srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 1}); err != nil {
		t.Fatal(err)
	}
	w, err := New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	first := textRows(0, 10, nil)
	defer first.Release()
	if _, err := w.SendBatch(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	stalled := textRows(10, 200, nil)
	defer stalled.Release()
	fut := w.SendBatchAsync(context.Background(), stalled)
	snap, err := w.flushStart()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	closeErr := w.Close(ctx)
	if !errors.Is(closeErr, context.DeadlineExceeded) {
		t.Fatalf("Close = %v; want its deadline exceeded (the acks are stalled)", closeErr)
	}
	res, _ := fut.Wait(context.Background())
	if res.SuccessfulCount != 0 || res.UnknownCount+res.NotWrittenCount != 200 {
		t.Fatalf("stalled send: %d acknowledged, %d unknown, %d not written; want none acknowledged", res.SuccessfulCount, res.UnknownCount, res.NotWrittenCount)
	}
	err = w.flushWait(context.Background(), snap)
	if err == nil || errors.Is(err, ErrClosed) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "Close aborted") {
		t.Errorf("flush overtaken by an aborting Close = %v; want Close's deadline error, not ErrClosed", err)
	}
}

// A later Close call waits for the first one only as long as its own ctx
// allows (it blocked in sync.Once until the first returned: a cancelled
// caller, e.g. Python's Ctrl-C, waited up to the first call's timeout).
func TestLaterCloseHonoursItsContext(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.s18closetwice"
	if err := srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 1}); err != nil {
		t.Fatal(err)
	}
	w, err := New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	first := textRows(0, 10, nil)
	defer first.Release()
	if _, err := w.SendBatch(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	stalled := textRows(10, 20, nil)
	defer stalled.Release()
	fut := w.SendBatchAsync(context.Background(), stalled)
	release := make(chan struct{})
	firstDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { <-release; cancel() }()
		firstDone <- w.Close(ctx)
	}()
	for !w.closing() {
		time.Sleep(time.Millisecond)
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	err = w.Close(ended)
	select {
	case <-w.closeDone:
		t.Error("the first Close returned before the test released it")
	default:
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("later Close with an ended ctx = %v; want context.Canceled", err)
	}
	close(release)
	if err := <-firstDone; !errors.Is(err, context.Canceled) {
		t.Errorf("first Close = %v; want context.Canceled (released by the test)", err)
	}
	if err := w.Close(context.Background()); err != w.closeErr {
		t.Errorf("Close after the first returned = %v; want the first call's result %v", err, w.closeErr)
	}
	_, _ = fut.Wait(context.Background())
}
