package cli

// Inputs of `zerobus send` read front to back: standard input ("-") and
// pipes (a FIFO, /dev/stdin or <(...) when piped). They are opened once,
// when send checks its inputs (the Arrow IPC schema, the CSV header and the
// rows types are inferred from, kept in memory and read again from there),
// and read from there on: no row count up front, no second pass.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// inputName is how messages name the input path: "standard input" for
// "-", else the path as given. Every message of send names inputs through
// it, so standard input has one name in prose; "-" appears only in the
// commands a message tells the user to type ("... | zerobus send [flags]
// -") and in -json, whose files, stopped_file and failed_rows[].file are
// the arguments as given.
func inputName(path string) string {
	if path == "-" {
		return "standard input"
	}
	return path
}

// errReadInterrupted is what a stream input's reads return once the
// interrupt (the first Ctrl-C) came: reading a pipe whose writer stalls
// stops there instead of waiting for its next bytes.
var errReadInterrupted = errors.New("reading interrupted")

// pipeReader reads a stream input in a goroutine of its own (which also
// opens it: opening a FIFO waits for its writer), so that a read waiting
// for a writer that stalls returns errReadInterrupted at the interrupt.
//
// The goroutine reads into pipeBuffers buffers of pipeChunkSize bytes,
// allocated on first use and reused: each is in one place at a time (free,
// being read into, on its way in ch, or cur, being copied out by Read) and
// goes back to free only once Read has copied all of it.
type pipeReader struct {
	intr context.Context
	ch   chan pipeChunk
	stop chan struct{}
	free chan []byte // buffers for the goroutine to read into; nil: not allocated yet
	cur  []byte      // the buffer buf is in, returned to free once buf is empty
	buf  []byte
	err  error

	mu     sync.Mutex
	closer io.Closer // the file the goroutine opened; nil for standard input read as it is
	closed bool
	once   sync.Once
}

// pipeChunk is what the goroutine read: buf[:n] of one of the buffers.
type pipeChunk struct {
	buf []byte
	n   int
	err error
}

// A pipeReader reads into pipeBuffers buffers of pipeChunkSize bytes: one
// being copied out while the other is read into.
const (
	pipeChunkSize = 64 << 10
	pipeBuffers   = 2
)

// newPipeReader starts reading what open returns (and the io.Closer that
// Close closes, nil for none).
func newPipeReader(intr context.Context, open func() (io.Reader, io.Closer, error)) *pipeReader {
	p := &pipeReader{intr: intr, ch: make(chan pipeChunk), stop: make(chan struct{}), free: make(chan []byte, pipeBuffers)}
	for range pipeBuffers {
		p.free <- nil
	}
	go p.pump(open)
	return p
}

func (p *pipeReader) pump(open func() (io.Reader, io.Closer, error)) {
	r, c, err := open()
	if c != nil {
		p.mu.Lock()
		if p.closed { // closed while opening
			p.mu.Unlock()
			_ = c.Close()
			return
		}
		p.closer = c
		p.mu.Unlock()
	}
	for err == nil {
		var b []byte
		select {
		case b = <-p.free:
		case <-p.stop:
			return
		}
		if b == nil {
			b = make([]byte, pipeChunkSize)
		}
		var n int
		n, err = r.Read(b)
		if n == 0 && err == nil {
			p.free <- b // never blocks: free holds every buffer
			continue
		}
		select {
		case p.ch <- pipeChunk{b, n, err}:
		case <-p.stop:
			return
		}
	}
	if r == nil { // open failed
		select {
		case p.ch <- pipeChunk{nil, 0, err}:
		case <-p.stop:
		}
	}
}

