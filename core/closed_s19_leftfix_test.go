package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// ErrClosed's remedy. A call after Close says to create a new Wrapper (it
// said only "wrapper closed"). A send that Close cut short says what to do
// with its rows, not "create a new Wrapper": Python's shutdown() closes the
// Go wrapper the same way and the next send there opens it again.
func TestClosedRemedies(t *testing.T) {
	srv := localServer(t)
	table := "main.default.s19_closed"
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	rec := telBatch(memory.DefaultAllocator, 5)
	defer rec.Release()
	fut := w.SendBatchAsync(context.Background(), rec)
	for srv.Stats().MessagesReceived < 2 { // the batch is on the wire, its acks held back
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); err == nil {
		t.Fatal("Close with the acks held back: nil error")
	}
	res, err := fut.Wait(context.Background())
	if !errors.Is(err, core.ErrClosed) || core.KindOf(err) != core.KindClosed {
		t.Fatalf("the cut send: %v (kind %q), want ErrClosed", err, core.KindOf(err))
	}
	msg := err.Error()
	if !strings.Contains(msg, "still in flight when close gave up waiting; its rows not written can be sent again") ||
		strings.Contains(msg, "create a new") {
		t.Errorf("the cut send's message = %q", msg)
	}
	if res == nil || res.TotalRows != 5 || res.SuccessfulCount != 0 {
		t.Errorf("the cut send's result = %+v, want 5 rows, none acknowledged", res)
	}
	_, err = w.SendBatch(context.Background(), rec)
	if !errors.Is(err, core.ErrClosed) || err.Error() != "zerobus: wrapper closed: create a new Wrapper to send more" {
		t.Errorf("a send after Close: %v", err)
	}
}
