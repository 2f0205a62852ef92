package stream

import (
	"fmt"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	// The proto codec registers itself; framedCodec delegates to it.
	_ "google.golang.org/grpc/encoding/proto"
)

// Holder keeps the buffers of pre-encoded records alive: Retain adds a
// reference and Release drops one (convert.Batch implements it). Both are
// safe for concurrent use.
type Holder interface {
	Retain()
	Release()
}

// Framed is one request's records, pre-encoded: Frames, concatenated, are
// the body of a ProtoEncodedRecordBatch holding Records (each record after
// its field tag and length), so that the request goes to the socket
// without another copy of them.
type Framed struct {
	Records [][]byte
	Frames  [][]byte
	// Hold, if not nil, keeps Records and Frames alive: the stream retains
	// it while the request is queued or written (until it is acknowledged,
	// withdrawn or failed, and gRPC has let go of its bytes).
	Hold Holder
	// Resolved, if not nil, is called once when the request is resolved
	// (acknowledged, withdrawn or failed), before its Pending is; not if
	// SendFramed returns an error. Whether gRPC still holds the bytes then
	// is Hold's business.
	Resolved func()
}

// framedMsg is an EphemeralStreamRequest carrying pre-encoded records: a
// single record (ingest_record) or a batch (ingest_record_batch) at wire
// offset off. framedCodec writes it as proto.Marshal would write the
// equivalent generated message.
type framedMsg struct {
	req *request
	off int64
}

// framedCodec is the codec of an EphemeralStream RPC: framedMsg values are
// written by reference to their records (the header is the only new
// buffer); everything else goes through gRPC's proto codec. It is given to
// the RPC only (grpc.ForceCodecV2), never registered globally.
type framedCodec struct{ proto encoding.CodecV2 }

// rpcCodec is the codec of every EphemeralStream RPC.
var rpcCodec encoding.CodecV2 = framedCodec{proto: encoding.GetCodecV2("proto")}

// Name is "proto": the bytes on the wire are the same.
func (framedCodec) Name() string { return "proto" }

func (c framedCodec) Unmarshal(data mem.BufferSlice, v any) error { return c.proto.Unmarshal(data, v) }

func (c framedCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*framedMsg)
	if !ok {
		return c.proto.Marshal(v)
	}
	req := m.req
	if len(req.frames) == 0 {
		return nil, fmt.Errorf("zerobus: internal error: a framed request without records")
	}
	var hdr []byte
	var body [][]byte
	var bodyLen int
	field := protowire.Number(3)
	if len(req.records) == 1 {
		// EphemeralStreamRequest.ingest_record (2) = IngestRecordRequest{
		// offset_id, proto_encoded_record }.
		field, body, bodyLen = 2, req.records, len(req.records[0])
	} else {
		// EphemeralStreamRequest.ingest_record_batch (3) = IngestRecordBatchRequest{
		// offset_id, proto_encoded_batch = ProtoEncodedRecordBatch{records} }.
		body = req.frames
		for _, f := range body {
			bodyLen += len(f)
		}
	}
	// Both inner messages are { 1: offset_id, 2: bytes }.
	inner := protowire.SizeTag(1) + protowire.SizeVarint(uint64(m.off)) + protowire.SizeTag(2) + protowire.SizeBytes(bodyLen)
	hdr = make([]byte, 0, 32)
	hdr = protowire.AppendTag(hdr, field, protowire.BytesType)
	hdr = protowire.AppendVarint(hdr, uint64(inner))
	hdr = protowire.AppendTag(hdr, 1, protowire.VarintType)
	hdr = protowire.AppendVarint(hdr, uint64(m.off))
	hdr = protowire.AppendTag(hdr, 2, protowire.BytesType)
	hdr = protowire.AppendVarint(hdr, uint64(bodyLen))
	out := make(mem.BufferSlice, 0, 1+len(body))
	out = append(out, mem.SliceBuffer(hdr))
	for _, b := range body {
		out = append(out, HeldBuffer(b, req.hold))
	}
	return out, nil
}

// HeldBuffer wraps b for gRPC with a reference to h (which keeps b's memory)
// that gRPC drops once it has written or dropped b. Small pieces are copied
// instead: gRPC does not pool them, so it would never drop the reference.
// A nil h: b as it is, owned by the garbage collector.
func HeldBuffer(b []byte, h Holder) mem.Buffer {
	switch {
	case h == nil:
		return mem.SliceBuffer(b)
	case mem.IsBelowBufferPoolingThreshold(len(b)):
		return mem.SliceBuffer(append([]byte(nil), b...))
	}
	h.Retain()
	return mem.NewBuffer(&b, holdPool{h})
}

// holdPool releases a holder when gRPC frees the buffer it was given.
type holdPool struct{ h Holder }

func (p holdPool) Get(int) *[]byte { panic("stream: holdPool only takes buffers back") }
func (p holdPool) Put(*[]byte)     { p.h.Release() }

// wireMsg is what the sender writes for req at wire offset off.
func (s *Stream) wireMsg(req *request, off int64) any {
	if req.frames != nil {
		return &framedMsg{req: req, off: off}
	}
	return s.message(req, off)
}

// unframe returns the records of a framed request body (frames: whole
// ProtoEncodedRecordBatch.records elements, back to back in each slice),
// aliasing frames.
func unframe(frames [][]byte) [][]byte {
	var out [][]byte
	for _, f := range frames {
		for len(f) > 0 {
			_, _, n := protowire.ConsumeTag(f)
			if n < 0 {
				return out
			}
			rec, m := protowire.ConsumeBytes(f[n:])
			if m < 0 {
				return out
			}
			out = append(out, rec[:len(rec):len(rec)])
			f = f[n+m:]
		}
	}
	return out
}
