package debugfile

import (
	"context"
	"errors"
	"io"
	"math"
	"syscall"
	"time"
	"unsafe"
)

// Direct I/O (O_DIRECT on Linux) writes from aligned buffers straight to
// the device: the kernel neither copies the data into the page cache nor
// writes the dirty pages back later, which costs about a third of the CPU
// per byte of buffered writing (see doc.go, "File I/O").
const (
	dioAlign   = 4096    // offset, length and address alignment of direct writes
	dioBufSize = 4 << 20 // each of the two aligned buffers of a direct sink
)

// directFile is a File that can bypass the page cache. The os file
// system's files implement it (on Linux); a test file system may too.
type directFile interface {
	File
	// WriteAt writes p at offset off, like os.File.WriteAt.
	WriteAt(p []byte, off int64) (int, error)
	// SetDirect turns direct I/O on or off for the following writes. An
	// error means the file system or the OS refuses it.
	SetDirect(on bool) error
	// Seek sets the offset of the next Write, like os.File.Seek.
	Seek(offset int64, whence int) (int64, error)
}

// bufWriter is the active file's output: small writes are gathered in one
// reused buffer. Errors are sticky until the next file.
//
// Buffered mode (d == nil): writes of directWrite bytes or more go to the
// file directly, without a copy; everything goes through the page cache.
//
// Direct mode (d != nil): everything is copied into two aligned buffers;
// a full buffer's whole blocks are written with direct I/O by a helper
// goroutine while the other buffer fills. At rest points (rest: the flush
// tick, rotation, Flush, Close) the unaligned tail is written through the
// page cache, so the file then ends at a message boundary as in buffered
// mode; the tail stays in the buffer and its block is rewritten, completed,
// by the next direct write. leaveDirect switches the file to buffered mode
// at a rest point; enterDirect back to direct mode (its last partial block,
// kept in last, is rewritten completed by the first direct write). The
// bytes in the file are the same in both modes.
type bufWriter struct {
	s   *sink
	buf []byte
	err error

	d     *dio      // direct mode state; nil in buffered mode
	plain []byte    // buffered mode's buffer (kept across files)
	dbufs [2][]byte // the aligned buffers (kept across files)
	free  func()    // returns dbufs' memory (release)

	// Buffered mode: the file's size, and its last lastN bytes (up to a
	// block), which enterDirect rewrites with the first direct write.
	size     int64
	last     [dioAlign]byte
	lastN    int
	noDirect bool // the OS refused direct I/O for the active file

	// Blocks reserved ahead for the active file (reserve): up to file
	// offset allocEnd; noAlloc once that is not possible or not wanted.
	allocEnd int64
	noAlloc  bool
}

// attach starts writing file f (openFile): direct mode when f supports it
// and the OS accepts it for this file, otherwise buffered mode. Decided once
// per file (direct mode falls back to buffered if a direct write is refused).
func (b *bufWriter) attach(f File) {
	b.reset()
	if b.s.w.bufferedIO {
		return
	}
	df, ok := f.(directFile)
	if !ok || b.s.busy() {
		b.s.bufferedFiles.Add(1)
		return
	}
	if df.SetDirect(true) != nil {
		b.noDirect = true
		b.s.bufferedFiles.Add(1)
		return
	}
	b.s.directFiles.Add(1)
	b.startDirect(df, 0)
}

// startDirect goes on in direct mode at the end of the file (size bytes),
// with O_DIRECT already set on df: the partial block at the end, if any,
// is in b.last; it starts the first aligned buffer and is rewritten,
// completed, by the first direct write.
func (b *bufWriter) startDirect(df directFile, size int64) {
	if b.dbufs[0] == nil {
		b.dbufs, b.free = directBufs(dioBufSize)
	}
	off := size &^ (dioAlign - 1)
	tail := int(size - off)
	d := &dio{f: df, direct: true, fdDirect: true, off: off, end: size, inFile: tail,
		req: make(chan dioReq, 2), done: make(chan dioDone, 2)}
	go d.loop(b.s)
	b.d = d
	b.buf = b.dbufs[0][:tail]
	copy(b.buf, b.last[b.lastN-tail:b.lastN])
}

