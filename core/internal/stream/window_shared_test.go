package stream

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestSharedWindowFaultsAndClose sends from three goroutines over three
// streams of one client through recoveries (a mid-stream error, stalled
// acks answered by the ack timeout), a cancelled sender that withdraws what
// it can, one request larger than the whole byte window, a clean Close, an
// aborted Close and Client.Close, and checks that the streams together never
// held more than the client's window and that every permit came back.
func TestSharedWindowFaultsAndClose(t *testing.T) {
	e := newEnv(t, zerobuslocal.Options{})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, AfterMessages: 7})
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, AfterMessages: 20})
	cfg := e.config()
	cfg.MaxInflightRequests = 4
	cfg.MaxInflightBytes = 400 // about six requests of five rows: the byte bound binds too
	cfg.AckTimeout = 300 * time.Millisecond
	c := e.client(cfg)
	streams := []*Stream{e.open(c), e.open(c), e.open(c)}

	var (
		mu  sync.Mutex
		all []*Pending
		wg  sync.WaitGroup
	)
	cancelled, cancel := context.WithCancel(context.Background())
	defer cancel()
	for g, s := range streams {
		ctx := context.Background()
		if g == 2 {
			ctx = cancelled
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				n := 5
				if g == 0 && i == 10 {
					n = 100 // larger than MaxInflightBytes: admitted alone
				}
				p, err := s.Send(ctx, rowsBatch(g*100000+i*1000, n))
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("stream %d Send %d: %v", g, i, err)
					}
					return
				}
				mu.Lock()
				all = append(all, p)
				mu.Unlock()
				if g == 2 && i == 12 {
					cancel()
				}
				if ctx.Err() != nil {
					s.GiveUp(p) // what no RPC took is taken back
				}
			}
		}()
	}
	wg.Wait()
	ctx := context.Background()
	if err := streams[0].Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
	expired, cancel2 := context.WithTimeout(ctx, time.Millisecond)
	defer cancel2()
	_ = streams[1].Close(expired) // may abort: its requests fail, permits return
	if err := c.Close(); err != nil {
		t.Errorf("Client.Close: %v", err)
	}
	waitAll(t, all) // acknowledged or failed: every request resolved
	if n, b := c.win.usage(); n != 0 || b != 0 {
		t.Errorf("window after faults and close: %d requests / %d bytes still held, want 0/0", n, b)
	}
	oversize := int64(0)
	for _, r := range rowsBatch(10*1000, 100) { // the request stream 0 sent as its 11th
		oversize += int64(len(r))
	}
	pr, pb := c.win.peak()
	if pr > cfg.MaxInflightRequests {
		t.Errorf("peak in-flight requests across streams: %d, want <= %d (one window per client)", pr, cfg.MaxInflightRequests)
	}
	if pb > max(cfg.MaxInflightBytes, oversize) {
		t.Errorf("peak in-flight bytes across streams: %d, want <= %d", pb, max(cfg.MaxInflightBytes, oversize))
	}
	if pr < 2 {
		t.Errorf("peak in-flight requests: %d, want >= 2 (the streams pipelined)", pr)
	}
}
