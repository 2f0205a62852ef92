// Package debugfile writes what a pipeline sent to Zerobus into files other
// tools can open, so a developer can see what went in (Arrow) and what went on
// the wire (protobuf). It is off by default and costs one nil check when off.
//
// # Files
//
// For a table T (made filesystem-safe by SafeName) and an output directory D:
//
//	D/zerobus/arrow/T.arrow                     active Arrow IPC stream
//	D/zerobus/arrow/T-<stamp>-<seq>.arrow       rotated streams
//	D/zerobus/proto/T.proto                     active length-delimited protobuf records
//	D/zerobus/proto/T.descriptor.pb             its serialized google.protobuf.DescriptorProto
//	D/zerobus/proto/T.descriptor.textproto      the same descriptor as text, for humans
//	D/zerobus/proto/T-<stamp>-<seq>.proto       rotated records (+ .descriptor.pb, .descriptor.textproto)
//	D/zerobus/{arrow,proto}/<stem>.drops.jsonl  writes dropped from <stem>.arrow/.proto, if any
//	D/zerobus/{arrow,proto}/T.<ext>.lock        held by the writer of T.<ext> (see "Several writers")
//	D/zerobus/{arrow,proto}/T-<pid>_<n>.<ext>   active file of a further writer of T
//
// <stamp> is the UTC rotation time as 20060102T150405.000Z and <seq> a
// four-digit counter, so rotated names sort chronologically and two rotations
// in the same millisecond never overwrite each other. Directories are created
// 0700 and files 0600: debug data can hold personal data.
//
// # Arrow files
//
// Every .arrow file is one complete Arrow IPC stream (not the IPC file
// format): a schema message, record batch messages and, once the file is
// rotated or the Writer closed, the end-of-stream marker. The active file only
// ever ends at a message boundary, so it can be read while it is being
// written, e.g. with pyarrow.ipc.open_stream (DuckDB through it), or arrow-go's
// ipc.NewReader (ReadArrowFile). A batch whose schema differs from the
// current file's starts a new file. With Config.ArrowCompression the record
// batch bodies are compressed with the IPC format's own buffer compression
// (zstd or LZ4 frame); the stream stays a standard Arrow IPC stream that
// pyarrow and arrow-go (ReadArrowFile) decompress transparently; a tool
// without IPC buffer compression support cannot read it.
//
// # Protobuf files
//
// A .proto file holds the encoded records exactly as they were sent, each
// preceded by its length as a base-128 varint (the framing that
// google.golang.org/protobuf/encoding/protodelim reads and writes). The
// descriptor for every record in a file is in the sidecar named after it
// (T.proto -> T.descriptor.pb); a descriptor change starts a new file, so
// each file pairs with exactly one descriptor. To decode by hand: unmarshal
// the sidecar into a descriptorpb.DescriptorProto, wrap it in a proto2
// FileDescriptorProto (or call protoarrow.MessageDescriptor), build a
// dynamicpb message type and read the records with protodelim.UnmarshalFrom.
// In Python: DescriptorProto.FromString(open(sidecar).read()), then
// message_factory, then read varint-prefixed records. ReadProtoFile and
// `zerobus debug read` do all of this.
//
// # Rotation and retention
//
// A file is rotated (closed, renamed to T-<stamp>-<seq>.ext) after a write
// takes it to Config.MaxFileSize or more, every Config.RotationInterval (if
// it has data), on a schema or descriptor change, and after a write failure
// (see below). Rotation happens between batches, never inside one. After
// each rotation the writer's oldest rotated files of this table and kind
// beyond Config.MaxFilesRetained are deleted (see "Several writers of one
// table" for which are the writer's), each deletion logged at info level
// naming the file and the rule; the active file and other tables' files are
// never touched. When New finds an active file left by a previous
// run it rotates it aside: files are never truncated or appended to.
// Rotation is driven here rather than by lumberjack: an IPC stream must be
// cut between messages and ended with its marker, each protobuf file needs
// its own descriptor sidecar, and rotations within one millisecond must not
// collide.
//
// # Several writers of one table
//
// Writers of the same table in the same directory (several Wrappers, in one
// process or in several, e.g. one per Spark task) never touch each other's
// active files. A writer owns an active file name only while it holds an
// exclusive advisory lock (flock, which excludes other processes and other
// opens in the same process) on the lock file beside it, <name>.lock (0600,
// removed by Close; one left by a crash is taken over). The first writer
// takes T.ext; a writer that finds it locked writes T-<pid>_<n>.ext (pid and
// a counter of its process; sidecars named after it) with a lock of its
// own, rotates to T-<stamp>-<seq>-<pid>_<n>.ext, so writers rotating in the
// same millisecond never pick one name, and at Close rotates its file too,
// without retention (nobody takes its name later). Only the holder of a
// name's lock moves a leftover file at that name aside, which is then known
// to be a previous writer's; New also moves aside other writers' T-<pid>_<n>
// files whose lock is free (left by a crash). Retention deletes only
// rotated files, never an active one, and counts only the writer's own
// lineage: the holder of T.ext the files rotated from T.ext
// (T-<stamp>-<seq>, also those of earlier runs, so one process restarted
// keeps MaxFilesRetained), a further writer those ending in its own
// -<pid>_<n> (and the crashed writers' files it moved aside). No writer
// deletes another's rotated files, running or finished: the files of a
// further writer that closed stay until the user deletes them (a directory
// many writers share over time grows; the Spark data source gives each
// task attempt a directory of its own). Where flock is not
// available (lock_other.go: non-Unix systems) or the lock file cannot be
// created, every writer takes T.ext as before: run one writer per table and
// directory there.
//
// # Concurrency and cost
//
// A Writer is safe for concurrent use. WriteArrow and WriteProto copy and
// encode nothing on the caller's goroutine: WriteArrow retains the batch,
// WriteProto references the already encoded records (and calls the
// caller's release function once it no longer needs them), and both append
// one entry to a per-kind queue under a mutex and return, without
// allocating. One background goroutine per Writer does the rest: it writes
// each batch as an Arrow IPC message (the batch's own buffers, plus a small
// header) and each record after its varint length, in large sequential
// writes (see "File I/O"). A slow or failing disk never blocks the caller.
//
// # File I/O
//
// On Linux, a writer that is mostly idle (the usual case: data arrives
// more slowly than the disk takes it) writes the data files with direct
// I/O (O_DIRECT) where the file system allows it: the kernel then neither
// copies the data into the page cache nor writes dirty pages back later,
// and the debug writer spends about half the CPU per byte
// (BenchmarkWriterIO, direct/buffered CPU x0.42-0.44; the page cache's
// later write-back, done by the kernel's threads, comes on top of the
// latter), and fills no memory with dirty pages. Two aligned 4 MiB buffers
// per kind take the output, in memory of their own on transparent huge
// pages where the kernel gives them (a direct write pins the buffer's pages
// for the device: from 4 KiB pages that cost more kernel CPU than the copy
// into the page cache saves, and the device got short segments: 0.2-0.3
// GB/s from 1 MiB buffers of ordinary memory against about 0.7-1.2 GB/s
// now); a full buffer's whole 4 KiB blocks are written by a helper
// goroutine while the other buffer fills. The mapping is returned at
// Close. The unaligned end is
// written through the page cache at rest points, so the file then ends at
// a message boundary: at every flush tick (Config.FlushInterval),
// rotation, Flush and Close. Between rest points a live file may end
// inside a message, and up to a buffer of data waits in memory. The bytes
// in the files are the same as with page-cache writes.
//
// Direct writes are synchronous with the device, which is slower than the
// page cache for bursts (here about 1.1-1.5 GB/s against 2.5-3.5 GB/s),
// though they cost less CPU: perf samples of the background goroutine
// (BenchmarkDebugOverhead, null server, 100k-row batches of ~30 MB, each
// mode forced) gave about 6.4 ms per batch direct against 11.7 ms through
// the page cache. Yet on 2 cores a sender at full speed lost more wall
// time to a writer that stayed direct longer (up to 50% busy) than to one
// using the page cache only (on/off wall x1.13-1.42 against x1.03-1.33,
// interleaved in the same runs), likely because a direct writer's CPU is
// mostly the copy into the aligned buffers, in user space, where it holds
// one of the Go scheduler's two Ps, while a page-cache write's is in the
// kernel, where the sender keeps both.
//
// So when the background goroutine spends more than 20% of its time
// writing (averaged over about 200 ms), or a kind's queue holds half of its
// byte bound, the active file goes on through the page cache from the next
// round of writing, and so do files opened meanwhile. Once the share is below 5%
// both over about 200 ms and over about a second, the active file goes on
// with direct I/O from where it is (its last partial block is kept in
// memory and rewritten, completed, by the first direct write). The long
// average keeps a sender that pauses between bursts from coming back to
// direct I/O at the start of every burst. Through the page cache the
// writer uses one reused 1 MiB buffer per kind, writes of 256 KiB or more
// (large columns, large records) going to the file directly, without a
// copy, and each round of writing ends at a message boundary. A writer
// kept busy (sending at full speed to a fast server) therefore costs what
// page-cache writes cost; only when even the page cache cannot keep up does
// the queue fill and writes get dropped (next section).
//
// Through the page cache, the active file's disk blocks are reserved ahead,
// 32 MiB at a time and up to MaxFileSize (fallocate with
// FALLOC_FL_KEEP_SIZE, on ext4): the file system then need not reserve
// space for each block as it is written, which takes 5-12% off the
// writer's CPU per byte (BenchmarkWriterIO, "unreserved" against
// "buffered" in the same process: x1.06-1.13, median x1.09; about 0.36
// against 0.33 s/GB). The file's size stays that of its data, so it reads
// the same while written and after a crash. When a file ends before
// MaxFileSize (Close, a schema change, a rotation tick, a failure) the
// blocks its data did not use are freed as it is closed; after a crash the
// active file keeps up to 32 MiB reserved beyond its data until it is
// deleted. Other file systems (where it was not measured; on tmpfs it
// would take memory ahead of the data) are written as before.
//
// Whether direct I/O is possible is decided per file (the load then moves a
// file between the two modes, as above): a file system that refuses O_DIRECT (tmpfs
// before Linux 6.6, some network and FUSE file systems) or an FS given with
// WithFileSystem whose files cannot switch gets page-cache writes; a file
// whose direct writes are refused (EINVAL) is written from that write on
// through the page cache, losing nothing. Other systems always use the
// page cache. WithBufferedIO forces it.
//
// # When the disk falls behind
//
// The queue of each kind is bounded by bytes (WithMaxBuffered, default
// 64 MiB: the buffers of the queued batches, or the queued records) and by
// writes (WithMaxQueuedWrites, default 8192), counting what is being written.
// A write that finds the queue at either bound is dropped, not waited for:
// debug output never slows or fails transmission. Drops are counted
// (Stats: DroppedWrites, DroppedRows, DroppedBytes; the telemetry counter
// zerobus.debug.dropped), logged once per episode, and recorded in the
// file they are missing from: the sidecar <stem>.drops.jsonl (T.arrow ->
// T.drops.jsonl) gets one JSON line per gap, {"before_write", "before_row",
// "dropped_writes", "dropped_rows", "dropped_bytes", "reason"}, saying where
// in the file (before which batch or WriteProto call, and which row or
// record) the missing writes belong. ReadDrops reads it; no sidecar means
// nothing is missing, unless a write failed (Stats.Failures): what a
// failed file had buffered is counted as dropped, but on a full disk its
// sidecar cannot be written either. The sidecar moves and is deleted with
// its file.
// Drops that no later write follows are recorded at Close in the active
// file's sidecar; if Close finds no open file (or only a failed one) they
// are in the counters and the log only.
//
// The bound also caps the memory the debug output holds: at most about
// 64 MiB per kind beyond what the caller already holds, plus one write
// larger than that. A disabled Writer (nil, zero, or from New with nothing
// enabled) costs an inlined nil check: about 1-2 ns, no allocation.
// Queued data is written at least every Config.FlushInterval even when
// no new batch arrives, as soon as 1 MiB or 1024 writes are queued, on
// rotation, and on Flush and Close (which also fsync). Through the page
// cache the file ends at a message boundary after each round of writing;
// with direct I/O at each rest point (see "File I/O").
//
// The writer yields to the sender: while a sender encodes and sends a
// batch (Writer.SenderBusy until SenderIdle; the Wrapper's SendBatch calls
// them, up to waiting for acknowledgements), writes woken by new data are
// held back and written once no sender is busy, so the writer uses the
// cores while the sender waits for the server instead of competing with
// its encode. A hold ends early when a kind's queue reaches half its bound
// (WithMaxBuffered, WithMaxQueuedWrites: the writer then writes down to
// below that mark) and after 100 ms (what is queued then is written);
// Flush, Close and the flush and rotation ticks write everything, busy or
// not. The writer writes about 4 MiB per kind at a time (whole writes),
// checking between, so a long drain stops for the next batch's encode.
//
// # Failures
//
// An output directory that cannot be created or written is an error from
// New that names it. Later failures (disk full, I/O errors) never reach the
// caller of WriteArrow or WriteProto: they are logged through the telemetry
// logger, counted in zerobus.debug.failures, returned by the next Flush, and
// the broken file is abandoned: writes not completely in it are dropped,
// counted and recorded as a gap ("reason": "file failed") in the next
// file's drops sidecar; at the next flush tick the broken file is rotated
// aside, keeping what reached it (it may end in a partial message), and a
// fresh file is opened for new data.
package debugfile
