package core

import "github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"

// Arrow IPC metadata is a flatbuffer whose lengths arrow-go trusts: corrupt
// metadata can make it allocate far more memory than the input holds before
// it fails. The local server checks each FlightData header with this
// verifier, and the command line each input file's footer and messages;
// any program reading untrusted Arrow IPC bytes can do the same.

// ErrIPCMetadata is wrapped by every error of VerifyIPCMessage and
// VerifyIPCFooter (each an *IPCMetadataError naming the metadata and what
// in it is malformed).
var ErrIPCMetadata = protoarrow.ErrIPCMetadata

// IPCMetadataError says what in which Arrow IPC metadata is malformed.
type IPCMetadataError = protoarrow.IPCMetadataError

// IPCBlock is where an Arrow IPC file's footer places one message.
type IPCBlock = protoarrow.IPCBlock

// VerifyIPCMessage checks meta, the flatbuffer of one Arrow IPC message
// (after its continuation marker and length), before arrow-go reads it:
// every offset, table, vector and string lies in meta, nesting and the
// number of tables are bounded, and the body length it declares (at most
// maxBody), its buffers (inside the body) and its row counts fit. It
// returns the body length; what names the message in errors.
func VerifyIPCMessage(meta []byte, what string, maxBody int64) (int64, error) {
	return protoarrow.VerifyIPCMessage(meta, what, maxBody)
}

// VerifyIPCFooter checks footer, the flatbuffer of an Arrow IPC file's
// footer, with its schema, and returns its dictionary and record batch
// blocks, for the caller to check against the file and verify each
// message with VerifyIPCMessage.
func VerifyIPCFooter(footer []byte) (dicts, batches []IPCBlock, err error) {
	return protoarrow.VerifyIPCFooter(footer)
}
