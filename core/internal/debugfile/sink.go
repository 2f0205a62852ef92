package debugfile

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// Debug output kinds, also the telemetry KeyKind values and directory names.
const (
	kindArrow = "arrow"
	kindProto = "proto"
)

// opKind is one step for the background goroutine.
type opKind uint8

const (
	opOpen opKind = iota // open a fresh active file (proto: data and text are the sidecars)
	opData               // append data to the active file
	opEnd                // close the active file; move it aside when rotate
)

type op struct {
	kind   opKind
	seg    uint64   // opOpen: the segment the file holds
	blocks [][]byte // opData: the bytes, in blockSize pieces
	data   []byte   // opOpen (proto): the descriptor sidecar
	text   []byte   // opOpen (proto): the textproto sidecar
	rotate bool
	at     time.Time // opEnd: rotation time, names the rotated file
}

// maxErrs bounds the failures remembered for the next Flush.
const maxErrs = 16

// Encoded data is buffered in fixed-size blocks, so a fast producer never
// pays for growing and copying one big buffer; up to maxFreeBlocks written
// blocks per sink are kept for reuse.
const (
	blockSize     = 256 << 10
	maxFreeBlocks = 8
)

// sink is one kind of debug output (Arrow or protobuf) of one table. The
// write side (fields under mu) encodes into cur and queues ops; the I/O side
// (fields after "I/O side") is used only by the Writer's background
// goroutine, or by New before that goroutine starts.
//
// A segment is the content of one file: it begins with an opOpen, is encoded
// into cur and handed over as opData, and ends with an opEnd.
type sink struct {
	w     *Writer
	kind  string
	dir   string
	base  string // SafeName of the table
	ext   string // ".arrow" or ".proto"
	attrs metric.MeasurementOption

	mu        sync.Mutex
	closed    bool
	seg       uint64 // current segment; 0 when none is open
	lastSeg   uint64
	brokenSeg uint64   // segment whose file failed: its writes are dropped
	segBytes  int64    // bytes encoded into the current segment
	cur       [][]byte // encoded, not yet handed to the I/O side
	curLen    int      // bytes in cur
	queue     []op
	buffered  int64 // bytes in cur, queue and being written
	free      [][]byte
	dropping  bool // a drop was logged and no write was accepted since

	ipcw   *ipc.Writer   // Arrow encoder of the current segment
	schema *arrow.Schema // its schema

	desc      *descriptorpb.DescriptorProto // descriptor of the current segment
	descBytes []byte                        // its deterministic encoding

	// I/O side.
	file      File
	fileSeg   uint64
	ioBroken  bool
	lastStamp string
	lastSeq   int
	errs      []error
	moreErrs  int
}

func newSink(w *Writer, kind, ext string) *sink {
	return &sink{
		w:     w,
		kind:  kind,
		dir:   filepath.Join(w.cfg.OutputDir, "zerobus", kind),
		base:  w.base,
		ext:   ext,
		attrs: metric.WithAttributes(telemetry.KeyKind.String(kind), telemetry.KeyTable.String(w.table)),
	}
}

func (s *sink) activePath() string { return filepath.Join(s.dir, s.base+s.ext) }

// sidecars returns the descriptor sidecar names of data file path (proto).
func sidecars(path string) (pb, text string) {
	stem := path[:len(path)-len(filepath.Ext(path))]
	return stem + descriptorSuffix, stem + textprotoSuffix
}

// ---- write side (callers hold s.mu) ----

// segWriter lets the Arrow IPC encoder append to the current segment.
type segWriter struct{ s *sink }

func (sw segWriter) Write(p []byte) (int, error) {
	sw.s.appendLocked(p)
	return len(p), nil
}

// appendLocked adds p to the current segment.
func (s *sink) appendLocked(p []byte) {
	n := len(p)
	s.curLen += n
	s.segBytes += int64(n)
	s.buffered += int64(n)
	if k := len(s.cur); k > 0 && cap(s.cur[k-1])-len(s.cur[k-1]) >= n {
		s.cur[k-1] = append(s.cur[k-1], p...) // fits: no new block
		return
	}
	for len(p) > 0 {
		k := len(s.cur)
		if k == 0 || len(s.cur[k-1]) == cap(s.cur[k-1]) {
			s.cur = append(s.cur, s.newBlockLocked())
			k++
		}
		b := s.cur[k-1]
		c := copy(b[len(b):cap(b)], p)
		s.cur[k-1] = b[:len(b)+c]
		p = p[c:]
	}
}

