package telemetry

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// readLines returns the files in dir whose names start with prefix (sorted:
// rotated copies carry a timestamp, the live file sorts last or first by
// name) and all their lines.
func rotatedFiles(t *testing.T, dir, prefix string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	slices.Sort(out)
	return out
}

// TestRotatingFileRotatesAtSizeLimit writes 1 MiB-limited lines past the
// limit and reads back both files: the rotated copy holds the first lines
// (at most 1 MiB), the live file the rest, nothing lost or duplicated.
func TestRotatingFileRotatesAtSizeLimit(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.log")
	h, err := openRotating(path, 1, 2, "LogFile")
	if err != nil {
		t.Fatal(err)
	}
	const lineLen, lines = 1000, 1500 // 1.5 MB: one rotation at 1 MiB
	for i := range lines {
		line := fmt.Sprintf("%06d %s\n", i, strings.Repeat("x", lineLen-8))
		if _, err := h.Write([]byte(line)); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	names := rotatedFiles(t, dir, "app")
	if len(names) != 2 || !slices.Contains(names, "app.log") {
		t.Fatalf("files %v, want app.log and one rotated copy app-<time>.log", names)
	}
	backup := names[0]
	if backup == "app.log" {
		backup = names[1]
	}
	if !strings.HasPrefix(backup, "app-") || !strings.HasSuffix(backup, ".log") {
		t.Errorf("rotated copy %q, want app-<time>.log", backup)
	}
	old, err := os.ReadFile(filepath.Join(dir, backup))
	if err != nil {
		t.Fatal(err)
	}
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(old) > 1<<20 || len(old)+lineLen <= 1<<20 {
		t.Errorf("rotated copy is %d bytes; want the largest whole number of lines within 1 MiB", len(old))
	}
	wantOld := (1 << 20) / lineLen // 1048 lines fit in 1 MiB
	var got []string
	for _, b := range [][]byte{old, cur} {
		got = append(got, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")...)
	}
	if n := bytes.Count(old, []byte{'\n'}); n != wantOld {
		t.Errorf("rotated copy has %d lines, want %d", n, wantOld)
	}
	if len(got) != lines {
		t.Fatalf("read back %d lines, want %d", len(got), lines)
	}
	for i, l := range got {
		if !strings.HasPrefix(l, fmt.Sprintf("%06d ", i)) {
			t.Fatalf("line %d starts %q: lines lost or out of order", i, l[:7])
		}
	}
}

// TestRotatingFileSharedPerPath: two handles on one path share the
// rotation state and the file stays open until the last handle closes.
func TestRotatingFileSharedPerPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.jsonl")
	a, err := openRotating(path, 1, 1, "LogFile")
	if err != nil {
		t.Fatal(err)
	}
	b, err := openRotating(path, 5, 5, "LogFile")
	if err != nil {
		t.Fatal(err)
	}
	if a.f != b.f {
		t.Fatal("two handles on one path do not share the rotating file")
	}
	_, _ = a.Write([]byte("a\n"))
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Write([]byte("b\n")); err != nil {
		t.Fatalf("write after the other handle closed: %v", err)
	}
	if _, err := a.Write([]byte("late\n")); err == nil {
		t.Error("write on a closed handle succeeded")
	}
	_ = b.Close()
	if got, _ := os.ReadFile(path); string(got) != "a\nb\n" {
		t.Errorf("file = %q, want \"a\\nb\\n\"", got)
	}
}

// TestSetupLogFileAndNoGoroutineLeak: LogFile gets JSON records at
// LogLevel, LogHandler gets them too, stderr is not used, and Shutdown
// leaves no goroutine behind.
func TestSetupLogFileAndNoGoroutineLeak(t *testing.T) {
	dir := t.TempDir()
	cfg := ExportConfig{Enabled: true, OutputDir: dir, LogFile: filepath.Join(dir, "app.log"), LogLevel: "warn"}
	var buf bytes.Buffer
	run := func() {
		cfg.LogHandler = slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})
		p, err := Setup(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		p.Logger.Info("below the level")
		p.Logger.Warn("retrying", "attempt", 2)
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	before := runtime.NumGoroutine() - rotatingPaths()
	for range 4 {
		run()
	}
	checkNoGoroutineLeak(t, before+rotatingPaths())
	for _, name := range []string{"app.log", LogsFileName} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(b), `"msg":"retrying"`); got != 4 {
			t.Errorf("%s has %d retrying records, want 4:\n%s", name, got, b)
		}
		if strings.Contains(string(b), "below the level") {
			t.Errorf("%s has a record below LogLevel", name)
		}
	}
	if got := strings.Count(buf.String(), "msg=retrying attempt=2"); got != 4 {
		t.Errorf("LogHandler got %d retrying records, want 4:\n%s", got, buf.String())
	}
}
