package debugfile

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// BenchmarkWrite measures the enabled write path with 1000-row batches.
//
//   - caller: only what WriteArrow/WriteProto cost the calling goroutine
//     (a retain or a reference, and a queue append); the disk works in the
//     background and, if it falls behind, writes are shed: see drops/op.
//   - sustained: end to end, the caller waiting for the disk (page cache,
//     no fsync) every 16 writes, so nothing is dropped: the MB/s a disk
//     keeps up with.
//
// MB/s counts the encoded bytes (IPC message or length-prefixed records).
func BenchmarkWrite(b *testing.B) {
	const rows = 1000
	rec := makeBatch(memory.DefaultAllocator, 0, rows)
	defer rec.Release()
	var ipcBuf bytes.Buffer
	iw := ipc.NewWriter(&ipcBuf, ipc.WithSchema(rec.Schema()))
	if err := iw.Write(rec); err != nil {
		b.Fatal(err)
	}
	arrowBytes := int64(ipcBuf.Len()) // schema + one batch, close enough per batch
	records := makeRecords(0, rows)
	var protoBytes int64
	for _, r := range records {
		protoBytes += int64(len(r)) + 1
	}
	desc := testDesc("Row")

	for _, bc := range []struct {
		name         string
		arrow, proto bool
		parallel     bool
		flushEvery   int
	}{
		{"arrow/caller", true, false, false, 0},
		{"proto/caller", false, true, false, 0},
		{"both/caller", true, true, false, 0},
		{"arrow/sustained", true, false, false, 16},
		{"proto/sustained", false, true, false, 16},
		{"both/sustained", true, true, false, 16},
		{"both/sustained/parallel", true, true, true, 16},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tel, reader := newTestTelemetry()
			w, err := New(table, Config{OutputDir: b.TempDir(), Arrow: bc.arrow, Proto: bc.proto, MaxFileSize: 32 << 20, MaxFilesRetained: 2},
				WithTelemetry(tel))
			if err != nil {
				b.Fatal(err)
			}
			var n int64
			if bc.arrow {
				n += arrowBytes
			}
			if bc.proto {
				n += protoBytes
			}
			b.SetBytes(n)
			b.ReportAllocs()
			b.ResetTimer()
			write := func(i int) {
				if bc.arrow {
					w.WriteArrow(rec)
				}
				if bc.proto {
					w.WriteProto(desc, records, nil)
				}
				if bc.flushEvery > 0 && i%bc.flushEvery == bc.flushEvery-1 {
					if err := w.flush(false); err != nil {
						b.Error(err)
					}
				}
			}
			if bc.parallel {
				b.RunParallel(func(pb *testing.PB) {
					for i := 0; pb.Next(); i++ {
						write(i)
					}
				})
			} else {
				for i := 0; i < b.N; i++ {
					write(i)
				}
			}
			if bc.flushEvery == 0 {
				b.StopTimer() // caller: the background writing is not the caller's time
			}
			if err := w.flush(false); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(counter(b, reader, "zerobus.debug.dropped"))/float64(b.N), "drops/op")
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// BenchmarkDisabled shows that a disabled Writer costs a nil check.
func BenchmarkDisabled(b *testing.B) {
	rec := makeBatch(memory.DefaultAllocator, 0, 10)
	defer rec.Release()
	records := makeRecords(0, 10)
	desc := testDesc("Row")
	disabled, err := New(table, Config{})
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name string
		w    *Writer
	}{
		{"nil", nil},
		{"New", disabled},
	} {
		b.Run(bc.name+"/WriteArrow", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				bc.w.WriteArrow(rec)
			}
		})
		b.Run(bc.name+"/WriteProto", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				bc.w.WriteProto(desc, records, nil)
			}
		})
	}
}
