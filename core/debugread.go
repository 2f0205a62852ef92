package core

import (
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/debugfile"
)

// DebugTail says how a debug file ended when it was read: StillWriting
// means it is an active file (its name is not a rotated
// <table>-<stamp>-<seq> one) that ends inside a message or record (the
// writer is mid-write, or stopped there), or an Arrow file with no schema
// yet; the complete messages before Offset were read, Bytes bytes after it
// were not. A rotated file is complete: ending inside a message there is an
// error.
type DebugTail = debugfile.Tail

// ReadDebugArrowFile reads every record batch of an Arrow debug file
// ({DebugOutputDir}/zerobus/arrow/<table>*.arrow, an Arrow IPC stream), also
// one still being written: it reads what the file holds when opened, the
// active file up to its last complete batch, without an error (and none at
// all, without an error, when the file has no schema yet);
// ReadDebugArrowFileTail also says whether the file ended inside a
// message. The caller must Release every returned batch, also when
// err != nil: on a damaged stream (or a rotated file cut short) the
// batches before the damage are returned with the error, which names the
// batch (and, for a damaged body, the column and row: every batch is
// checked with an ArrowValidator). A file of no byte (a crash right after a
// rotation can leave one) holds no batch: nil, no error. A nil mem means
// memory.DefaultAllocator.
func ReadDebugArrowFile(path string, mem memory.Allocator) ([]arrow.RecordBatch, error) {
	return debugfile.ReadArrowFile(path, mem)
}

// DebugDamageSchema returns the schema of the Arrow debug file whose
// ReadDebugArrowFile (or ReadDebugArrowFileTail) error err reports damage at
// a batch, the file's schema itself being sound; nil for another error (a
// file that is not a readable Arrow IPC stream). With damage in the first
// batch no batch is returned: this schema then describes the (empty) intact
// part.
func DebugDamageSchema(err error) *arrow.Schema {
	var de *debugfile.BatchDamageError
	if errors.As(err, &de) {
		return de.Schema
	}
	return nil
}

// ReadDebugArrowFileTail is ReadDebugArrowFile that also says how the file
// ended (DebugTail): whether it is still being written.
func ReadDebugArrowFileTail(path string, mem memory.Allocator) ([]arrow.RecordBatch, DebugTail, error) {
	return debugfile.ReadArrowFileTail(path, mem)
}

// ReadDebugArrowFileRows is ReadDebugArrowFileTail that stops reading once
// the batches read hold maxRows rows (0: all): the first rows of a large
// file without reading, checking or holding the rest. more says whether the
// file holds another batch after them.
func ReadDebugArrowFileRows(path string, mem memory.Allocator, maxRows int64) (recs []arrow.RecordBatch, tail DebugTail, more bool, err error) {
	return debugfile.ReadArrowFileRows(path, mem, maxRows)
}

// DebugFilesOf returns the files a debug file's readers open: the file, its
// drops record (ReadDebugDrops) and, for a protobuf file, its descriptor
// and the descriptor's text form. A tool writing its output must not
// write over any of them.
func DebugFilesOf(path string) []string {
	files := []string{path, debugfile.DropsPath(path)}
	if kind, err := debugfile.KindOf(path); err == nil && kind == "proto" {
		pb, text := debugfile.Sidecars(path)
		files = append(files, pb, text)
	}
	return files
}

// ReadDebugProtoFile reads a protobuf debug file
// ({DebugOutputDir}/zerobus/proto/<table>*.proto: varint-length-prefixed
// records) and the descriptor written beside it (<stem>.descriptor.pb). On a
// rotated file cut short (or damaged) it returns the complete records and
// an error; the active file is read up to its last complete record without
// an error (ReadDebugProtoFileTail says whether it ended inside one).
func ReadDebugProtoFile(path string) (*descriptorpb.DescriptorProto, [][]byte, error) {
	return debugfile.ReadProtoFile(path)
}

// ReadDebugProtoFileTail is ReadDebugProtoFile that also says how the file
// ended (DebugTail): whether it is still being written.
func ReadDebugProtoFileTail(path string) (*descriptorpb.DescriptorProto, [][]byte, DebugTail, error) {
	return debugfile.ReadProtoFileTail(path)
}

// DebugProtoRecords reads a protobuf debug file's records one at a time,
// still encoded (OpenDebugProtoRecords): Next, Record, then Err and Tail
// once Next returned false; Rewind reads them again; Close.
type DebugProtoRecords = debugfile.ProtoRecords

// OpenDebugProtoRecords opens the protobuf debug file at path for reading
// its records one at a time, as ReadDebugProtoFileTail reads them (the same
// records, damage error and DebugTail) without holding the file: a file
// larger than memory can be read through. Its error is
// ReadDebugProtoFileTail's for a descriptor missing or bad and a file that
// does not open. The caller must Close it.
func OpenDebugProtoRecords(path string) (*DebugProtoRecords, error) {
	return debugfile.OpenProtoRecords(path)
}

// DebugRecordDecoder parses protobuf debug records into dynamic messages
// one at a time, as DecodeDebugRecords does (NewDebugRecordDecoder).
type DebugRecordDecoder = debugfile.ProtoDecoder

// NewDebugRecordDecoder is the decoder of records of desc; its Decode(i,
// record) returns DecodeDebugRecords' error for record i.
func NewDebugRecordDecoder(desc *descriptorpb.DescriptorProto) (*DebugRecordDecoder, error) {
	return debugfile.NewProtoDecoder(desc)
}

// DecodeDebugRecords parses records with desc into dynamic messages (for
// printing, e.g. with protojson). A record that does not parse, lacks a
// required field or carries fields unknown to desc is an error naming the
// record index.
func DecodeDebugRecords(desc *descriptorpb.DescriptorProto, records [][]byte) ([]proto.Message, error) {
	return debugfile.DecodeProto(desc, records)
}

// ReadDebugProtoFileArrow reads a protobuf debug file and converts its
// records to one Arrow record batch whose schema follows from the descriptor
// (timestamps arrive as int64 microseconds, dates as int32 days, decimals as
// strings: the protobuf types). The caller must Release the batch, also
// when err != nil: on a file damaged or cut short at a record (a crash, a
// full disk; as ReadDebugProtoFile reports it) the batch holds the complete
// records before the damage (no rows when the first record is damaged) and
// the error names the file, the record and its byte offset; on another
// error (no descriptor, a record that does not decode) the batch is nil.
func ReadDebugProtoFileArrow(path string, mem memory.Allocator) (arrow.RecordBatch, error) {
	return debugfile.ReadProtoFileArrow(path, mem)
}

// ReadDebugProtoFileArrowTail is ReadDebugProtoFileArrow that also says how
// the file ended (DebugTail), both from one read of the file.
func ReadDebugProtoFileArrowTail(path string, mem memory.Allocator) (arrow.RecordBatch, DebugTail, error) {
	return debugfile.ReadProtoFileArrowTail(path, mem)
}
