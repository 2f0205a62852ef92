package telemetry

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"gopkg.in/natefinch/lumberjack.v2"
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

// Rotating files are shared per path by the whole process, for two reasons:
// two writers of one path (two Wrappers with the same output directory)
// must share one rotation state, or they would rename the file under each
// other; and lumberjack.Logger starts a goroutine on its first write that
// it never stops (Close closes only the file; natefinch/lumberjack issues
// #56 and #205, open for v2.2.1), so a Logger per Setup would
// leak one goroutine per file per Setup. With one Logger per path the
// process holds at most one such goroutine per distinct path ever written.
var (
	rotMu    sync.Mutex
	rotFiles = map[string]*rotFile{}
)

// rotFile is one shared lumberjack.Logger and the number of open handles.
type rotFile struct {
	lj   *lumberjack.Logger
	refs int
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
// kept. The limits of the first open of a path hold for the whole process.
// field names the ExportConfig field in errors.
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
		// The limits are fixed from here on: lumberjack's goroutine reads
		// them without a lock.
		f = &rotFile{lj: &lumberjack.Logger{Filename: abs, MaxSize: maxMB, MaxBackups: maxBackups}}
		rotFiles[abs] = f
	}
	// An empty write opens the file now, so an unwritable path fails here
	// rather than on the first record, and starts lumberjack's goroutine
	// at a predictable point (the first open of the path).
	if _, err := f.lj.Write(nil); err != nil {
		return nil, &FieldError{field, fmt.Sprintf("file %q cannot be opened for writing: %v", abs, err)}
	}
	f.refs++
	return &rotHandle{path: abs, f: f}, nil
}

// Write appends p, rotating first if the file would pass its size limit.
func (h *rotHandle) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return 0, os.ErrClosed
	}
	return h.f.lj.Write(p)
}

// Close releases the handle; the last one closes the file. Idempotent.
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
	if h.f.refs == 0 {
		return h.f.lj.Close()
	}
	return nil
}

var _ io.WriteCloser = (*rotHandle)(nil)

// rotatingPaths is the number of paths opened by this process so far, each
// holding one lumberjack goroutine for the life of the process.
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
