package flightstream

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/leakcheck"
)

const testTable = "main.default.events"

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "s", Type: arrow.BinaryTypes.LargeString, Nullable: true},
}, nil)

// rows builds a batch with ids [from, from+n).
func rows(t testing.TB, from, n int) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, testSchema)
	defer b.Release()
	for i := from; i < from+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.LargeStringBuilder).Append(fmt.Sprintf("row-%d", i))
	}
	return b.NewRecordBatch()
}

type env struct {
	t   *testing.T
	srv *zerobuslocal.Server
	sc  *stream.Client
	fc  *Client
}

func newEnv(t *testing.T, mod func(*stream.Config)) *env {
	t.Helper()
	before := runtime.NumGoroutine()
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := stream.Config{
		Endpoint: srv.Endpoint(), WorkspaceURL: srv.WorkspaceURL(), TableName: testTable,
		ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(),
		Retry: stream.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond,
			Backoff: func(_ int, base, _ time.Duration) time.Duration { return base }},
		CreateTimeout: 5 * time.Second, AckTimeout: 10 * time.Second, FlushTimeout: 30 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	sc, err := stream.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := NewClient(sc, Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, sc: sc, fc: fc}
	t.Cleanup(func() {
		fc.Close()
		_ = sc.Close()
		_ = srv.Close()
		leakcheck.Goroutines(t, before+2, 30*time.Second)
	})
	return e
}

func (e *env) open() *Stream { return e.openOn(e.fc) }

// openOn opens a stream of testSchema on fc.
func (e *env) openOn(fc *Client) *Stream {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := fc.OpenStream(ctx, testSchema)
	if err != nil {
		e.t.Fatalf("OpenStream: %v", err)
	}
	return s
}

// openClient starts a Flight client of cfg on e's stream client and opens
// a stream of testSchema on it; the caller closes the client.
func (e *env) openClient(cfg Config) (*Client, *Stream) {
	e.t.Helper()
	fc, err := NewClient(e.sc, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return fc, e.openOn(fc)
}

// storedIDs returns the ids stored in the table, sorted.
func (e *env) storedIDs() []int64 {
	e.t.Helper()
	rec, err := e.srv.ArrowBatch(testTable, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rec.Release()
	col := rec.Column(0).(*array.Int64)
	ids := append([]int64(nil), col.Int64Values()...)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for i := 0; i < col.Len(); i++ {
		if got, want := rec.Column(1).(*array.String).Value(i), fmt.Sprintf("row-%d", col.Value(i)); got != want {
			e.t.Fatalf("stored row %d: s = %q, want %q", i, got, want)
		}
	}
	return ids
}

// sendAll sends n batches of size rows each and waits for all of them.
func sendAll(t *testing.T, s *Stream, batches, size int) []*Pending {
	t.Helper()
	ctx := context.Background()
	ps := make([]*Pending, 0, batches)
	for i := range batches {
		rec := rows(t, i*size, size)
		p, err := s.Send(ctx, rec)
		rec.Release()
		if err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		ps = append(ps, p)
	}
	return ps
}

func wantIDs(t *testing.T, got []int64, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("stored %d rows, want %d exactly once: %v", len(got), n, summary(got))
	}
	for i, id := range got {
		if id != int64(i) {
			t.Fatalf("stored ids are not 0..%d exactly once: at %d got %d (%s)", n-1, i, id, summary(got))
		}
	}
}

func summary(ids []int64) string {
	if len(ids) > 20 {
		return fmt.Sprintf("%v … %v", ids[:10], ids[len(ids)-10:])
	}
	return fmt.Sprint(ids)
}

func TestSendAndClose(t *testing.T) {
	e := newEnv(t, nil)
	s := e.open()
	ps := sendAll(t, s, 5, 100)
	for i, p := range ps {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
		if p.Durable() != 100 || p.Attempts() != 1 {
			t.Fatalf("batch %d: durable %d attempts %d, want 100 and 1", i, p.Durable(), p.Attempts())
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, e.storedIDs(), 500)
	if _, err := s.Send(context.Background(), rows(t, 0, 1)); !errors.Is(err, stream.ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
}

// TestPartialAckReplaysSuffix: a batch acknowledged for part of its rows is
// replayed from its IPC message (the record batch is not kept), for its
// unacknowledged rows only, with and without IPC compression.
func TestPartialAckReplaysSuffix(t *testing.T) {
	for _, comp := range []string{"none", "zstd"} {
		t.Run(comp, func(t *testing.T) {
			e := newEnv(t, nil)
			e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, AfterMessages: 1, Records: 30, CloseAfter: 50 * time.Millisecond})
			fc, s := e.openClient(Config{Compression: comp})
			defer fc.Close()
			ps := sendAll(t, s, 4, 100)
			for i, p := range ps {
				if err := p.Wait(context.Background()); err != nil {
					t.Fatalf("batch %d: %v", i, err)
				}
			}
			// Batch 1 was acknowledged for its first 30 rows, then replayed
			// from row 30 on a new RPC.
			if got := ps[1].Attempts(); got != 2 {
				t.Fatalf("partially acknowledged batch went out %d times, want 2", got)
			}
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			wantIDs(t, e.storedIDs(), 400)
			if st := e.srv.Stats(); st.StreamsCreated != 2 {
				t.Fatalf("streams created %d, want 2 (one replay)", st.StreamsCreated)
			}
		})
	}
}

func TestRotationOnCloseSignal(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, AfterMessages: 2, CloseAfter: 100 * time.Millisecond})
	s := e.open()
	for i, p := range sendAll(t, s, 3, 50) {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	time.Sleep(200 * time.Millisecond) // the server ends the RPC: the stream moves on
	rec := rows(t, 150, 50)
	p, err := s.Send(context.Background(), rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, e.storedIDs(), 200)
	if st := e.srv.Stats(); st.StreamsCreated < 2 || st.CloseSignals < 1 {
		t.Fatalf("no rotation: %+v", st)
	}
}

