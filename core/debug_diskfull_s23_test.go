package core

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/debugfile"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// fullDiskFS is the operating system's file system whose data-file writes
// fail with ENOSPC once full is set (a disk that filled up after the
// Wrapper started).
type fullDiskFS struct {
	full         atomic.Bool
	failedWrites atomic.Int64
}

type fullDiskFile struct {
	f   *os.File
	fsy *fullDiskFS
}

func (d *fullDiskFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }
func (d *fullDiskFS) OpenFile(name string, flag int, perm os.FileMode) (debugfile.File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &fullDiskFile{f: f, fsy: d}, nil
}
func (d *fullDiskFS) Rename(oldpath, newpath string) error       { return os.Rename(oldpath, newpath) }
func (d *fullDiskFS) Remove(name string) error                   { return os.Remove(name) }
func (d *fullDiskFS) Stat(name string) (os.FileInfo, error)      { return os.Stat(name) }
func (d *fullDiskFS) ReadDir(name string) ([]os.DirEntry, error) { return os.ReadDir(name) }

func (f *fullDiskFile) Write(p []byte) (int, error) {
	if f.fsy.full.Load() {
		f.fsy.failedWrites.Add(1)
		return 0, &fs.PathError{Op: "write", Path: f.f.Name(), Err: syscall.ENOSPC}
	}
	return f.f.Write(p)
}
func (f *fullDiskFile) Sync() error  { return f.f.Sync() }
func (f *fullDiskFile) Close() error { return f.f.Close() }

// TestS23DebugDiskFullLeavesTransmissionUnaffected (issue 7, "disk-full
// simulation (a writer that errors) with transmission unaffected"): with
// both debug outputs on and every write to their files failing with
// ENOSPC, SendBatch, Flush and Close succeed, the local server stores every
// row exactly once, and the failures are counted in DebugStats.
func TestS23DebugDiskFullLeavesTransmissionUnaffected(t *testing.T) {
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const table = "main.default.s23_diskfull"
	cfg := localConfig(srv, table)
	cfg.DebugArrowEnabled, cfg.DebugProtobufEnabled, cfg.DebugKindsExplicit = true, true, true
	cfg.DebugOutputDir = t.TempDir()
	ctx := context.Background()
	w, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if w.debug == nil {
		t.Fatal("debug output is off; the test needs it on")
	}
	// The same writer the Wrapper made, over a file system that can fill up.
	if err := w.debug.Close(); err != nil {
		t.Fatal(err)
	}
	disk := &fullDiskFS{}
	dir := t.TempDir()
	dw, err := debugfile.New(table, debugfile.Config{OutputDir: dir, Arrow: true, Proto: true, MaxFilesRetained: -1},
		debugfile.WithFileSystem(disk), debugfile.WithTelemetry(w.tel))
	if err != nil {
		t.Fatal(err)
	}
	w.debug = dw
	disk.full.Store(true)

	const batches, rows = 4, 250
	for b := range batches {
		rec := textRows(b*rows, rows, nil)
		res, err := w.SendBatch(ctx, rec)
		rec.Release()
		if err != nil {
			t.Fatalf("batch %d: SendBatch = %v, want success with the debug disk full", b, err)
		}
		if !res.Success || res.SuccessfulCount != rows || res.FailedCount != 0 {
			t.Fatalf("batch %d: result %v, want %d successful rows", b, res, rows)
		}
		// Flush pushes the queued debug writes to the (full) disk.
		if err := w.Flush(ctx); err != nil {
			t.Fatalf("batch %d: Flush = %v, want nil (a debug failure is not a transmission failure)", b, err)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatalf("Close = %v, want nil", err)
	}
	if disk.failedWrites.Load() == 0 {
		t.Fatal("no debug write reached the full disk: the test simulated nothing")
	}

	// Every row is stored exactly once.
	if got := srv.RecordCount(table); got != batches*rows {
		t.Fatalf("server stored %d rows, want %d", got, batches*rows)
	}
	seen := make(map[int64]int)
	for _, r := range srv.Rows(table) {
		fd := r.Message.Descriptor().Fields().ByName("id")
		seen[r.Message.Get(fd).Int()]++
	}
	for id := int64(0); id < batches*rows; id++ {
		if seen[id] != 1 {
			t.Fatalf("id %d stored %d times, want 1", id, seen[id])
		}
	}

	// The failures are counted for both kinds, and nothing reached the files.
	a, p := dw.Stats()
	if a.Failures == 0 || p.Failures == 0 {
		t.Errorf("debug failures: arrow %d, protobuf %d; want both > 0", a.Failures, p.Failures)
	}
	if a.BytesWritten != 0 || p.BytesWritten != 0 {
		t.Errorf("bytes written to a full disk: arrow %d, protobuf %d; want 0", a.BytesWritten, p.BytesWritten)
	}
	// No data file holds a byte (descriptor sidecars failed too).
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(path, ".arrow") || strings.HasSuffix(path, ".proto") {
			if info, err := d.Info(); err == nil && info.Size() != 0 {
				t.Errorf("%s holds %d bytes on a full disk", filepath.Base(path), info.Size())
			}
		}
		return nil
	})
}