// enterDirect goes on with the active file (buffered mode) in direct mode,
// at a drain: the writer is idle again. Everything buffered is written
// first. It reports whether the file is now in direct mode; false when the
// file or the OS does not allow it (then it is not tried again for this
// file) or the file has failed.
func (b *bufWriter) enterDirect() bool {
	if b.d != nil || b.noDirect || b.err != nil || b.s.w.bufferedIO {
		return b.d != nil
	}
	df, ok := b.s.file.(directFile)
	if !ok {
		b.noDirect = true
		return false
	}
	b.flush()
	if b.err != nil {
		return false
	}
	if df.SetDirect(true) != nil {
		b.noDirect = true
		return false
	}
	b.startDirect(df, b.size)
	b.s.enteredDirect.Add(1)
	return true
}

// detach waits for the direct writes in flight and stops the helper
// goroutine; the file can then be closed. Buffered mode: nothing to do.
func (b *bufWriter) detach() {
	if b.d == nil {
		return
	}
	b.waitAll()
	close(b.d.req)
	b.d = nil
	b.buf = nil
}

// heapBufs returns two buffers of n bytes of Go memory (which never
// moves), each starting at a multiple of dioAlign; free does nothing (the
// garbage collector frees them). See directBufs.
func heapBufs(n int) (bufs [2][]byte, free func()) {
	for i := range bufs {
		bufs[i] = alignedBuf(n)
	}
	return bufs, func() {}
}

// alignedBuf returns n bytes of Go memory (which never moves) starting at
// a multiple of dioAlign.
func alignedBuf(n int) []byte {
	mem := make([]byte, n+dioAlign)
	skip := (dioAlign - int(uintptr(unsafe.Pointer(unsafe.SliceData(mem)))%dioAlign)) % dioAlign
	return mem[skip : skip+n : skip+n]
}

func (b *bufWriter) alloc() {
	if b.buf == nil {
		if b.plain == nil {
			b.plain = make([]byte, 0, bufSize)
		}
		b.buf = b.plain[:0]
	}
}

// leaveDirect writes everything buffered (a rest point) and goes on with the
// active file in buffered mode (the writer is busy: see ioLoad). An error
// means the file failed.
func (b *bufWriter) leaveDirect() error {
	d := b.d
	b.rest()
	b.waitAll()
	close(d.req)
	b.d = nil
	// After rest the buffer holds the file's partial last block, if any
	// (from d.off to d.end): what enterDirect needs.
	b.size, b.lastN = d.end, copy(b.last[:], b.buf)
	b.buf = nil
	if b.err != nil {
		return b.err
	}
	if d.fdDirect {
		if err := d.f.SetDirect(false); err != nil {
			return err
		}
	}
	// Buffered writes continue where the data ends (direct writes are
	// positioned, the descriptor's offset never moved).
	_, err := d.f.Seek(d.end, io.SeekStart)
	return err
}

// Write implements io.Writer for the Arrow IPC encoder.
func (b *bufWriter) Write(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	b.s.fileBytes += int64(len(p))
	b.put(p)
	return len(p), b.err
}

// put appends p to the file's output.
func (b *bufWriter) put(p []byte) {
	if b.err != nil {
		return
	}
	if b.d != nil {
		for len(p) > 0 && b.err == nil {
			if len(b.buf) == cap(b.buf) {
				b.spill()
				continue
			}
			n := copy(b.buf[len(b.buf):cap(b.buf)], p)
			b.buf = b.buf[:len(b.buf)+n]
			p = p[n:]
		}
		return
	}
	if len(p) >= directWrite {
		b.flush()
		b.out(p)
		return
	}
	b.alloc()
	if cap(b.buf)-len(b.buf) < len(p) {
		b.flush()
	}
	b.buf = append(b.buf, p...)
}

