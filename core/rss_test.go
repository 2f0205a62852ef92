package core_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// The peak-RSS check of many senders sharing one Wrapper (`make go-rss`, not
// part of `make test`): ZEROBUS_RSS_GO=1 enables it. The null server runs
// in a process of its own (this test binary re-run as
// TestNullServerProcess) so that only the client's memory is measured.
//
//	ZEROBUS_RSS_GO=1 go test -run TestPeakRSSManySenders -v -count=1 ./core/
//
// Knobs: ZEROBUS_RSS_SENDERS (16), ZEROBUS_RSS_MB (1100: encoded MB sent in
// all), ZEROBUS_RSS_ROWS (200000 reference rows per batch, about 30 MB
// encoded), ZEROBUS_RSS_LATENCY_MS (10: the server's ack latency),
// ZEROBUS_RSS_MAX (2: the bound, in windows, on peak RSS growth),
// ZEROBUS_RSS_RANGES=1 (WithRowRangesOnly), ZEROBUS_RSS_TRANSPORT
// (protobuf, or arrow_flight: a null Flight server, same ack latency).

// TestNullServerProcess is the null server's process for TestPeakRSSManySenders:
// it prints the endpoint and serves until its stdin closes.
func TestNullServerProcess(t *testing.T) {
	if os.Getenv("ZEROBUS_NULLSERVER_PROCESS") != "1" {
		t.Skip("helper process of TestPeakRSSManySenders")
	}
	lat, _ := strconv.Atoi(os.Getenv("ZEROBUS_RSS_LATENCY_MS"))
	var ep string
	if rssTransport() == core.TransportArrowFlight {
		ep = startNullFlight(t, time.Duration(lat)*time.Millisecond)
	} else {
		_, ep = startNullServer(t, time.Duration(lat)*time.Millisecond)
	}
	fmt.Printf("ENDPOINT %s\n", ep)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
}

// rssTransport is ZEROBUS_RSS_TRANSPORT: protobuf (default) or arrow_flight.
func rssTransport() string {
	if os.Getenv("ZEROBUS_RSS_TRANSPORT") == core.TransportArrowFlight {
		return core.TransportArrowFlight
	}
	return core.TransportProtobuf
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// procStatusKB reads a "VmRSS"/"VmHWM" line of /proc/self/status in KiB.
func procStatusKB(t *testing.T, key string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	t.Fatalf("%s not in /proc/self/status", key)
	return 0
}

func TestPeakRSSManySenders(t *testing.T) {
	if os.Getenv("ZEROBUS_RSS_GO") != "1" {
		t.Skip("set ZEROBUS_RSS_GO=1 (make go-rss)")
	}
	senders := envInt("ZEROBUS_RSS_SENDERS", 16)
	totalMB := envInt("ZEROBUS_RSS_MB", 1100)
	rows := envInt("ZEROBUS_RSS_ROWS", 200_000)
	latency := envInt("ZEROBUS_RSS_LATENCY_MS", 10)
	bound := envInt("ZEROBUS_RSS_MAX", 2)

	srv := exec.Command(os.Args[0], "-test.run", "^TestNullServerProcess$")
	srv.Env = append(os.Environ(), "ZEROBUS_NULLSERVER_PROCESS=1", fmt.Sprintf("ZEROBUS_RSS_LATENCY_MS=%d", latency))
	stdin, _ := srv.StdinPipe()
	stdout, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = srv.Wait() }()
	var ep string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "ENDPOINT "); ok {
			ep = rest
			break
		}
	}
	if ep == "" {
		t.Fatal("the null server process printed no endpoint")
	}
	go func() {
		for sc.Scan() {
		}
	}()

	cfg := core.DefaultConfig()
	cfg.Endpoint = ep
	cfg.TableName = "main.default.bench"
	cfg.Transport = rssTransport()
	ctx := context.Background()
	opts := []core.Option{core.WithHeadersProvider(staticHeaders(cfg.TableName))}
	if os.Getenv("ZEROBUS_RSS_RANGES") == "1" {
		opts = append(opts, core.WithRowRangesOnly())
	}
	w, err := core.New(ctx, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = w.Close(ctx) }()
	rec := convert.ReferenceBatch(memory.DefaultAllocator, rows) // the input, shared by every sender
	defer rec.Release()
	// Warm up: plan, both streams, a first batch through.
	for range 2 {
		if _, err := w.SendBatch(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	convert.TrimArena() // the encoder arena's free regions too
	convert.ResetArenaPeak()
	idle := procStatusKB(t, "VmRSS")
	idleParts := readMemParts()
	// Reset the peak (VmHWM) to the current RSS.
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Skipf("cannot reset the peak RSS: %v", err)
	}
	var sent atomic.Int64
	var batches atomic.Int64
	limit := int64(totalMB) << 20
	cpu0 := processCPU()
	start := time.Now()
	if path := os.Getenv("ZEROBUS_RSS_HEAPPROFILE"); path != "" {
		// A heap profile in the middle of the run (go tool pprof -sample_index=inuse_space).
		time.AfterFunc(time.Duration(envInt("ZEROBUS_RSS_HEAPPROFILE_S", 2))*time.Second, func() {
			if f, err := os.Create(path); err == nil {
				_ = pprof.WriteHeapProfile(f)
				_ = f.Close()
			}
		})
	}
	// Sample how much of the peak is the Go runtime's (heap, stacks,
	// metadata: mapped and not released) and how much the encoder arena's.
	var goPeak, arenaPeak, residentPeak, objPeak, sumPeak, recPeak, arenaAtRec int64
	var atPeak memParts
	var overPeak int64 // arena in use beyond the record window's reservations
	samples := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	sampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			goNow := int64(samples[0].Value.Uint64() - samples[1].Value.Uint64())
			goPeak = max(goPeak, goNow)
			objPeak = max(objPeak, int64(samples[2].Value.Uint64()))
			as := convert.ReadArenaStats()
			arenaPeak = max(arenaPeak, as.InUse)
			residentPeak = max(residentPeak, as.InUse+as.Free)
			sumPeak = max(sumPeak, goNow+as.InUse+as.Free)
			live, reserved := core.RecordsHeld(w)
			if live > recPeak {
				recPeak, arenaAtRec = live, as.InUse
			}
			overPeak = max(overPeak, as.InUse-reserved)
			if p := readMemParts(); p.rss > atPeak.rss {
				atPeak = p
			}
			select {
			case <-sampling:
				return
			case <-tick.C:
			}
		}
	}()
	var wg sync.WaitGroup
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sent.Load() < limit {
				res, err := w.SendBatch(ctx, rec)
				if err != nil {
					t.Error(err)
					return
				}
				sent.Add(int64(res.BatchSizeBytes))
				batches.Add(1)
			}
		}()
	}
	wg.Wait()
	close(sampling)
	<-sampled
	elapsed := time.Since(start)
	cpu := processCPU() - cpu0
	peak := procStatusKB(t, "VmHWM")
	growth := float64(peak-idle) / 1024
	window := float64(cfg.MaxInflightBytes) / (1 << 20)
	t.Logf("transport=%s senders=%d batches=%d sent=%.0f MiB encoded rows/batch=%d ack_latency=%dms in %s (cpu %s)",
		cfg.Transport, senders, batches.Load(), float64(sent.Load())/(1<<20), rows, latency, elapsed.Round(time.Millisecond), cpu.Round(time.Millisecond))
	t.Logf("RSS idle %.0f MiB, peak %.0f MiB: growth %.0f MiB = %.2f x the %.0f MiB window",
		float64(idle)/1024, float64(peak)/1024, growth, growth/window, window)
	st := convert.ReadArenaStats()
	t.Logf("sampled every 10 ms: Go runtime memory (heap, stacks, metadata; not released) at most %.0f MiB, encoder arena regions in use at most %.0f MiB (peak %.0f MiB; regions, not all touched); after the run the arena has %.0f MiB in use, %.0f MiB free, %.0f MiB trimmed",
		float64(goPeak)/(1<<20), float64(arenaPeak)/(1<<20), float64(st.Peak)/(1<<20), float64(st.InUse)/(1<<20), float64(st.Free)/(1<<20), float64(st.Trimmed)/(1<<20))
	t.Logf("sampled: Go heap objects (live and not yet swept garbage) at most %.0f MiB; arena regions in use plus free with resident pages at most %.0f MiB; Go runtime + arena (in use and warm free) at most %.0f MiB at one time",
		float64(objPeak)/(1<<20), float64(residentPeak)/(1<<20), float64(sumPeak)/(1<<20))
	t.Logf("sampled: encoded records held by the Wrapper's chunks at most %.1f MiB (arena regions in use then %.1f MiB)", float64(recPeak)/(1<<20), float64(arenaAtRec)/(1<<20))
	t.Logf("sampled: encoder arena in use beyond the bytes reserved in the record window at most %.1f MiB; %.1f MiB taken beyond reservations (grow) in all", float64(overPeak)/(1<<20), float64(core.RecordsGrown(w))/(1<<20))
	t.Logf("at the highest sampled RSS, growth over idle in MiB: %s", atPeak.minus(idleParts))
	if growth > float64(bound)*window {
		t.Errorf("peak RSS growth %.0f MiB exceeds %d x the window (%.0f MiB)", growth, bound, float64(bound)*window)
	}
}