// appendDelimitedLocked adds records, each prefixed by its varint length.
// A record never straddles two blocks unless it is larger than a block.
func (s *sink) appendDelimitedLocked(records [][]byte) {
	var b []byte // the last block, stored back into s.cur when done
	k := len(s.cur)
	if k > 0 {
		b = s.cur[k-1]
	}
	added := 0
	for _, r := range records {
		need := protowire.SizeVarint(uint64(len(r))) + len(r)
		if k == 0 || cap(b)-len(b) < need {
			if k > 0 {
				s.cur[k-1] = b
			}
			if need > blockSize { // rare: let appendLocked split it
				var prefix [binary.MaxVarintLen64]byte
				s.appendLocked(protowire.AppendVarint(prefix[:0], uint64(len(r))))
				s.appendLocked(r)
				k = len(s.cur)
				b = s.cur[k-1]
				continue
			}
			b = s.newBlockLocked()
			s.cur = append(s.cur, b)
			k = len(s.cur)
		}
		b = protowire.AppendVarint(b, uint64(len(r)))
		b = append(b, r...)
		added += need
	}
	if k > 0 {
		s.cur[k-1] = b
	}
	s.curLen += added
	s.segBytes += int64(added)
	s.buffered += int64(added)
}

func (s *sink) newBlockLocked() []byte {
	if n := len(s.free); n > 0 {
		b := s.free[n-1]
		s.free = s.free[:n-1]
		return b[:0]
	}
	return make([]byte, 0, blockSize)
}

// acceptLocked reports whether a write may be encoded now; if not, it counts
// (and logs once per episode) the dropped write.
func (s *sink) acceptLocked() bool {
	if s.closed {
		return false
	}
	var reason string
	switch {
	case s.seg != 0 && s.seg == s.brokenSeg:
		reason = "the current debug file failed; a new one is opened at the next flush interval"
	case s.buffered >= s.w.maxBuffered:
		reason = fmt.Sprintf("%d bytes are waiting for the disk (limit %d)", s.buffered, s.w.maxBuffered)
	default:
		s.dropping = false
		return true
	}
	s.w.tel.DebugFailures.Add(context.Background(), 1, s.attrs)
	if !s.dropping {
		s.dropping = true
		s.w.tel.Logger().Warn("zerobus debug file: dropping debug output; data transmission is not affected",
			"kind", s.kind, "file", s.activePath(), "reason", reason)
	}
	return false
}

// beginLocked opens a new segment; pb and text are the proto sidecars.
func (s *sink) beginLocked(pb, text []byte) {
	s.lastSeg++
	s.seg = s.lastSeg
	s.segBytes = 0
	s.queue = append(s.queue, op{kind: opOpen, seg: s.seg, data: pb, text: text})
}

// cutLocked ends the current segment (Arrow: writes the end-of-stream
// marker); with rotate the file is moved aside, named after at.
func (s *sink) cutLocked(rotate bool, at time.Time) {
	if s.seg == 0 {
		return
	}
	if s.ipcw != nil {
		if err := s.ipcw.Close(); err != nil { // only writes to cur, which cannot fail
			s.w.tel.DebugFailures.Add(context.Background(), 1, s.attrs)
		}
		s.ipcw, s.schema = nil, nil
	}
	s.desc, s.descBytes = nil, nil
	s.handoffLocked()
	s.queue = append(s.queue, op{kind: opEnd, rotate: rotate, at: at})
	s.seg = 0
	if rotate {
		s.w.tel.DebugRotations.Add(context.Background(), 1, s.attrs)
	}
}

// handoffLocked queues cur for writing.
func (s *sink) handoffLocked() {
	if s.curLen == 0 {
		return
	}
	s.queue = append(s.queue, op{kind: opData, blocks: s.cur})
	s.cur, s.curLen = nil, 0
}

// needsKickLocked reports whether the background goroutine should write now
// rather than at the next flush tick.
func (s *sink) needsKickLocked(cut bool) bool { return cut || s.curLen >= s.w.kickAt }

// ---- I/O side ----

// drain writes everything queued so far; with sync it also fsyncs the open
// file. It runs on the background goroutine.
func (s *sink) drain(sync bool) {
	s.mu.Lock()
	s.handoffLocked()
	ops := s.queue
	s.queue = nil
	s.mu.Unlock()

	var done int64
	for _, o := range ops {
		switch o.kind {
		case opOpen:
			s.ioOpen(o)
		case opData:
			for _, b := range o.blocks {
				s.ioWrite(b)
				done += int64(len(b))
			}
		case opEnd:
			s.ioEnd(o)
		}
	}
	if sync && s.file != nil {
		if err := s.file.Sync(); err != nil {
			s.fail("syncing", s.activePath(), err)
		}
	}

	s.mu.Lock()
	s.buffered -= done
	for _, o := range ops {
		for _, b := range o.blocks {
			if len(s.free) < maxFreeBlocks {
				s.free = append(s.free, b)
			}
		}
	}
	if s.ioBroken {
		s.brokenSeg = s.fileSeg
	}
	s.mu.Unlock()
}

