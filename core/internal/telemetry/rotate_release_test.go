package telemetry

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestSetupDistinctDirsNoGoroutineLeak: 20 Setup/Shutdown pairs, each with
// its own OutputDir and LogFile (an application naming its directories per
// run or per job), bring the goroutines back to where they were and release
// every path's entry. lumberjack, used before, kept one goroutine per path
// ever written: 4 per Setup here.
func TestSetupDistinctDirsNoGoroutineLeak(t *testing.T) {
	root := t.TempDir()
	run := func(i int) {
		dir := filepath.Join(root, fmt.Sprintf("run%d", i))
		p, err := Setup(context.Background(), ExportConfig{Enabled: true, OutputDir: dir, LogFile: filepath.Join(dir, "app.log"), LogLevel: "info", Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		p.Logger.Info("hello", "run", i)
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	run(-1) // warm-up: goroutines started once per process (OTel SDK, http)
	before := runtime.NumGoroutine()
	for i := range 20 {
		run(i)
	}
	checkNoGoroutineLeak(t, before)
	if n := rotatingPaths(); n != 0 {
		t.Errorf("%d paths still held after every handle closed, want 0", n)
	}
	b, err := os.ReadFile(filepath.Join(root, "run19", "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"msg":"hello","run":19`) {
		t.Errorf("run19/app.log = %q, want the run's record", b)
	}
}

// TestRotatingFileKeepsMaxBackups: a file rotated five times keeps the
// newest maxBackups copies, in order, and the live file; nothing else in
// the directory (another file sharing the name's prefix) is touched.
func TestRotatingFileKeepsMaxBackups(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "app-notes.log")
	if err := os.WriteFile(other, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	h, err := openRotating(filepath.Join(dir, "app.log"), 1, 2, "LogFile")
	if err != nil {
		t.Fatal(err)
	}
	chunk := strings.Repeat("x", 1<<20-2) // with the prefix, one chunk fills a file
	for i := range 6 {
		if _, err := fmt.Fprintf(h, "%d%s\n", i, chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	names := rotatedFiles(t, dir, "app")
	if len(names) != 4 {
		t.Fatalf("files %v, want app.log, app-notes.log and 2 rotated copies", names)
	}
	var firsts []byte
	for _, n := range names {
		if n == "app-notes.log" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 1<<20 {
			t.Errorf("%s is %d bytes, want one chunk (%d)", n, len(b), 1<<20)
		}
		firsts = append(firsts, b[0])
	}
	// rotatedFiles sorts by name: app-<older>.log, app-<newer>.log, app.log.
	if string(firsts) != "345" {
		t.Errorf("kept chunks %q (copies oldest first, then the live file), want \"345\"", firsts)
	}
	if b, _ := os.ReadFile(other); string(b) != "keep" {
		t.Errorf("app-notes.log = %q: pruning touched another file", b)
	}
}