// memParts is one sample of what the process's memory is made of, for the
// breakdown at the highest sampled RSS.
type memParts struct {
	rss, heapObj, heapFree, heapUnused, stacks, goOther, arenaInUse, arenaFree, heapLive, heapGoal int64
}

func readMemParts() memParts {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"},
		{Name: "/gc/heap/live:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(s)
	v := func(i int) int64 { return int64(s[i].Value.Uint64()) }
	var p memParts
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			p.rss = n * int64(os.Getpagesize())
		}
	}
	p.heapObj, p.heapFree, p.heapUnused, p.stacks = v(2), v(3), v(4), v(5)
	p.goOther = v(0) - v(1) - p.heapObj - p.heapFree - p.heapUnused - p.stacks
	p.heapLive, p.heapGoal = v(6), v(7)
	as := convert.ReadArenaStats()
	p.arenaInUse, p.arenaFree = as.InUse, as.Free
	return p
}

func (p memParts) minus(q memParts) string {
	m := func(a, b int64) float64 { return float64(a-b) / (1 << 20) }
	return fmt.Sprintf("RSS %+.1f = Go heap objects %+.1f, heap free %+.1f, heap unused %+.1f, stacks %+.1f, other Go %+.1f, arena in use %+.1f, arena warm free %+.1f (rest %+.1f); heap live %.1f, goal %.1f MiB",
		m(p.rss, q.rss), m(p.heapObj, q.heapObj), m(p.heapFree, q.heapFree), m(p.heapUnused, q.heapUnused), m(p.stacks, q.stacks),
		m(p.goOther, q.goOther), m(p.arenaInUse, q.arenaInUse), m(p.arenaFree, q.arenaFree),
		m(p.rss-p.heapObj-p.heapFree-p.heapUnused-p.stacks-p.goOther-p.arenaInUse-p.arenaFree, q.rss-q.heapObj-q.heapFree-q.heapUnused-q.stacks-q.goOther-q.arenaInUse-q.arenaFree),
		float64(p.heapLive)/(1<<20), float64(p.heapGoal)/(1<<20))
}
