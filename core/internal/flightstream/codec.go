package flightstream

import (
	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	// The proto codec registers itself; putCodec delegates to it.
	_ "google.golang.org/grpc/encoding/proto"
)

// putCodec is the codec of every DoPut RPC: a FlightData without a
// descriptor is written as proto.Marshal would write it, but with its IPC
// body by reference (the other fields, small, are copied into the one new
// buffer), so a batch goes to the socket without another copy of its body;
// everything else goes through gRPC's proto codec. It is given to the RPC
// only (grpc.ForceCodecV2), never registered globally.
type putCodec struct{ proto encoding.CodecV2 }

// doPutCodec is the codec of every DoPut RPC.
var doPutCodec encoding.CodecV2 = putCodec{proto: encoding.GetCodecV2("proto")}

// Name is "proto": the bytes on the wire are the same.
func (putCodec) Name() string { return "proto" }

func (c putCodec) Unmarshal(data mem.BufferSlice, v any) error { return c.proto.Unmarshal(data, v) }

// FlightData field numbers (Flight.proto).
const (
	fdHeader   protowire.Number = 2
	fdMetadata protowire.Number = 3
	fdBody     protowire.Number = 1000
)

func (c putCodec) Marshal(v any) (mem.BufferSlice, error) {
	var held *heldBody
	fd, ok := v.(*flight.FlightData)
	if sd, isSend := v.(*sendData); isSend {
		fd, ok, held = sd.FlightData, true, sd.held
		v = fd
	}
	if !ok || fd.FlightDescriptor != nil || len(fd.DataBody) == 0 || len(fd.ProtoReflect().GetUnknown()) > 0 {
		return c.proto.Marshal(v)
	}
	n := protowire.SizeTag(fdBody) + protowire.SizeVarint(uint64(len(fd.DataBody)))
	if len(fd.DataHeader) > 0 {
		n += protowire.SizeTag(fdHeader) + protowire.SizeBytes(len(fd.DataHeader))
	}
	if len(fd.AppMetadata) > 0 {
		n += protowire.SizeTag(fdMetadata) + protowire.SizeBytes(len(fd.AppMetadata))
	}
	hdr := make([]byte, 0, n)
	if len(fd.DataHeader) > 0 {
		hdr = protowire.AppendTag(hdr, fdHeader, protowire.BytesType)
		hdr = protowire.AppendBytes(hdr, fd.DataHeader)
	}
	if len(fd.AppMetadata) > 0 {
		hdr = protowire.AppendTag(hdr, fdMetadata, protowire.BytesType)
		hdr = protowire.AppendBytes(hdr, fd.AppMetadata)
	}
	hdr = protowire.AppendTag(hdr, fdBody, protowire.BytesType)
	hdr = protowire.AppendVarint(hdr, uint64(len(fd.DataBody)))
	// A held body (Config.Alloc) is referenced until gRPC frees the buffer;
	// any other is Go memory, freed by the garbage collector.
	return mem.BufferSlice{mem.SliceBuffer(hdr), held.buffer(fd.DataBody)}, nil
}
