//go:build cgo

package pybind

import (
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// blockingSource gives one batch, then blocks in Next until unblock is
// closed (a producer waiting on a queue), then gives another batch.
type blockingSource struct {
	mem      memory.Allocator
	unblock  chan struct{}
	cur      arrow.RecordBatch
	nexts    int
	refs     atomic.Int64
	released atomic.Int64
}

func (r *blockingSource) Schema() *arrow.Schema { return testSchema }
func (r *blockingSource) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.nexts++
	switch r.nexts {
	case 1:
	case 2:
		<-r.unblock
	default:
		return false
	}
	r.cur = testBatch(r.mem, (r.nexts-1)*10, 10)
	return true
}
func (r *blockingSource) RecordBatch() arrow.RecordBatch { return r.cur }
func (r *blockingSource) Record() arrow.RecordBatch      { return r.cur } //nolint:staticcheck
func (r *blockingSource) Err() error                     { return nil }
func (r *blockingSource) Retain()                        { r.refs.Add(1) }
func (r *blockingSource) Release() {
	if r.refs.Add(-1) == 0 {
		if r.cur != nil {
			r.cur.Release()
			r.cur = nil
		}
		r.released.Add(1)
	}
}

// Pending.Cancel ends a send whose producer blocks in get_next at once, with
// the rows read so far; the C stream is released (once) only after the
// blocked get_next returned, and its last batch is freed, not sent.
func TestSendStreamCancelWhileTheProducerBlocks(t *testing.T) {
	s := startLocal(t)
	const table = "main.pybind.blocked"
	w, err := NewWrapper(localConfig(s, table))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(0) }()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	src := &blockingSource{mem: mem, unblock: make(chan struct{})}
	safety := time.AfterFunc(10*time.Second, func() { close(src.unblock) })
	src.refs.Store(1)
	open := OpenStreams()
	cs := new(cdata.CArrowArrayStream)
	cdata.ExportRecordReader(src, cs)
	src.Release() // the exported stream holds its own reference
	p, err := w.SendStream(int64(uintptr(unsafe.Pointer(cs))), -1, false, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(cs)
	for deadline := time.Now().Add(10 * time.Second); s.RecordCount(table) < 10 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // the reader is in the blocked get_next
	start := time.Now()
	p.Cancel()
	res, _ := waitAll(t, p)
	if took := time.Since(start); took > 500*time.Millisecond || !safety.Stop() {
		t.Fatalf("the outcome came %v after Cancel, want within 0.5 s (not once get_next returned)", took)
	}
	if res.Success || res.ErrorKind != "canceled" || res.TotalRows != 10 || res.SuccessfulCount != 10 ||
		!strings.Contains(res.ErrorMessage, "stopped after reading 10 rows") {
		t.Errorf("result = %+v, want the 10 rows read, stored, and the send stopped", res)
	}
	if n := OpenStreams() - open; n != 1 || src.released.Load() != 0 {
		t.Fatalf("%d streams open, producer released %d times; want the stream still open while get_next blocks", n, src.released.Load())
	}
	close(src.unblock)
	for deadline := time.Now().Add(10 * time.Second); OpenStreams() > open && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if n := OpenStreams() - open; n != 0 || src.released.Load() != 1 {
		t.Errorf("%d streams open, producer released %d times after get_next returned; want 0, once", n, src.released.Load())
	}
	if n := s.RecordCount(table); n != 10 {
		t.Errorf("stored %d rows, want the 10 read before the cancel", n)
	}
	mem.AssertSize(t, 0)
}
