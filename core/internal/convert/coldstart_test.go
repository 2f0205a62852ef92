package convert

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// coldStartEnv makes the test binary a child of BenchmarkColdStart that
// times encodes in its fresh process.
const coldStartEnv = "ZEROBUS_COLDSTART_CHILD"

// BenchmarkColdStart runs a fresh process b.N times; each builds the
// reference batch (100k rows) and its plan, encodes it once (the first
// encode of the process: empty heap, empty pools) and then 10 more times,
// releasing each result as the sender does. Reported: first/warm, the
// first encode's time over the median of the last 10 (median over the
// processes; the goal is at most 1.3), and second/warm, for wall and
// process CPU time (CPU is the steadier on a shared machine).
//
//	go test -run '^$' -bench ColdStart -benchtime 7x ./core/internal/convert/
func BenchmarkColdStart(b *testing.B) {
	var wall, cpu, wall2, cpu2 []float64
	for range b.N {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestColdStartChild$", "-test.v")
		cmd.Env = append(os.Environ(), coldStartEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		var w, c, w2, c2 float64
		if _, err := fmt.Sscanf(string(out[strings.Index(string(out), "coldstart "):]), "coldstart %g %g %g %g", &w, &c, &w2, &c2); err != nil {
			b.Fatalf("child output: %v\n%s", err, out)
		}
		wall, cpu = append(wall, w), append(cpu, c)
		wall2, cpu2 = append(wall2, w2), append(cpu2, c2)
	}
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	b.ReportMetric(median(wall), "first/warm-wall")
	b.ReportMetric(median(cpu), "first/warm-cpu")
	b.ReportMetric(median(wall2), "second/warm-wall")
	b.ReportMetric(median(cpu2), "second/warm-cpu")
}

// TestColdStartChild is BenchmarkColdStart's child; it does nothing
// unless started by it.
func TestColdStartChild(t *testing.T) {
	if os.Getenv(coldStartEnv) == "" {
		return // only meaningful as the first work of a fresh process
	}
	rec := ReferenceBatch(memory.DefaultAllocator, benchRows)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	encode := func() (time.Duration, time.Duration) {
		c0, t0 := processCPU(), time.Now()
		out, err := p.Encode(rec)
		if err != nil {
			t.Fatal(err)
		}
		d, c := time.Since(t0), processCPU()-c0
		out.Release()
		return d, c
	}
	ms0 := faults()
	firstWall, firstCPU := encode()
	ms1 := faults()
	secondWall, secondCPU := encode()
	var walls, cpus []time.Duration
	for range 10 {
		w, c := encode()
		walls, cpus = append(walls, w), append(cpus, c)
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	ratio := func(a, b time.Duration) string { return strconv.FormatFloat(float64(a)/float64(max(b, 1)), 'f', 3, 64) }
	wallMid, cpuMid := walls[len(walls)/2], cpus[len(cpus)/2]
	fmt.Println("coldstart", ratio(firstWall, wallMid), ratio(firstCPU, cpuMid), ratio(secondWall, wallMid), ratio(secondCPU, cpuMid))
	t.Logf("first encode %v (cpu %v, %d page faults), warm median %v (cpu %v, %d page faults in all 10)", firstWall, firstCPU, ms1-ms0, walls[len(walls)/2], cpus[len(cpus)/2], faults()-ms1)
}
