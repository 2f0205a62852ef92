package zerobuslocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// Request metadata keys the service reads.
const (
	HeaderAuthorization = "authorization"
	HeaderTableName     = "x-databricks-zerobus-table-name"
)

type (
	req     = zerobuspb.EphemeralStreamRequest
	resp    = zerobuspb.EphemeralStreamResponse
	bidiSrv = grpc.BidiStreamingServer[req, resp]
)

type service struct {
	zerobuspb.UnimplementedZerobusServer
	s *Server
}

type recvResult struct {
	in  *inbound     // a Zerobus gRPC request
	fb  *flightBatch // or a Flight record batch
	err error
}

type pendingAck struct {
	offset  int64
	records int64     // records stored on the RPC up to and including this message
	due     time.Time // monotonic over the queue
}

// transport is how an RPC answers: Zerobus gRPC responses or Flight
// PutResults.
type transport interface {
	// ack acknowledges every message up to offset (records in total).
	ack(offset, records int64) error
	// closeSignal announces that the server ends the RPC after d.
	closeSignal(d time.Duration, offset, records int64) error
}

// grpcTransport answers on an EphemeralStream.
type grpcTransport struct{ stream bidiSrv }

func (g grpcTransport) ack(offset, _ int64) error {
	return g.stream.Send(&resp{Payload: &zerobuspb.EphemeralStreamResponse_IngestRecordResponse{
		IngestRecordResponse: &zerobuspb.IngestRecordResponse{DurabilityAckUpToOffset: proto.Int64(offset)},
	}})
}

func (g grpcTransport) closeSignal(d time.Duration, _, _ int64) error {
	return g.stream.Send(&resp{Payload: &zerobuspb.EphemeralStreamResponse_CloseStreamSignal{
		CloseStreamSignal: &zerobuspb.CloseStreamSignal{Duration: durationpb.New(d)},
	}})
}

// rpc is the state of one EphemeralStream call. It is owned by the handler
// goroutine; only the receive goroutine runs beside it.
type rpc struct {
	s      *Server
	stream bidiSrv // nil for a Flight DoPut
	tx     transport
	flight bool
	ctx    context.Context
	recv   <-chan recvResult
	hold   *gateHold // what the RPC holds of Server.inflight

	tableName  string
	table      *table
	streamID   string
	token      string
	peerAddr   string
	recordType zerobuspb.RecordType
	encodedMD  protoreflect.MessageDescriptor // what PROTO records are encoded with
	avro       *avroSchema                    // the writer schema of an AVRO stream
	utf8       *utf8Plan                      // string fields of encodedMD (nil: none)
	notNull    *notNullPlan                   // NOT NULL fields inside STRUCTs (nil: none)
	variants   *variantPlan                   // VARIANT fields, whose JSON text is checked (nil: none)
	decimals   *decimalPlan                   // DECIMAL fields, whose text is checked and rounded (nil: none)
	decScratch []byte                         // reused by decimals
	ranges     *rangePlan                     // TINYINT and SMALLINT fields, whose values are checked (nil: none)
	sameMD     bool                           // encodedMD is the table's descriptor
	validator  *protoarrow.Validator          // checks records against encodedMD
	src        *source                        // shared by the blocks this RPC stores
	arena      arena                          // memory for stored records

	policy     AckPolicy
	created    time.Time
	nextOffset int64
	msgs       int
	records    int64 // records stored on this RPC
	pending    []pendingAck
	head       int
	lastDue    time.Time
	acked      int64 // last acked offset (-1: none)
	ackedRecs  int64 // records acked
	stalled    bool
	faults     []*armedFault // armed on this RPC, not yet fired
	closeAt    time.Time
	closeCode  codes.Code
	halfClosed bool
	lifetimeAt time.Time   // when the stream lifetime's CloseStreamSignal is due
	partial    *armedFault // FaultPartialAck to apply to the next Flight batch
	discarding bool        // a partial ack ended intake: later batches are dropped

	// With a FaultDropConnection armed, the RPC's connection and what it
	// had written before the last response was queued, so that the drop
	// lets the responses already sent reach the client (awaitSent).
	conn     *trackedConn
	sendMark uint64    // conn's writes begun before the last response was queued
	sentAt   time.Time // when the last response was queued (zero: none)
}

