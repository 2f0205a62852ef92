// Package syncbuf is a bytes.Buffer that a writer goroutine and a reader
// may use at once: tests hand it to loggers and commands as their output
// and read it while they run.
package syncbuf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"
)

// Buffer is a bytes.Buffer safe for concurrent writes and reads. The zero
// value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// JSONLines decodes each non-empty line written so far (a JSON log
// handler's output) as a T; an error names the line that is not JSON.
func JSONLines[T any](b *Buffer) ([]T, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []T
	for _, line := range bytes.Split(bytes.TrimSpace(b.b.Bytes()), []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var v T
		if err := json.Unmarshal(line, &v); err != nil {
			return out, fmt.Errorf("log line %q is not JSON: %w", line, err)
		}
		out = append(out, v)
	}
	return out, nil
}
