package core_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// nullServer is a minimal Zerobus peer for benchmarks of the client side:
// it accepts any stream, counts records without decoding them and
// acknowledges every request after a fixed latency (in order). The local
// server (zerobuslocal) decodes and stores every record, which on a small
// machine makes it the bottleneck; this one isolates the Wrapper's cost.
type nullServer struct {
	zerobuspb.UnimplementedZerobusServer
	latency time.Duration
	records atomic.Int64
	streams atomic.Int64

	mu         sync.Mutex
	userAgents []string // the user-agent metadata of every stream, in order
}

// agents returns the user agents seen so far.
func (ns *nullServer) agents() []string {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return append([]string(nil), ns.userAgents...)
}

func startNullServer(tb testing.TB, latency time.Duration) (*nullServer, string) {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ns := &nullServer{latency: latency}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(16<<20), grpc.ForceServerCodecV2(nullCodec{encoding.GetCodecV2("proto")}))
	zerobuspb.RegisterZerobusServer(gs, ns)
	go func() { _ = gs.Serve(lis) }()
	tb.Cleanup(gs.Stop)
	return ns, "http://" + lis.Addr().String()
}

type ack struct {
	offset int64
	due    time.Time
}

func (ns *nullServer) EphemeralStream(st zerobuspb.Zerobus_EphemeralStreamServer) error {
	md, _ := metadata.FromIncomingContext(st.Context())
	ns.mu.Lock()
	ns.userAgents = append(ns.userAgents, strings.Join(md.Get("user-agent"), ","))
	ns.mu.Unlock()
	first, err := st.Recv()
	if err != nil {
		return err
	}
	if first.GetCreateStream() == nil {
		return fmt.Errorf("first message is not create_stream")
	}
	id := fmt.Sprintf("null-%d", ns.streams.Add(1))
	if err := st.Send(&zerobuspb.EphemeralStreamResponse{Payload: &zerobuspb.EphemeralStreamResponse_CreateStreamResponse{
		CreateStreamResponse: &zerobuspb.CreateIngestStreamResponse{StreamId: proto.String(id)}}}); err != nil {
		return err
	}
	acks := make(chan ack, 1<<16)
	sendErr := make(chan error, 1)
	go func() {
		for a := range acks {
			if d := time.Until(a.due); d > 0 {
				time.Sleep(d)
			}
			// Coalesce whatever else is already due.
			last := a.offset
		drain:
			for {
				select {
				case b, ok := <-acks:
					if !ok {
						break drain
					}
					if d := time.Until(b.due); d > 0 {
						time.Sleep(d)
					}
					last = b.offset
				default:
					break drain
				}
			}
			err := st.Send(&zerobuspb.EphemeralStreamResponse{Payload: &zerobuspb.EphemeralStreamResponse_IngestRecordResponse{
				IngestRecordResponse: &zerobuspb.IngestRecordResponse{DurabilityAckUpToOffset: proto.Int64(last)}}})
			if err != nil {
				sendErr <- err
				for range acks {
				}
				return
			}
		}
		sendErr <- nil
	}()
	defer func() {
		close(acks)
		<-sendErr
	}()
	for {
		m, err := st.Recv()
		if err != nil {
			return nil // client half-closed (or went away)
		}
		var off int64
		switch p := m.Payload.(type) {
		case *zerobuspb.EphemeralStreamRequest_IngestRecord:
			off = p.IngestRecord.GetOffsetId()
			ns.records.Add(1)
		case *zerobuspb.EphemeralStreamRequest_IngestRecordBatch:
			off = p.IngestRecordBatch.GetOffsetId()
			ns.records.Add(int64(len(p.IngestRecordBatch.GetProtoEncodedBatch().GetRecords())))
		default:
			return fmt.Errorf("unexpected message %T", p)
		}
		acks <- ack{offset: off, due: time.Now().Add(ns.latency)}
	}
}

// staticHeaders replaces OAuth for the null server.
func staticHeaders(table string) func(context.Context) (map[string]string, error) {
	return func(context.Context) (map[string]string, error) {
		return map[string]string{"authorization": "Bearer bench", "x-databricks-zerobus-table-name": table}, nil
	}
}

