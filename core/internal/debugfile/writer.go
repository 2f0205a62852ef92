package debugfile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// Writer writes the debug files of one table. A nil *Writer and the zero
// Writer are valid disabled writers: every method is a no-op, so turning
// debug output off costs one nil check. All methods are safe for concurrent
// use.
type Writer struct {
	cfg         Config
	table       string
	base        string
	clock       Clock
	tel         *telemetry.Telemetry
	fs          FS
	mem         memory.Allocator
	maxBuffered int64
	kickAt      int // buffered bytes that wake the background goroutine early

	arrow *sink // nil when Arrow output is off
	proto *sink // nil when protobuf output is off

	flushT, rotT Ticker
	kick         chan struct{}
	flushReq     chan flushReq
	stop         chan struct{}
	finished     chan struct{}

	closeOnce sync.Once
	closeErr  error
}

// New returns the debug file writer of table. When cfg enables no output
// (cfg.Enabled() is false) it returns a disabled Writer and never touches the
// file system. Otherwise it creates {OutputDir}/zerobus/arrow and/or
// {OutputDir}/zerobus/proto (0700), checks that they are writable (an error
// naming the directory if not), moves active files left by a previous run
// aside, and starts one background goroutine, stopped by Close. Files are
// created on the first write.
func New(table string, cfg Config, opts ...Option) (*Writer, error) {
	if !cfg.Enabled() {
		return &Writer{}, nil
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		o.clock = realClock{}
	}
	if o.tel == nil {
		o.tel = telemetry.Nop()
	}
	if o.fs == nil {
		o.fs = osFS{}
	}
	if o.mem == nil {
		o.mem = memory.DefaultAllocator
	}
	if o.maxBuffered <= 0 {
		o.maxBuffered = DefaultMaxBuffered
	}
	w := &Writer{
		cfg:         cfg.withDefaults(),
		table:       table,
		base:        SafeName(table),
		clock:       o.clock,
		tel:         o.tel,
		fs:          o.fs,
		mem:         o.mem,
		maxBuffered: o.maxBuffered,
		kickAt:      int(min(kickBytes, o.maxBuffered/4)),
		kick:        make(chan struct{}, 1),
		flushReq:    make(chan flushReq),
		stop:        make(chan struct{}),
		finished:    make(chan struct{}),
	}
	if cfg.Arrow {
		w.arrow = newSink(w, kindArrow, ".arrow")
	}
	if cfg.Proto {
		w.proto = newSink(w, kindProto, ".proto")
	}
	for _, s := range w.sinks() {
		if err := w.prepare(s); err != nil {
			return nil, err
		}
	}
	w.flushT = w.clock.NewTicker(w.cfg.FlushInterval)
	if w.cfg.RotationInterval > 0 {
		w.rotT = w.clock.NewTicker(w.cfg.RotationInterval)
	}
	go w.run()
	return w, nil
}