func (svc *service) EphemeralStream(stream bidiSrv) error {
	s := svc.s
	if s.isClosing() {
		return status.Error(codes.Unavailable, "zerobuslocal: server shutting down")
	}
	// Tonic-based clients wait for the response headers before sending.
	_ = stream.SendHeader(metadata.MD{})

	recv := make(chan recvResult, 16)
	done := make(chan struct{})
	defer close(done)
	hold := newGateHold(stream.Context(), s.inflight, admissionBytes(s.opts.MaxMessageBytes))
	defer hold.end()
	s.handlers.Add(1)
	go func() {
		defer s.handlers.Done()
		for {
			in := &inbound{hold: hold}
			err := hold.admit()
			if err != nil {
				err = admitErr(err)
			} else {
				err = stream.RecvMsg(in)
			}
			if err != nil {
				in = nil
			}
			select {
			case recv <- recvResult{in: in, err: err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()

	r := &rpc{s: s, stream: stream, tx: grpcTransport{stream}, ctx: stream.Context(), recv: recv, hold: hold, acked: -1}
	if p, ok := peer.FromContext(r.ctx); ok && p.Addr != nil {
		r.peerAddr = p.Addr.String()
	}
	if err := r.create(); err != nil {
		s.stats.streamsRejected.Add(1)
		st := status.Convert(err)
		s.events.add(Event{Kind: EventStreamRejected, Table: r.tableName, Code: st.Code(), Message: st.Message()})
		s.log.Info("zerobuslocal: stream rejected", "table", r.tableName, "code", st.Code(), "msg", st.Message())
		return err
	}
	err := r.loop()
	s.stats.streamsEnded.Add(1)
	st := status.Convert(err)
	s.events.add(Event{Kind: EventStreamEnded, Table: r.tableName, StreamID: r.streamID, Code: st.Code(), Message: st.Message()})
	s.log.Debug("zerobuslocal: stream ended", "table", r.tableName, "stream_id", r.streamID, "code", st.Code())
	return err
}

// next waits for the next received message (or end) outside the main loop.
func (r *rpc) next() (*req, error) {
	select {
	case res := <-r.recv:
		if res.err != nil {
			return nil, res.err
		}
		r.hold.give(res.in.weight)
		return res.in.req, nil
	case <-r.s.closing:
		return nil, status.Error(codes.Unavailable, "zerobuslocal: server shutting down")
	case <-r.ctx.Done():
		return nil, status.FromContextError(r.ctx.Err()).Err()
	}
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

// create reads and validates create_stream and answers it.
func (r *rpc) create() error {
	s := r.s
	md, _ := metadata.FromIncomingContext(r.ctx)
	if v := md.Get(HeaderTableName); len(v) > 0 {
		r.tableName = v[0]
	}
	first, err := r.next()
	if errors.Is(err, io.EOF) {
		return invalid("the stream was closed before create_stream was sent")
	}
	if err != nil {
		return err
	}
	s.stats.messagesReceived.Add(1)
	cs := first.GetCreateStream()
	if cs == nil {
		return invalid("the first message on a stream must be create_stream, got %s", payloadName(first))
	}
	name := cs.GetTableName()
	switch {
	case name == "":
		return invalid("create_stream.table_name is empty")
	case r.tableName == "":
		r.tableName = name
		return invalid("missing %s request header (must equal create_stream.table_name %q)", HeaderTableName, name)
	case r.tableName != name:
		hdr := r.tableName
		r.tableName = name
		return invalid("request header %s %q differs from create_stream.table_name %q", HeaderTableName, hdr, name)
	}
	if err := checkTableName(name); err != nil {
		return invalid("create_stream.table_name: %v", err)
	}

	if err := r.authenticate(md); err != nil {
		return err
	}

	closeSignal, err := r.armFaults()
	if err != nil {
		return err
	}

	r.recordType = cs.GetRecordType()
	var desc *descriptorpb.DescriptorProto
	switch r.recordType {
	case zerobuspb.RecordType_PROTO:
		if len(cs.GetDescriptorProto()) == 0 {
			return invalid("create_stream.descriptor_proto is required for record_type PROTO")
		}
		desc = new(descriptorpb.DescriptorProto)
		if err := proto.Unmarshal(cs.GetDescriptorProto(), desc); err != nil {
			return invalid("create_stream.descriptor_proto is not a serialized google.protobuf.DescriptorProto: %v", err)
		}
		if r.encodedMD, err = protoarrow.MessageDescriptor(desc); err != nil {
			return invalid("create_stream.descriptor_proto: %v", err)
		}
		if _, err := protoarrow.SchemaFromMessage(r.encodedMD); err != nil {
			return invalid("create_stream.descriptor_proto: %v", err)
		}
	case zerobuspb.RecordType_JSON:
	case zerobuspb.RecordType_AVRO:
		if cs.GetAvroSchema() == "" {
			return invalid("create_stream.avro_schema (field 5) is required for record_type AVRO")
		}
		if r.avro, err = parseAvroSchema(cs.GetAvroSchema()); err != nil {
			return invalid("create_stream.avro_schema: %v", err)
		}
	default:
		return invalid("create_stream.record_type must be PROTO, JSON or AVRO, got %v", r.recordType)
	}

	var mk func() (*table, error)
	switch {
	case desc != nil:
		mk = func() (*table, error) { return newTable(name, nil, desc, r.encodedMD) }
	case r.avro != nil:
		mk = func() (*table, error) { return newTable(name, r.avro.cols, nil, nil) }
	}
	t, _, err := s.lookupTable(name, mk)
	if errors.Is(err, ErrNoTable) {
		return status.Errorf(codes.NotFound, "table %s does not exist: %s", name, noTableHint)
	}
	if err != nil {
		return invalid("create_stream.descriptor_proto: %v", err)
	}
	r.table = t
	if r.recordType == zerobuspb.RecordType_PROTO {
		if t.md == nil {
			return invalid("table %s has no schema (it was created by a JSON stream); PROTO streams need a table created with a schema", name)
		}
		if t.md == r.encodedMD || proto.Equal(t.desc, desc) {
			r.encodedMD, r.sameMD = t.md, true
		} else if problems := compareSchemas(t.md, r.encodedMD, t.cols); len(problems) > 0 {
			return schemaError(name, problems)
		}
	}
	if r.avro != nil {
		if t.md == nil {
			return invalid("table %s has no schema (it was created by a JSON stream); AVRO streams need a table with columns", name)
		}
		if problems := compareColumns("", t.cols, r.avro.cols); len(problems) > 0 {
			return schemaError(name, problems)
		}
	}

	r.streamID = "stream-" + randomHex(12)
	r.src = &source{streamID: r.streamID, tableMD: t.md}
	if r.recordType == zerobuspb.RecordType_PROTO {
		r.src.md = r.encodedMD
		if r.sameMD {
			r.validator = t.validator
		} else {
			r.validator = protoarrow.NewValidator(r.encodedMD)
		}
		r.src.v = r.validator
		r.utf8 = newUTF8Plan(r.encodedMD)
		r.notNull = newNotNullPlan(t.cols, r.encodedMD)
		r.variants = newVariantPlan(t.cols, r.encodedMD)
		r.decimals = newDecimalPlan(t.cols, r.encodedMD)
		r.ranges = newRangePlan(t.cols, r.encodedMD)
	}
	if r.recordType == zerobuspb.RecordType_JSON && t.md != nil {
		r.notNull = newNotNullPlan(t.cols, t.md)
		r.variants = newVariantPlan(t.cols, t.md)
		r.decimals = newDecimalPlan(t.cols, t.md)
		r.ranges = newRangePlan(t.cols, t.md)
	}
	if r.avro != nil { // records are stored in the table's protobuf form
		r.src.md, r.src.v = t.md, t.validator
		r.variants = newVariantPlan(t.cols, t.md)
		r.decimals = newDecimalPlan(t.cols, t.md)
		r.ranges = newRangePlan(t.cols, t.md)
	}
	r.policy = s.ackPolicy(name).normalized()
	r.start()
	r.beforeSend()
	err = r.stream.Send(&resp{Payload: &zerobuspb.EphemeralStreamResponse_CreateStreamResponse{
		CreateStreamResponse: &zerobuspb.CreateIngestStreamResponse{StreamId: proto.String(r.streamID)},
	}})
	r.afterSend()
	if err != nil {
		return err
	}
	s.stats.streamsCreated.Add(1)
	s.events.add(Event{Kind: EventStreamCreated, Table: name, StreamID: r.streamID})
	if s.log.Enabled(r.ctx, slog.LevelDebug) {
		keys := make([]string, 0, len(md))
		for k := range md {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		s.log.Debug("zerobuslocal: stream created", "table", name, "stream_id", r.streamID, "record_type", r.recordType,
			"metadata_keys", keys, "user_agent", md.Get("user-agent"), "descriptor_bytes", len(cs.GetDescriptorProto()))
	}
	if closeSignal != nil {
		r.fired(closeSignal)
		return r.sendCloseSignal(closeSignal.f)
	}
	return nil
}

// armFaults picks up the stream faults of the table: those without a
// trigger fire now (a terminating one returns the RPC's error; a
// CloseStreamSignal one is returned, to be sent after the create response),
// the others are armed. FaultPartialAck applies to Flight streams only.
func (r *rpc) armFaults() (closeSignal *armedFault, err error) {
	var atCreate []*armedFault
	for _, af := range r.s.faults.matching(r.tableName, false) {
		if af.f.Kind == FaultPartialAck && !r.flight {
			continue
		}
		if af.f.atCreate() {
			if r.s.faults.claim(af) {
				atCreate = append(atCreate, af)
			}
		} else {
			r.faults = append(r.faults, af)
			if af.f.Kind == FaultDropConnection && r.conn == nil {
				r.conn = r.s.grpcLis.conn(r.peerAddr)
			}
		}
	}
	for _, af := range atCreate {
		switch af.f.Kind {
		case FaultStallAcks:
			r.fired(af)
			r.stalled = true
		case FaultCloseSignal:
			closeSignal = af
		case FaultPartialAck:
			r.fired(af)
			r.partial = af
		case FaultCreateDelay:
			r.fired(af)
			t := time.NewTimer(af.f.Latency)
			select {
			case <-t.C:
			case <-r.ctx.Done():
				t.Stop()
				return nil, status.FromContextError(r.ctx.Err()).Err()
			case <-r.s.closing:
				t.Stop()
				return nil, status.Error(codes.Unavailable, "zerobuslocal: server shutting down")
			}
		default:
			r.fired(af)
			return nil, r.faultError(af.f)
		}
	}
	return closeSignal, nil
}

func payloadName(m *req) string {
	switch m.GetPayload().(type) {
	case *zerobuspb.EphemeralStreamRequest_IngestRecord:
		return "ingest_record"
	case *zerobuspb.EphemeralStreamRequest_IngestRecordBatch:
		return "ingest_record_batch"
	case *zerobuspb.EphemeralStreamRequest_CreateStream:
		return "create_stream"
	default:
		return "an empty message"
	}
}

func (r *rpc) fired(af *armedFault) {
	r.s.stats.faultsFired.Add(1)
	r.s.events.add(Event{Kind: EventFaultFired, Table: r.tableName, StreamID: r.streamID, Fault: af.f.Kind})
	r.s.log.Info("zerobuslocal: fault fired", "table", r.tableName, "stream_id", r.streamID, "fault", af.f.Kind)
}

// faultError performs a terminating fault and returns the RPC's result.
func (r *rpc) faultError(f Fault) error {
	switch f.Kind {
	case FaultEndStream:
		return nil
	case FaultDropConnection:
		r.awaitSent()
		r.s.grpcLis.drop(r.peerAddr)
		return status.Error(codes.Unavailable, "zerobuslocal: connection dropped by fault")
	case FaultExpireToken:
		r.s.revokeToken(r.token)
		return status.Error(codes.Unauthenticated, "access token expired")
	default: // FaultError
		code := f.Code
		if code == codes.OK {
			code = codes.Unavailable
		}
		msg := f.Message
		if msg == "" {
			msg = fmt.Sprintf("zerobuslocal: injected %v fault", code)
		}
		return status.Error(code, msg)
	}
}

// Bounds of awaitSent: the connection counts as having written what was
// queued once its writes have been idle for dropIdle; the drop waits for
// that at most dropWaitBound after the connection's writer took up the
// responses, and at most dropStartBound for it to take them up (a loaded
// machine can leave its goroutine waiting for a core that long).
const (
	dropIdle       = 10 * time.Millisecond
	dropWaitBound  = 100 * time.Millisecond
	dropStartBound = 2 * time.Second
)

// beforeSend and afterSend bracket every response the RPC queues while a
// FaultDropConnection is armed on it (see awaitSent).
func (r *rpc) beforeSend() {
	if r.conn != nil {
		r.sendMark = r.conn.writeMark()
	}
}

func (r *rpc) afterSend() {
	if r.conn != nil {
		r.sentAt = time.Now()
	}
}

// awaitSent waits, before FaultDropConnection closes the connection, until
// the responses the RPC queued (the acks due before the fault, which the
// fault promises) have been written to it: grpc-go's Send only queues
// them for the connection's writer goroutine, which a close would often
// beat. Bounded by dropWaitBound, logged when hit.
func (r *rpc) awaitSent() {
	if r.conn == nil || r.sentAt.IsZero() {
		return
	}
	start := time.Now()
	if !r.conn.waitWritten(r.sendMark, r.sentAt, dropIdle, dropStartBound, dropWaitBound) {
		r.s.log.Warn("zerobuslocal: drop_connection: the connection did not write the queued responses in time; the ones queued last may be lost with it",
			"table", r.tableName, "stream_id", r.streamID, "waited", time.Since(start).Round(time.Millisecond))
	}
}

func (r *rpc) sendCloseSignal(f Fault) error {
	r.beforeSend()
	err := r.tx.closeSignal(f.CloseAfter, r.acked, r.ackedRecs)
	r.afterSend()
	if err != nil {
		return err
	}
	r.closeAt = time.Now().Add(f.CloseAfter)
	r.closeCode = f.Code
	r.s.stats.closeSignals.Add(1)
	r.s.events.add(Event{Kind: EventCloseSignalSent, Table: r.tableName, StreamID: r.streamID, Duration: f.CloseAfter})
	return nil
}

// trigger runs a fault that reached its trigger; done reports the RPC ends.
func (r *rpc) trigger(af *armedFault, now time.Time) (done bool, err error) {
	if !r.s.faults.claim(af) {
		return false, nil
	}
	r.fired(af)
	switch af.f.Kind {
	case FaultStallAcks:
		r.stalled = true
		return false, nil
	case FaultCloseSignal:
		if !r.closeAt.IsZero() {
			return false, nil
		}
		return false, r.sendCloseSignal(af.f)
	case FaultPartialAck:
		r.partial = af
		return false, nil
	case FaultCreateDelay: // only meaningful at create
		return false, nil
	default:
		// Acks already due go out first so the outcome is deterministic.
		if err := r.sendDueAcks(now); err != nil {
			return true, err
		}
		return true, r.faultError(af.f)
	}
}

// checkFaults fires armed faults whose trigger is reached.
func (r *rpc) checkFaults(now time.Time) (bool, error) {
	kept := r.faults[:0]
	var fire []*armedFault
	for _, af := range r.faults {
		if (af.f.AfterMessages > 0 && r.msgs >= af.f.AfterMessages) ||
			(af.f.After > 0 && !now.Before(r.created.Add(af.f.After))) {
			fire = append(fire, af)
		} else {
			kept = append(kept, af)
		}
	}
	r.faults = kept
	for _, af := range fire {
		if done, err := r.trigger(af, now); done || err != nil {
			return true, err
		}
	}
	return false, nil
}

// start marks the stream created and schedules the end of its lifetime.
func (r *rpc) start() {
	r.created = time.Now()
	if lt := r.s.opts.StreamLifetime; lt > 0 {
		r.lifetimeAt = r.created.Add(lt - r.s.opts.StreamCloseGrace)
	}
}

// loop serves the stream after create until it ends.
func (r *rpc) loop() error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	recv := r.recv
	for {
		now := time.Now()
		if err := r.sendDueAcks(now); err != nil {
			return err
		}
		if done, err := r.checkFaults(now); done || err != nil {
			return err
		}
		if !r.closeAt.IsZero() && !now.Before(r.closeAt) {
			if r.closeCode == codes.OK {
				// A graceful end: what this stream stored is durable, so
				// it is all acknowledged before the end (a client re-sends
				// only what was never stored, as after the service's
				// rotation), however long the ack policy would delay it.
				return r.ackAll()
			}
			if err := r.sendDueAcks(now); err != nil {
				return err
			}
			return status.Errorf(r.closeCode, "zerobuslocal: stream closed by the server after CloseStreamSignal")
		}
		if !r.lifetimeAt.IsZero() && !now.Before(r.lifetimeAt) {
			r.lifetimeAt = time.Time{}
			if r.closeAt.IsZero() {
				if err := r.sendCloseSignal(Fault{CloseAfter: r.s.opts.StreamCloseGrace}); err != nil {
					return err
				}
			}
		}
		if r.halfClosed && (r.stalled || r.head == len(r.pending)) {
			return nil
		}

		var timerC <-chan time.Time
		if next := r.nextDeadline(); !next.IsZero() {
			timer.Reset(max(0, time.Until(next)))
			timerC = timer.C
		}
		select {
		case res := <-recv:
			if errors.Is(res.err, io.EOF) {
				r.halfClosed = true
				recv = nil
				r.s.events.add(Event{Kind: EventClientHalfClosed, Table: r.tableName, StreamID: r.streamID})
				continue
			}
			if res.err != nil {
				return res.err
			}
			var err error
			if res.fb != nil {
				err = r.handleFlight(res.fb)
				r.hold.give(res.fb.weight)
			} else {
				err = r.handle(res.in)
				r.hold.give(res.in.weight)
			}
			if err != nil {
				return err
			}
		case <-timerC:
		case <-r.s.closing:
			return status.Error(codes.Unavailable, "zerobuslocal: server shutting down")
		case <-r.ctx.Done():
			return status.FromContextError(r.ctx.Err()).Err()
		}
	}
}

// nextDeadline is the earliest time something is due (zero: nothing).
func (r *rpc) nextDeadline() time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if !r.stalled && r.head < len(r.pending) {
		// The first not-yet-due ack, or the coalescing interval.
		i := r.head
		for i < len(r.pending) && !r.pending[i].due.After(time.Now()) {
			i++
		}
		if i < len(r.pending) {
			consider(r.pending[i].due)
		}
		if i > r.head {
			consider(r.pending[r.head].due.Add(r.policy.Interval))
		}
	}
	for _, af := range r.faults {
		if af.f.After > 0 {
			consider(r.created.Add(af.f.After))
		}
	}
	consider(r.closeAt)
	consider(r.lifetimeAt)
	return next
}

// sendDueAcks sends one cumulative ack if the policy says so.
func (r *rpc) sendDueAcks(now time.Time) error {
	if r.stalled || r.head == len(r.pending) {
		return nil
	}
	i := r.head
	for i < len(r.pending) && !r.pending[i].due.After(now) {
		i++
	}
	eligible := i - r.head
	if eligible == 0 {
		return nil
	}
	if eligible < r.policy.Every && now.Before(r.pending[r.head].due.Add(r.policy.Interval)) {
		return nil
	}
	off, recs := r.pending[i-1].offset, r.pending[i-1].records
	r.head = i
	if r.head == len(r.pending) {
		r.pending, r.head = r.pending[:0], 0
	} else if r.head > 4096 && r.head > len(r.pending)/2 {
		r.pending = append(r.pending[:0], r.pending[r.head:]...)
		r.head = 0
	}
	r.beforeSend()
	err := r.tx.ack(off, recs)
	r.afterSend()
	if err != nil {
		return err
	}
	r.acked, r.ackedRecs = off, recs
	r.s.stats.acksSent.Add(1)
	r.s.events.add(Event{Kind: EventAckSent, Table: r.tableName, StreamID: r.streamID, Offset: off})
	return nil
}

// ackAll acknowledges every stored request now, past the ack policy's delay
// and coalescing (not with stalled acks: those are the fault's point).
func (r *rpc) ackAll() error {
	if r.head == len(r.pending) {
		return nil
	}
	last := r.pending[len(r.pending)-1].due
	if head := r.pending[r.head].due.Add(r.policy.Interval); head.After(last) {
		last = head
	}
	return r.sendDueAcks(last)
}

// handle validates, decodes and stores one ingest message.
func (r *rpc) handle(in *inbound) error {
	m0 := in.req
	r.s.stats.messagesReceived.Add(1)
	var (
		offset  int64
		hasOff  bool
		records [][]byte
		jsonRec bool
		avroRec bool
		rounded bool // records holds copies with DECIMAL text rounded
	)
	switch p := m0.GetPayload().(type) {
	case *zerobuspb.EphemeralStreamRequest_CreateStream:
		return invalid("create_stream sent twice on one stream (offset %d expected next)", r.nextOffset)
	case *zerobuspb.EphemeralStreamRequest_IngestRecord:
		ir := p.IngestRecord
		offset, hasOff = ir.GetOffsetId(), ir.OffsetId != nil
		switch rec := ir.GetRecord().(type) {
		case *zerobuspb.IngestRecordRequest_ProtoEncodedRecord:
			records = [][]byte{rec.ProtoEncodedRecord}
		case *zerobuspb.IngestRecordRequest_JsonRecord:
			records, jsonRec = [][]byte{[]byte(rec.JsonRecord)}, true
		case *zerobuspb.IngestRecordRequest_AvroEncodedRecord:
			records, avroRec = [][]byte{rec.AvroEncodedRecord}, true
		default:
			return invalid("ingest_record at offset %d has no record", offset)
		}
	case *zerobuspb.EphemeralStreamRequest_IngestRecordBatch:
		ib := p.IngestRecordBatch
		offset, hasOff = ib.GetOffsetId(), ib.OffsetId != nil
		switch b := ib.GetBatch().(type) {
		case *zerobuspb.IngestRecordBatchRequest_ProtoEncodedBatch:
			records = b.ProtoEncodedBatch.GetRecords()
		case *zerobuspb.IngestRecordBatchRequest_JsonBatch:
			jsonRec = true
			for _, j := range b.JsonBatch.GetRecords() {
				records = append(records, []byte(j))
			}
		case *zerobuspb.IngestRecordBatchRequest_AvroBatch:
			records, avroRec = b.AvroBatch.GetRecords(), true
		default:
			return invalid("ingest_record_batch at offset %d has no batch", offset)
		}
	default:
		return invalid("empty request message (no payload) after create_stream")
	}
	if !hasOff {
		return invalid("%s has no offset_id (want %d)", payloadName(m0), r.nextOffset)
	}
	if offset != r.nextOffset {
		return invalid("%s offset_id %d, want %d: wire offsets start at 0 on each stream and increase by 1 per request message", payloadName(m0), offset, r.nextOffset)
	}
	total := 0
	for _, rec := range records {
		total += len(rec)
	}
	if total > r.s.opts.MaxMessageBytes {
		return invalid("%s: %s at offset %d has %d bytes of records, the limit is %d", BatchTooLargeMessage, payloadName(m0), offset, total, r.s.opts.MaxMessageBytes)
	}
	if jsonRec != (r.recordType == zerobuspb.RecordType_JSON) || avroRec != (r.recordType == zerobuspb.RecordType_AVRO) {
		kind := "protobuf"
		switch {
		case jsonRec:
			kind = "JSON"
		case avroRec:
			kind = "Avro"
		}
		return invalid("%s at offset %d carries %s records on a %v stream", payloadName(m0), offset, kind, r.recordType)
	}
	var msgs []*dynamicpb.Message
	if avroRec {
		encoded := make([][]byte, len(records))
		for i, rec := range records {
			m, err := r.avro.decode(rec, r.table.md)
			if err == nil && r.decimals != nil {
				m, err = r.decimals.fixMessage(m, &r.decScratch)
			}
			if err != nil {
				return invalid("%s at offset %d, record %d of %d: %v (the whole request is rejected)", payloadName(m0), offset, i, len(records), err)
			}
			if encoded[i], err = marshalRecord(m); err != nil {
				return status.Errorf(codes.Internal, "%s at offset %d, record %d: %v", payloadName(m0), offset, i, err)
			}
			if r.variants != nil {
				if err := r.variants.check(encoded[i], 0); err != nil {
					return invalid("%s at offset %d, record %d of %d: %v (the whole request is rejected)", payloadName(m0), offset, i, len(records), err)
				}
			}
			if r.ranges != nil {
				if err := r.ranges.check(encoded[i], 0); err != nil {
					return invalid("%s at offset %d, record %d of %d: %v (the whole request is rejected)", payloadName(m0), offset, i, len(records), err)
				}
			}
		}
		records = encoded // stored in the table's protobuf form, decoded again by reads
	} else if jsonRec {
		if r.table.md != nil {
			msgs = make([]*dynamicpb.Message, len(records))
		}
		for i, rec := range records {
			if !utf8.Valid(rec) {
				return invalid("%s at offset %d, record %d of %d: the JSON text is not valid UTF-8 (the whole request is rejected)", payloadName(m0), offset, i, len(records))
			}
			if what := nonObjectJSON(rec); what != "" {
				return invalid("%s at offset %d, record %d of %d is %s; each record must be a JSON object (the whole request is rejected)", payloadName(m0), offset, i, len(records), what)
			}
			m, err := r.decodeJSON(rec)
			if err == nil && m != nil && r.notNull != nil {
				err = r.notNull.checkMessage(m)
			}
			if err == nil && m != nil && r.variants != nil {
				err = r.variants.checkMessage(m)
			}
			if err == nil && m != nil && r.decimals != nil {
				m, err = r.decimals.fixMessage(m, &r.decScratch)
			}
			if err == nil && m != nil && r.ranges != nil {
				err = r.ranges.checkMessage(m)
			}
			if err != nil {
				return invalid("%s at offset %d, record %d of %d: %v (the whole request is rejected)", payloadName(m0), offset, i, len(records), err)
			}
			if msgs != nil {
				msgs[i] = m
			}
		}
	} else {
		for i, rec := range records {
			err := r.validator.Validate(rec)
			if err != nil {
				if p := wireProblem(r.encodedMD, rec, "", 0); p != "" {
					err = errors.New(p)
				} else if p := missingRequired(r.encodedMD, rec, "", 0); p != "" {
					err = errors.New(p)
				}
			}
			if err == nil && r.utf8 != nil {
				err = r.utf8.check(rec, 0)
			}
			if err == nil && r.notNull != nil {
				err = r.notNull.check(rec, 0)
			}
			if err == nil && r.variants != nil {
				err = r.variants.check(rec, 0)
			}
			if err == nil && r.decimals != nil {
				var fixed []byte
				if fixed, err = r.decimals.fix(rec, 0, &r.decScratch); fixed != nil {
					if !rounded {
						records, rounded = slices.Clone(records), true
					}
					records[i] = fixed
				}
			}
			if err == nil && r.ranges != nil {
				err = r.ranges.check(rec, 0)
			}
			if err != nil {
				return invalid("%s at offset %d, record %d of %d: %v (the whole request is rejected)", payloadName(m0), offset, i, len(records), err)
			}
		}
	}
	b := &block{src: r.src, offset: offset, json: jsonRec, msgs: msgs}
	if in.spans != nil && !jsonRec && !rounded {
		b.buf, b.spans = in.buf, in.spans // the records alias the message
	} else {
		b.buf, b.spans = r.arena.copyRecords(records)
	}
	r.s.store(r.table, b)
	r.s.events.add(Event{Kind: EventMessageStored, Table: r.tableName, StreamID: r.streamID, Offset: offset, Records: len(records)})
	if r.s.log.Enabled(r.ctx, slog.LevelDebug) {
		r.s.log.Debug("zerobuslocal: stored", "stream_id", r.streamID, "payload", payloadName(m0), "offset", offset, "records", len(records))
	}

	r.queueAck(offset, len(records))
	return nil
}

// queueAck counts a stored message of n records and schedules its ack.
func (r *rpc) queueAck(offset int64, n int) {
	r.nextOffset++
	r.msgs++
	r.records += int64(n)
	due := time.Now().Add(r.policy.Delay)
	if r.policy.Jitter > 0 {
		due = due.Add(rand.N(r.policy.Jitter))
	}
	if due.Before(r.lastDue) {
		due = r.lastDue // keep acks FIFO
	}
	r.lastDue = due
	r.pending = append(r.pending, pendingAck{offset: offset, records: r.records, due: due})
}

// nonObjectJSON names what a JSON record that is valid JSON but not an
// object is ("null", "a JSON array", ...); "" for an object or for text
// that is not valid JSON (decodeJSON says what is wrong with it).
func nonObjectJSON(rec []byte) string {
	i := 0
	for i < len(rec) && (rec[i] == ' ' || rec[i] == '\t' || rec[i] == '\r' || rec[i] == '\n') {
		i++
	}
	if i == len(rec) || rec[i] == '{' || !json.Valid(rec) {
		return ""
	}
	switch rec[i] {
	case 'n':
		return "null"
	case '[':
		return "a JSON array"
	case '"':
		return "a JSON string"
	case 't', 'f':
		return "a JSON boolean"
	default:
		return "a JSON number"
	}
}

// decodeJSON checks one JSON record, an object (nonObjectJSON has refused
// other JSON values): a message of the table's descriptor, or any JSON
// object (nil message) for a raw JSON table.
func (r *rpc) decodeJSON(rec []byte) (*dynamicpb.Message, error) {
	tmd := r.table.md
	if tmd == nil {
		if !json.Valid(rec) {
			var v any
			err := json.Unmarshal(rec, &v) // says where the syntax is wrong
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		return nil, nil
	}
	m := dynamicpb.NewMessage(tmd)
	err := (protojson.UnmarshalOptions{AllowPartial: true}).Unmarshal(rec, m)
	if err == nil {
		if p := missingRequiredInMessage(m, "", 0); p != "" {
			return nil, errors.New(p) // a NOT NULL column left out or null, named as the other paths name it
		}
		err = proto.CheckInitialized(m)
	}
	if err != nil {
		return nil, fmt.Errorf("JSON does not match table schema %s: %s", tmd.FullName(), jsonError(err, tmd))
	}
	return m, nil
}

// copyByName copies src into dst matching fields by name (the schemas were
// checked compatible at create).
func copyByName(dst, src protoreflect.Message) {
	dfs := dst.Descriptor().Fields()
	src.Range(func(sfd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		dfd := dfs.ByName(sfd.Name())
		if dfd == nil {
			return true
		}
		switch {
		case sfd.IsMap():
			dm := dst.Mutable(dfd).Map()
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if sfd.MapValue().Message() != nil {
					nv := dm.NewValue()
					copyByName(nv.Message(), mv.Message())
					dm.Set(k, nv)
				} else {
					dm.Set(k, mv)
				}
				return true
			})
		case sfd.IsList():
			dl := dst.Mutable(dfd).List()
			sl := v.List()
			for i := 0; i < sl.Len(); i++ {
				if sfd.Message() != nil {
					nv := dl.NewElement()
					copyByName(nv.Message(), sl.Get(i).Message())
					dl.Append(nv)
				} else {
					dl.Append(sl.Get(i))
				}
			}
		case sfd.Message() != nil:
			copyByName(dst.Mutable(dfd).Message(), v.Message())
		case sfd.Enum() != nil:
			dst.Set(dfd, protoreflect.ValueOfEnum(v.Enum()))
		default:
			dst.Set(dfd, v) // same column type: the Go representation matches
		}
		return true
	})
}
