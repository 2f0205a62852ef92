package telemetry

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of the file rotation (ExportConfig.MaxFileMB and MaxBackups).
const (
	// DefaultMaxFileMB is the size in MiB at which a telemetry or log file
	// is rotated when ExportConfig.MaxFileMB is zero.
	DefaultMaxFileMB = 100
	// DefaultMaxBackups is how many rotated files of each file are kept when
	// ExportConfig.MaxBackups is zero.
	DefaultMaxBackups = 5
)

// backupStamp is the time in a rotated copy's name (UTC, as lumberjack,
// which this writer replaced, named them: app-2026-12-06T18-35-16.123.log).
const backupStamp = "2006-01-02T15-04-05.000"

// Rotating files are shared per path while they are open: two writers of
// one path (two Wrappers with the same output directory) must share one
// rotation state, or they would rename the file under each other. The entry
// of a path is released when its last handle closes. Rotation and the
// pruning of old copies run inline in the write that crosses the limit: no
// goroutine is started (lumberjack, used before, started one per path that
// it never stopped, so every distinct output_dir or log_file leaked one).
var (
	rotMu    sync.Mutex
	rotFiles = map[string]*rotFile{}
)

// rotFile is one open file of a path, its rotation limits and the number of
// open handles (refs, guarded by rotMu).
type rotFile struct {
	path       string
	maxBytes   int64
	maxBackups int
	refs       int

	mu   sync.Mutex // guards f, size and perm
	f    *os.File
	size int64
	// perm is the mode of the file before the last rotation (0: none yet),
	// given to the file created in its place.
	perm fs.FileMode
}

// rotHandle is one user's handle on a rotating file: Write appends (rotating
// at the size limit), Close releases it; the file is closed when the last
// handle is. Safe for concurrent use.
type rotHandle struct {
	path   string
	f      *rotFile
	mu     sync.Mutex
	closed bool
}

// openRotating opens (creating it and its directory if missing) the file at
// path for appending, rotated when a write would take it past maxMB MiB;
// maxBackups rotated copies (path without extension + "-<time>" + ext) are
// kept. The limits of the first open of a path hold while any handle on it
// is open. field names the ExportConfig field in errors.
func openRotating(path string, maxMB, maxBackups int, field string) (*rotHandle, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, &FieldError{field, fmt.Sprintf("%q: %v", path, err)}
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return nil, &FieldError{field, fmt.Sprintf("%q cannot be created: %v", filepath.Dir(abs), err)}
	}
	rotMu.Lock()
	defer rotMu.Unlock()
	f := rotFiles[abs]
	if f == nil {
		f = &rotFile{path: abs, maxBytes: int64(maxMB) << 20, maxBackups: maxBackups}
		// Opened now, so an unwritable path fails here rather than on the
		// first record.
		if err := f.open(); err != nil {
			return nil, &FieldError{field, fmt.Sprintf("file %q cannot be opened for writing: %v", abs, err)}
		}
		rotFiles[abs] = f
	}
	f.refs++
	return &rotHandle{path: abs, f: f}, nil
}

// open opens (or creates) the file for appending and notes its size. A file
// created after a rotation takes the rotated file's mode (perm, whatever
// the umask: a log file an operator made readable by a shipper stays so, as
// lumberjack, used before, kept it); else a new file is 0600. Called with
// mu held, or before f is shared.
func (f *rotFile) open() error {
	perm := f.perm
	if perm == 0 {
		perm = 0o600
	}
	fh, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, perm)
	created := err == nil
	if errors.Is(err, fs.ErrExist) {
		fh, err = os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND, 0)
	}
	if err != nil {
		return err
	}
	if created && f.perm != 0 {
		_ = fh.Chmod(f.perm) // best effort: the file is written either way
	}
	st, err := fh.Stat()
	if err != nil {
		_ = fh.Close()
		return err
	}
	f.f, f.size = fh, st.Size()
	return nil
}

// write appends p, first rotating the file if p would take a non-empty file
// past the limit (a record bigger than the limit gets a file of its own).
func (f *rotFile) write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		// A rotation failed to open the new file: try again.
		if err := f.open(); err != nil {
			return 0, err
		}
	}
	if f.size > 0 && f.size+int64(len(p)) > f.maxBytes {
		if err := f.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := f.f.Write(p)
	f.size += int64(n)
	return n, err
}

// rotate renames the file to its backup name, opens a new one and deletes
// the oldest backups beyond maxBackups. Called with mu held.
func (f *rotFile) rotate() error {
	if err := f.f.Close(); err != nil {
		f.f = nil
		return err
	}
	f.f = nil
	stamp := time.Now().UTC()
	var backup string
	for {
		backup = backupName(f.path, stamp)
		if _, err := os.Lstat(backup); errors.Is(err, fs.ErrNotExist) {
			break
		}
		stamp = stamp.Add(time.Millisecond) // two rotations within one millisecond
	}
	if st, err := os.Stat(f.path); err == nil {
		f.perm = st.Mode().Perm() // the new file keeps it (open)
	}
	if err := os.Rename(f.path, backup); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := f.open(); err != nil {
		return err
	}
	f.prune()
	return nil
}

// backupName is path's rotated name for time t: dir/name-<stamp>.ext.
func backupName(path string, t time.Time) string {
	ext := filepath.Ext(path)
	return strings.TrimSuffix(path, ext) + "-" + t.Format(backupStamp) + ext
}

// prune deletes the oldest rotated copies of the file beyond maxBackups
// (best effort: a copy that cannot be deleted stays).
func (f *rotFile) prune() {
	dir := filepath.Dir(f.path)
	ext := filepath.Ext(f.path)
	prefix := strings.TrimSuffix(filepath.Base(f.path), ext) + "-"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type backup struct {
		name string
		t    time.Time
	}
	var bs []backup
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ext) {
			continue
		}
		t, err := time.Parse(backupStamp, strings.TrimSuffix(strings.TrimPrefix(name, prefix), ext))
		if err != nil {
			continue // not a copy of this file (another file sharing the prefix)
		}
		bs = append(bs, backup{name, t})
	}
	if len(bs) <= f.maxBackups {
		return
	}
	slices.SortFunc(bs, func(a, b backup) int { return b.t.Compare(a.t) }) // newest first
	for _, b := range bs[f.maxBackups:] {
		_ = os.Remove(filepath.Join(dir, b.name))
	}
}

// close closes the file. Called once, by the last handle.
func (f *rotFile) close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	return err
}

// Write appends p, rotating first if the file would pass its size limit.
func (h *rotHandle) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, os.ErrClosed
	}
	return h.f.write(p)
}

// Close releases the handle; the last one closes the file and releases the
// path's entry. Idempotent.
func (h *rotHandle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil
	}
	h.closed = true
	rotMu.Lock()
	defer rotMu.Unlock()
	h.f.refs--
	if h.f.refs > 0 {
		return nil
	}
	if rotFiles[h.path] == h.f {
		delete(rotFiles, h.path)
	}
	return h.f.close()
}

var _ io.WriteCloser = (*rotHandle)(nil)

// rotatingPaths is the number of paths with an open handle.
func rotatingPaths() int {
	rotMu.Lock()
	defer rotMu.Unlock()
	return len(rotFiles)
}

// closeAll closes every handle in hs (nil entries are skipped).
func closeAll(hs ...*rotHandle) error {
	var errs []error
	for _, h := range hs {
		if h != nil {
			errs = append(errs, h.Close())
		}
	}
	return errors.Join(errs...)
}