// flush makes room in the buffer (mid-drain). Buffered mode writes it all;
// direct mode hands its whole blocks to the helper goroutine.
func (b *bufWriter) flush() {
	if b.d != nil {
		b.spill()
		return
	}
	if len(b.buf) > 0 {
		b.out(b.buf)
		b.buf = b.buf[:0]
	}
	if b.err == nil {
		b.s.unflushed = Gap{} // every completed entry is in the file
	}
}

// rest writes everything buffered, so the file ends where the data ends
// (the end of a drain, rotation, Flush, Close).
func (b *bufWriter) rest() {
	d := b.d
	if d == nil {
		b.flush()
		return
	}
	if b.err != nil {
		b.waitAll()
		return
	}
	if len(b.buf) == d.inFile { // nothing new since the last rest
		b.waitAll()
		return
	}
	n := len(b.buf) &^ (dioAlign - 1)
	if n > 0 {
		b.submit(n)
	}
	b.waitAll()
	if b.err != nil {
		return
	}
	if tail := b.buf[n:]; len(tail) > 0 {
		// The unaligned tail goes through the page cache (no helper
		// write is in flight: the descriptor's flags are ours to change).
		if d.fdDirect {
			if err := d.f.SetDirect(false); err != nil {
				d.direct = false // cannot switch back and forth: stay buffered
			}
			d.fdDirect = false
		}
		if _, err := d.writeAt(b.s, tail, d.off+int64(n), false); err != nil {
			b.err = err
			return
		}
		// Keep the tail: the next direct write rewrites its block, completed.
		copy(b.buf, tail)
		b.buf = b.buf[:len(tail)]
	} else {
		b.buf = b.buf[:0]
	}
	d.off += int64(n)
	d.inFile = len(b.buf)
	b.s.unflushed = Gap{} // every completed entry is in the file
}

// spill hands the buffer's whole blocks to the helper goroutine and goes on
// in the other buffer, which starts with the unaligned rest.
func (b *bufWriter) spill() {
	d := b.d
	n := len(b.buf) &^ (dioAlign - 1)
	if b.err != nil || n == 0 {
		return
	}
	b.submit(n)
	next := 1 - d.cur
	b.waitFree(next)
	if b.err != nil {
		return
	}
	rest := copy(b.dbufs[next], b.buf[n:])
	b.buf = b.dbufs[next][:rest]
	d.cur = next
	d.off += int64(n)
	d.inFile = 0
}

// submit queues b.buf[:n] (whole blocks) to be written at d.off.
func (b *bufWriter) submit(n int) {
	d := b.d
	// After a rest point the tail went through the page cache; the
	// descriptor's flags change only with no write in flight.
	if d.direct && !d.fdDirect && d.pending == 0 {
		if err := d.f.SetDirect(true); err == nil {
			d.fdDirect = true
		} else {
			d.direct = false // refused after all: buffered for the rest of the file
		}
	}
	d.busy[d.cur] = true
	d.pending++
	d.req <- dioReq{idx: d.cur, p: b.buf[:n], off: d.off, direct: d.fdDirect}
}

// waitFree waits until buffer i is not being written.
func (b *bufWriter) waitFree(i int) {
	for b.d.busy[i] {
		b.collect()
	}
}

// waitAll waits for every write in flight.
func (b *bufWriter) waitAll() {
	for b.d.pending > 0 {
		b.collect()
	}
}

func (b *bufWriter) collect() {
	d := b.d
	r := <-d.done
	d.busy[r.idx] = false
	d.pending--
	if r.fellBack {
		d.direct, d.fdDirect = false, false
		b.noDirect = true
	}
	if r.err != nil && b.err == nil {
		b.err = r.err
	}
}

