package debugfile

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// Debug output kinds, also the telemetry KeyKind values and directory names.
const (
	kindArrow = "arrow"
	kindProto = "proto"
)

// Why writes were dropped (Gap.Reason).
const (
	reasonQueueFull    = "queue full"
	reasonFileFailed   = "file failed"
	reasonEncodeFailed = "encode failed"
)

// maxErrs bounds the failures remembered for the next Flush.
const maxErrs = 16

// File output is buffered in bufSize bytes; a single write of directWrite
// bytes or more (an Arrow column buffer, a large record) goes to the file
// directly, without a copy.
const (
	bufSize     = 1 << 20
	directWrite = 256 << 10
)

// entry is one queued write: a retained Arrow batch, or protobuf records
// referenced (not copied) until release. An entry with neither only
// carries a gap (drops before Close).
type entry struct {
	rec     arrow.RecordBatch
	desc    *descriptorpb.DescriptorProto
	records [][]byte
	release func()
	rows    int64
	bytes   int64
	gap     Gap // dropped just before this entry
}

func (e *entry) done() {
	if e.rec != nil {
		e.rec.Release()
	}
	if e.release != nil {
		e.release()
	}
	*e = entry{}
}

// Gap describes writes that were dropped at one point of a debug file: the
// drops sidecar of the file (ReadDrops) holds one line per gap.
type Gap struct {
	// BeforeWrite is the number of writes (Arrow batches, WriteProto calls)
	// in the file before the gap; BeforeRow the rows (protobuf: records).
	BeforeWrite int64 `json:"before_write"`
	BeforeRow   int64 `json:"before_row"`
	// DroppedWrites, DroppedRows and DroppedBytes are what is missing.
	DroppedWrites int64 `json:"dropped_writes"`
	DroppedRows   int64 `json:"dropped_rows"`
	DroppedBytes  int64 `json:"dropped_bytes"`
	// Reason is "queue full" (the disk did not keep up), "file failed"
	// (an I/O error abandoned the file) or "encode failed" (a batch the
	// Arrow IPC writer refused), or several of them joined by "; ".
	Reason string `json:"reason"`
}

func (g *Gap) add(writes, rows, bytes int64, reason string) {
	if writes == 0 {
		return
	}
	g.DroppedWrites += writes
	g.DroppedRows += rows
	g.DroppedBytes += bytes
	switch {
	case g.Reason == "":
		g.Reason = reason
	case reason != "" && !slices.Contains(strings.Split(g.Reason, "; "), reason):
		g.Reason += "; " + reason
	}
}

func (g *Gap) merge(o Gap) { g.add(o.DroppedWrites, o.DroppedRows, o.DroppedBytes, o.Reason) }

// sink is one kind of debug output (Arrow or protobuf) of one table. The
// write side (fields under mu) queues entries; the I/O side (fields after
// "I/O side") is used only by the Writer's background goroutine, or by New
// before that goroutine starts.
type sink struct {
	// tornDrops is the drops sidecar whose last append failed (it may end
	// in half a line): the next gap appended to it starts on a new line.
	tornDrops string

	w     *Writer
	kind  string
	dir   string
	base  string             // SafeName of the table
	ext   string             // ".arrow" or ".proto"
	stem  string             // active file name without ext: base, or extraStem(base, wid)
	wid   string             // writer id when another writer holds the canonical name base
	lock  *os.File           // the lock on stem+ext+lockSuffix (nil: none; see prepare)
	attrs []metric.AddOption // kind and table; a slice so Add does not allocate one per call

	// closing: Close rotates the file of a writer with a name of its own,
	// without retention (I/O side).
	closing bool

	mu       sync.Mutex
	closed   bool
	queue    []entry
	spare    []entry // the previous queue slice, reused
	queued   int64   // bytes in queue and being written
	entries  int     // entries in queue and being written
	gap      Gap     // dropped since the last accepted write
	dropping bool    // a drop was logged and no write was accepted since

	writes, rows, droppedW, droppedR, droppedB, written, failures atomic.Int64

	// Files opened in direct and in buffered I/O mode, direct writes the
	// OS refused (then written buffered), bytes written directly, switches
	// to buffered mode mid-file and back to direct mode mid-file; for tests
	// and benchmarks.
	directFiles, bufferedFiles, dioFallbacks, directBytes, leftDirect, enteredDirect atomic.Int64

	// I/O side.
	file       File // nil when no file is open or it failed
	bw         bufWriter
	open       bool // a file is active (possibly broken)
	broken     bool // the active file failed: entries are dropped until the next flush tick
	fileBytes  int64
	fileWrites int64
	fileRows   int64
	ioGap      Gap // dropped, to be recorded before the next write
	unflushed  Gap // entries written into bw since its last complete flush

	ipcw   *ipc.Writer   // Arrow encoder of the active file
	schema *arrow.Schema // its schema

	desc      *descriptorpb.DescriptorProto // descriptor of the active file
	descBytes []byte                        // its deterministic encoding

	lastStamp string
	lastSeq   int
	errs      []error
	moreErrs  int
}

