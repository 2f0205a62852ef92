package zerobuslocal

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

func batchMsg(off int64, recs ...[]byte) *req {
	return &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
		OffsetId: proto.Int64(off),
		Batch:    &zerobuspb.IngestRecordBatchRequest_ProtoEncodedBatch{ProtoEncodedBatch: &zerobuspb.ProtoEncodedRecordBatch{Records: recs}},
	}}}
}

func recordMsg(off int64, rec []byte) *req {
	return &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
		OffsetId: proto.Int64(off),
		Record:   &zerobuspb.IngestRecordRequest_ProtoEncodedRecord{ProtoEncodedRecord: rec},
	}}}
}

// checkCodec decodes b with serverCodec and proto.Unmarshal and compares.
// It reports whether the zero-copy parser handled it.
func checkCodec(t *testing.T, b []byte) bool {
	t.Helper()
	want := new(req)
	wantErr := proto.Unmarshal(b, want)
	in := new(inbound)
	gotErr := newServerCodec().Unmarshal(mem.BufferSlice{mem.SliceBuffer(b)}, in)
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("message %x: codec error %v, proto.Unmarshal error %v", b, gotErr, wantErr)
	}
	if gotErr != nil {
		return false
	}
	if proto.Equal(want, in.req) {
		// fast path of the comparison; cmp.Diff only to explain a mismatch
	} else if diff := cmp.Diff(want, in.req, protocmp.Transform()); diff != "" {
		t.Fatalf("message %x: codec result differs from proto.Unmarshal (-want +got):\n%s", b, diff)
	}
	if in.spans == nil {
		return false
	}
	var recs [][]byte
	switch p := in.req.GetPayload().(type) {
	case *zerobuspb.EphemeralStreamRequest_IngestRecord:
		recs = [][]byte{p.IngestRecord.GetProtoEncodedRecord()}
	case *zerobuspb.EphemeralStreamRequest_IngestRecordBatch:
		recs = p.IngestRecordBatch.GetProtoEncodedBatch().GetRecords()
	}
	if len(recs) != len(in.spans) {
		t.Fatalf("message %x: %d records, %d spans", b, len(recs), len(in.spans))
	}
	for i, s := range in.spans {
		if !bytes.Equal(in.buf[s.start:s.end], recs[i]) {
			t.Fatalf("message %x: span %d is %x, record is %x", b, i, in.buf[s.start:s.end], recs[i])
		}
	}
	return true
}

func TestServerCodecMatchesProto(t *testing.T) {
	must := func(m *req) []byte {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	create := &req{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: &zerobuspb.CreateIngestStreamRequest{TableName: proto.String("a.b.c")}}}
	jsonBatch := &req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
		OffsetId: proto.Int64(1),
		Batch:    &zerobuspb.IngestRecordBatchRequest_JsonBatch{JsonBatch: &zerobuspb.JsonRecordBatch{Records: []string{"{}"}}},
	}}}
	tests := []struct {
		name      string
		msg       []byte
		zeroCopy  bool
		wantError bool
	}{
		{"batch", must(batchMsg(3, []byte("ab"), nil, []byte("cde"))), true, false},
		{"empty batch", must(batchMsg(0)), true, false},
		{"single record", must(recordMsg(9, []byte("xyz"))), true, false},
		{"negative offset", must(recordMsg(-1, []byte("x"))), true, false},
		{"no offset", must(&req{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
			Record: &zerobuspb.IngestRecordRequest_ProtoEncodedRecord{ProtoEncodedRecord: []byte("x")}}}}), true, false},
		{"create_stream", must(create), false, false},
		{"json batch", must(jsonBatch), false, false},
		{"empty message", nil, false, false},
		{"two payloads merge", append(must(batchMsg(1, []byte("a"))), must(batchMsg(2, []byte("b")))...), false, false},
		{"unknown trailing field", protowire.AppendVarint(protowire.AppendTag(must(recordMsg(1, []byte("a"))), 99, protowire.VarintType), 1), false, false},
		{"truncated", must(batchMsg(3, []byte("abc")))[:6], false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkCodec(t, tc.msg)
			if got != tc.zeroCopy {
				t.Errorf("zero-copy parse = %v, want %v", got, tc.zeroCopy)
			}
		})
	}
}

// TestServerCodecMutations compares the codec with proto.Unmarshal on
// random edits of valid ingest messages.
func TestServerCodecMutations(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	var seeds [][]byte
	for i := range 20 {
		recs := make([][]byte, rnd.IntN(5))
		for j := range recs {
			recs[j] = bytes.Repeat([]byte{byte(j)}, rnd.IntN(20))
		}
		m := batchMsg(int64(i), recs...)
		if i%3 == 0 {
			m = recordMsg(int64(i), bytes.Repeat([]byte{7}, i))
		}
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	zeroCopy := 0
	for range 2000 {
		b := append([]byte(nil), seeds[rnd.IntN(len(seeds))]...)
		switch rnd.IntN(4) {
		case 0:
			if len(b) > 0 {
				b[rnd.IntN(len(b))] ^= byte(1 << rnd.IntN(8))
			}
		case 1:
			if len(b) > 0 {
				b = b[:rnd.IntN(len(b))]
			}
		case 2:
			i := rnd.IntN(len(b) + 1)
			b = append(b[:i], append([]byte{byte(rnd.Uint32())}, b[i:]...)...)
		default:
			b = append(b, seeds[rnd.IntN(len(seeds))]...)
		}
		if checkCodec(t, b) {
			zeroCopy++
		}
	}
	if zeroCopy == 0 {
		t.Error("no mutated message took the zero-copy path")
	}
}
