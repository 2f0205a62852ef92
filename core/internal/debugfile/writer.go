package debugfile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// Writer writes the debug files of one table. A nil *Writer and the zero
// Writer are valid disabled writers: every method is a no-op, so turning
// debug output off costs one nil check. All methods are safe for concurrent
// use.
type Writer struct {
	cfg        Config
	table      string
	base       string
	clock      Clock
	tel        *telemetry.Telemetry
	fs         FS
	mem        memory.Allocator
	maxQueued  int64 // queued bytes per kind beyond which writes are dropped
	maxEntries int   // queued writes per kind beyond which writes are dropped
	kickBytes  int64 // queued bytes that wake the background goroutine early
	kickCount  int   // queued writes that wake it early
	bufferedIO bool  // never use direct I/O (tests: the reference output)
	load       ioLoad
	pinnedIO   bool        // the load is not observed: direct I/O even when busy (benchmarks, tests)
	noPrealloc bool        // no blocks reserved ahead (benchmarks)
	testBusy   atomic.Bool // tests: as if the writer were busy

	// Yielding to senders (SenderBusy): senders counts the senders in an
	// encode/send phase; held is set while the background goroutine holds
	// writes back for them (SenderIdle wakes it then); holds counts the
	// times it did (tests).
	senders atomic.Int64
	held    atomic.Bool
	holds   atomic.Int64
	// Background goroutine only: when the current hold started (zero: none),
	// the ticker that ends it after yieldAge, and the entries a slice takes
	// (reused).
	holdSince time.Time
	holdT     Ticker
	part      []entry

	arrow *sink // nil when Arrow output is off
	proto *sink // nil when protobuf output is off

	flushT, rotT Ticker
	kick         chan struct{}
	flushReq     chan flushReq
	stop         chan struct{}
	finished     chan struct{}

	closeOnce sync.Once
	closeErr  error

	widOnce sync.Once
	wid     string // this writer's id when a sink cannot take the canonical name
}

// widCounter numbers the writers of this process that need an id.
var widCounter atomic.Int64