func newSink(w *Writer, kind, ext string) *sink {
	s := &sink{
		w:     w,
		kind:  kind,
		dir:   filepath.Join(w.cfg.OutputDir, "zerobus", kind),
		base:  w.base,
		ext:   ext,
		stem:  w.base,
		attrs: []metric.AddOption{metric.WithAttributes(telemetry.KeyKind.String(kind), telemetry.KeyTable.String(w.table))},
	}
	s.bw.s = s
	return s
}

// busy reports whether the writer should use the page cache for now
// (background goroutine only).
func (s *sink) busy() bool { return s.w.load.busy || s.w.testBusy.Load() }

func (s *sink) activePath() string { return filepath.Join(s.dir, s.stem+s.ext) }

// lockSuffix follows a data file's name in the name of its lock file.
const lockSuffix = ".lock"

// lockPath is the lock file of the active file named stem.
func (s *sink) lockPath(stem string) string { return filepath.Join(s.dir, stem+s.ext+lockSuffix) }

// takeName makes s own an active name: the canonical one (base) if its
// lock is free, else extraStem(base, wid) with a lock of its own, wid
// coming from newWID. Without locks (a system without flock, or a lock
// file that cannot be created) s takes the canonical name unlocked, as
// before locks existed.
func (s *sink) takeName(newWID func(int) string) {
	f, err := lockFile(s.lockPath(s.base))
	if err == nil {
		s.lock = f
		return
	}
	if !errors.Is(err, errLocked) {
		return
	}
	for i := range 100 {
		wid := newWID(i)
		f, err := lockFile(s.lockPath(extraStem(s.base, wid)))
		if errors.Is(err, errLocked) {
			continue
		}
		s.stem, s.wid = extraStem(s.base, wid), wid
		if err == nil {
			s.lock = f
		}
		return
	}
}

// releaseName removes s's lock file and releases the lock once its file is
// closed (lockFile tells a removed lock file from the current one).
func (s *sink) releaseName() {
	if s.lock == nil {
		return
	}
	unlockFile(s.lock)
	s.lock = nil
}

// sidecars returns the descriptor sidecar names of data file path (proto).
func sidecars(path string) (pb, text string) {
	stem := path[:len(path)-len(filepath.Ext(path))]
	return stem + descriptorSuffix, stem + textprotoSuffix
}

// dropsPath returns the drops sidecar of data file path.
func dropsPath(path string) string {
	return path[:len(path)-len(filepath.Ext(path))] + dropsSuffix
}

// sidecarSuffixes are the files that accompany a data file of s's kind.
func (s *sink) sidecarSuffixes() []string {
	if s.kind == kindProto {
		return []string{descriptorSuffix, textprotoSuffix, dropsSuffix}
	}
	return []string{dropsSuffix}
}

// ---- write side ----