func TestFaultsKeepEveryRowOnce(t *testing.T) {
	for _, f := range []zerobuslocal.Fault{
		{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, AfterMessages: 2},
		{Kind: zerobuslocal.FaultError, Code: codes.Internal, AfterMessages: 3},
		{Kind: zerobuslocal.FaultEndStream, AfterMessages: 2},
		{Kind: zerobuslocal.FaultExpireToken, AfterMessages: 1},
		{Kind: zerobuslocal.FaultError, Code: codes.Unavailable},              // at create
		{Kind: zerobuslocal.FaultCreateDelay, Latency: 50 * time.Millisecond}, // slow READY
	} {
		t.Run(string(f.Kind)+"/"+f.Code.String(), func(t *testing.T) {
			e := newEnv(t, nil)
			e.srv.InjectFault(testTable, f)
			s := e.open()
			ps := sendAll(t, s, 6, 40)
			for i, p := range ps {
				if err := p.Wait(context.Background()); err != nil {
					t.Fatalf("batch %d: %v", i, err)
				}
			}
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			// Acks are immediate, so a fault after stored messages loses no
			// acknowledgement and nothing is duplicated.
			wantIDs(t, e.storedIDs(), 240)
		})
	}
}

func TestDroppedConnectionKeepsEveryRow(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, AfterMessages: 2})
	s := e.open()
	for i, p := range sendAll(t, s, 6, 40) {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// An ack lost with the connection: its batch is replayed (at-least-once).
	wantDistinct(t, e.storedIDs(), 240)
}

func wantDistinct(t *testing.T, ids []int64, n int) {
	t.Helper()
	seen := map[int64]bool{}
	for _, id := range ids {
		if id < 0 || id >= int64(n) {
			t.Fatalf("stored id %d was never sent", id)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Fatalf("distinct stored ids %d, want %d: %v", len(seen), n, summary(ids))
	}
}

func TestStalledAcksTimeOutAndRecover(t *testing.T) {
	e := newEnv(t, func(c *stream.Config) { c.AckTimeout = 200 * time.Millisecond })
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 1})
	s := e.open()
	ps := sendAll(t, s, 3, 10)
	for i, p := range ps {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Stalled acks: the stored but unacknowledged batches are replayed, so
	// they may be stored twice (at-least-once); every row is there.
	wantDistinct(t, e.storedIDs(), 30)
}

func TestTerminalErrorFailsPending(t *testing.T) {
	e := newEnv(t, nil)
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.InvalidArgument, Message: "bad batch", AfterMessages: 1})
	s := e.open()
	rec := rows(t, 0, 10)
	p0, err := s.Send(context.Background(), rec)
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	if err := p0.Wait(context.Background()); err != nil {
		t.Fatalf("batch 0: %v", err)
	}
	isInvalid := func(err error) bool {
		var se *stream.ServerError
		return errors.As(err, &se) && se.Code == codes.InvalidArgument && strings.Contains(se.Message, "bad batch")
	}
	failed := 0
	for i := 1; i < 4; i++ {
		rec := rows(t, i*10, 10)
		p, err := s.Send(context.Background(), rec)
		rec.Release()
		if err == nil {
			err = p.Wait(context.Background())
			if p.Durable() != 0 {
				t.Fatalf("batch %d: durable %d of a failed batch", i, p.Durable())
			}
		}
		if !isInvalid(err) {
			t.Fatalf("batch %d: %v, want the server's INVALID_ARGUMENT", i, err)
		}
		failed++
	}
	if err := s.Close(context.Background()); !isInvalid(err) {
		t.Fatalf("Close after a terminal failure: %v", err)
	}
	wantIDs(t, e.storedIDs(), 10)
}

func TestSchemaMismatchAtOpen(t *testing.T) {
	e := newEnv(t, nil)
	other := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int32}}, nil)
	if err := e.srv.CreateTableFromArrow(testTable, testSchema); err != nil {
		t.Fatal(err)
	}
	_, err := e.fc.OpenStream(context.Background(), other)
	var se *stream.ServerError
	if !errors.As(err, &se) || se.Code != codes.InvalidArgument || !strings.Contains(err.Error(), "id") {
		t.Fatalf("OpenStream with a mismatched schema: %v, want INVALID_ARGUMENT naming the column", err)
	}
}

func TestConcurrentSenders(t *testing.T) {
	e := newEnv(t, nil)
	s := e.open()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 5 {
				rec := rows(t, (g*5+i)*20, 20)
				p, err := s.Send(context.Background(), rec)
				rec.Release()
				if err == nil {
					err = p.Wait(context.Background())
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantIDs(t, e.storedIDs(), 16*5*20)
}

func TestWithdrawAndCompression(t *testing.T) {
	for _, comp := range []string{"zstd", "lz4"} {
		t.Run(comp, func(t *testing.T) {
			e := newEnv(t, nil)
			fc, s := e.openClient(Config{Compression: comp})
			defer fc.Close()
			ps := sendAll(t, s, 3, 1000)
			for _, p := range ps {
				if err := p.Wait(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			wantIDs(t, e.storedIDs(), 3000)
		})
	}
	if _, _, err := ParseCompression("gzip"); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Fatalf("ParseCompression(gzip) = %v", err)
	}
}