// fail records an I/O failure of the active file and abandons that file
// until the next rotation.
func (s *sink) fail(what, path string, err error) {
	s.ioBroken = true
	if s.file != nil {
		_ = s.file.Close()
		s.file = nil
	}
	s.record(what, path, err)
}

// record counts, logs and keeps (for Flush) a failure.
func (s *sink) record(what, path string, err error) {
	err = fmt.Errorf("debugfile: %s %s: %w", what, path, err)
	s.w.tel.DebugFailures.Add(context.Background(), 1, s.attrs)
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

func (s *sink) ioOpen(o op) {
	if s.file != nil { // an opEnd always comes first; be safe anyway
		_ = s.file.Close()
		s.file = nil
	}
	s.ioBroken = false
	s.fileSeg = o.seg
	active := s.activePath()
	// A leftover active file (a failed rotation) is moved aside, never truncated.
	if err := s.moveAside(s.w.clock.Now()); err != nil {
		s.fail("moving aside", active, err)
		return
	}
	if s.kind == kindProto {
		pb, text := sidecars(active)
		if err := s.writeWhole(pb, o.data); err != nil {
			s.fail("writing descriptor", pb, err)
			return
		}
		if err := s.writeWhole(text, o.text); err != nil {
			s.fail("writing descriptor", text, err)
			return
		}
	}
	f, err := s.w.fs.OpenFile(active, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		s.fail("creating", active, err)
		return
	}
	s.file = f
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

func (s *sink) ioWrite(data []byte) {
	if s.file == nil || s.ioBroken {
		return // abandoned until the next rotation; the drop was counted at the failure
	}
	n, err := s.file.Write(data)
	if n > 0 {
		s.w.tel.DebugBytes.Add(context.Background(), int64(n), s.attrs)
	}
	if err != nil {
		s.fail("writing", s.activePath(), err)
	}
}

func (s *sink) ioEnd(o op) {
	if s.file != nil {
		f := s.file
		s.file = nil
		if !o.rotate { // Close: the data must be on disk when Close returns
			if err := f.Sync(); err != nil {
				s.fail("syncing", s.activePath(), err)
			}
		}
		if err := f.Close(); err != nil {
			s.fail("closing", s.activePath(), err)
		}
	}
	if o.rotate {
		if err := s.moveAside(o.at); err != nil {
			s.fail("rotating", s.activePath(), err)
			return
		}
		s.retain()
	}
}

// moveAside renames the active file (and its sidecars) to a fresh rotated
// name for time at. No active file is not an error.
func (s *sink) moveAside(at time.Time) error {
	active := s.activePath()
	if _, err := s.w.fs.Stat(active); err != nil {
		if errors.Is(err, iofs.ErrNotExist) {
			return nil
		}
		return err
	}
	stem := filepath.Join(s.dir, s.freeStem(at))
	if err := s.w.fs.Rename(active, stem+s.ext); err != nil {
		return err
	}
	if s.kind == kindProto {
		pb, text := sidecars(active)
		for _, p := range [][2]string{{pb, stem + descriptorSuffix}, {text, stem + textprotoSuffix}} {
			if err := s.w.fs.Rename(p[0], p[1]); err != nil && !errors.Is(err, iofs.ErrNotExist) {
				return err
			}
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
		if _, err := s.w.fs.Stat(filepath.Join(s.dir, rotatedStem(s.base, at, seq)+s.ext)); err != nil {
			break
		}
	}
	s.lastStamp, s.lastSeq = stamp, seq
	return rotatedStem(s.base, at, seq)
}

// retain deletes this table's oldest rotated files of this kind beyond
// MaxFilesRetained (and their sidecars).
func (s *sink) retain() {
	keep := s.w.cfg.MaxFilesRetained
	if keep < 0 {
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
			stems = append(stems, stem)
		}
	}
	if len(stems) <= keep {
		return
	}
	sortRotated(stems)
	for _, stem := range stems[:len(stems)-keep] {
		names := []string{stem + s.ext}
		if s.kind == kindProto {
			names = append(names, stem+descriptorSuffix, stem+textprotoSuffix)
		}
		for _, n := range names {
			p := filepath.Join(s.dir, n)
			if err := s.w.fs.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
				s.record("removing old", p, err)
			}
		}
	}
}