// enqueue queues e, or drops and counts it when the queue is full.
func (s *sink) enqueue(e entry) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		if e.release != nil {
			e.release()
		}
		return
	}
	if s.queued >= s.w.maxQueued || s.entries >= s.w.maxEntries {
		s.gap.add(1, e.rows, e.bytes, reasonQueueFull)
		logIt := !s.dropping
		s.dropping = true
		queued, entries := s.queued, s.entries
		s.mu.Unlock()
		s.countDrop(e.rows, e.bytes)
		if logIt {
			s.w.tel.Logger().Warn("zerobus debug file: dropping debug output; data transmission is not affected",
				"kind", s.kind, "file", s.activePath(), "reason", fmt.Sprintf(
					"%d bytes in %d writes are waiting for the disk (limits %d bytes, %d writes)",
					queued, entries, s.w.maxQueued, s.w.maxEntries))
		}
		if e.release != nil {
			e.release()
		}
		return
	}
	s.dropping = false
	if e.rec != nil {
		e.rec.Retain()
	}
	e.gap, s.gap = s.gap, Gap{}
	s.queue = append(s.queue, e)
	s.queued += e.bytes
	s.entries++
	// A write of directWrite bytes or more is worth a syscall of its own:
	// waiting for the tick would only hold its buffers (often pooled ones
	// the sender wants back) for nothing.
	kick := s.queued >= s.w.kickBytes || s.entries >= s.w.kickCount || e.bytes >= directWrite
	s.mu.Unlock()
	s.writes.Add(1)
	s.rows.Add(e.rows)
	s.w.tel.DebugWrites.Add(context.Background(), 1, s.attrs...)
	if kick {
		s.w.wake()
	}
}

func (s *sink) countDrop(rows, bytes int64) {
	s.droppedW.Add(1)
	s.droppedR.Add(rows)
	s.droppedB.Add(bytes)
	s.w.tel.DebugDropped.Add(context.Background(), 1, s.attrs...)
}

// closeQueue refuses further writes; drops not yet followed by a write are
// queued as a gap-only entry so the file records them.
func (s *sink) closeQueue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.gap.DroppedWrites > 0 {
		s.queue = append(s.queue, entry{gap: s.gap})
		s.gap = Gap{}
	}
}

func (s *sink) stats() Stats {
	s.mu.Lock()
	qb, qw := s.queued, s.entries
	s.mu.Unlock()
	return Stats{
		Writes: s.writes.Load(), Rows: s.rows.Load(),
		DroppedWrites: s.droppedW.Load(), DroppedRows: s.droppedR.Load(), DroppedBytes: s.droppedB.Load(),
		BytesWritten: s.written.Load(), Failures: s.failures.Load(),
		QueuedBytes: qb, QueuedWrites: int64(qw),
	}
}

// ---- I/O side ----

// drain writes every queued entry. At a rest point (Flush, Close, the
// flush and rotation ticks) it then empties the output buffer so the file
// ends at a message boundary; so does a drain in buffered mode. In direct
// mode a drain woken by new data leaves the last partial block (and what
// does not fill a buffer) for the next drain or rest point: writing it
// through the page cache costs a synchronous write-back when the next
// direct write covers its block.
func (s *sink) drain(rest bool) {
	s.mu.Lock()
	q := s.queue
	s.queue, s.spare = s.spare, nil
	backlog := s.queued >= s.w.maxQueued/2
	s.mu.Unlock()
	bytes := s.writeTaken(q, backlog, rest)
	s.mu.Lock()
	s.queued -= bytes
	s.entries -= len(q)
	s.spare = q[:0]
	s.mu.Unlock()
}

// writeTaken writes q, writes taken off the queue by drain or drainSome,
// choosing direct I/O or the page cache first, and returns their bytes;
// with rest (or in page-cache mode) the write buffer is flushed after them.
func (s *sink) writeTaken(q []entry, backlog, rest bool) int64 {
	switch busy := backlog || s.busy(); {
	case s.bw.d != nil && busy:
		// The disk is behind, or the writer busy: the page cache accepts
		// writes faster (see ioLoad).
		if err := s.bw.leaveDirect(); err != nil {
			s.fail("writing", s.activePath(), err)
		}
		s.leftDirect.Add(1)
	case s.bw.d == nil && !busy && len(q) > 0 && s.open && !s.broken:
		// Idle again: direct I/O from here on, mid-file.
		s.bw.enterDirect()
		if s.bw.err != nil {
			s.fail("writing", s.activePath(), s.bw.err)
		}
	}
	var bytes int64
	for i := range q {
		bytes += q[i].bytes
		s.write(&q[i])
		q[i].done()
	}
	if rest || (len(q) > 0 && s.bw.d == nil) {
		s.flushBuf()
	}
	return bytes
}

