package core_test

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// silentCollector accepts connections and never answers a byte: an OTLP
// collector that is down in the hard way (exports hang instead of failing
// at once, as they do on a closed port).
type silentCollector struct {
	l        net.Listener
	accepted atomic.Int64
	first    chan struct{}
	once     sync.Once
	mu       sync.Mutex
	conns    []net.Conn
	// firstGone is closed when the client closes the first connection (it
	// gave up on the export waiting there).
	firstGone chan struct{}
}

func startSilentCollector(t *testing.T) *silentCollector {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &silentCollector{l: l, first: make(chan struct{}), firstGone: make(chan struct{})}
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
			c.accepted.Add(1)
			c.once.Do(func() {
				close(c.first)
				go func() { // read (and ignore) the export until the client closes the connection
					buf := make([]byte, 4096)
					for {
						if _, err := conn.Read(buf); err != nil {
							close(c.firstGone)
							return
						}
					}
				}()
			})
		}
	}()
	t.Cleanup(func() {
		l.Close()
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, conn := range c.conns {
			conn.Close()
		}
	})
	return c
}

// TestS23SendsDoNotWaitForAHungCollector (issue 8: "an export endpoint that
// is down: sends still succeed and finish in normal time"), without a
// timing bound of its own: once an export is hanging on a collector that
// never answers, several SendBatch calls and the Wrapper's Close complete
// before the exporter gives up on that first export (it closes the
// connection when its own export timeout ends), and the server stores
// every row. Sends that waited for the export would end only after the
// exporter gave up.
func TestS23SendsDoNotWaitForAHungCollector(t *testing.T) {
	for _, protocol := range []string{"grpc", "http"} {
		t.Run(protocol, func(t *testing.T) {
			col := startSilentCollector(t)
			srv := localServer(t)
			cfg := localConfig(srv, "main.default.hung_"+protocol)
			cfg.ObservabilityEnabled = true
			cfg.OTLPEndpoint = "http://" + col.l.Addr().String()
			cfg.OTLPProtocol = protocol
			cfg.ObservabilityInterval = 10 * time.Millisecond
			tel, err := core.SetupTelemetry(context.Background(), cfg)
			if err != nil {
				t.Fatalf("SetupTelemetry: %v", err)
			}
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
				defer cancel()
				_ = tel.Shutdown(ctx) // bounded by ctx; its error (the hung export) is expected
			}()
			w, err := core.New(context.Background(), cfg, tel.Options()...)
			if err != nil {
				t.Fatalf("core.New: %v", err)
			}
			// An export (metrics every 10 ms) is now connecting to or waiting
			// on the collector, which will never answer it.
			<-col.first

			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			const sends, rows = 5, 40
			for i := range sends {
				rec := telBatch(mem, rows)
				res, err := w.SendBatch(context.Background(), rec)
				rec.Release()
				if err != nil || !res.Success || res.SuccessfulCount != rows {
					t.Fatalf("send %d with the collector hung: %v, %v; want %d rows sent", i, res, err, rows)
				}
			}
			if err := w.Close(context.Background()); err != nil {
				t.Fatalf("Close with the collector hung: %v", err)
			}
			if got := srv.RecordCount(cfg.TableName); got != sends*rows {
				t.Errorf("server stored %d rows, want %d", got, sends*rows)
			}
			select {
			case <-col.firstGone:
				t.Error("the exporter gave up on the first (hung) export before the sends and Close had finished: they waited for it")
			default:
			}
		})
	}
}
