package core_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// coldStartEnv makes the test binary a child of BenchmarkColdStartSendBatch.
const coldStartEnv = "ZEROBUS_COLDSTART_CHILD"

// BenchmarkColdStartSendBatch runs a fresh process b.N times; each starts
// a null server and a Wrapper, sends the reference batch (100k rows) once
// (the first call of the process: empty heap and pools; the stream is
// opened beforehand by a 1-row batch) and then 10 more times. Reported:
// first/warm, the first call's time over the median of the others (median
// over the processes; the goal is at most 1.3), wall and process CPU.
//
//	go test -run '^$' -bench ColdStartSendBatch -benchtime 7x ./core/
func BenchmarkColdStartSendBatch(b *testing.B) {
	var wall, cpu []float64
	for range b.N {
		cmd := exec.Command(os.Args[0], "-test.run", "^TestColdStartSendBatchChild$", "-test.v")
		cmd.Env = append(os.Environ(), coldStartEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("child: %v\n%s", err, out)
		}
		var w, c float64
		i := strings.Index(string(out), "coldstart ")
		if i < 0 {
			b.Fatalf("child output:\n%s", out)
		}
		if _, err := fmt.Sscanf(string(out[i:]), "coldstart %g %g", &w, &c); err != nil {
			b.Fatalf("child output: %v\n%s", err, out)
		}
		wall, cpu = append(wall, w), append(cpu, c)
	}
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	b.ReportMetric(median(wall), "first/warm-wall")
	b.ReportMetric(median(cpu), "first/warm-cpu")
}

// TestColdStartSendBatchChild is BenchmarkColdStartSendBatch's child; it
// does nothing unless started by it.
func TestColdStartSendBatchChild(t *testing.T) {
	if os.Getenv(coldStartEnv) == "" {
		return // only meaningful as the first work of a fresh process
	}
	w, _ := nullWrapper(t, 0, nil)
	ctx := context.Background()
	one := convert.ReferenceBatch(memory.DefaultAllocator, 1)
	defer one.Release()
	if _, err := w.SendBatch(ctx, one); err != nil { // plan and stream
		t.Fatal(err)
	}
	rec := convert.ReferenceBatch(memory.DefaultAllocator, 100_000)
	defer rec.Release()
	send := func() (time.Duration, time.Duration) {
		c0, t0 := processCPU(), time.Now()
		if _, err := w.SendBatch(ctx, rec); err != nil {
			t.Fatal(err)
		}
		return time.Since(t0), processCPU() - c0
	}
	firstWall, firstCPU := send()
	var walls, cpus []time.Duration
	for range 10 {
		w, c := send()
		walls, cpus = append(walls, w), append(cpus, c)
	}
	slices.Sort(walls)
	slices.Sort(cpus)
	wallMid, cpuMid := walls[len(walls)/2], cpus[len(cpus)/2]
	fmt.Printf("coldstart %.3f %.3f\n", float64(firstWall)/float64(wallMid), float64(firstCPU)/float64(max(cpuMid, 1)))
	t.Logf("first SendBatch %v (cpu %v), warm median %v (cpu %v)", firstWall, firstCPU, wallMid, cpuMid)
}