func (s *sink) write(e *entry) {
	s.ioGap.merge(e.gap)
	if e.rec == nil && e.desc == nil {
		if s.open && !s.broken {
			s.recordGap()
		}
		return
	}
	if s.broken {
		s.ioGap.add(1, e.rows, e.bytes, reasonFileFailed)
		s.countDrop(e.rows, e.bytes)
		return
	}
	if s.open && s.fileWrites > 0 && s.fileBytes >= s.w.cfg.MaxFileSize {
		// Full: rotated before the next write, not right after the last
		// one (as the original does), so the active file always holds
		// the latest write, even when every write rotates and no rotated
		// file is retained (RetainNone).
		s.endFile(true, s.w.clock.Now())
	}
	var written bool
	if e.rec != nil {
		written = s.writeArrow(e)
	} else {
		written = s.writeProto(e)
	}
	if !written { // missing from the file: a gap before the next write
		reason := reasonFileFailed
		if !s.broken {
			reason = reasonEncodeFailed
		}
		s.ioGap.add(1, e.rows, e.bytes, reason)
		s.countDrop(e.rows, e.bytes)
		return
	}
	s.unflushed.add(1, e.rows, e.bytes, reasonFileFailed)
}

// writeArrow and writeProto report whether e is (buffered) in the file.
func (s *sink) writeArrow(e *entry) bool {
	sc := e.rec.Schema()
	if s.open && sc != s.schema && !sc.Equal(s.schema) {
		s.endFile(true, s.w.clock.Now())
	}
	if !s.open {
		if !s.openFile(nil, nil) {
			return false
		}
		s.schema = sc
		opts := append([]ipc.Option{ipc.WithSchema(sc), ipc.WithAllocator(s.w.mem)}, s.w.cfg.ArrowCompression.ipcOptions()...)
		s.ipcw = ipc.NewWriter(&s.bw, opts...)
	}
	s.recordGap()
	if err := s.ipcw.Write(e.rec); err != nil {
		if s.bw.err != nil {
			s.fail("writing", s.activePath(), s.bw.err)
			return false
		}
		s.failures.Add(1)
		s.w.tel.DebugFailures.Add(context.Background(), 1, s.attrs...)
		s.w.tel.Logger().Warn("zerobus debug file: cannot encode batch as Arrow IPC; batch skipped",
			"file", s.activePath(), "rows", e.rows, "error", err)
		return false
	}
	s.fileWrites++
	s.fileRows += e.rows
	return true
}

func (s *sink) writeProto(e *entry) bool {
	var b []byte
	if s.open && e.desc != s.desc {
		b = marshalDescriptor(e.desc)
		if string(b) != string(s.descBytes) {
			s.endFile(true, s.w.clock.Now())
		} else {
			s.desc = e.desc // same content: later entries with this pointer skip the comparison
		}
	}
	if !s.open {
		if b == nil {
			b = marshalDescriptor(e.desc)
		}
		text, _ := prototext.MarshalOptions{Multiline: true}.Marshal(e.desc)
		if !s.openFile(b, text) {
			return false
		}
		s.desc, s.descBytes = e.desc, b
	}
	s.recordGap()
	bw := &s.bw
	bw.alloc()
	buf := bw.buf
	var n int64
	for _, r := range e.records {
		if l := len(r); l < 1<<14 && cap(buf)-len(buf) >= l+2 {
			// The usual record: a one- or two-byte length, room in the
			// buffer (what AppendVarint writes, without the call).
			if l < 1<<7 {
				buf = append(buf, byte(l))
				n += int64(l) + 1
			} else {
				buf = append(buf, byte(l)|0x80, byte(l>>7))
				n += int64(l) + 2
			}
			buf = append(buf, r...)
			continue
		}
		need := protowire.SizeVarint(uint64(len(r))) + len(r)
		n += int64(need)
		if cap(buf)-len(buf) < need {
			bw.buf = buf
			if len(r) >= directWrite || bw.d != nil {
				// Buffered: a large record goes to the file directly.
				// Direct: the buffer is filled to the last byte.
				if cap(bw.buf)-len(bw.buf) < binary.MaxVarintLen64 {
					bw.flush()
				}
				bw.buf = protowire.AppendVarint(bw.buf, uint64(len(r)))
				bw.put(r)
				buf = bw.buf
				continue
			}
			bw.flush()
			buf = bw.buf
		}
		buf = protowire.AppendVarint(buf, uint64(len(r)))
		buf = append(buf, r...)
	}
	bw.buf = buf
	s.fileBytes += n
	if bw.err != nil {
		s.fail("writing", s.activePath(), bw.err)
		return false
	}
	s.fileWrites++
	s.fileRows += e.rows
	return true
}