// out writes p to the file (buffered mode).
func (b *bufWriter) out(p []byte) {
	if b.err != nil {
		return
	}
	f := b.s.file
	if f == nil {
		b.err = errAbandoned
		return
	}
	if end := b.size + int64(len(p)); end > b.allocEnd && !b.noAlloc {
		b.reserve(end)
	}
	n, err := f.Write(p)
	b.s.countWritten(int64(n))
	if err != nil {
		b.err = err
		return
	}
	// Keep the file's last block (for enterDirect).
	b.size += int64(n)
	if len(p) >= dioAlign {
		b.lastN = copy(b.last[:], p[len(p)-dioAlign:])
		return
	}
	keep := min(b.lastN, dioAlign-len(p))
	copy(b.last[:], b.last[b.lastN-keep:b.lastN])
	b.lastN = keep + copy(b.last[keep:], p)
}

// reserve reserves the active file's disk blocks ahead of buffered writes
// (up to end at least), allocStep at a time (MaxFileSize if smaller) and up
// to MaxFileSize, where the file system allows it (fallocate with
// FALLOC_FL_KEEP_SIZE, on ext4): a page-cache write into reserved blocks
// costs the kernel less than one for which the file system reserves space
// itself (BenchmarkWriterIO; see doc.go, "File I/O"). The file's size stays
// that of its data, so it reads the same while written and after a crash;
// trim frees what the data did not use when the file ends early. Nothing is
// reserved for files of MaxFileSize below allocMin.
func (b *bufWriter) reserve(end int64) {
	lim := b.s.w.cfg.MaxFileSize
	af, ok := b.s.file.(allocFile)
	if !ok || b.s.w.noPrealloc || lim < allocMin || b.allocEnd >= lim {
		b.noAlloc = true
		return
	}
	from := max(b.allocEnd, b.size)
	to := min(max(from+min(allocStep, lim), end), lim)
	if to <= from { // the data already reaches MaxFileSize
		b.noAlloc = true
		return
	}
	if err := af.Allocate(from, to-from); err != nil {
		b.noAlloc = true // the file system allocates as before
		if errors.Is(err, errors.ErrUnsupported) {
			return // nothing reserved
		}
		// No room (ENOSPC, EDQUOT): ext4 keeps the chunks it reserved
		// before failing; up to 'to', for trim to free.
	}
	b.allocEnd = to
}

// Blocks are reserved allocStep at a time, for files of MaxFileSize
// allocMin or more.
const (
	allocStep = 32 << 20
	allocMin  = 1 << 20
)

// trim frees the blocks reserved beyond the data of the active file, which
// ends before it reached MaxFileSize (Close, a schema change, a rotation
// tick, a failure), also those of a reservation that failed part-way.
// Direct mode must be detached first. A failure only leaves the space
// reserved until the file is deleted: it is not reported.
func (b *bufWriter) trim() {
	if b.allocEnd > 0 && (b.allocEnd > b.s.fileBytes || b.s.broken) {
		if af, ok := b.s.file.(allocFile); ok {
			_ = af.TrimAlloc()
		}
	}
	b.allocEnd = 0
}

// reset forgets the buffered bytes and the error (a new file). Direct mode
// must be detached first.
func (b *bufWriter) reset() {
	b.buf = b.buf[:0]
	b.err = nil
	b.size, b.lastN, b.noDirect = 0, 0, false
	b.allocEnd, b.noAlloc = 0, false
}

// release drops the buffers (Close).
func (b *bufWriter) release() {
	b.detach()
	b.buf, b.err = nil, nil
	if b.free != nil {
		b.free() // no write is in flight (detach) and nothing refers to dbufs after this
		b.free = nil
	}
	b.dbufs, b.plain = [2][]byte{}, nil
}

func (s *sink) countWritten(n int64) {
	if n > 0 {
		s.written.Add(n)
		s.w.tel.DebugBytes.Add(context.Background(), n, s.attrs...)
	}
}

// dio is the direct mode state of the active file, owned by the writer
// goroutine, except end, which the helper goroutine updates while writes
// are in flight (the writer goroutine touches it only when none is). The
// descriptor's flags change only when no write is in flight.
type dio struct {
	f        directFile
	direct   bool  // direct I/O wanted (false after the OS refused a direct write)
	fdDirect bool  // O_DIRECT is set on the descriptor now
	off      int64 // file offset of the current buffer's first byte (a multiple of dioAlign)
	end      int64 // bytes of the file written so far (each counted once)
	inFile   int   // bytes at the start of the buffer already in the file (the last rest's tail)
	cur      int   // which of bufWriter.dbufs is being filled
	busy     [2]bool
	pending  int
	req      chan dioReq
	done     chan dioDone
}

