package stream

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// captureServer records exactly what the client puts on the wire and acks
// each ingest message. With badAckOnce, its first RPC answers the first
// ingest message with an acknowledgement beyond anything sent.
type captureServer struct {
	zerobuspb.UnimplementedZerobusServer
	badAckOnce bool
	discard    bool // do not record ingest messages (benchmarks)
	// extraAcks, if set, gives the acknowledgements to send after the one
	// of wire offset off on RPC n (1, 2 …), in order.
	extraAcks func(n int, off int64) []int64

	mu   sync.Mutex
	rpcs int
	mds  []metadata.MD
	msgs [][]*zerobuspb.EphemeralStreamRequest // per RPC
}

func (c *captureServer) EphemeralStream(st grpc.BidiStreamingServer[zerobuspb.EphemeralStreamRequest, zerobuspb.EphemeralStreamResponse]) error {
	md, _ := metadata.FromIncomingContext(st.Context())
	c.mu.Lock()
	c.rpcs++
	n := c.rpcs
	c.mds = append(c.mds, md)
	c.msgs = append(c.msgs, nil)
	c.mu.Unlock()
	record := func(m *zerobuspb.EphemeralStreamRequest) {
		c.mu.Lock()
		c.msgs[n-1] = append(c.msgs[n-1], m)
		c.mu.Unlock()
	}
	first, err := st.Recv()
	if err != nil {
		return err
	}
	record(first)
	if err := st.Send(&zerobuspb.EphemeralStreamResponse{Payload: &zerobuspb.EphemeralStreamResponse_CreateStreamResponse{
		CreateStreamResponse: &zerobuspb.CreateIngestStreamResponse{StreamId: proto.String("cap-" + strings.Repeat("x", n))}}}); err != nil {
		return err
	}
	for {
		m, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !c.discard {
			record(m)
		}
		off := m.GetIngestRecord().GetOffsetId() + m.GetIngestRecordBatch().GetOffsetId()
		if c.badAckOnce && n == 1 {
			off += 5
		}
		acks := []int64{off}
		if c.extraAcks != nil {
			acks = append(acks, c.extraAcks(n, off)...)
		}
		for _, a := range acks {
			if err := st.Send(&zerobuspb.EphemeralStreamResponse{Payload: &zerobuspb.EphemeralStreamResponse_IngestRecordResponse{
				IngestRecordResponse: &zerobuspb.IngestRecordResponse{DurabilityAckUpToOffset: proto.Int64(a)}}}); err != nil {
				return err
			}
		}
	}
}

func startCapture(t *testing.T, c *captureServer) string { return startCaptureB(t, c) }

func startCaptureB(t testing.TB, c *captureServer) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.MaxRecvMsgSize(16<<20), grpc.InitialWindowSize(16<<20), grpc.InitialConnWindowSize(16<<20))
	zerobuspb.RegisterZerobusServer(srv, c)
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(lis) }()
	t.Cleanup(func() { srv.Stop(); <-done })
	return "http://" + lis.Addr().String()
}

func captureConfig(endpoint string) Config {
	return Config{
		Endpoint:  endpoint,
		TableName: "cat.sch.tbl",
		UserAgent: "zerobus-wrapper-go/9.9.9",
		HeadersProvider: func(context.Context) (map[string]string, error) {
			return map[string]string{"authorization": "Bearer wire-token-0123"}, nil
		},
		Retry:     RetryPolicy{BaseDelay: 1, MaxDelay: 1},
		Telemetry: telemetry.Nop(),
	}
}

