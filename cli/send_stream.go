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
	encsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	english "github.com/zerobus-wrapper/zerobus-wrapper/internal/plural"
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

// errStalled is what a read of a CSV stream input returns (pipeReader.stall)
// when nothing new came for csvStallAfter and what came ends a CSV record:
// once per pause.
var errStalled = errors.New("the input paused")

// csvStallAfter is how long a CSV stream input may deliver nothing before
// the rows that came are used: while the rows its column types are
// inferred from (-csv-infer-rows) are read, the types are inferred from
// those that came, unless -csv-infer-rows was given (inputOptions.
// csvInferWait: the types then wait for that many rows or the end);
// later, the batch being read (-batch-rows) is sent with the rows it has,
// with or without the flag. A slow producer's rows are sent without
// waiting for the whole sample or a full batch. A pipe that delivers its
// rows without such a pause (and a file) has its types inferred from the
// same rows as before.
const csvStallAfter = time.Second

// csvStall follows the CSV records in the bytes a stream input delivered
// (pipeReader.Read), from its first byte.
type csvStall struct {
	after   time.Duration
	quoted  bool // inside a quoted field
	content bool // the line being read has a character (encoding/csv skips empty lines)
	records int  // records ended, the header's too
	lines   int  // line ends, in quoted fields too (as encoding/csv numbers lines)
	fired   bool // errStalled was returned, and nothing came since
	// hold: no pause is reported (waits is false) while the sample of an
	// explicit -csv-infer-rows is read; the records are followed all the
	// same, for the pauses after it.
	hold bool
}

// see follows the bytes b, delivered after those seen before. In valid CSV
// a quote only opens, closes or doubles inside a quoted field, so their
// count's parity says whether a newline ends the record; invalid CSV is an
// error of the CSV reader's anyway.
func (s *csvStall) see(b []byte) {
	if len(b) > 0 {
		s.fired = false
	}
	for _, c := range b {
		switch {
		case c == '\n':
			s.lines++
			if !s.quoted {
				if s.content {
					s.records++
				}
				s.content = false
			}
		case c == '"':
			s.quoted = !s.quoted
			s.content = true
		case c != '\r':
			s.content = true
		}
	}
}

// waits reports whether a read finding nothing new should return
// errStalled after s.after.
func (s *csvStall) waits() bool { return !s.hold && !s.fired && s.atRecordEnd() }

// atRecordEnd reports whether what came so far ends with a whole record,
// and holds a data row after the header: inferring the types there reads
// no half row (whose cut cell, "20" of "20.5", would change its column's
// type) and no header alone (every column a string).
func (s *csvStall) atRecordEnd() bool { return !s.quoted && !s.content && s.records >= 2 }

// rows is the data rows that came.
func (s *csvStall) rows() int { return max(0, s.records-1) }

// untilStall reads br until it returns errStalled, which ends the text
// once what br holds is read (io.EOF from then on): the rows the types
// are inferred from end there.
type untilStall struct {
	br      *bufio.Reader
	stalled bool
}

func (u *untilStall) Read(b []byte) (int, error) {
	if u.stalled {
		if u.br.Buffered() == 0 {
			return 0, io.EOF
		}
		return u.br.Read(b) // from its buffer alone
	}
	n, err := u.br.Read(b)
	if errors.Is(err, errStalled) {
		u.stalled = true
		return n, io.EOF
	}
	return n, err
}

// csvSegments is the text of a CSV stream input for its CSV reader: the
// sample inference read (read again first), then the rest, cut into
// segments where the input pauses (errStalled; and after the sample when
// inference ended at a pause). A cut reads as io.EOF, so the CSV reader
// returns the rows it has; csvBatches then reads on with a new reader
// (resume), which reads the header line again first (so that it, too,
// refuses a row with another number of cells). Every byte delivered
// before a cut is read by then: a pause is only reported when nothing is
// left unread.
type csvSegments struct {
	pending         io.Reader // read first: the sample, or the header line again; nil once read
	sample          []byte    // the text the column types were taken with (header, sample rows, read-ahead); readCSVTyped takes it
	cutAfterPending bool      // inference ended at a pause: a cut follows the sample
	rest            io.Reader
	header          []byte // the header line, as CSV
	stall           *csvStall
	cut             bool
}