type dioReq struct {
	idx    int
	p      []byte
	off    int64
	direct bool // O_DIRECT is set on the descriptor
}

type dioDone struct {
	idx      int
	err      error
	fellBack bool // the OS refused the direct write: buffered from now on
}

// loop is the helper goroutine: it writes the submitted blocks in order.
func (d *dio) loop(s *sink) {
	for r := range d.req {
		var res dioDone
		res.idx = r.idx
		res.fellBack, res.err = d.writeAt(s, r.p, r.off, r.direct)
		d.done <- res
	}
}

// writeAt writes p at off and counts the bytes new to the file. A direct
// write the OS refuses (EINVAL: an alignment the file system does not
// accept) is retried through the page cache, and the rest of the file is
// written that way.
func (d *dio) writeAt(s *sink, p []byte, off int64, direct bool) (fellBack bool, err error) {
	n, err := d.f.WriteAt(p, off)
	if err != nil && n == 0 && direct && errors.Is(err, syscall.EINVAL) {
		if d.f.SetDirect(false) == nil {
			fellBack = true
			s.dioFallbacks.Add(1)
			n, err = d.f.WriteAt(p, off)
		}
	}
	if direct && !fellBack {
		s.directBytes.Add(int64(n))
	}
	if e := off + int64(n); e > d.end {
		s.countWritten(e - d.end)
		d.end = e
	}
	return fellBack, err
}

// ioLoad tells whether the background goroutine keeps up with direct I/O.
// Direct writes are synchronous with the device: on a disk slower than the
// page cache (most disks are, for bursts) they take longer, though they
// cost less CPU; and what CPU they cost is mostly the copy into the aligned
// buffers, in user space, where the goroutine holds one of the Go
// scheduler's Ps, while a page-cache write's cost is in the kernel, where
// the sender's goroutines keep both (see doc.go, "File I/O": on 2 cores a
// sender at full speed lost more wall time to a writer that stayed direct
// longer). The load is the share of time spent writing (each
// round of writing, a drain woken by new data, and the idle time before it
// weigh by their length), averaged over about loadTime (avg) and over about
// slowTime (slow). Above busyAbove (avg) the writes go through the page
// cache, also mid-file, until both averages fall below idleBelow: then
// direct I/O again, also mid-file. Direct I/O is for a writer that is
// mostly idle, where it cannot slow anything down; the slow average keeps a
// sender that pauses between bursts (avg drops during each pause) from
// coming back to direct I/O at the start of every burst. Owned by the
// background goroutine.
type ioLoad struct {
	busy bool      // writing through the page cache for now
	end  time.Time // end of the previous round
	avg  float64   // share of time spent writing, averaged over about loadTime
	slow float64   // the same over about slowTime
}

const (
	loadTime  = 200 * time.Millisecond
	slowTime  = time.Second
	busyAbove = 0.2
	idleBelow = 0.05
)

// observe records a round of writing that started at start and took d.
func (l *ioLoad) observe(start time.Time, d time.Duration) {
	idle := loadTime // the first round: as if after a pause
	if !l.end.IsZero() {
		idle = max(0, start.Sub(l.end))
	}
	l.end = start.Add(d)
	span := d + idle
	if span <= 0 {
		return
	}
	u := float64(d) / float64(span)
	l.avg += (1 - math.Exp(-float64(span)/float64(loadTime))) * (u - l.avg)
	l.slow += (1 - math.Exp(-float64(span)/float64(slowTime))) * (u - l.slow)
	switch {
	case !l.busy && l.avg > busyAbove:
		l.busy = true
	case l.busy && l.avg < idleBelow && l.slow < idleBelow:
		l.busy = false
	}
}
