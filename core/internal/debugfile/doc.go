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
// written, e.g. with pyarrow.ipc.open_stream, DuckDB, or arrow-go's
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
// each rotation the oldest rotated files of this table and kind beyond
// Config.MaxFilesRetained are deleted; the active file and other tables'
// files are never touched. When New finds an active file left by a previous
// run it rotates it aside: files are never truncated or appended to.
// Rotation is driven here rather than by lumberjack: an IPC stream must be
// cut between messages and ended with its marker, each protobuf file needs
// its own descriptor sidecar, rotations within one millisecond must not
// collide, and lumberjack's retention goroutine cannot be stopped.
//
// # Concurrency and cost
//
// A Writer is safe for concurrent use. WriteArrow and WriteProto encode into
// an in-memory buffer under a per-kind mutex and return; one background
// goroutine per Writer does all file I/O. Encoding is the only work on the
// caller's path: a slow or failing disk never blocks it. Buffered data is
// bounded (WithMaxBuffered, default 64 MiB per kind); writes beyond it are
// dropped and counted rather than waited for. Concurrent writers of one kind
// serialize on the encoding only. A disabled Writer (nil, zero, or from New
// with nothing enabled) costs an inlined nil check: about 1-2 ns. Buffered data reaches the file at
// least every Config.FlushInterval even when no new batch arrives, when
// 1 MiB has accumulated, on rotation, and on Flush and Close (which also
// fsync).
//
// # Failures
//
// An output directory that cannot be created or written is an error from
// New that names it. Later failures (disk full, I/O errors) never reach the
// caller of WriteArrow or WriteProto: they are logged through the telemetry
// logger, counted in zerobus.debug.failures, returned by the next Flush, and
// the broken file is abandoned: data for it is dropped (and counted), and
// at the next flush tick it is rotated aside, keeping what reached it (it may
// end in a partial message), and a fresh file is opened for new data.
package debugfile