// openCaptureStream starts cs, connects a client to it (closed when the test
// ends) and opens a stream of type rt with descriptor desc.
func openCaptureStream(t *testing.T, cs *captureServer, desc *descriptorpb.DescriptorProto, rt zerobuspb.RecordType) *Stream {
	t.Helper()
	c, err := NewClient(captureConfig(startCapture(t, cs)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	s, err := c.OpenStream(context.Background(), desc, rt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// closeStream closes s and fails the test on an error.
func closeStream(t *testing.T, s *Stream) {
	t.Helper()
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestWireFormat(t *testing.T) {
	cs := &captureServer{}
	s := openCaptureStream(t, cs, testDescriptor(), zerobuspb.RecordType_PROTO)
	ctx := context.Background()
	if s.ID() != "cap-x" {
		t.Errorf("ID: got %q, want cap-x", s.ID())
	}
	r1, r2, r3 := encodeRow(1, "a"), encodeRow(2, "b"), encodeRow(3, "")
	p1, err := s.Send(ctx, [][]byte{r1})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := s.Send(ctx, [][]byte{r2, r3})
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range waitAll(t, []*Pending{p1, p2}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	closeStream(t, s)

	cs.mu.Lock()
	defer cs.mu.Unlock()
	md := cs.mds[0]
	for k, want := range map[string]string{
		"authorization":                   "Bearer wire-token-0123",
		"x-databricks-zerobus-table-name": "cat.sch.tbl",
	} {
		if got := md.Get(k); len(got) != 1 || got[0] != want {
			t.Errorf("metadata %s: got %q, want %q", k, got, want)
		}
	}
	if ua := md.Get("user-agent"); len(ua) != 1 || !strings.HasPrefix(ua[0], "zerobus-wrapper-go/9.9.9") {
		t.Errorf("user-agent: got %q, want prefix zerobus-wrapper-go/9.9.9", ua)
	}
	descBytes, _ := proto.Marshal(testDescriptor())
	want := []*zerobuspb.EphemeralStreamRequest{
		{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: &zerobuspb.CreateIngestStreamRequest{
			TableName: proto.String("cat.sch.tbl"), DescriptorProto: descBytes, RecordType: zerobuspb.RecordType_PROTO.Enum()}}},
		{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecord{IngestRecord: &zerobuspb.IngestRecordRequest{
			OffsetId: proto.Int64(0), Record: &zerobuspb.IngestRecordRequest_ProtoEncodedRecord{ProtoEncodedRecord: r1}}}},
		{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
			OffsetId: proto.Int64(1), Batch: &zerobuspb.IngestRecordBatchRequest_ProtoEncodedBatch{ProtoEncodedBatch: &zerobuspb.ProtoEncodedRecordBatch{Records: [][]byte{r2, r3}}}}}},
	}
	if diff := cmp.Diff(want, cs.msgs[0], protocmp.Transform()); diff != "" {
		t.Errorf("wire messages (-want +got):\n%s", diff)
	}
}

func TestWireJSONCreateHasNoDescriptor(t *testing.T) {
	cs := &captureServer{}
	closeStream(t, openCaptureStream(t, cs, nil, zerobuspb.RecordType_JSON))
	cs.mu.Lock()
	defer cs.mu.Unlock()
	want := &zerobuspb.EphemeralStreamRequest{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: &zerobuspb.CreateIngestStreamRequest{
		TableName: proto.String("cat.sch.tbl"), RecordType: zerobuspb.RecordType_JSON.Enum()}}}
	if diff := cmp.Diff(want, cs.msgs[0][0], protocmp.Transform()); diff != "" {
		t.Errorf("create (-want +got):\n%s", diff)
	}
}

// An acknowledgement beyond the last sent offset is a protocol error: the
// RPC is abandoned and the request re-sent, renumbered from 0, on a new one.
func TestWireBadAckRecovers(t *testing.T) {
	cs := &captureServer{badAckOnce: true}
	s := openCaptureStream(t, cs, testDescriptor(), zerobuspb.RecordType_PROTO)
	ctx := context.Background()
	p, err := s.Send(ctx, [][]byte{encodeRow(1, "a")})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctx); err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if got := p.Attempts(); got != 2 {
		t.Errorf("Attempts: got %d, want 2", got)
	}
	closeStream(t, s)
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.rpcs != 2 {
		t.Fatalf("RPCs: got %d, want 2", cs.rpcs)
	}
	if got := cs.msgs[1][1].GetIngestRecord().GetOffsetId(); got != 0 {
		t.Errorf("re-sent offset: got %d, want 0", got)
	}
}
