package core_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
)

// An Arrow debug file still being written (the active name, cut inside its
// last batch, or empty) reads as its complete batches without an error,
// and ReadDebugArrowFileTail says it is still being written; the same
// bytes under a rotated name are an error.
func TestReadDebugArrowFileStillWriting(t *testing.T) {
	var buf bytes.Buffer
	var ends []int
	rec := convert.ReferenceBatch(memory.DefaultAllocator, 50)
	defer rec.Release()
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	for k := 0; k < 3; k++ {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		ends = append(ends, buf.Len())
	}
	// No Close: an active file has no end-of-stream marker yet.
	dir := t.TempDir()
	active := filepath.Join(dir, "main.default.t.arrow")
	rotated := filepath.Join(dir, "main.default.t-20261206T170000.000Z-0000.arrow")
	debuglock.Hold(t, active) // its writer is still writing it
	cut := buf.Bytes()[:ends[1]+(ends[2]-ends[1])/2]
	for _, p := range []string{active, rotated} {
		if err := os.WriteFile(p, cut, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := core.ReadDebugArrowFile(active, nil)
	for _, r := range recs {
		if r.NumRows() != 50 {
			t.Errorf("a batch of %d rows, want 50", r.NumRows())
		}
		r.Release()
	}
	if err != nil || len(recs) != 2 {
		t.Fatalf("active file cut inside batch 2: %d batches, %v; want 2, no error", len(recs), err)
	}
	recs, tail, err := core.ReadDebugArrowFileTail(active, nil)
	for _, r := range recs {
		r.Release()
	}
	if err != nil || len(recs) != 2 || !tail.StillWriting || tail.Offset != int64(ends[1]) || tail.Bytes != int64(len(cut)-ends[1]) {
		t.Fatalf("ReadDebugArrowFileTail: %d batches, %+v, %v; want 2, still writing from %d", len(recs), tail, err, ends[1])
	}
	recs, err = core.ReadDebugArrowFile(rotated, nil)
	for _, r := range recs {
		r.Release()
	}
	if err == nil || len(recs) != 2 || !strings.Contains(err.Error(), rotated) {
		t.Fatalf("rotated file cut short: %d batches, %v; want 2 and an error naming it", len(recs), err)
	}
	if err := os.WriteFile(active, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	recs, tail, err = core.ReadDebugArrowFileTail(active, nil)
	if err != nil || len(recs) != 0 || !tail.StillWriting {
		t.Fatalf("empty active file: %d batches, %+v, %v; want none, still writing, no error", len(recs), tail, err)
	}
}
