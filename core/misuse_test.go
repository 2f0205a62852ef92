package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestNilContextFailsTheCall: a nil ctx panicked (on SendBatchAsync's own
// goroutine, ending the process); each call now fails with ErrNilContext,
// its rows not written and nothing stored, and Close(nil) closes.
func TestNilContextFailsTheCall(t *testing.T) {
	const table = "main.default.nil_ctx"
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	rec := telBatch(memory.NewGoAllocator(), 7)
	defer rec.Release()
	rdr, _ := array.NewRecordReader(telSchema, []arrow.RecordBatch{rec})
	defer rdr.Release()
	var nilCtx context.Context // a nil context, as a caller's bug passes it
	check := func(name string, res *core.TransmissionResult, err error, rows int) {
		t.Helper()
		if !errors.Is(err, core.ErrNilContext) {
			t.Errorf("%s: err = %v, want ErrNilContext", name, err)
		}
		if res != nil && (res.TotalRows != rows || res.NotWrittenCount != rows || res.Err != err) {
			t.Errorf("%s: result = %v, want its %d rows not written", name, res, rows)
		}
	}
	res, err := w.SendBatch(nilCtx, rec)
	check("SendBatch", res, err, 7)
	res, err = w.SendBatchAsync(nilCtx, rec).Wait(context.Background())
	check("SendBatchAsync", res, err, 7)
	res, err = w.SendReader(nilCtx, rdr)
	check("SendReader", res, err, 0)
	res, err = w.SendReaderAsync(nilCtx, rdr).Wait(context.Background())
	check("SendReaderAsync", res, err, 0)
	check("Flush", nil, w.Flush(nilCtx), 0)
	check("CheckSchema", nil, w.CheckSchema(nilCtx, telSchema), 0)
	if n := srv.RecordCount(table); n != 0 {
		t.Errorf("server stored %d rows, want 0", n)
	}
	if err := w.Close(nilCtx); err != nil {
		t.Fatalf("Close(nil) = %v", err)
	}
	if _, err := w.SendBatch(context.Background(), rec); !errors.Is(err, core.ErrClosed) {
		t.Errorf("SendBatch after Close(nil) = %v, want ErrClosed", err)
	}
}

// TestNilAndZeroWrapperActClosed: methods of a nil or zero Wrapper (a
// failed New's result, a struct field never set) panicked with a nil
// dereference; they now behave as on a closed Wrapper.
func TestNilAndZeroWrapperActClosed(t *testing.T) {
	rec := telBatch(memory.NewGoAllocator(), 3)
	defer rec.Release()
	rdr, _ := array.NewRecordReader(telSchema, []arrow.RecordBatch{rec})
	defer rdr.Release()
	ctx := context.Background()
	for name, w := range map[string]*core.Wrapper{"nil": nil, "zero": {}} {
		res, err := w.SendBatch(ctx, rec)
		if !errors.Is(err, core.ErrClosed) || res.NotWrittenCount != 3 {
			t.Errorf("%s: SendBatch = %v, %v; want ErrClosed, 3 rows not written", name, res, err)
		}
		if _, err := w.SendBatchAsync(ctx, rec).Wait(ctx); !errors.Is(err, core.ErrClosed) {
			t.Errorf("%s: SendBatchAsync = %v, want ErrClosed", name, err)
		}
		if _, err := w.SendReader(ctx, rdr); !errors.Is(err, core.ErrClosed) {
			t.Errorf("%s: SendReader = %v, want ErrClosed", name, err)
		}
		if _, err := w.SendReaderAsync(ctx, rdr).Wait(ctx); !errors.Is(err, core.ErrClosed) {
			t.Errorf("%s: SendReaderAsync = %v, want ErrClosed", name, err)
		}
		if err := w.Flush(ctx); !errors.Is(err, core.ErrClosed) {
			t.Errorf("%s: Flush = %v, want ErrClosed", name, err)
		}
		if err := w.CheckSchema(ctx, telSchema); !errors.Is(err, core.ErrClosed) {
			t.Errorf("%s: CheckSchema = %v, want ErrClosed", name, err)
		}
		if err := w.Close(ctx); err != nil {
			t.Errorf("%s: Close = %v, want nil", name, err)
		}
		if c := w.Config(); c.TableName != "" || c.Endpoint != "" {
			t.Errorf("%s: Config = %v, want the zero Config", name, c)
		}
		if s := w.DebugStats(); s != (core.DebugStats{}) {
			t.Errorf("%s: DebugStats = %+v, want zeros", name, s)
		}
		if s := w.String(); !strings.HasPrefix(s, "core.Wrapper") {
			t.Errorf("%s: String = %q", name, s)
		}
	}
}

// nilBatchReader's Next says true once with a nil RecordBatch, between
// two real batches.
type nilBatchReader struct {
	array.RecordReader
	calls int
}

func (r *nilBatchReader) Next() bool {
	r.calls++
	if r.calls == 2 {
		return true
	}
	return r.RecordReader.Next()
}

func (r *nilBatchReader) RecordBatch() arrow.RecordBatch {
	if r.calls == 2 {
		return nil
	}
	return r.RecordReader.RecordBatch()
}

// TestSendReaderNilBatchIsAnError: a reader whose Next returned true with
// a nil batch was taken as the input's end, so the rows after it were
// never read and the send reported success; it is now the reader's error.
// A nil SendOption is ignored (it panicked).
func TestSendReaderNilBatchIsAnError(t *testing.T) {
	const table = "main.default.nil_batch"
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	mem := memory.NewGoAllocator()
	a, b := telBatch(mem, 3), telBatch(mem, 3)
	defer a.Release()
	defer b.Release()
	inner, _ := array.NewRecordReader(telSchema, []arrow.RecordBatch{a, b})
	rdr := &nilBatchReader{RecordReader: inner}
	defer rdr.Release()
	res, err := w.SendReader(context.Background(), rdr, nil, core.WithTotalRows(6))
	if err == nil || !strings.Contains(err.Error(), "reading the input after row 3 failed: the reader's Next returned true but its RecordBatch is nil") {
		t.Fatalf("err = %v; want the nil batch named", err)
	}
	if res.SuccessfulCount != 3 || res.NotWrittenCount != 3 || res.TotalRows != 6 {
		t.Errorf("result = %v; want 3 durable, 3 not written of 6", res)
	}
	if n := srv.RecordCount(table); n != 3 {
		t.Errorf("server stored %d rows, want 3", n)
	}
}