// nullCodec is the null server's codec: an ingest request is scanned for
// its offset and record count without copying or decoding the records
// (so that a profile of a benchmark shows the client's costs); everything
// else goes through the proto codec.
type nullCodec struct{ proto encoding.CodecV2 }

func (nullCodec) Name() string                             { return "proto" }
func (c nullCodec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }

// noRecords backs the Records of scanned requests: only its length is read.
// Made on first use, so a process that only sends (the client of
// TestPeakRSSManySenders) does not carry 48 MB of it in its heap.
var noRecords = sync.OnceValue(func() [][]byte { return make([][]byte, 1<<21) })

func (c nullCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*zerobuspb.EphemeralStreamRequest)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	sc := scanner{bufs: data}
	num, _ := sc.tag()
	if num != 2 && num != 3 {
		return c.proto.Unmarshal(data, v) // create_stream
	}
	end := sc.varint() // message length
	_ = end
	var off int64
	n := 0
	for !sc.done() && !sc.bad {
		f, typ := sc.tag()
		switch {
		case f == 1 && typ == protowire.VarintType:
			off = int64(sc.varint())
		case num == 2 && f == 2: // ingest_record.proto_encoded_record
			sc.skip(int(sc.varint()))
			n = 1
		case num == 3 && f == 2: // ingest_record_batch.proto_encoded_batch
			sc.varint()
			for !sc.done() && !sc.bad {
				sc.tag()
				sc.skip(int(sc.varint()))
				n++
			}
		default:
			return fmt.Errorf("null server: unexpected field %d in request", f)
		}
	}
	if sc.bad || n > len(noRecords()) {
		return fmt.Errorf("null server: malformed request")
	}
	m.Payload = &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
		OffsetId: proto.Int64(off),
		Batch:    &zerobuspb.IngestRecordBatchRequest_ProtoEncodedBatch{ProtoEncodedBatch: &zerobuspb.ProtoEncodedRecordBatch{Records: noRecords()[:n]}}}}
	return nil
}

// scanner reads varints and skips bytes across the buffers of a message.
type scanner struct {
	bufs mem.BufferSlice
	i    int    // next buffer
	cur  []byte // rest of the current buffer
	bad  bool
}

func (s *scanner) done() bool {
	for len(s.cur) == 0 {
		if s.i >= len(s.bufs) {
			return true
		}
		s.cur = s.bufs[s.i].ReadOnlyData()
		s.i++
	}
	return false
}

func (s *scanner) byte() byte {
	if s.done() {
		s.bad = true
		return 0
	}
	b := s.cur[0]
	s.cur = s.cur[1:]
	return b
}

func (s *scanner) varint() uint64 {
	if len(s.cur) > 0 && s.cur[0] < 0x80 {
		v := s.cur[0]
		s.cur = s.cur[1:]
		return uint64(v)
	}
	var v uint64
	for shift := 0; shift < 64; shift += 7 {
		b := s.byte()
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return v
		}
	}
	s.bad = true
	return 0
}

func (s *scanner) tag() (protowire.Number, protowire.Type) {
	num, typ := protowire.DecodeTag(s.varint())
	return num, typ
}

func (s *scanner) skip(n int) {
	for n > 0 && !s.done() {
		k := min(n, len(s.cur))
		s.cur = s.cur[k:]
		n -= k
	}
	if n > 0 {
		s.bad = true
	}
}

// TestNullServerCountsRecords: the null server's scan (it does not decode)
// counts single-record and batch requests alike.
func TestNullServerCountsRecords(t *testing.T) {
	w, ns := nullWrapper(t, 0, nil)
	for _, rows := range []int{1, 1000, 70_000} {
		rec := convert.ReferenceBatch(memory.DefaultAllocator, rows)
		res, err := w.SendBatch(context.Background(), rec)
		rec.Release()
		if err != nil || res.SuccessfulCount != rows {
			t.Fatalf("%d rows: %v, %d successful", rows, err, res.SuccessfulCount)
		}
	}
	if got := ns.records.Load(); got != 71_001 {
		t.Fatalf("null server counted %d records, want 71001", got)
	}
}
