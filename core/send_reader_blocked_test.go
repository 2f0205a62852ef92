package core_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// blockedReader is a reference-counted RecordReader whose first Next gives
// a batch of 100 rows and whose second blocks until unblock is closed (a
// live source between batches), then gives another batch. Its batches come
// from a checked allocator; released is closed by the last Release.
type blockedReader struct {
	mem      *memory.CheckedAllocator
	unblock  chan struct{}
	released chan struct{}
	refs     atomic.Int64
	nexts    atomic.Int64
	cur      arrow.RecordBatch
}

func newBlockedReader() *blockedReader {
	r := &blockedReader{mem: memory.NewCheckedAllocator(memory.NewGoAllocator()),
		unblock: make(chan struct{}), released: make(chan struct{})}
	r.refs.Store(1)
	return r
}

func (r *blockedReader) Schema() *arrow.Schema          { return telSchema }
func (r *blockedReader) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *blockedReader) Record() arrow.RecordBatch      { return r.cur }
func (r *blockedReader) Err() error                     { return nil }
func (r *blockedReader) Retain()                        { r.refs.Add(1) }

func (r *blockedReader) Release() {
	switch n := r.refs.Add(-1); {
	case n < 0:
		panic("blockedReader released once too often")
	case n == 0:
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		close(r.released)
	}
}

func (r *blockedReader) Next() bool {
	if r.refs.Load() <= 0 {
		panic("Next on a released blockedReader")
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	switch r.nexts.Add(1) {
	case 1:
	case 2:
		<-r.unblock
	default:
		return false
	}
	r.cur = telBatch(r.mem, 100)
	return true
}

// readerGoroutines counts the goroutines in SendReader's reading loop.
func readerGoroutines() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "core.(*batchReader).run")
}

// TestSendReaderCancelWhileNextBlocks: a reader that blocks in Next does
// not hold up a cancelled send; the pending Next finishes on its own
// goroutine, which then releases the reader (no leak, no Next after it).
func TestSendReaderCancelWhileNextBlocks(t *testing.T) {
	const table = "main.default.blocked"
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	for _, async := range []bool{false, true} {
		name := map[bool]string{false: "SendReader", true: "SendReaderAsync"}[async]
		t.Run(name, func(t *testing.T) {
			before := srv.RecordCount(table)
			rdr := newBlockedReader()
			// The test's bound: a send that waits for Next returns when this
			// unblocks it, well past the 0.5 s allowed.
			safety := time.AfterFunc(5*time.Second, func() { close(rdr.unblock) })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var cancelled atomic.Int64 // UnixNano of the cancel
			first := make(chan struct{})
			progress := core.WithProgress(func(p core.Progress) {
				if p.Rows == 100 {
					close(first)
				}
			})
			go func() {
				<-first // the first batch is stored; Next now blocks
				time.Sleep(50 * time.Millisecond)
				cancelled.Store(time.Now().UnixNano())
				cancel()
			}()
			var res *core.TransmissionResult
			if async {
				f := w.SendReaderAsync(ctx, rdr, progress)
				rdr.Release() // SendReaderAsync holds its own reference
				res, err = f.Wait(context.Background())
			} else {
				res, err = w.SendReader(ctx, rdr, progress)
			}
			took := time.Since(time.Unix(0, cancelled.Load()))
			if !safety.Stop() {
				t.Fatalf("the send returned %v after the cancel, only once the blocked Next returned; want promptly", took)
			}
			if took > 500*time.Millisecond {
				t.Errorf("the send returned %v after the cancel, want within 0.5 s", took)
			}
			if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "stopped after reading 100 rows") {
				t.Errorf("err = %v, want the send stopped after 100 rows (context.Canceled)", err)
			}
			if res.TotalRows != 100 || res.SuccessfulCount != 100 || res.FailedCount != 0 {
				t.Errorf("result = %v; want the 100 rows read, all acknowledged", res)
			}
			if n := srv.RecordCount(table) - before; n != 100 {
				t.Errorf("server stored %d rows, want the 100 acknowledged", n)
			}
			if !async {
				rdr.Release() // the caller's reference
			}
			select {
			case <-rdr.released:
				t.Fatal("the reader was released while its Next was still running")
			default:
			}
			close(rdr.unblock) // the producer yields its batch: the goroutine ends
			select {
			case <-rdr.released:
			case <-time.After(5 * time.Second):
				t.Fatal("the reader was not released after its blocked Next returned")
			}
			if n := rdr.nexts.Load(); n != 2 {
				t.Errorf("Next called %d times, want 2 (none after the cancel)", n)
			}
			rdr.mem.AssertSize(t, 0)
			deadline := time.Now().Add(5 * time.Second)
			for readerGoroutines() > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := readerGoroutines(); n > 0 {
				t.Errorf("%d reading goroutines left after the reader returned", n)
			}
		})
	}
}

// TestSendReaderReleasesReaderBeforeReturning: a send that reads its
// reader to the end has released its own reference when it returns (the
// caller may read or free the reader right away).
func TestSendReaderReleasesReaderBeforeReturning(t *testing.T) {
	const table = "main.default.released"
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	rdr := newBlockedReader()
	close(rdr.unblock)
	res, err := w.SendReader(context.Background(), rdr)
	if err != nil || res.SuccessfulCount != 200 {
		t.Fatalf("SendReader = %v, %v; want 200 rows", res, err)
	}
	if n := rdr.refs.Load(); n != 1 {
		t.Errorf("reader has %d references after SendReader, want the caller's 1", n)
	}
	rdr.Release()
	rdr.mem.AssertSize(t, 0)
}
