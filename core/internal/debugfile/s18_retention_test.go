//go:build unix

package debugfile

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/syncbuf"
)

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer = syncbuf.Buffer

// writeSeries writes count batches of n rows starting at id start to w,
// flushing (and moving the clock on) after each, so each write is one file.
func writeSeries(t *testing.T, w *Writer, clk *fakeClock, start, n, count int) {
	t.Helper()
	for i := range count {
		writeRows(t, w, memory.DefaultAllocator, start+i*n, n)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Millisecond)
	}
}

// Several writers of one table in one directory (Spark tasks sharing
// debug_output_dir): retention counts only each writer's own rotated
// files. Two further writers write and close (finished writers, as tasks
// that ended); the canonical writer then rotates many times, and restarts:
// the finished writers' files all stay, the canonical writer's lineage
// (across the restart) keeps MaxFilesRetained rotated files, and every
// deleted file is named by a log line giving the rule.
func TestS18RetentionCountsOnlyTheWritersOwnFiles(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	clk := newFakeClock()
	var logs syncBuffer
	tel := telemetry.New(nil, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	const keep, n = 2, 4
	cfg := Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: 1, MaxFilesRetained: keep}
	opts := []Option{WithClock(clk), WithTelemetry(tel)}

	w0 := mustNew(t, "t", cfg, opts...)
	w1 := mustNew(t, "t", cfg, opts...)
	w2 := mustNew(t, "t", cfg, opts...)
	for _, w := range []*Writer{w0, w1, w2} {
		t.Cleanup(func() { _ = w.Close() })
	}
	a0, _ := w0.Paths()
	a1, _ := w1.Paths()
	a2, _ := w2.Paths()
	if filepath.Base(a0) != "t.arrow" || a1 == a0 || a2 == a0 || a1 == a2 {
		t.Fatalf("active names %s, %s, %s: want t.arrow and two of their own", a0, a1, a2)
	}
	// 4 writes each: 3 rotations while writing (retention keeps 2 of them)
	// and the rotation at Close: writes 2..4 stay.
	writeSeries(t, w1, clk, 1000, n, 4)
	writeSeries(t, w2, clk, 2000, n, 4)
	for _, w := range []*Writer{w1, w2} {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	want := append(seq(1000+n, 3*n), seq(2000+n, 3*n)...)
	arrowIDs, protoIDs := sharedIDs(t, dir, "t")
	if !cmp.Equal(arrowIDs, want) || !cmp.Equal(protoIDs, want) {
		t.Fatalf("after the further writers closed: arrow ids %v, proto ids %v, want %v", arrowIDs, protoIDs, want)
	}

	// The canonical writer rotates 9 times: its lineage keeps 2 rotated
	// files and the active one; the finished writers' files all stay.
	writeSeries(t, w0, clk, 0, n, 10)
	want = append(seq(7*n, 3*n), want...)
	arrowIDs, protoIDs = sharedIDs(t, dir, "t")
	if !cmp.Equal(arrowIDs, want) || !cmp.Equal(protoIDs, want) {
		t.Fatalf("after the canonical writer's rotations: arrow ids %v, proto ids %v, want %v", arrowIDs, protoIDs, want)
	}
	if err := w0.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart takes the canonical name: the previous run's files are its
	// lineage (the documented retention of one process across restarts).
	w3 := mustNew(t, "t", cfg, opts...)
	t.Cleanup(func() { _ = w3.Close() })
	if a3, _ := w3.Paths(); a3 != a0 {
		t.Fatalf("restarted writer's active file %s, want %s", a3, a0)
	}
	writeSeries(t, w3, clk, 500, n, 2)
	if err := w3.Close(); err != nil {
		t.Fatal(err)
	}
	// rotated: w0's 10th write (moved aside by New), w3's 1st; active: w3's 2nd
	want = append(append(seq(9*n, n), seq(500, 2*n)...), seq(1000+n, 3*n)...)
	want = append(want, seq(2000+n, 3*n)...)
	want = sortedCopy(want)
	arrowIDs, protoIDs = sharedIDs(t, dir, "t")
	if !cmp.Equal(arrowIDs, want) || !cmp.Equal(protoIDs, want) {
		t.Fatalf("after the restart: arrow ids %v, proto ids %v, want %v", arrowIDs, protoIDs, want)
	}

	// Every deletion was logged with the file and the rule, and each file
	// it names is gone: per kind 1 + 1 (the further writers), 7 (w0) and
	// 2 (w3: one at New, one at its rotation) deletions.
	re := regexp.MustCompile(`msg="zerobus debug file: deleting an old rotated debug file \(retention\)" kind=(\w+) file=(\S+) reason="this writer has \d+ rotated \w+ files of the table and keeps the newest 2 \(debug_max_files_retained; negative keeps all\)"`)
	lines := re.FindAllStringSubmatch(logs.String(), -1)
	perKind := map[string]int{}
	var deleted []string
	for _, m := range lines {
		perKind[m[1]]++
		deleted = append(deleted, m[2])
		if _, err := os.Stat(m[2]); !os.IsNotExist(err) {
			t.Errorf("logged as deleted, but %s: %v", m[2], err)
		}
	}
	if !cmp.Equal(perKind, map[string]int{"arrow": 11, "proto": 11}) {
		sort.Strings(deleted)
		t.Errorf("retention log lines per kind %v, want 11 each; files %v\nlogs:\n%s", perKind, deleted, logs.String())
	}
}