func (p *pipeReader) Read(b []byte) (int, error) {
	for len(p.buf) == 0 {
		if p.cur != nil {
			p.free <- p.cur // never blocks: free holds every buffer
			p.cur = nil
		}
		if p.err != nil {
			return 0, p.err
		}
		if p.intr.Err() != nil {
			return 0, errReadInterrupted
		}
		select {
		case <-p.intr.Done():
			return 0, errReadInterrupted
		case c := <-p.ch:
			p.cur, p.buf, p.err = c.buf, c.buf[:c.n], c.err
		}
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	return n, nil
}

// Close stops the goroutine and closes the file it opened (which ends a
// read it waits in). Standard input itself is never closed (see
// stdinReader).
func (p *pipeReader) Close() error {
	p.once.Do(func() { close(p.stop) })
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	if p.closer != nil {
		c := p.closer
		p.closer = nil
		return c.Close()
	}
	return nil
}

// streamKind says whether path is read front to back: "-" or a pipe.
// what names another kind of non-regular file, which send refuses ("a
// socket"); both are empty for a regular file.
func streamKind(path string, stdin io.Reader) (stream bool, what string, err error) {
	if path == "-" {
		if f, ok := stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				return false, "", usageErrorf("send", "standard input is a terminal or a device, not a pipe: pipe the data in "+
					"(some_tool | zerobus send [flags] -) or give the file's name")
			}
		}
		return true, "", nil
	}
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, "", usageErrorf("send", "%s: no such file", path)
		}
		return false, "", err
	}
	switch m := st.Mode(); {
	case st.IsDir():
		return false, "", usageErrorf("send", "%s is a directory; give files", path)
	case m.IsRegular():
		return false, "", nil
	case m&os.ModeNamedPipe != 0:
		return true, "", nil
	case m&os.ModeSocket != 0:
		return false, "a socket", nil
	case m&os.ModeDevice != 0:
		return false, "a device", nil
	}
	return false, "not a regular file", nil
}

// stdinReader is what a run reads standard input ("-") through, and the
// io.Closer that ends a read waiting in it, closed by the run (nil: none).
//
// Standard input belongs to the process: when Python runs the command line
// in-process (pybind), its file descriptor 0 must stay open and in its
// mode after the run. A pipe is therefore read through a new open file
// description of it (reopenPipe, on Linux): non-blocking in Go's poller,
// closed by the run, so a read waiting for a writer that stalls ends at
// the interrupt and no goroutine or file descriptor of the run is left.
// (A dup of fd 0 would not do: O_NONBLOCK belongs to the open file
// description, which a dup shares, and Python reading a non-blocking stdin
// gets EAGAIN errors.) Where that cannot be done (outside Linux, a socket,
// a pipe /proc cannot open), standard input is read as it is and a read
// waiting in it at the interrupt is left behind: that goroutine ends when
// the writer writes or closes (the bytes it then reads are lost to the
// host), or with the process; a regular file redirected to standard input
// never leaves one (its reads do not wait).
func stdinReader(stdin io.Reader) (io.Reader, io.Closer) {
	if f, ok := stdin.(*os.File); ok {
		if r, ok := reopenPipe(f); ok {
			return r, r
		}
	}
	return stdin, nil
}

// openStream opens the stream input path ("-": stdin) for reading, reading
// as much of it as checking it needs (the format's first bytes, the Arrow
// IPC schema, the CSV header and the rows types are inferred from); intr
// is the interrupt, which ends a read waiting for the writer.
func openStream(intr context.Context, path string, o inputOptions, stdin io.Reader) (_ *input, err error) {
	open := func() (io.Reader, io.Closer, error) {
		r, c := stdinReader(stdin)
		return r, c, nil
	}
	if path != "-" {
		open = func() (io.Reader, io.Closer, error) {
			f, err := os.Open(path)
			if err != nil {
				return nil, nil, err
			}
			return f, f, nil
		}
	}
	pr := newPipeReader(intr, open)
	in := &input{path: path, rows: -1, stream: true}
	in.closer = append(in.closer, pr.Close)
	defer func() {
		if err != nil {
			in.Close()
			if intr.Err() != nil {
				err = fmt.Errorf("%w: reading %s stopped before anything was sent", errInterrupted, inputName(path))
			}
		}
	}()
	name := inputName(path)
	ext := strings.ToLower(filepath.Ext(path))
	if o.format == formatParquet || o.format == formatAuto && (ext == ".parquet" || ext == ".pq") {
		return nil, parquetOnPipe(path)
	}
	br := bufio.NewReaderSize(pr, 1<<16)
	head, err := br.Peek(8)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if c := compressedKind(head, ext); c != nil {
		return nil, usageErrorf("send", "%s is %s-compressed: compressed input is not supported; decompress it on the way in: "+
			"... | %s | zerobus send [flags] -", name, c.name, c.decompress)
	}
	format := o.format
	if format == formatAuto || format == "" {
		switch {
		case ext == ".arrow" || ext == ".arrows" || ext == ".ipc" || ext == ".feather":
			format = formatArrow
		case ext == ".csv":
			format = formatCSV
		case bytes.HasPrefix(head, []byte("PAR1")):
			return nil, parquetOnPipe(path)
		case bytes.HasPrefix(head, []byte("ARROW1")), bytes.HasPrefix(head, []byte{0xff, 0xff, 0xff, 0xff}):
			format = formatArrow
		default: // what a pipe carries that is not Arrow IPC is taken for CSV (its header is checked)
			format = formatCSV
		}
	}
	in.format = format
	o.mem = &boundedAllocator{mem: o.mem, limit: minAllocLimit}
	err = func() (err error) {
		defer recoverDecode(&err, "opening "+name)
		if format == formatArrow {
			return openArrowStream(in, br, head, o)
		}
		return openCSVStream(in, br, o)
	}()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	in.reader = &guardedBatches{src: in.reader, where: in.where}
	return in, nil
}