// newWID returns the writer id for an active name of its own: "<pid>_<n>",
// the same for all sinks of w; attempt i > 0 (that name was locked: a
// process that reused a pid still holding it) appends "_<i>".
func (w *Writer) newWID(i int) string {
	w.widOnce.Do(func() { w.wid = fmt.Sprintf("%d_%d", os.Getpid(), widCounter.Add(1)) })
	if i == 0 {
		return w.wid
	}
	return fmt.Sprintf("%s_%d", w.wid, i)
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
	if o.maxEntries <= 0 {
		o.maxEntries = DefaultMaxQueuedWrites
	}
	w := &Writer{
		cfg:        cfg.withDefaults(),
		table:      table,
		base:       SafeName(table),
		clock:      o.clock,
		tel:        o.tel,
		fs:         o.fs,
		mem:        o.mem,
		maxQueued:  o.maxBuffered,
		maxEntries: o.maxEntries,
		kickBytes:  min(kickBytes, o.maxBuffered/4),
		kickCount:  max(1, o.maxEntries/8),
		bufferedIO: o.bufferedIO,
		pinnedIO:   o.pinnedIO,
		noPrealloc: o.noPrealloc,
		kick:       make(chan struct{}, 1),
		flushReq:   make(chan flushReq),
		stop:       make(chan struct{}),
		finished:   make(chan struct{}),
	}
	if cfg.Arrow {
		w.arrow = newSink(w, kindArrow, ArrowExt)
	}
	if cfg.Proto {
		w.proto = newSink(w, kindProto, ProtoExt)
	}
	for _, s := range w.sinks() {
		if err := w.prepare(s); err != nil {
			for _, s := range w.sinks() {
				s.releaseName()
			}
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
	w.ownerOnly(filepath.Dir(s.dir)) // {dir}/zerobus
	w.ownerOnly(s.dir)               // {dir}/zerobus/<kind>
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	probe := filepath.Join(s.dir, ".write-probe-"+hex.EncodeToString(rnd[:]))
	f, err := w.fs.OpenFile(probe, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("debugfile: debug output directory %q is not writable: %w; fix its permissions, choose another debug output directory or turn debug output off", s.dir, err)
	}
	_ = f.Close()
	_ = w.fs.Remove(probe)
	// Several writers of one table (Wrappers in one process or in several,
	// e.g. Spark tasks) each own an active name while they hold its lock;
	// a file at the name taken is a previous writer's, moved aside.
	s.takeName(w.newWID)
	if err := s.moveAside(w.clock.Now()); err != nil {
		return fmt.Errorf("debugfile: cannot move the previous run's debug file %q aside: %w", s.activePath(), err)
	}
	s.moveAsideStale(w.clock.Now())
	s.retain()
	return nil
}

// ownerOnly makes dir, a directory the Writer owns (created 0700 when it
// did not exist), owner-only again when it exists writable by its group or
// others: they could rename or delete debug files there, or plant names
// (the files themselves are 0600). It logs a warning saying what it did,
// or that it could not. Only a directory this user owns is changed, never
// one reached through a symbolic link (another user's shared directory):
// those get the warning. Windows has no such mode bits.
func (w *Writer) ownerOnly(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() || st.Mode().Perm()&0o022 == 0 {
		return // a symbolic link is not IsDir: left alone
	}
	mode := st.Mode().Perm()&0o700 | st.Mode()&(os.ModeSetgid|os.ModeSticky)
	if !ownedByUs(st) {
		err = errors.New("owned by another user: not changed")
	} else {
		err = os.Chmod(dir, mode)
	}
	if err != nil {
		w.tel.Logger().Warn("zerobus debug file: the debug directory is writable by other users, who can rename or delete the debug files in it; make it owner-only (chmod 700)",
			"dir", dir, "mode", st.Mode().Perm().String(), "error", err)
		return
	}
	w.tel.Logger().Warn("zerobus debug file: the debug directory was writable by other users; made it owner-only",
		"dir", dir, "was", st.Mode().Perm().String(), "now", mode.Perm().String())
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

// WriteArrow queues rec to be appended to the table's Arrow IPC stream file
// and returns: the caller's only costs are rec.Retain and a queue append;
// the background goroutine writes rec's buffers to the file (Arrow IPC) and
// then releases it. A schema different from the current file's starts a new
// file. It never blocks on the disk and never fails: when the queue is full
// (WithMaxBuffered, WithMaxQueuedWrites) rec is dropped and counted (see the
// package doc); file failures are counted and logged. rec's buffers must not
// be modified until it is released (Arrow data is immutable). A no-op when
// Arrow output is off or after Close.
func (w *Writer) WriteArrow(rec arrow.RecordBatch) {
	if w == nil || w.arrow == nil || rec == nil {
		return // small enough to inline: off costs a nil check
	}
	w.writeArrow(rec)
}

func (w *Writer) writeArrow(rec arrow.RecordBatch) {
	w.arrow.enqueue(entry{rec: rec, rows: rec.NumRows(), bytes: recordSize(rec)})
}

// WriteProto queues records (each one protobuf message encoded with desc)
// to be appended to the table's protobuf file, each prefixed by its varint
// length, and returns: the records are referenced, not copied, and written
// by the background goroutine. A descriptor that differs from the current
// file's starts a new file with its own sidecar. desc and the records must
// not be modified until release is called: release (if not nil) is called
// exactly once, when the writer no longer uses them (written, dropped, or
// WriteProto was a no-op), possibly before WriteProto returns and possibly
// from another goroutine. It never blocks on the disk and never fails: a
// full queue drops the records and counts them (see the package doc). A
// no-op when protobuf output is off or after Close.
func (w *Writer) WriteProto(desc *descriptorpb.DescriptorProto, records [][]byte, release func()) {
	if (w == nil || w.proto == nil) && release == nil {
		return // small enough to inline: off costs a nil check
	}
	w.writeProto(desc, records, release)
}

func (w *Writer) writeProto(desc *descriptorpb.DescriptorProto, records [][]byte, release func()) {
	if w == nil || w.proto == nil {
		release() // off, with something to release (WriteProto returned early otherwise)
		return
	}
	s := w.proto
	if desc == nil {
		s.failures.Add(1)
		w.tel.DebugFailures.Add(context.Background(), 1, s.attrs...)
		w.tel.Logger().Warn("zerobus debug file: WriteProto called without a descriptor; records skipped",
			"file", s.activePath(), "records", len(records))
		if release != nil {
			release()
		}
		return
	}
	var n int64
	for _, r := range records {
		n += int64(len(r)) + 1 // + the varint (usually 1-2 bytes): close enough for the bound
	}
	s.enqueue(entry{desc: desc, records: records, release: release, rows: int64(len(records)), bytes: n})
}

// recordSize estimates the bytes rec adds to the queue: what its IPC
// message will hold. A slice of a larger batch (SendReader cuts big batches
// into windows) counts only its rows, not its parent's whole buffers.
func recordSize(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		d := c.Data()
		n += sizeOf(d, d.Offset(), d.Len())
	}
	return n
}

// sizeOf estimates the bytes of elements [off, off+n) of d (off counts from
// the start of d's buffers, i.e. includes d.Offset()). Layouts it does not
// know count their whole buffers.
func sizeOf(d arrow.ArrayData, off, n int) int64 {
	bufs := d.Buffers()
	var size int64
	if len(bufs) > 0 && bufs[0] != nil {
		size += int64(n+7) / 8 // validity
	}
	switch dt := d.DataType().(type) {
	case *arrow.StringType, *arrow.BinaryType:
		if lo, hi, ok := offsets32(bufs, off, n); ok {
			return size + int64(n+1)*4 + hi - lo
		}
	case *arrow.LargeStringType, *arrow.LargeBinaryType:
		if lo, hi, ok := offsets64(bufs, off, n); ok {
			return size + int64(n+1)*8 + hi - lo
		}
	case *arrow.ListType, *arrow.MapType:
		if lo, hi, ok := offsets32(bufs, off, n); ok && len(d.Children()) == 1 {
			c := d.Children()[0]
			return size + int64(n+1)*4 + sizeOf(c, c.Offset()+int(lo), int(hi-lo))
		}
	case *arrow.LargeListType:
		if lo, hi, ok := offsets64(bufs, off, n); ok && len(d.Children()) == 1 {
			c := d.Children()[0]
			return size + int64(n+1)*8 + sizeOf(c, c.Offset()+int(lo), int(hi-lo))
		}
	case *arrow.FixedSizeListType:
		if len(d.Children()) == 1 {
			c, k := d.Children()[0], int(dt.Len())
			return size + sizeOf(c, c.Offset()+off*k, n*k)
		}
	case *arrow.StructType:
		for _, c := range d.Children() {
			size += sizeOf(c, c.Offset()+off, n)
		}
		return size
	case *arrow.DictionaryType:
		if iw, ok := dt.IndexType.(arrow.FixedWidthDataType); ok {
			size += int64(n) * int64(iw.BitWidth()) / 8
			if dict, ok := d.Dictionary().(*array.Data); ok && dict != nil {
				size += sizeOf(dict, dict.Offset(), dict.Len())
			}
			return size
		}
	case arrow.FixedWidthDataType:
		return size + (int64(n)*int64(dt.BitWidth())+7)/8
	}
	return dataSize(d)
}

// offsets32 returns the value range [lo, hi) of elements [off, off+n) of
// an array with int32 offsets in bufs[1].
func offsets32(bufs []*memory.Buffer, off, n int) (lo, hi int64, ok bool) {
	if len(bufs) < 2 || bufs[1] == nil || bufs[1].Len() < (off+n+1)*4 {
		return 0, 0, false
	}
	o := arrow.Int32Traits.CastFromBytes(bufs[1].Bytes())
	return int64(o[off]), int64(o[off+n]), o[off] <= o[off+n]
}

func offsets64(bufs []*memory.Buffer, off, n int) (lo, hi int64, ok bool) {
	if len(bufs) < 2 || bufs[1] == nil || bufs[1].Len() < (off+n+1)*8 {
		return 0, 0, false
	}
	o := arrow.Int64Traits.CastFromBytes(bufs[1].Bytes())
	return o[off], o[off+n], o[off] <= o[off+n]
}

// dataSize is the length of all of d's buffers.
func dataSize(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataSize(c)
	}
	if dict, ok := d.Dictionary().(*array.Data); ok && dict != nil {
		n += dataSize(dict)
	}
	return n
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

// flushReq asks the background goroutine to write everything queued.
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

// Close writes everything queued, ends every file (Arrow streams get their
// end-of-stream marker), fsyncs and closes them, stops the background
// goroutine and returns the file failures not yet returned by Flush. The
// active files keep their names (the next run moves them aside).
// Idempotent; later calls return the same result. Writes after Close are
// ignored.
func (w *Writer) Close() error {
	if w == nil || w.finished == nil {
		return nil
	}
	w.closeOnce.Do(func() {
		for _, s := range w.sinks() {
			s.closeQueue()
		}
		close(w.stop)
		<-w.finished
		w.closeErr = w.takeErrs()
		for _, s := range w.sinks() {
			s.releaseName()
		}
	})
	return w.closeErr
}

// run is the background goroutine: it owns all file I/O.
func (w *Writer) run() {
	defer close(w.finished)
	defer w.flushT.Stop()
	defer w.endHold()
	var rot <-chan time.Time // nil: no time rotation
	if w.rotT != nil {
		defer w.rotT.Stop()
		rot = w.rotT.C()
	}
	for {
		select {
		case <-w.stop:
			now := w.clock.Now()
			for _, s := range w.sinks() {
				s.drain(true)
				if s.wid != "" {
					// No later writer takes this name: the file is
					// rotated (Close deletes nothing: later
					// rotations' retention governs it).
					s.sync()
					s.closing = true
					s.endFile(true, now)
				} else {
					s.endFile(false, now)
				}
				s.bw.release()
			}
			return
		case req := <-w.flushReq:
			for _, s := range w.sinks() {
				s.drain(true)
				if req.fsync {
					s.sync()
				}
			}
			req.done <- w.takeErrs()
		case <-w.flushT.C():
			for _, s := range w.sinks() {
				s.retryBroken()
				s.drain(true)
			}
		case <-rot:
			for _, s := range w.sinks() {
				s.drain(true)
				s.rotateIfData()
			}
		case <-w.kick:
			w.pump()
		case <-w.holdC():
			w.pump()
		}
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

// Stats are the counters of one kind of debug output since New.
type Stats struct {
	// Writes is the number of WriteArrow (or WriteProto) calls accepted
	// into the queue; Rows the rows (or records) they carried.
	Writes int64 `json:"writes"`
	Rows   int64 `json:"rows"`
	// DroppedWrites, DroppedRows and DroppedBytes count what was not
	// written because the queue was full or the file had failed; each gap
	// is also recorded in the file's drops sidecar (ReadDrops).
	DroppedWrites int64 `json:"dropped_writes"`
	DroppedRows   int64 `json:"dropped_rows"`
	DroppedBytes  int64 `json:"dropped_bytes"`
	// BytesWritten is what reached the files.
	BytesWritten int64 `json:"bytes_written"`
	// Failures counts I/O failures (and WriteProto calls without a
	// descriptor).
	Failures int64 `json:"failures"`
	// QueuedBytes and QueuedWrites are what waits for the disk now.
	QueuedBytes  int64 `json:"queued_bytes"`
	QueuedWrites int64 `json:"queued_writes"`
}

// Stats returns the counters of the Arrow and protobuf outputs (zero for an
// output that is off, and for a disabled Writer).
func (w *Writer) Stats() (arrowStats, protoStats Stats) {
	if w == nil {
		return Stats{}, Stats{}
	}
	if w.arrow != nil {
		arrowStats = w.arrow.stats()
	}
	if w.proto != nil {
		protoStats = w.proto.stats()
	}
	return arrowStats, protoStats
}

// ---- yielding to senders ----
//
// A sender encodes a batch on every core it can get, then waits for the
// server's acknowledgements with the cores idle (a service that commits
// before it acknowledges). The background goroutine's writing (~15 CPU-ms
// per 100k-row batch of both kinds, mostly the kernel's copy into the page
// cache) is cheapest in that idle time: while a sender is in its
// encode/send phase (SenderBusy until SenderIdle) a write woken by new data
// is held back, and written when the last busy sender goes idle. Three
// bounds keep holding back safe:
//   - backlog: a kind's queue holds half of WithMaxBuffered (or of
//     WithMaxQueuedWrites) or more: the writer writes until it is below
//     that again, busy senders or not. The drop rule is unchanged (a write
//     finding the queue at its bound is dropped); holding back leaves at
//     least half the bound free for what arrives while the writer catches
//     up, so only a sender that outruns the disk for that long sees drops,
//     as it would without holding back a little later;
//   - age: a hold lasting yieldAge (on the Writer's clock) writes what is
//     queued at that moment, busy or not, and a new hold starts for what
//     comes after it (a sender that is always busy, such as many
//     goroutines sending, delays the files by about yieldAge);
//   - Flush, Close, the flush and rotation ticks write everything, as they
//     always did.
// Writing goes in slices of about sliceBytes per kind (whole writes: one
// Arrow batch is never split), checking between slices, so a long drain
// stops for the next batch's encode. Each slice is a round of writing for
// the load that chooses direct or page-cache I/O (ioLoad); the time spent
// holding back counts as idle, as the writer is.

const (
	// yieldAge is the longest a hold lasts before what is queued is written.
	yieldAge = 100 * time.Millisecond
	// sliceBytes is the most one slice takes from a kind's queue (at least
	// one write, whatever its size).
	sliceBytes = 4 << 20
)

// SenderBusy tells the writer that a sender starts encoding and sending a
// batch: until the matching SenderIdle, writes that are not due (see the
// comment above yieldAge) wait, so the writer does not compete with the
// encode for the cores. Every SenderBusy must be followed by exactly one
// SenderIdle. A no-op on a disabled Writer; off costs a nil check.
func (w *Writer) SenderBusy() {
	if w == nil || w.finished == nil {
		return
	}
	w.senders.Add(1)
}

// SenderIdle ends a SenderBusy phase (the sender now waits for the
// server): when no sender is busy any more, the writer writes what it held
// back.
func (w *Writer) SenderIdle() {
	if w == nil || w.finished == nil {
		return
	}
	// held is set before the writer reads senders (mayWrite): either it sees
	// this decrement or this sees held, and wakes it.
	if w.senders.Add(-1) == 0 && w.held.Load() {
		w.wake()
	}
}

// holdC is the channel of the hold's ticker, nil (never ready) without a
// hold (background goroutine only).
func (w *Writer) holdC() <-chan time.Time {
	if w.holdT == nil {
		return nil
	}
	return w.holdT.C()
}

// startHold starts a hold at now: its ticker fires yieldAge later.
func (w *Writer) startHold(now time.Time) {
	if w.holdT != nil {
		w.holdT.Stop()
	}
	w.holdSince = now
	w.holdT = w.clock.NewTicker(yieldAge)
}

// endHold ends the hold, if any: nothing is held back.
func (w *Writer) endHold() {
	if w.holdT != nil {
		w.holdT.Stop()
		w.holdT = nil
	}
	w.holdSince = time.Time{}
	w.held.Store(false)
}

// pump writes what the sinks queued (woken by new data, by SenderIdle or by
// the hold's ticker), a slice at a time, as long as mayWrite allows.
func (w *Writer) pump() {
	ss := w.sinks()
	var due [2]int // writes of each sink the age bound made due
	for {
		more := false
		for _, s := range ss {
			if s.queuedWrites() > 0 {
				more = true
			}
		}
		if !more {
			w.endHold()
			return
		}
		if !w.mayWrite(ss, &due) {
			w.holds.Add(1)
			return
		}
		t0 := time.Now()
		for i, s := range ss {
			due[i] -= s.drainSome(sliceBytes)
		}
		if !w.pinnedIO {
			w.load.observe(t0, time.Since(t0))
		}
	}
}

// mayWrite says whether the next slice is written now (see the comment
// above yieldAge); false starts or continues a hold. due counts what the
// age bound made due, per sink.
func (w *Writer) mayWrite(ss []*sink, due *[2]int) bool {
	if due[0] > 0 || due[1] > 0 {
		return true
	}
	for _, s := range ss {
		if s.backlog() {
			return true
		}
	}
	w.held.Store(true) // before reading senders: see SenderIdle
	if w.senders.Load() == 0 {
		w.held.Store(false)
		return true
	}
	now := w.clock.Now()
	if w.holdT == nil {
		w.startHold(now)
		return false
	}
	if now.Sub(w.holdSince) < yieldAge {
		return false
	}
	// The hold lasted yieldAge: what is queued now is written; what comes
	// later waits for a hold of its own.
	for i, s := range ss {
		due[i] = s.queuedWrites()
	}
	w.startHold(now)
	w.held.Store(false)
	return true
}

// queuedWrites is the number of writes waiting in s's queue.
func (s *sink) queuedWrites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// backlog reports whether s's queue holds half its bound or more.
func (s *sink) backlog() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queued >= s.w.maxQueued/2 || s.entries >= s.w.maxEntries/2
}

// drainSome is drain(false) for the first writes of the queue, up to limit
// bytes (at least one write): the writes after them stay queued, ahead of
// any write queued later. It returns the number of writes it took.
func (s *sink) drainSome(limit int64) int {
	s.mu.Lock()
	k, n := 0, int64(0)
	for k < len(s.queue) && (k == 0 || n < limit) {
		n += s.queue[k].bytes
		k++
	}
	q := append(s.w.part[:0], s.queue[:k]...)
	m := copy(s.queue, s.queue[k:])
	clear(s.queue[m:])
	s.queue = s.queue[:m]
	backlog := s.queued >= s.w.maxQueued/2
	s.mu.Unlock()
	bytes := s.writeTaken(q, backlog, false)
	s.mu.Lock()
	s.queued -= bytes
	s.entries -= len(q)
	s.mu.Unlock()
	s.w.part = q[:0]
	return len(q)
}
