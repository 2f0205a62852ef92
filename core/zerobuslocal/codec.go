package zerobuslocal

import (
	"fmt"
	"math"

	"google.golang.org/grpc/encoding"
	protoenc "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// inbound is one received request message. The receive goroutine asks for
// it with RecvMsg so that serverCodec can parse PROTO ingest messages
// without copying each record: the records then alias buf (the whole
// message, one allocation) and spans locates them in it.
type inbound struct {
	req   *req
	buf   []byte
	spans []span // nil unless the records alias buf

	hold   *gateHold // the RPC's share of Server.inflight (nil: none)
	weight int64     // what the message took of it, given back once handled
}

type span struct{ start, end uint32 }

// serverCodec is the standard protobuf codec, except that it fills
// *inbound by hand-parsing ingest_record / ingest_record_batch messages with
// protobuf records. Anything it does not recognise exactly (other payloads,
// repeated or unknown fields) goes to proto.Unmarshal, so the decoded
// message is always what proto.Unmarshal would produce.
type serverCodec struct {
	std encoding.CodecV2
}

func newServerCodec() serverCodec {
	return serverCodec{std: encoding.GetCodecV2(protoenc.Name)}
}

func (c serverCodec) Name() string { return protoenc.Name }

func (c serverCodec) Marshal(v any) (mem.BufferSlice, error) { return c.std.Marshal(v) }

func (c serverCodec) Unmarshal(data mem.BufferSlice, v any) error {
	in, ok := v.(*inbound)
	if !ok {
		return c.std.Unmarshal(data, v)
	}
	if in.hold != nil {
		in.weight = in.hold.arrived(data.Len()) // the read was admitted (inflight.go)
	}
	in.buf = data.Materialize()
	in.req = new(req)
	if in.spans = parseIngest(in.buf, in.req); in.spans != nil {
		return nil
	}
	in.req.Reset()
	if err := proto.Unmarshal(in.buf, in.req); err != nil {
		return fmt.Errorf("zerobuslocal: cannot decode EphemeralStreamRequest: %w", err)
	}
	return nil
}

// Field numbers of the messages parseIngest understands.
const (
	fieldIngestRecord      = 2 // EphemeralStreamRequest.ingest_record
	fieldIngestRecordBatch = 3 // EphemeralStreamRequest.ingest_record_batch
	fieldOffsetID          = 1 // offset_id in both requests
	fieldProtoRecord       = 2 // IngestRecordRequest.proto_encoded_record
	fieldProtoBatch        = 2 // IngestRecordBatchRequest.proto_encoded_batch
	fieldRecords           = 1 // ProtoEncodedRecordBatch.records
)

// parseIngest fills m from b when b is exactly one ingest_record or
// ingest_record_batch with protobuf records, each field once, and returns
// the records' positions in b (non-nil, possibly empty). It returns nil
// (m untouched) for anything else.
func parseIngest(b []byte, m *req) []span {
	if uint64(len(b)) > math.MaxUint32 {
		return nil
	}
	num, wt, n := protowire.ConsumeTag(b)
	if n < 0 || wt != protowire.BytesType || (num != fieldIngestRecord && num != fieldIngestRecordBatch) {
		return nil
	}
	body, bn := protowire.ConsumeBytes(b[n:])
	if bn < 0 || n+bn != len(b) {
		return nil
	}
	base := n + bn - len(body) // position of body in b
	var (
		offset            int64
		hasOffset, hasRec bool
		spans             []span
		batchBase         int
		batch             []byte
	)
	for pos := 0; pos < len(body); {
		fnum, fwt, tn := protowire.ConsumeTag(body[pos:])
		if tn < 0 {
			return nil
		}
		pos += tn
		switch {
		case fnum == fieldOffsetID && fwt == protowire.VarintType && !hasOffset:
			v, vn := protowire.ConsumeVarint(body[pos:])
			if vn < 0 {
				return nil
			}
			offset, hasOffset = int64(v), true
			pos += vn
		case num == fieldIngestRecord && fnum == fieldProtoRecord && fwt == protowire.BytesType && !hasRec:
			v, vn := protowire.ConsumeBytes(body[pos:])
			if vn < 0 {
				return nil
			}
			start := base + pos + vn - len(v)
			spans = []span{{uint32(start), uint32(start + len(v))}}
			hasRec = true
			pos += vn
		case num == fieldIngestRecordBatch && fnum == fieldProtoBatch && fwt == protowire.BytesType && !hasRec:
			v, vn := protowire.ConsumeBytes(body[pos:])
			if vn < 0 {
				return nil
			}
			batch, batchBase = v, base+pos+vn-len(v)
			hasRec = true
			pos += vn
		default:
			return nil
		}
	}
	if !hasRec {
		return nil
	}
	var off *int64
	if hasOffset {
		off = &offset
	}
	if num == fieldIngestRecord {
		s := spans[0]
		m.Payload = &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
			OffsetId: off,
			Record:   &zerobuspb.IngestRecordRequest_ProtoEncodedRecord{ProtoEncodedRecord: b[s.start:s.end:s.end]},
		}}
		return spans
	}
	// Count first so that spans and records are allocated once.
	count := 0
	for pos := 0; pos < len(batch); {
		fnum, fwt, tn := protowire.ConsumeTag(batch[pos:])
		if tn < 0 || fnum != fieldRecords || fwt != protowire.BytesType {
			return nil
		}
		_, vn := protowire.ConsumeBytes(batch[pos+tn:])
		if vn < 0 {
			return nil
		}
		pos += tn + vn
		count++
	}
	spans = make([]span, 0, count)
	records := make([][]byte, 0, count)
	for pos := 0; pos < len(batch); {
		_, _, tn := protowire.ConsumeTag(batch[pos:])
		v, vn := protowire.ConsumeBytes(batch[pos+tn:])
		start := batchBase + pos + tn + vn - len(v)
		end := start + len(v)
		spans = append(spans, span{uint32(start), uint32(end)})
		records = append(records, b[start:end:end])
		pos += tn + vn
	}
	m.Payload = &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
		OffsetId: off,
		Batch:    &zerobuspb.IngestRecordBatchRequest_ProtoEncodedBatch{ProtoEncodedBatch: &zerobuspb.ProtoEncodedRecordBatch{Records: records}},
	}}
	return spans
}
