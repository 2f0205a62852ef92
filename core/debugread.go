package core

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/debugfile"
)

// ReadDebugArrowFile reads every record batch of an Arrow debug file
// ({DebugOutputDir}/zerobus/arrow/<table>*.arrow, an Arrow IPC stream), also
// one still being written. The caller must Release every returned batch, also
// when err != nil: on a damaged stream the batches before the damage are
// returned with the error, which names the batch (and, for a damaged body,
// the column and row: every batch is checked with an ArrowValidator). A
// nil mem means memory.DefaultAllocator.
func ReadDebugArrowFile(path string, mem memory.Allocator) ([]arrow.RecordBatch, error) {
	return debugfile.ReadArrowFile(path, mem)
}

// ReadDebugProtoFile reads a protobuf debug file
// ({DebugOutputDir}/zerobus/proto/<table>*.proto: varint-length-prefixed
// records) and the descriptor written beside it (<stem>.descriptor.pb). On a
// truncated file it returns the complete records and an error.
func ReadDebugProtoFile(path string) (*descriptorpb.DescriptorProto, [][]byte, error) {
	return debugfile.ReadProtoFile(path)
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
// strings: the protobuf types). The caller must Release the batch.
func ReadDebugProtoFileArrow(path string, mem memory.Allocator) (arrow.RecordBatch, error) {
	return debugfile.ReadProtoFileArrow(path, mem)
}