// parquetOnPipe refuses a Parquet stream input: Parquet is read from its
// footer, at the end.
func parquetOnPipe(path string) error {
	return usageErrorf("send", "%s: Parquet cannot be read from a pipe (its footer, at the end, says where the rows are); "+
		"save it to a file and send that: ... > data.parquet && zerobus send [flags] data.parquet", inputName(path))
}

// openArrowStream reads an Arrow IPC stream from br (head: its first
// bytes); an Arrow IPC file ("ARROW1") is read as the stream it holds
// after its 8-byte magic (its footer, at the end, is not needed).
func openArrowStream(in *input, br *bufio.Reader, head []byte, o inputOptions) error {
	in.detail = "Arrow IPC stream"
	if bytes.HasPrefix(head, []byte("ARROW1")) {
		if _, err := br.Discard(8); err != nil {
			return err
		}
		in.detail = "Arrow IPC file, read front to back"
	}
	// No size is known: each length is checked against what arrives.
	vr := countingReader{core.NewIPCStreamVerifier(br, math.MaxInt64), &in.done}
	r, err := ipc.NewReader(vr, ipc.WithAllocator(o.mem))
	if err != nil {
		if len(head) < 4 || !bytes.HasPrefix(head, []byte("ARROW1")) && !bytes.HasPrefix(head, []byte{0xff, 0xff, 0xff, 0xff}) {
			return notFormat("an Arrow IPC stream", head[:min(len(head), 6)], err)
		}
		return fmt.Errorf("not a readable Arrow IPC stream: %w", errCause{err})
	}
	in.closer = append(in.closer, func() error { r.Release(); return nil })
	in.schema = r.Schema()
	src := batchReader(&validatedBatches{src: r, v: core.NewArrowValidator(), after: afterStreamEnd(vr, bytes.HasPrefix(head, []byte("ARROW1")))})
	rb := &rebatcher{src: src, n: o.batchRows, mem: o.mem}
	in.closer = append(in.closer, func() error { rb.release(); return nil })
	in.reader = rb
	return nil
}

// afterStreamEnd is the check an Arrow IPC stream's reader runs once it
// reached the end-of-stream marker (validatedBatches.after), reading on
// from r: nothing may follow the marker (a second stream appended to the
// first, "cat a.arrows b.arrows", was dropped without a word), except, for
// an Arrow IPC file read front to back (file), its footer, which ends with
// the file's magic.
func afterStreamEnd(r io.Reader, file bool) func() error {
	return func() error {
		if !file {
			var b [1]byte
			if n, err := io.ReadFull(r, b[:]); n == 0 {
				if err == io.EOF {
					return nil
				}
				return err
			}
			return errors.New("more data follows the Arrow IPC stream's end-of-stream marker (a second stream appended to the first?): send each stream on its own")
		}
		const maxFooter = 64 << 20
		rest, err := io.ReadAll(io.LimitReader(r, maxFooter+1))
		if err != nil {
			return err
		}
		if len(rest) > maxFooter || !bytes.HasSuffix(rest, []byte("ARROW1")) {
			return fmt.Errorf("the Arrow IPC file goes on for %d bytes after its end-of-stream marker without ending in its footer: it is damaged, or more data was appended", len(rest))
		}
		return nil
	}
}

// openCSVStream reads a CSV stream from br: the header and the rows the
// types are inferred from are read once, kept, and read again by the CSV
// reader ahead of the rest of the stream.
func openCSVStream(in *input, br *bufio.Reader, o inputOptions) error {
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	var sample bytes.Buffer // the bytes inference read: read again below
	header, types, err := inferCSVTypesFrom(io.TeeReader(br, &sample), o.csvInferRows, o.csvNoInference)
	if err != nil {
		return err
	}
	readCSV(in, io.MultiReader(&sample, br), header, types, o, true)
	return nil
}
