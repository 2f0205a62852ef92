package core_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// warmReference returns the reference batch of rows (released when b
// ends) after sending it once through w, so that the plan and the stream
// exist before the timer starts; res is that first send's result.
func warmReference(b *testing.B, w *core.Wrapper, rows int) (rec arrow.RecordBatch, res *core.TransmissionResult) {
	b.Helper()
	rec = convert.ReferenceBatch(memory.DefaultAllocator, rows)
	b.Cleanup(rec.Release)
	res, err := w.SendBatch(context.Background(), rec)
	if err != nil {
		b.Fatal(err)
	}
	return rec, res
}

// benchWrapper starts a local server (with opts) and a Wrapper for it.
func benchWrapper(b *testing.B, opts zerobuslocal.Options, mutate func(*core.Config)) (*core.Wrapper, *zerobuslocal.Server) {
	b.Helper()
	srv, err := zerobuslocal.Start(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	cfg := core.DefaultConfig()
	cfg.Endpoint, cfg.UnityCatalogURL = srv.Endpoint(), srv.WorkspaceURL()
	cfg.ClientID, cfg.ClientSecret = srv.ClientID(), srv.ClientSecret()
	cfg.TableName = "main.default.bench"
	if mutate != nil {
		mutate(&cfg)
	}
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close(context.Background()) })
	return w, srv
}

// nullWrapper is a Wrapper for a null server with the given ack latency.
func nullWrapper(b testing.TB, latency time.Duration, mutate func(*core.Config)) (*core.Wrapper, *nullServer) {
	b.Helper()
	ns, ep := startNullServer(b, latency)
	cfg := core.DefaultConfig()
	cfg.Endpoint = ep
	cfg.TableName = "main.default.bench"
	if mutate != nil {
		mutate(&cfg)
	}
	w, err := core.New(context.Background(), cfg, core.WithHeadersProvider(staticHeaders(cfg.TableName)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close(context.Background()) })
	return w, ns
}

// BenchmarkSendBatch sends the reference batch (12 columns, see
// convert.ReferenceBatch) until durably acknowledged: "writer_disabled"
// measures conversion plus the wrapper's own overhead, "null_server" the
// whole client path over loopback to a peer that acks without decoding,
// "local_server" the same against zerobuslocal, whose per-record decoding
// and storage dominate.
func BenchmarkSendBatch(b *testing.B) {
	cases := []struct {
		mode string
		rows int
	}{
		{"writer_disabled", 1_000}, {"writer_disabled", 100_000},
		{"null_server", 1_000}, {"null_server", 100_000},
		{"null_server_debug", 100_000},
		{"local_server", 1_000}, {"local_server", 10_000},
	}
	for _, tc := range cases {
		b.Run(fmt.Sprintf("%s/rows=%d", tc.mode, tc.rows), func(b *testing.B) {
			var w *core.Wrapper
			switch tc.mode {
			case "writer_disabled":
				w, _ = nullWrapper(b, 0, func(c *core.Config) { c.WriterDisabled = true })
			case "null_server":
				w, _ = nullWrapper(b, 0, nil)
			case "null_server_debug": // Arrow and protobuf debug files on
				dir := b.TempDir()
				w, _ = nullWrapper(b, 0, func(c *core.Config) { c.DebugEnabled, c.DebugOutputDir = true, dir })
			default:
				w, _ = benchWrapper(b, zerobuslocal.Options{}, nil)
			}
			rec, res := warmReference(b, w, tc.rows)
			ctx := context.Background()
			b.SetBytes(int64(res.BatchSizeBytes))
			b.ReportAllocs()
			cpu0 := processCPU()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := w.SendBatch(ctx, rec); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(tc.rows*b.N)/time.Since(start).Seconds(), "rows/s")
			// CPU of the process (client and in-process server) is steadier
			// than wall time on a shared machine.
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}

// BenchmarkConcurrentSends: 1, 4 and 16 goroutines share one Wrapper and send
// 1,000-row reference batches to a null server that acknowledges after 0 or
// 5 ms (like a remote service). Throughput grows with concurrency because
// the requests of concurrent calls pipeline on the shared streams instead of
// each call waiting out the ack latency alone.
func BenchmarkConcurrentSends(b *testing.B) {
	const rows = 1000
	for _, lat := range []time.Duration{0, 5 * time.Millisecond} {
		for _, g := range []int{1, 4, 16} {
			b.Run(fmt.Sprintf("ack_latency=%v/goroutines=%d", lat, g), func(b *testing.B) {
				w, ns := nullWrapper(b, lat, nil)
				rec := convert.ReferenceBatch(memory.DefaultAllocator, rows)
				defer rec.Release()
				ctx := context.Background()
				res, err := w.SendBatch(ctx, rec)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(res.BatchSizeBytes))
				b.ReportAllocs()
				b.ResetTimer()
				start := time.Now()
				var next atomic.Int64
				var wg sync.WaitGroup
				for k := 0; k < g; k++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for next.Add(1) <= int64(b.N) {
							if _, err := w.SendBatch(ctx, rec); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				b.ReportMetric(float64(rows*b.N)/time.Since(start).Seconds(), "rows/s")
				b.StopTimer()
				if got, want := ns.records.Load(), int64(rows*(b.N+1)); got != want {
					b.Fatalf("server counted %d records, want %d", got, want)
				}
			})
		}
	}
}

// BenchmarkSendBatch10MB sends a ~10 MB batch (70k reference rows) at a
// time through the Wrapper until acknowledged and reports the latency of
// one SendBatch call, p50 and p95, and the process CPU per call, against
// the null server (the client's own cost) and the local server.
//
//	go test -run '^$' -bench SendBatch10MB -benchtime 40x ./core/
func BenchmarkSendBatch10MB(b *testing.B) {
	const rows = 70_000
	for _, server := range []string{"null", "local"} {
		b.Run("server="+server, func(b *testing.B) {
			var w *core.Wrapper
			if server == "null" {
				w, _ = nullWrapper(b, 0, nil)
			} else {
				w, _ = benchWrapper(b, zerobuslocal.Options{MaxStoredRows: 200_000}, nil)
			}
			rec, res := warmReference(b, w, rows)
			ctx := context.Background()
			b.SetBytes(int64(res.BatchSizeBytes))
			b.ReportAllocs()
			lat := make([]time.Duration, 0, b.N)
			cpu0 := processCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, err := w.SendBatch(ctx, rec); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			cpu := processCPU() - cpu0
			slices.Sort(lat)
			pct := func(q float64) float64 {
				return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