// prepare creates s's directory, checks it is writable and moves a previous
// run's active file aside.
func (w *Writer) prepare(s *sink) error {
	if err := w.fs.MkdirAll(s.dir, 0o700); err != nil {
		return fmt.Errorf("debugfile: cannot create debug output directory %q: %w; choose a writable debug output directory or turn debug output off", s.dir, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	probe := filepath.Join(s.dir, ".write-probe-"+hex.EncodeToString(rnd[:]))
	f, err := w.fs.OpenFile(probe, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("debugfile: debug output directory %q is not writable: %w; fix its permissions, choose another debug output directory or turn debug output off", s.dir, err)
	}
	_ = f.Close()
	_ = w.fs.Remove(probe)
	if err := s.moveAside(w.clock.Now()); err != nil {
		return fmt.Errorf("debugfile: cannot move the previous run's debug file %q aside: %w", s.activePath(), err)
	}
	s.retain()
	return nil
}

func (w *Writer) sinks() []*sink {
	var ss []*sink
	if w.arrow != nil {
		ss = append(ss, w.arrow)
	}
	if w.proto != nil {
		ss = append(ss, w.proto)
	}
	return ss
}

// Paths returns the active Arrow and protobuf file paths; a path is empty
// when that output is off. Rotated files are in the same directories.
func (w *Writer) Paths() (arrowPath, protoPath string) {
	if w == nil {
		return "", ""
	}
	if w.arrow != nil {
		arrowPath = w.arrow.activePath()
	}
	if w.proto != nil {
		protoPath = w.proto.activePath()
	}
	return arrowPath, protoPath
}

// WriteArrow appends rec to the table's Arrow IPC stream file. A schema
// different from the current file's starts a new file. It encodes rec into
// memory and returns: it never blocks on the disk and never fails (failures
// are counted and logged; see the package doc). rec is not retained after
// WriteArrow returns, except that dictionary arrays of dictionary-encoded
// columns stay retained by the stream encoder until the file rotates or the
// Writer closes. A no-op when Arrow output is off or after Close.
func (w *Writer) WriteArrow(rec arrow.RecordBatch) {
	if w == nil || w.arrow == nil || rec == nil {
		return // small enough to inline: off costs a nil check
	}
	w.writeArrow(rec)
}

func (w *Writer) writeArrow(rec arrow.RecordBatch) {
	s := w.arrow
	w.tel.DebugWrites.Add(context.Background(), 1, s.attrs)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.acceptLocked() {
		return
	}
	cut := false
	sc := rec.Schema()
	if s.seg != 0 && sc != s.schema && !sc.Equal(s.schema) {
		s.cutLocked(true, w.clock.Now())
		cut = true
	}
	if s.seg == 0 {
		s.beginLocked(nil, nil)
		s.schema = sc
		opts := append([]ipc.Option{ipc.WithSchema(sc), ipc.WithAllocator(w.mem)}, w.cfg.ArrowCompression.ipcOptions()...)
		s.ipcw = ipc.NewWriter(segWriter{s}, opts...)
	}
	if err := s.ipcw.Write(rec); err != nil {
		w.tel.DebugFailures.Add(context.Background(), 1, s.attrs)
		w.tel.Logger().Warn("zerobus debug file: cannot encode batch as Arrow IPC; batch skipped",
			"file", s.activePath(), "rows", rec.NumRows(), "error", err)
	}
	if s.segBytes >= w.cfg.MaxFileSize {
		s.cutLocked(true, w.clock.Now())
		cut = true
	}
	if s.needsKickLocked(cut) {
		w.wake()
	}
}

// WriteProto appends records (each one protobuf message encoded with desc)
// to the table's protobuf file, each prefixed by its varint length. desc
// must not be modified after the call; a descriptor that differs from the
// current file's starts a new file with its own sidecar. It copies the
// records into memory and returns: it never blocks on the disk and never
// fails (failures are counted and logged). Neither desc nor records are
// retained. A no-op when protobuf output is off or after Close.
func (w *Writer) WriteProto(desc *descriptorpb.DescriptorProto, records [][]byte) {
	if w == nil || w.proto == nil {
		return // small enough to inline: off costs a nil check
	}
	w.writeProto(desc, records)
}

func (w *Writer) writeProto(desc *descriptorpb.DescriptorProto, records [][]byte) {
	s := w.proto
	w.tel.DebugWrites.Add(context.Background(), 1, s.attrs)
	if desc == nil {
		w.tel.DebugFailures.Add(context.Background(), 1, s.attrs)
		w.tel.Logger().Warn("zerobus debug file: WriteProto called without a descriptor; records skipped",
			"file", s.activePath(), "records", len(records))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.acceptLocked() {
		return
	}
	cut := false
	var b []byte
	if s.seg != 0 && desc != s.desc {
		b = marshalDescriptor(desc)
		if string(b) != string(s.descBytes) {
			s.cutLocked(true, w.clock.Now())
			cut = true
		} else {
			s.desc = desc // same content: later calls with this pointer skip the comparison
		}
	}
	if s.seg == 0 {
		if b == nil {
			b = marshalDescriptor(desc)
		}
		text, _ := prototext.MarshalOptions{Multiline: true}.Marshal(desc)
		s.beginLocked(b, text)
		s.desc, s.descBytes = desc, b
	}
	s.appendDelimitedLocked(records)
	if s.segBytes >= w.cfg.MaxFileSize {
		s.cutLocked(true, w.clock.Now())
		cut = true
	}
	if s.needsKickLocked(cut) {
		w.wake()
	}
}

func marshalDescriptor(desc *descriptorpb.DescriptorProto) []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(desc) // cannot fail: no required fields
	return b
}

// wake asks the background goroutine to write now.
func (w *Writer) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Flush writes everything passed to WriteArrow and WriteProto before the
// call to the files and fsyncs them, blocking until done. It returns the
// file failures seen since the previous Flush (joined), which are already
// counted and logged: callers on the data path should log, not fail, on it.
// Nil for a disabled Writer; ErrClosed after Close.
func (w *Writer) Flush() error { return w.flush(true) }

// flushReq asks the background goroutine to write everything buffered.
type flushReq struct {
	fsync bool
	done  chan error
}

func (w *Writer) flush(fsync bool) error {
	if w == nil || w.finished == nil {
		return nil
	}
	req := flushReq{fsync: fsync, done: make(chan error, 1)}
	select {
	case w.flushReq <- req:
		return <-req.done
	case <-w.finished:
		return ErrClosed
	}
}

// Close ends every file (Arrow streams get their end-of-stream marker),
// writes and fsyncs them, stops the background goroutine and returns the
// file failures not yet returned by Flush. The active files keep their names
// (the next run moves them aside). Idempotent; later calls return the same
// result. Writes after Close are ignored.
func (w *Writer) Close() error {
	if w == nil || w.finished == nil {
		return nil
	}
	w.closeOnce.Do(func() {
		now := w.clock.Now()
		for _, s := range w.sinks() {
			s.mu.Lock()
			s.closed = true
			s.cutLocked(false, now)
			s.mu.Unlock()
		}
		close(w.stop)
		<-w.finished
		w.closeErr = w.takeErrs()
	})
	return w.closeErr
}

// run is the background goroutine: it owns all file I/O.
func (w *Writer) run() {
	defer close(w.finished)
	defer w.flushT.Stop()
	var rot <-chan time.Time // nil: no time rotation
	if w.rotT != nil {
		defer w.rotT.Stop()
		rot = w.rotT.C()
	}
	for {
		select {
		case <-w.stop:
			w.drainAll(true)
			return
		case req := <-w.flushReq:
			w.drainAll(req.fsync)
			req.done <- w.takeErrs()
		case <-w.flushT.C():
			w.retryBroken()
			w.drainAll(false)
		case <-rot:
			w.rotateAll()
			w.drainAll(false)
		case <-w.kick:
			w.drainAll(false)
		}
	}
}

func (w *Writer) drainAll(sync bool) {
	for _, s := range w.sinks() {
		s.drain(sync)
	}
}

// retryBroken rotates files that failed, so new data goes to a fresh file.
func (w *Writer) retryBroken() {
	for _, s := range w.sinks() {
		s.mu.Lock()
		if s.seg != 0 && s.seg == s.brokenSeg {
			s.cutLocked(true, w.clock.Now())
		}
		s.mu.Unlock()
	}
}

// rotateAll rotates every file that holds data (RotationInterval).
func (w *Writer) rotateAll() {
	for _, s := range w.sinks() {
		s.mu.Lock()
		if s.seg != 0 && s.segBytes > 0 {
			s.cutLocked(true, w.clock.Now())
		}
		s.mu.Unlock()
	}
}

// takeErrs joins the sinks' recorded failures (background goroutine only,
// or after it stopped).
func (w *Writer) takeErrs() error {
	var errs []error
	for _, s := range w.sinks() {
		errs = append(errs, s.takeErrs()...)
	}
	return errors.Join(errs...)
}