func (s *csvSegments) Read(b []byte) (int, error) {
	if s.cut {
		return 0, io.EOF
	}
	if s.pending != nil {
		n, err := s.pending.Read(b)
		if err != io.EOF {
			return n, err
		}
		s.pending = nil
		if s.cutAfterPending {
			s.cut = true
			return n, io.EOF
		}
		if n > 0 {
			return n, nil
		}
	}
	n, err := s.rest.Read(b)
	if errors.Is(err, errStalled) {
		s.cut = true
		return n, io.EOF
	}
	return n, err
}

// resume reads on after a cut, the header line first; lineOffset is
// what turns the lines the new reader numbers into the input's.
func (s *csvSegments) resume() (lineOffset int) {
	s.cut, s.cutAfterPending = false, false
	s.pending = bytes.NewReader(s.header)
	return s.stall.lines - bytes.Count(s.header, []byte("\n"))
}

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
	// stall, when not nil (a CSV input), makes Read return errStalled
	// after stall.after with nothing new, when what came ends a CSV record
	// (see csvStall); set and cleared by the reader.
	stall *csvStall

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
		var stalled <-chan time.Time
		var timer *time.Timer
		if p.stall != nil && p.stall.waits() {
			timer = time.NewTimer(p.stall.after)
			stalled = timer.C
		}
		select {
		case <-p.intr.Done():
			return 0, errReadInterrupted
		case c := <-p.ch:
			p.cur, p.buf, p.err = c.buf, c.buf[:c.n], c.err
		case <-stalled:
			p.stall.fired = true
			return 0, errStalled
		}
		if timer != nil {
			timer.Stop()
		}
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	if p.stall != nil {
		p.stall.see(b[:n])
	}
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
	if o.format == formatAuto || o.format == "" || o.format == formatCSV {
		// it may be CSV: follow its records from the first byte; with
		// -csv-infer-rows given, no pause ends the sample (openCSVStream)
		pr.stall = &csvStall{after: csvStallAfter, hold: o.csvInferWait}
	}
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
	pausedEarly := errors.Is(err, errStalled) // under 8 bytes came, then a pause: the CSV sample ends there
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull && !pausedEarly {
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
			pr.stall = nil
			return openArrowStream(in, br, head, o)
		}
		return openCSVStream(in, pr, br, pausedEarly, o)
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

// openCSVStream reads a CSV stream from br (reading pr): the header and
// the rows the types are inferred from are read once, kept, and read again
// by the CSV reader ahead of the rest of the stream. When pr pauses (see
// csvStallAfter) the sample ends there (the types are inferred from the
// rows that came, and the CSV reader's errors say so and name the flag
// that waits for the sample), unless -csv-infer-rows was given
// (o.csvInferWait: pr.stall.hold until the sample is read); later, the
// batch being read is sent with the rows it has.
func openCSVStream(in *input, pr *pipeReader, br *bufio.Reader, pausedEarly bool, o inputOptions) error {
	if b, _ := br.Peek(3); bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	var sample bytes.Buffer // the bytes inference read: read again below
	until := &untilStall{br: br, stalled: pausedEarly}
	header, types, err := inferCSVTypesFrom(io.TeeReader(until, &sample), o.csvInferRows, o.csvNoInference)
	if err != nil {
		return err
	}
	if pr.stall != nil {
		pr.stall.hold = false // the sample is read: later pauses end the batch being read
	}
	var line bytes.Buffer
	w := encsv.NewWriter(&line)
	if err := w.Write(header); err != nil {
		return err
	}
	w.Flush()
	c := readCSV(in, &csvSegments{pending: bytes.NewReader(sample.Bytes()), sample: sample.Bytes(), cutAfterPending: until.stalled, rest: br, header: line.Bytes(), stall: pr.stall},
		header, types, o, true)
	if until.stalled {
		c.inferred = fmt.Sprintf(", here the %s that had come when the input paused for %s", english.Of(pr.stall.rows(), "row"), pr.stall.after)
	}
	return nil
}
