//go:build cgo

package pybind

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// exportStream exports recs as an Arrow C stream in Go memory, as Python's
// __arrow_c_stream__ would, and returns it with its address.
func exportStream(t testing.TB, recs ...arrow.RecordBatch) (*cdata.CArrowArrayStream, int64) {
	t.Helper()
	rdr, err := array.NewRecordReader(testSchema, recs)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	cs := new(cdata.CArrowArrayStream)
	cdata.ExportRecordReader(rdr, cs)
	return cs, int64(uintptr(unsafe.Pointer(cs)))
}

// outcome is Pending.Wait's JSON.
type outcome struct {
	Progress [][2]int64 `json:"progress"`
	Result   *result    `json:"result"`
}

// waitAll calls Wait until the result comes, collecting progress.
func waitAll(t *testing.T, p *Pending) (*result, [][2]int64) {
	t.Helper()
	var progress [][2]int64
	for {
		var o outcome
		if err := json.Unmarshal([]byte(p.Wait(50)), &o); err != nil {
			t.Fatal(err)
		}
		progress = append(progress, o.Progress...)
		if o.Result != nil {
			return o.Result, progress
		}
	}
}

func TestSendStreamAgainstLocalServer(t *testing.T) {
	s := startLocal(t)
	w, err := NewWrapper(localConfig(s, "main.pybind.send"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(0) }()
	b1, b2 := testBatch(memory.DefaultAllocator, 0, 10), testBatch(memory.DefaultAllocator, 10, 5)
	defer b1.Release()
	defer b2.Release()
	cs, addr := exportStream(t, b1, b2)
	p, err := w.SendStream(addr, 15, true, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.SendStream(addr, 15, false, 0, 0, 0); err == nil || !strings.Contains(err.Error(), "already released") {
		t.Errorf("second SendStream of a moved stream = %v, want an error", err)
	}
	runtime.KeepAlive(cs)
	res, progress := waitAll(t, p)
	if !res.Success || res.TotalRows != 15 || res.SuccessfulCount != 15 || len(res.Failed) != 0 || res.Raised {
		t.Errorf("result = %+v, want 15 rows sent", res)
	}
	if len(progress) < 2 || progress[len(progress)-1] != [2]int64{15, 15} {
		t.Errorf("progress = %v, want one event per batch ending at [15 15]", progress)
	}
	ipcData, err := s.TableIPC("main.pybind.send")
	if err != nil {
		t.Fatal(err)
	}
	stored, err := ipc.NewReader(bytes.NewReader(ipcData))
	if err != nil {
		t.Fatal(err)
	}
	defer stored.Release()
	var ids []int64
	for stored.Next() {
		ids = append(ids, stored.RecordBatch().Column(0).(*array.Int64).Int64Values()...)
	}
	slices.Sort(ids)
	if len(ids) != 15 || ids[0] != 0 || ids[14] != 14 {
		t.Errorf("stored ids = %v, want 0..14", ids)
	}
	if err := w.Close(0); err != nil {
		t.Fatal(err)
	}
	cs, addr = exportStream(t, b1)
	p, err = w.SendStream(addr, -1, false, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(cs)
	if res, _ := waitAll(t, p); !res.Raised || res.ErrorKind != "closed" {
		t.Errorf("send after Close = %+v, want a raised closed error", res)
	}
}

func TestSendStreamCancel(t *testing.T) {
	s := startLocal(t)
	const table = "main.pybind.cancel"
	w, err := NewWrapper(localConfig(s, table))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(2000) }()
	if err := s.InjectFault(table, `{"kind": "stall_acks", "persistent": true}`); err != nil {
		t.Fatal(err)
	}
	rec := testBatch(memory.DefaultAllocator, 0, 100)
	defer rec.Release()
	cs, addr := exportStream(t, rec)
	p, err := w.SendStream(addr, 100, true, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(cs)
	if got := p.Wait(200); got != `{"progress":[],"result":null}` {
		t.Fatalf("Wait with stalled acks = %s, want nothing yet", got)
	}
	start := time.Now()
	p.Cancel()
	res, _ := waitAll(t, p)
	// Promptly: the acks never come, and without the cancel the outcome
	// would wait for the 60s default ack timeout. (The bound was 500ms, which
	// a loaded machine can take for the return alone.)
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the outcome came %v after Cancel, want promptly (before the ack timeout)", took)
	}
	if res.Success || res.ErrorKind != "canceled" || res.FailedCount != 100 || len(res.Failed) != 1 || res.Failed[0].Ranges[0] != [2]int{0, 100} {
		t.Errorf("result = %+v, want 100 rows failed as canceled", res)
	}
}

func TestImportStreamErrors(t *testing.T) {
	if _, err := importStream(0); err == nil || !strings.HasPrefix(err.Error(), `{"kind":"unknown",`) {
		t.Errorf("importStream(0) = %v, want a kinded error", err)
	}
	cs := new(cdata.CArrowArrayStream) // released: all zero
	if _, err := importStream(int64(uintptr(unsafe.Pointer(cs)))); err == nil {
		t.Error("importStream of a released stream succeeded")
	}
	runtime.KeepAlive(cs)
}

func TestEncodeResultFromCore(t *testing.T) {
	errA := &core.ConversionError{Row: 1, Reason: "bad a"}
	retry := &core.RetryExhaustedError{Attempts: 2, Last: &core.ConnectionError{}}
	var got result
	in := &core.TransmissionResult{TotalRows: 4, SuccessfulCount: 2, FailedCount: 2, Err: errA,
		FailedRows: []core.FailedRow{{Index: 1, Err: errA}, {Index: 2, Err: errA}}, Latency: 3 * time.Millisecond}
	if err := json.Unmarshal(encodeResult(in), &got); err != nil {
		t.Fatal(err)
	}
	errD, groupD := *got.Error, *got.Failed[0].Details
	if errD.Kind != core.KindConversion || errD.Row != 1 || errD.Message != errA.Error() || groupD.Row != 1 || groupD.Message != "" {
		t.Errorf("details: batch %+v, group %+v", errD, groupD)
	}
	got.Error, got.Failed[0].Details = nil, nil
	want := result{ErrorKind: "conversion", ErrorMessage: errA.Error(), LatencyMs: 3, TotalRows: 4, SuccessfulCount: 2, FailedCount: 2,
		Failed: []failedGroup{{Kind: "conversion", Message: errA.Error(), State: "unknown", Ranges: [][2]int{{1, 3}}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("encoded (-want +got):\n%s", diff)
	}
	whole := &core.TransmissionResult{TotalRows: 1, FailedCount: 1, Err: retry, FailedRows: []core.FailedRow{{Index: 0, Err: retry}}}
	if err := json.Unmarshal(encodeResult(whole), &got); err != nil {
		t.Fatal(err)
	}
	groupD = *got.Failed[0].Details
	if !got.Raised || got.ErrorKind != "retry_exhausted" || groupD.Attempts != 2 || len(groupD.Causes) != 1 || groupD.Causes[0].Kind != core.KindConnection {
		t.Errorf("whole failure encoded as %+v, details %+v", got, groupD)
	}
	ok := &core.TransmissionResult{TotalRows: 1, SuccessfulCount: 1, Success: true}
	if out := string(encodeResult(ok)); !strings.Contains(out, `"error":null`) || !strings.Contains(out, `"failed":[]`) {
		t.Errorf("success encoded as %s", out)
	}
}

// BenchmarkSendStream compares a send through the facade (C stream in, JSON
// out) with core.Wrapper.SendBatch on the same batch, against the local
// server: the facade's own per-call cost.
func BenchmarkSendStream(b *testing.B) {
	s, err := StartLocalServer(`{}`)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	w, err := NewWrapper(localConfig(s, "main.pybind.bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = w.Close(0) }()
	for _, rows := range []int{1, 10_000} {
		rec := testBatch(memory.DefaultAllocator, 0, rows)
		b.Run(fmt.Sprintf("rows=%d/facade", rows), func(b *testing.B) {
			for b.Loop() {
				cs, addr := exportStream(b, rec)
				p, err := w.SendStream(addr, -1, false, 0, 0, 0)
				if err != nil {
					b.Fatal(err)
				}
				runtime.KeepAlive(cs)
				if out := p.Wait(0); !strings.Contains(out, `"success":true`) {
					b.Fatal(out)
				}
			}
		})
		b.Run(fmt.Sprintf("rows=%d/core", rows), func(b *testing.B) {
			for b.Loop() {
				if res, _ := w.w.SendBatch(b.Context(), rec); !res.Success {
					b.Fatal(res.Err)
				}
			}
		})
		rec.Release()
	}
}

// failingReader yields its batches, then fails; it counts Retain/Release
// (the exported C stream's release callback releases it).
type failingReader struct {
	recs     []arrow.RecordBatch
	i        int
	refs     atomic.Int64
	released atomic.Int64
}

func (r *failingReader) Schema() *arrow.Schema { return testSchema }
func (r *failingReader) Next() bool {
	if r.i >= len(r.recs) {
		return false
	}
	r.i++
	return true
}
func (r *failingReader) RecordBatch() arrow.RecordBatch { return r.recs[r.i-1] }
func (r *failingReader) Record() arrow.RecordBatch      { return r.recs[r.i-1] } //nolint:staticcheck
func (r *failingReader) Err() error {
	if r.i >= len(r.recs) {
		return errors.New("the source broke")
	}
	return nil
}
func (r *failingReader) Retain() { r.refs.Add(1) }
func (r *failingReader) Release() {
	if r.refs.Add(-1) == 0 {
		r.released.Add(1)
	}
}

// A stream that fails after some batches: the rows read before are stored,
// the error names how far the input was read (row 15), and the producer's
// release callback runs exactly once.
func TestSendStreamReaderErrorNamesTheRowAndReleasesOnce(t *testing.T) {
	s := startLocal(t)
	const table = "main.pybind.readerr"
	w, err := NewWrapper(localConfig(s, table))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(0) }()
	b1, b2 := testBatch(memory.DefaultAllocator, 0, 10), testBatch(memory.DefaultAllocator, 10, 5)
	defer b1.Release()
	defer b2.Release()
	src := &failingReader{recs: []arrow.RecordBatch{b1, b2}}
	src.refs.Store(1)
	cs := new(cdata.CArrowArrayStream)
	cdata.ExportRecordReader(src, cs)
	src.Release() // the exported stream holds its own reference
	p, err := w.SendStream(int64(uintptr(unsafe.Pointer(cs))), -1, false, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	runtime.KeepAlive(cs)
	res, _ := waitAll(t, p)
	if res.Success || res.Raised || res.SuccessfulCount != 15 || res.ErrorKind != "conversion" {
		t.Errorf("result = %+v, want 15 rows stored and a conversion error", res)
	}
	for _, want := range []string{"after row 15", "the source broke"} {
		if !strings.Contains(res.ErrorMessage, want) {
			t.Errorf("error message %q does not say %q", res.ErrorMessage, want)
		}
	}
	if n := s.RecordCount(table); n != 15 {
		t.Errorf("stored %d rows, want 15", n)
	}
	if got := src.released.Load(); got != 1 || src.refs.Load() != 0 {
		t.Errorf("producer released %d times (refs %d), want once (0)", got, src.refs.Load())
	}
}