func marshalDescriptor(desc *descriptorpb.DescriptorProto) []byte {
	b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(desc) // cannot fail: no required fields
	return b
}

// recordGap appends the pending gap, if any, to the active file's drops
// sidecar, positioned before the next write.
func (s *sink) recordGap() {
	if s.ioGap.DroppedWrites == 0 {
		return
	}
	g := s.ioGap
	s.ioGap = Gap{}
	g.BeforeWrite, g.BeforeRow = s.fileWrites, s.fileRows
	line, _ := json.Marshal(g)
	path := dropsPath(s.activePath())
	if s.tornDrops == path {
		line = append([]byte{'\n'}, line...)
	}
	f, err := s.w.fs.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err == nil {
		_, err = f.Write(append(line, '\n'))
		if err != nil {
			s.tornDrops = path
		} else if s.tornDrops == path {
			s.tornDrops = ""
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		s.record("writing the drops record", path, err)
	}
}

// openFile opens a fresh active file (proto: after writing its descriptor
// sidecars pb and text). On failure the file is broken until the next
// flush tick.
func (s *sink) openFile(pb, text []byte) bool {
	s.open = true
	s.fileBytes, s.fileWrites, s.fileRows = 0, 0, 0
	active := s.activePath()
	// A leftover active file (a failed rotation) is moved aside, never truncated.
	if err := s.moveAside(s.w.clock.Now()); err != nil {
		s.fail("moving aside", active, err)
		return false
	}
	if s.kind == kindProto {
		pbPath, textPath := sidecars(active)
		if err := s.writeWhole(pbPath, pb); err != nil {
			s.fail("writing descriptor", pbPath, err)
			return false
		}
		if err := s.writeWhole(textPath, text); err != nil {
			s.fail("writing descriptor", textPath, err)
			return false
		}
	}
	f, err := s.w.fs.OpenFile(active, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		s.fail("creating", active, err)
		return false
	}
	s.file = f
	s.bw.attach(f)
	return true
}

func (s *sink) writeWhole(path string, data []byte) error {
	f, err := s.w.fs.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// flushBuf writes the output buffer to the file.
func (s *sink) flushBuf() {
	if !s.open || s.broken {
		return
	}
	s.bw.rest()
	if s.bw.err != nil {
		s.fail("writing", s.activePath(), s.bw.err)
	}
}

// sync writes the output buffer and fsyncs the active file.
func (s *sink) sync() {
	s.flushBuf()
	if s.file != nil && !s.broken {
		if err := s.file.Sync(); err != nil {
			s.fail("syncing", s.activePath(), err)
		}
	}
}

// endFile ends the active file (Arrow: writes the end-of-stream marker),
// closes it (fsyncing it first unless rotate) and with rotate moves it
// aside, named after at.
func (s *sink) endFile(rotate bool, at time.Time) {
	if !s.open {
		return
	}
	if s.ipcw != nil {
		if err := s.ipcw.Close(); err != nil && !s.broken && s.bw.err == nil {
			s.record("ending", s.activePath(), err)
		}
		s.ipcw, s.schema = nil, nil
	}
	s.desc, s.descBytes = nil, nil
	s.flushBuf()
	s.bw.detach()
	s.bw.trim()
	if s.file != nil {
		f := s.file
		s.file = nil
		if !rotate { // Close: the data must be on disk when Close returns
			if err := f.Sync(); err != nil {
				s.record("syncing", s.activePath(), err)
			}
		}
		if err := f.Close(); err != nil {
			s.record("closing", s.activePath(), err)
		}
	}
	s.bw.reset()
	s.open, s.broken = false, false
	if rotate {
		s.w.tel.DebugRotations.Add(context.Background(), 1, s.attrs...)
		if err := s.moveAside(at); err != nil {
			s.record("rotating", s.activePath(), err)
			return
		}
		if !s.closing {
			s.retain()
		}
	}
}

// retryBroken rotates a failed file aside, so new data goes to a fresh file.
func (s *sink) retryBroken() {
	if s.open && s.broken {
		s.endFile(true, s.w.clock.Now())
	}
}

// rotateIfData rotates the active file if it holds data (RotationInterval).
func (s *sink) rotateIfData() {
	if s.open && !s.broken && s.fileBytes > 0 {
		s.endFile(true, s.w.clock.Now())
	}
}

// fail records an I/O failure of the active file and abandons that file
// until the next flush tick; what was buffered for it is discarded.
func (s *sink) fail(what, path string, err error) {
	s.broken = true
	if g := s.unflushed; g.DroppedWrites > 0 { // lost with the buffer, or partly written
		s.unflushed = Gap{}
		s.ioGap.merge(g)
		s.droppedW.Add(g.DroppedWrites)
		s.droppedR.Add(g.DroppedRows)
		s.droppedB.Add(g.DroppedBytes)
		s.w.tel.DebugDropped.Add(context.Background(), g.DroppedWrites, s.attrs...)
	}
	if s.ipcw != nil {
		s.bw.err = errAbandoned // the end-of-stream marker goes nowhere
		_ = s.ipcw.Close()      // releases the dictionary memo
		s.ipcw, s.schema = nil, nil
	}
	s.bw.detach()
	s.bw.trim()
	if s.file != nil {
		_ = s.file.Close()
		s.file = nil
	}
	s.bw.reset()
	s.record(what, path, err)
}

var errAbandoned = errors.New("debugfile: file abandoned after a failure")

// record counts, logs and keeps (for Flush) a failure.
func (s *sink) record(what, path string, err error) {
	err = fmt.Errorf("debugfile: %s %s: %w", what, path, err)
	s.failures.Add(1)
	s.w.tel.DebugFailures.Add(context.Background(), 1, s.attrs...)
	s.w.tel.Logger().Warn("zerobus debug file: I/O failed; data transmission is not affected",
		"kind", s.kind, "file", path, "error", err)
	if len(s.errs) < maxErrs {
		s.errs = append(s.errs, err)
	} else {
		s.moreErrs++
	}
}

// takeErrs returns and forgets the failures recorded so far.
func (s *sink) takeErrs() []error {
	errs := s.errs
	if s.moreErrs > 0 {
		errs = append(errs, fmt.Errorf("debugfile: %d more %s debug file failures", s.moreErrs, s.kind))
	}
	s.errs, s.moreErrs = nil, 0
	return errs
}

// moveAside renames the active file (and its sidecars) to a fresh rotated
// name for time at. No active file is not an error.
func (s *sink) moveAside(at time.Time) error { return s.moveStemAside(s.stem, at) }

// moveAsideStale moves aside the active files other writers with names of
// their own left behind (a crash: their Close rotates them), recognized by
// their lock being free; a live writer's is locked and left alone.
func (s *sink) moveAsideStale(at time.Time) {
	entries, err := s.w.fs.ReadDir(s.dir)
	if err != nil {
		return // retain reports it
	}
	prefix := s.base + "-"
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, s.ext) || len(n) < len(prefix)+len(s.ext) {
			continue
		}
		wid := n[len(prefix) : len(n)-len(s.ext)]
		if !isWID(wid) || wid == s.wid {
			continue
		}
		stem := extraStem(s.base, wid)
		f, err := lockFile(s.lockPath(stem))
		if err != nil {
			continue // held (or no locks here: nothing tells a stale file)
		}
		if err := s.moveStemAside(stem, at); err != nil {
			s.record("moving aside", filepath.Join(s.dir, n), err)
		}
		unlockFile(f)
	}
}

