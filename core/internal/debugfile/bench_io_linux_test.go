//go:build linux

package debugfile

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"
)

// BenchmarkWriterIO measures the background writer's CPU per byte in
// buffered mode, direct mode (pinned: even when busy), the default
// (adaptive: direct, the page cache while busy) and buffered mode without
// blocks reserved ahead ("unreserved": bufWriter.reserve off), side by
// side: one Writer per mode (Arrow and protobuf on, the reference batch's
// size: 100k rows, ~13 MB of Arrow IPC and ~14 MB of records per write),
// b.N rounds, each writing `block`
// batch(es) through each mode in turn (the order alternating) and waiting
// until they are written (no fsync). Reported per mode: process user and
// system CPU seconds per GB written, MB/s, the ratios to buffered (CPU and
// wall per byte) and the share of bytes written with direct I/O.
// Nothing else runs in the process, so its CPU is the writer's.
//
// "fsync" rounds end with Flush (fsync) instead: the page cache's write-back
// then happens within the round, in this process (otherwise the kernel's
// threads do it later, or never for files retention deletes first).
// "paced" rounds are followed by a pause of 9 times their length, so the
// writer is busy ~10% of the time (a sender slower than the disk): the
// default writer then stays with direct I/O. In the other cases it is
// busy all the time and switches to the page cache.
func BenchmarkWriterIO(b *testing.B) {
	b.Run("page-cache", func(b *testing.B) { benchWriterIO(b, false, false) })
	b.Run("fsync", func(b *testing.B) { benchWriterIO(b, true, false) })
	b.Run("paced", func(b *testing.B) { benchWriterIO(b, false, true) })
}

func benchWriterIO(b *testing.B, fsync, paced bool) {
	const rows, block = 100_000, 1
	bld := array.NewRecordBuilder(memory.DefaultAllocator, testSchema)
	records := make([][]byte, rows)
	pad := strings.Repeat("p", 140)
	for i := 0; i < rows; i++ {
		bld.Field(0).(*array.Int64Builder).Append(int64(i))
		bld.Field(1).(*array.StringBuilder).Append(pad[:100+i%11])
		r := protowire.AppendTag(nil, 1, protowire.VarintType)
		r = protowire.AppendVarint(r, uint64(i))
		r = protowire.AppendTag(r, 2, protowire.BytesType)
		records[i] = protowire.AppendString(r, pad[:100+i%31])
	}
	rec := bld.NewRecordBatch()
	bld.Release()
	defer rec.Release()
	desc := testDesc("Row")
	modes := []string{"buffered", "direct", "adaptive", "unreserved"}
	ws := make([]*Writer, len(modes))
	for i, m := range modes {
		opts := []Option{}
		switch m {
		case "buffered":
			opts = append(opts, WithBufferedIO())
		case "direct":
			opts = append(opts, func(o *options) { o.pinnedIO = true })
		case "unreserved":
			opts = append(opts, WithBufferedIO(), func(o *options) { o.noPrealloc = true })
		}
		w, err := New(table, Config{OutputDir: b.TempDir(), Arrow: true, Proto: true, MaxFilesRetained: 2}, opts...)
		if err != nil {
			b.Fatal(err)
		}
		defer w.Close()
		ws[i] = w
	}
	written := func(w *Writer) int64 {
		a, p := w.Stats()
		return a.BytesWritten + p.BytesWritten
	}
	n := len(modes)
	user, sys, wall := make([]time.Duration, n), make([]time.Duration, n), make([]time.Duration, n)
	bytes := make([]int64, n)
	b.ResetTimer()
	for r := 0; r < b.N; r++ {
		for k := range modes {
			i := (r + k) % len(modes)
			w := ws[i]
			n0, u0, s0, t0 := written(w), rusage(syscall.RUSAGE_SELF, true), rusage(syscall.RUSAGE_SELF, false), time.Now()
			for j := 0; j < block; j++ {
				w.WriteArrow(rec)
				w.WriteProto(desc, records, nil)
			}
			if err := w.flush(fsync); err != nil {
				b.Fatal(err)
			}
			took := time.Since(t0)
			wall[i] += took
			user[i] += rusage(syscall.RUSAGE_SELF, true) - u0
			sys[i] += rusage(syscall.RUSAGE_SELF, false) - s0
			bytes[i] += written(w) - n0
			if paced {
				time.Sleep(9 * took) // the writer ~10% busy: a sender slower than the disk
			}
		}
	}
	b.StopTimer()
	for i, m := range modes {
		gb := float64(bytes[i]) / 1e9
		b.ReportMetric(user[i].Seconds()/gb, m+"-user-s/GB")
		b.ReportMetric(sys[i].Seconds()/gb, m+"-sys-s/GB")
		b.ReportMetric(float64(bytes[i])/1e6/wall[i].Seconds(), m+"-MB/s")
	}
	cpu := func(i int) float64 { return (user[i] + sys[i]).Seconds() / float64(bytes[i]) }
	for i := 1; i < len(modes); i++ {
		b.ReportMetric(cpu(i)/cpu(0), modes[i]+"/buffered-cpu")
		b.ReportMetric(wall[i].Seconds()/float64(bytes[i])/(wall[0].Seconds()/float64(bytes[0])), modes[i]+"/buffered-wall")
		w := ws[i]
		b.ReportMetric(float64(w.arrow.directBytes.Load()+w.proto.directBytes.Load())/float64(bytes[i]), modes[i]+"-direct-share")
	}
	for i, w := range ws {
		a, p := w.Stats()
		if a.DroppedWrites+p.DroppedWrites > 0 {
			b.Errorf("%s: %d writes dropped", modes[i], a.DroppedWrites+p.DroppedWrites)
		}
		direct := modes[i] == "direct" || modes[i] == "adaptive"
		if got := w.arrow.directFiles.Load() + w.proto.directFiles.Load(); direct != (got > 0) {
			b.Errorf("%s: %d files in direct mode", modes[i], got)
		}
	}
}

func rusage(who int, user bool) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	if user {
		return time.Duration(ru.Utime.Nano())
	}
	return time.Duration(ru.Stime.Nano())
}
