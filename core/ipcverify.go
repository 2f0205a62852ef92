package core

import (
	"io"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// Arrow IPC metadata is a flatbuffer whose lengths arrow-go trusts: corrupt
// metadata can make it allocate far more memory than the input holds before
// it fails. The local server checks each FlightData header with one
// verifier, the debug file reader each Arrow debug file, and the command
// line each input file through these; any program reading untrusted Arrow
// IPC bytes from a file can do the same, and validate each batch it reads
// with an ArrowValidator.

// ErrIPCMetadata is wrapped by every error of VerifyIPCFile and
// NewIPCStreamVerifier's reader about malformed metadata; the text names
// the message ("the footer", "record batch 3", "message 2") and what in it
// is wrong, with offsets and lengths.
var ErrIPCMetadata = protoarrow.ErrIPCMetadata

// VerifyIPCFile checks the footer, schema and every block's message
// metadata of the Arrow IPC file f (size bytes) before arrow-go opens it
// (ipc.NewFileReader): every offset, table, vector and string lies in its
// metadata, nesting and the number of tables are bounded, and every block,
// body and buffer lies inside the file; and that its compressed buffers
// decompress to what they declare, each batch's to at most
// BatchDecodedLimit of its body (checked before any is decompressed:
// *IPCDecodedSizeError), for a reader that frees each batch before it
// reads the next.
func VerifyIPCFile(f io.ReaderAt, size int64) error {
	return protoarrow.VerifyIPCFile(f, size)
}

// IPCDecodedSizeError is the error of VerifyIPCFile and
// NewIPCStreamVerifier's reader for a file whose compressed batch declares
// more uncompressed bytes than BatchDecodedLimit of its body (or, for a
// reader that keeps every batch, whose batches declare more than
// DecodedLimit of its size in all): it names the batch, the limit and
// what to do.
type IPCDecodedSizeError = protoarrow.IPCDecodedSizeError

// BatchDecodedLimit is the most bytes the compressed buffers of one batch
// with a body of body bytes may decompress to: the larger of 1 GiB and
// 256 × body. A small file of zeros otherwise makes arrow-go allocate
// without bound; lz4 cannot exceed about 255:1, zstd of constant or mostly
// null columns reaches thousands to one (hence the 1 GiB floor).
func BatchDecodedLimit(body int64) int64 { return protoarrow.BatchDecodedLimit(body) }

// DecodedLimit is the most bytes the compressed buffers of an Arrow IPC
// file of size bytes may decompress to in all when a reader keeps every
// batch in memory (the debug file reader): the larger of 1 GiB and 4096 ×
// size.
func DecodedLimit(size int64) int64 { return protoarrow.DecodedLimit(size) }

// ErrArrowData is wrapped by every error of an ArrowValidator: the text
// names the column ("payload.items[]", "tags.key"), the row and what is
// wrong with offsets and lengths.
var ErrArrowData = protoarrow.ErrArrowData

// ErrValidatorFailure is wrapped by the error of an ArrowValidator that
// failed itself (a bug: please report it), which says nothing about the
// data; it does not wrap ErrArrowData.
var ErrValidatorFailure = protoarrow.ErrValidatorFailure

// ArrowValidator checks the bodies of record batches arrow-go read from
// untrusted Arrow IPC bytes (it trusts their offsets and lengths) before
// anything reads a value: buffer sizes, offsets, views, dictionary
// indices, union type ids, run ends, children's lengths, null counts, map
// keys and UTF-8, recursively. One validator per stream checks a shared
// dictionary once. Not safe for concurrent use.
type ArrowValidator = protoarrow.ArrowValidator

// NewArrowValidator returns a validator for the batches of one stream or
// file: v.Record(rec) returns nil or an error wrapping ErrArrowData.
func NewArrowValidator() *ArrowValidator { return protoarrow.NewArrowValidator() }

// NewIPCStreamVerifier returns a reader that passes the Arrow IPC stream r
// (size bytes long) through, checking each message's metadata as
// VerifyIPCFile does, and that its body fits in the bytes left, before
// handing the message on: give it to ipc.NewReader instead of r. Each of
// its compressed batches, too, may decompress to at most BatchDecodedLimit
// of its body: for a reader that frees each batch before it reads the next.
// For a stream of unknown size (a pipe) pass math.MaxInt64: bodies are then
// checked against the bytes that arrive.
func NewIPCStreamVerifier(r io.Reader, size int64) io.Reader {
	return protoarrow.NewIPCStreamVerifier(r, size)
}