// moveStemAside renames the active file named stem (and its sidecars) to
// a fresh rotated name of s for time at. No such file is not an error. A
// file of no byte with no drops sidecar (a crash right after a rotation,
// before the writer wrote anything to the new file, leaves one) holds
// nothing: it is removed with its sidecars instead.
func (s *sink) moveStemAside(stem string, at time.Time) error {
	active := filepath.Join(s.dir, stem+s.ext)
	st, err := s.w.fs.Stat(active)
	if err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return nil
		}
		return err
	}
	activeStem := active[:len(active)-len(s.ext)]
	if st.Size() == 0 {
		if _, err := s.w.fs.Stat(activeStem + dropsSuffix); errors.Is(err, iofs.ErrNotExist) {
			return s.removeStem(activeStem)
		}
	}
	to := filepath.Join(s.dir, s.freeStem(at))
	if err := s.w.fs.Rename(active, to+s.ext); err != nil {
		return err
	}
	for _, suf := range s.sidecarSuffixes() {
		if err := s.w.fs.Rename(activeStem+suf, to+suf); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// removeStem removes the data file stem+ext and its sidecars.
func (s *sink) removeStem(stem string) error {
	if err := s.w.fs.Remove(stem + s.ext); err != nil && !errors.Is(err, iofs.ErrNotExist) {
		return err
	}
	for _, suf := range s.sidecarSuffixes() {
		if err := s.w.fs.Remove(stem + suf); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// freeStem picks the rotated name for time at: the sequence number grows
// within one millisecond and skips names already on disk (a previous run).
func (s *sink) freeStem(at time.Time) string {
	stamp := at.UTC().Format(stampLayout)
	seq := 0
	if stamp == s.lastStamp {
		seq = s.lastSeq + 1
	}
	for limit := seq + 100000; seq < limit; seq++ {
		if _, err := s.w.fs.Stat(filepath.Join(s.dir, rotatedStem(s.base, at, seq, s.wid)+s.ext)); err != nil {
			break
		}
	}
	s.lastStamp, s.lastSeq = stamp, seq
	return rotatedStem(s.base, at, seq, s.wid)
}

// retain deletes this writer's oldest rotated files of this kind beyond
// MaxFilesRetained (and their sidecars); with RetainNone, all of them. A
// writer's files are its lineage's: the canonical writer's (wid empty,
// T-<stamp>-<seq>, also those of earlier runs that held the canonical
// name) or those rotated under its own writer id. Another writer's
// rotated files, live or finished, are never counted nor deleted. Each
// deletion is logged, naming the file and the rule.
func (s *sink) retain() {
	keep := s.w.cfg.MaxFilesRetained
	switch {
	case keep == RetainNone:
		keep = 0
	case keep < 0:
		return
	}
	entries, err := s.w.fs.ReadDir(s.dir)
	if err != nil {
		s.record("listing", s.dir, err)
		return
	}
	var stems []string
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if stem, ok := parseRotated(e.Name(), s.base, s.ext); ok {
			if _, _, wid := splitRotated(stem); wid == s.wid {
				stems = append(stems, stem)
			}
		}
	}
	if len(stems) <= keep {
		return
	}
	sortRotated(stems)
	for _, stem := range stems[:len(stems)-keep] {
		p := filepath.Join(s.dir, stem+s.ext)
		s.w.tel.Logger().Info("zerobus debug file: deleting an old rotated debug file (retention)",
			"kind", s.kind, "file", p,
			"reason", fmt.Sprintf("this writer has %d rotated %s files of the table and keeps the newest %d (debug_max_files_retained; negative keeps all)", len(stems), s.kind, keep))
		names := []string{stem + s.ext}
		for _, suf := range s.sidecarSuffixes() {
			names = append(names, stem+suf)
		}
		for _, n := range names {
			p := filepath.Join(s.dir, n)
			if err := s.w.fs.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
				s.record("removing old", p, err)
			}
		}
	}
}
