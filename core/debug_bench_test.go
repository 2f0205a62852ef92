package core_test

import (
	"context"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// BenchmarkDebugOverhead measures what debug files (Arrow and protobuf, both
// on) cost SendBatch of the 100k-row reference batch, side by side in one
// run: five Wrappers (debug off twice, "off" and "off2", to show the noise
// floor, debug on, and each kind of debug file alone) each send a block of
// debugBlock batches in turn,
// b.N rounds, the order rotating every round. A debug block ends when the
// debug writer's queue is empty, so the background writing is charged to
// the block that caused it. Reported per server: wall and process CPU
// milliseconds per batch of each mode, and the ratios on/off (median over
// rounds of the per-round ratio) and off2/off; also each mode's minor page
// faults per batch (the encoder's arena maps fresh memory when the debug
// queue holds its regions longer). Servers: the null server (acks at once:
// the client's two cores are the only limit), the local server (stores the
// rows: it and the client share the cores) and "paced_server", the null
// server acking each request pacedAckLatency after it arrived, as a service
// that commits before it acknowledges (Zerobus takes 15k–100k records/s
// per stream: at its fastest a 100k-row batch is about a second of acks,
// so the client's cores are mostly idle). Run: make bench-debug.
func BenchmarkDebugOverhead(b *testing.B) {
	const rows, debugBlock = 100_000, 4
	for _, server := range []string{"null_server", "local_server", "paced_server"} {
		b.Run(server+"/rows=100000", func(b *testing.B) {
			dir := b.TempDir()
			// "proto" and "arrow": one kind of debug file only.
			modes := []string{"off", "off2", "on", "proto", "arrow"}
			ws := make([]*core.Wrapper, len(modes))
			for i, m := range modes {
				mutate := func(c *core.Config) {
					if m != "off" && m != "off2" {
						c.DebugOutputDir, c.DebugMaxFilesRetained = filepath.Join(dir, m), 2
					}
					switch m {
					case "on":
						c.DebugEnabled = true
					case "proto":
						c.DebugProtobufEnabled = true
					case "arrow":
						c.DebugArrowEnabled = true
					}
				}
				switch server {
				case "null_server":
					ws[i], _ = nullWrapper(b, 0, mutate)
				case "paced_server":
					ws[i], _ = nullWrapper(b, pacedAckLatency, mutate)
				default:
					ws[i], _ = benchWrapper(b, zerobuslocal.Options{MaxStoredRows: 200_000}, mutate)
				}
			}
			rec := convert.ReferenceBatch(memory.DefaultAllocator, rows)
			defer rec.Release()
			ctx := context.Background()
			for _, w := range ws { // warm up: plan, stream, files
				if _, err := w.SendBatch(ctx, rec); err != nil {
					b.Fatal(err)
				}
				waitDebugQueue(b, w)
			}
			wall := make([][]float64, len(modes)) // ms per batch, per round
			cpu := make([][]float64, len(modes))
			faults := make([][]float64, len(modes)) // minor page faults per batch
			b.ResetTimer()
			for r := 0; r < b.N; r++ {
				for k := range modes {
					i := (r + k) % len(modes)
					w := ws[i]
					start, c0, f0 := time.Now(), processCPU(), minorFaults()
					for j := 0; j < debugBlock; j++ {
						res, err := w.SendBatch(ctx, rec)
						if err != nil {
							b.Fatal(err)
						}
						if res.SuccessfulCount != rows {
							b.Fatalf("%s: %d rows succeeded, want %d", modes[i], res.SuccessfulCount, rows)
						}
					}
					waitDebugQueue(b, w)
					wall[i] = append(wall[i], float64(time.Since(start).Microseconds())/1000/debugBlock)
					cpu[i] = append(cpu[i], float64((processCPU()-c0).Microseconds())/1000/debugBlock)
					faults[i] = append(faults[i], float64(minorFaults()-f0)/debugBlock)
				}
			}
			b.StopTimer()
			for i, m := range modes {
				b.ReportMetric(median(wall[i]), m+"-ms/batch")
				b.ReportMetric(median(cpu[i]), m+"-cpu-ms/batch")
				b.ReportMetric(median(faults[i]), m+"-faults/batch")
			}
			b.ReportMetric(medianRatio(wall[2], wall[0]), "on/off-wall")
			b.ReportMetric(medianRatio(cpu[2], cpu[0]), "on/off-cpu")
			b.ReportMetric(medianRatio(wall[3], wall[0]), "proto-only/off-wall")
			b.ReportMetric(medianRatio(cpu[3], cpu[0]), "proto-only/off-cpu")
			b.ReportMetric(medianRatio(wall[4], wall[0]), "arrow-only/off-wall")
			b.ReportMetric(medianRatio(cpu[4], cpu[0]), "arrow-only/off-cpu")
			b.ReportMetric(medianRatio(wall[1], wall[0]), "off2/off-wall")
			b.ReportMetric(medianRatio(cpu[1], cpu[0]), "off2/off-cpu")
			var drops int64
			for _, w := range ws[2:] {
				st := w.DebugStats()
				drops += st.Arrow.DroppedWrites + st.Protobuf.DroppedWrites
			}
			b.ReportMetric(float64(drops), "debug-drops")
			if st := ws[2].DebugStats(); st.Arrow.Writes == 0 || st.Protobuf.Writes == 0 {
				b.Fatalf("debug on wrote nothing: %+v", st)
			}
			if st := ws[3].DebugStats(); st.Arrow.Writes != 0 || st.Protobuf.Writes == 0 {
				b.Fatalf("protobuf only: %+v", st)
			}
			if st := ws[4].DebugStats(); st.Arrow.Writes == 0 || st.Protobuf.Writes != 0 {
				b.Fatalf("Arrow only: %+v", st)
			}
		})
	}
}

// pacedAckLatency is the "paced_server"'s time from a request's arrival to
// its ack: 20 ms for a request of up to 10 MiB of records, a service
// taking 500 MB/s per stream, five times Zerobus' documented rate.
const pacedAckLatency = 20 * time.Millisecond

// waitDebugQueue waits until w's debug writer has written everything queued.
func waitDebugQueue(tb testing.TB, w *core.Wrapper) {
	deadline := time.Now().Add(time.Minute)
	for {
		st := w.DebugStats()
		if st.Arrow.QueuedWrites == 0 && st.Protobuf.QueuedWrites == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("debug queue not empty after a minute: %+v", st)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if n := len(s); n%2 == 1 {
		return s[n/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// medianRatio is the median of a[i]/b[i] (same round).
func medianRatio(a, b []float64) float64 {
	r := make([]float64, 0, len(a))
	for i := range a {
		if b[i] > 0 {
			r = append(r, a[i]/b[i])
		}
	}
	return median(r)
}
