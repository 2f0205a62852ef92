package zerobuslocal

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// The Arrow Flight ingest service (arrow.flight.protocol.FlightService,
// DoPut only) on the gRPC port; see the package documentation for the
// protocol.

// flightService serves DoPut; every other Flight RPC is UNIMPLEMENTED.
type flightService struct {
	flight.BaseFlightServer
	s *Server
}

// flightBatch is one received record-batch FlightData.
type flightBatch struct {
	rec       arrow.RecordBatch // retained; released by the handler
	meta      []byte            // app_metadata
	bodyBytes int               // size of the IPC body (the record bytes)
	damaged   error             // what protoarrow.ArrowValidator found wrong in the body
	weight    int64             // what its messages took of Server.inflight
}

// FlightAck is the JSON of a PutResult's app_metadata.
type FlightAck struct {
	AckUpToOffset         int64  `json:"ack_up_to_offset"`
	AckUpToRecords        int64  `json:"ack_up_to_records"`
	CloseStreamDurationMs *int64 `json:"close_stream_duration_ms,omitempty"`
}

// flightTransport answers with PutResults.
type flightTransport struct {
	stream flight.FlightService_DoPutServer
}

func (f flightTransport) send(a FlightAck) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	return f.stream.Send(&flight.PutResult{AppMetadata: b})
}

func (f flightTransport) ack(offset, records int64) error {
	return f.send(FlightAck{AckUpToOffset: offset, AckUpToRecords: records})
}

func (f flightTransport) closeSignal(d time.Duration, offset, records int64) error {
	ms := d.Milliseconds()
	return f.send(FlightAck{AckUpToOffset: offset, AckUpToRecords: records, CloseStreamDurationMs: &ms})
}

// recordingStream remembers the size of the last FlightData body read,
// and verifies each header before the IPC reader sees it.
type recordingStream struct {
	flight.FlightService_DoPutServer
	lastBody   int
	maxMessage int // Options.MaxMessageBytes
	headers    protoarrow.IPCMessageVerifier
	hold       *gateHold // the RPC's share of Server.inflight
	taken      int64     // taken of it since the last batch
}

// Recv reads the next FlightData once the server's in-flight budget admits
// it (inflight.go).
func (r *recordingStream) Recv() (*flight.FlightData, error) {
	if err := r.hold.admit(); err != nil {
		return nil, admitErr(err)
	}
	fd, err := r.FlightService_DoPutServer.Recv()
	size := 0
	if fd != nil {
		size = len(fd.DataHeader) + len(fd.DataBody) + len(fd.AppMetadata)
	}
	r.taken += r.hold.arrived(size) // settles the admission, message or not
	if fd != nil {
		r.lastBody = len(fd.DataBody)
		if len(fd.DataHeader) > 0 {
			if herr := checkIPCHeader(&r.headers, fd, r.maxMessage); herr != nil {
				return nil, invalid("FlightData: %v", herr)
			}
		}
	}
	return fd, err
}

func (fs *flightService) DoPut(stream flight.FlightService_DoPutServer) error {
	s := fs.s
	if s.isClosing() {
		return status.Error(codes.Unavailable, "zerobuslocal: server shutting down")
	}
	// Headers first: official clients read a typed error only when the
	// response headers precede the error status.
	_ = stream.SendHeader(metadata.MD{})
	r := &rpc{s: s, tx: flightTransport{stream}, flight: true, ctx: stream.Context(), acked: -1}
	if p, ok := peer.FromContext(r.ctx); ok && p.Addr != nil {
		r.peerAddr = p.Addr.String()
	}
	hold := newGateHold(stream.Context(), s.inflight, admissionBytes(s.opts.MaxMessageBytes))
	defer hold.end()
	r.hold = hold
	rs := &recordingStream{FlightService_DoPutServer: stream, maxMessage: s.opts.MaxMessageBytes, hold: hold}
	reader, closeSignal, err := r.createFlight(rs)
	if err != nil {
		if reader != nil {
			reader.Release()
		}
		s.stats.streamsRejected.Add(1)
		st := status.Convert(err)
		s.events.add(Event{Kind: EventStreamRejected, Table: r.tableName, Code: st.Code(), Message: st.Message()})
		s.log.Info("zerobuslocal: flight stream rejected", "table", r.tableName, "code", st.Code(), "msg", st.Message())
		return err
	}

	recv := make(chan recvResult, 4)
	done := make(chan struct{})
	defer close(done)
	s.handlers.Add(1)
	go func() {
		defer s.handlers.Done()
		defer reader.Release() // the reader is this goroutine's
		// arrow-go trusts the offsets and lengths in a body: each batch is
		// validated before anything reads a value of it.
		valid := protoarrow.NewArrowValidator()
		for {
			var res recvResult
			if next, perr := safeNext(reader); perr != nil {
				res.err = perr
			} else if next {
				rec := reader.RecordBatch()
				rec.Retain()
				res.fb = &flightBatch{rec: rec, meta: bytes.Clone(reader.LatestAppMetadata()), bodyBytes: rs.lastBody,
					damaged: valid.Record(rec), weight: rs.taken}
				rs.taken = 0
			} else {
				res.err = reader.Err()
				if res.err == nil {
					res.err = io.EOF
				} else if _, isStatus := status.FromError(res.err); !isStatus {
					// Not a transport error: the client sent something
					// that is not an Arrow IPC record batch stream.
					res.err = invalid("reading the Flight stream: %v", res.err)
				}
			}
			select {
			case recv <- res:
			case <-done:
				if res.fb != nil {
					res.fb.rec.Release()
				}
				return
			}
			if res.err != nil {
				return
			}
		}
	}()
	r.recv = recv
	defer func() {
		// Release batches the loop did not take.
		for {
			select {
			case res := <-recv:
				if res.fb != nil {
					res.fb.rec.Release()
				}
			default:
				return
			}
		}
	}()

	if closeSignal != nil {
		r.fired(closeSignal)
		if err = r.sendCloseSignal(closeSignal.f); err != nil {
			return err
		}
	}
	err = r.loop()
	s.stats.streamsEnded.Add(1)
	st := status.Convert(err)
	s.events.add(Event{Kind: EventStreamEnded, Table: r.tableName, StreamID: r.streamID, Code: st.Code(), Message: st.Message()})
	s.log.Debug("zerobuslocal: flight stream ended", "table", r.tableName, "stream_id", r.streamID, "code", st.Code())
	return err
}

// createFlight checks the headers, the token and the schema message,
// finds (or creates) the table and sends READY.
func (r *rpc) createFlight(rs *recordingStream) (*flight.Reader, *armedFault, error) {
	s := r.s
	md, _ := metadata.FromIncomingContext(r.ctx)
	if v := md.Get(HeaderTableName); len(v) > 0 {
		r.tableName = v[0]
	}
	if r.tableName == "" {
		return nil, nil, invalid("missing %s request header", HeaderTableName)
	}
	if err := checkTableName(r.tableName); err != nil {
		return nil, nil, invalid("%s: %v", HeaderTableName, err)
	}
	if err := r.authenticate(md); err != nil {
		return nil, nil, err
	}
	closeSignal, err := r.armFaults()
	if err != nil {
		return nil, nil, err
	}

	reader, err := safeNewReader(rs)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, invalid("the Flight stream ended before its schema message")
		}
		if _, ok := status.FromError(err); ok && !strings.Contains(err.Error(), "arrow/flight") {
			return nil, nil, err
		}
		return nil, nil, invalid("the first FlightData must be an Arrow IPC schema message: %v", err)
	}
	s.stats.messagesReceived.Add(1)
	schema := reader.Schema()

	t, _, err := s.lookupTable(r.tableName, func() (*table, error) {
		cols, err := columnsFromArrow(schema)
		if err != nil {
			return nil, err
		}
		return newTable(r.tableName, cols, nil, nil)
	})
	if errors.Is(err, ErrNoTable) {
		return reader, nil, status.Errorf(codes.NotFound, "table %s does not exist: %s", r.tableName, noTableHint)
	}
	if err != nil {
		return reader, nil, invalid("Arrow schema: %v", err)
	}
	r.table = t
	if t.md == nil {
		return reader, nil, invalid("table %s has no schema (it was created by a JSON stream); Arrow streams need a table with columns", r.tableName)
	}
	if problems := compareArrowSchema(t.arrow, schema); len(problems) > 0 {
		return reader, nil, schemaError(r.tableName, problems)
	}
	r.streamID = "flight-" + randomHex(12)
	r.src = &source{streamID: r.streamID, md: t.md, tableMD: t.md, v: t.validator}
	r.decimals = newDecimalPlan(t.cols, t.md)
	r.policy = s.ackPolicy(r.tableName).normalized()
	r.start()
	r.beforeSend()
	err = r.tx.ack(-1, 0) // READY
	r.afterSend()
	if err != nil {
		return reader, nil, err
	}
	s.stats.streamsCreated.Add(1)
	s.events.add(Event{Kind: EventStreamCreated, Table: r.tableName, StreamID: r.streamID})
	if s.log.Enabled(r.ctx, slog.LevelDebug) {
		s.log.Debug("zerobuslocal: flight stream created", "table", r.tableName, "stream_id", r.streamID, "schema", schema.String(), "user_agent", md.Get("user-agent"))
	}
	return reader, closeSignal, nil
}

// safeNewReader reads the schema message; a malformed message that makes
// the IPC decoder panic is an INVALID_ARGUMENT, not a crash.
func safeNewReader(rs *recordingStream) (reader *flight.Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			reader, err = nil, fmt.Errorf("malformed IPC schema message (%v)", p)
		}
	}()
	return flight.NewRecordReader(rs, ipc.WithAllocator(memory.DefaultAllocator))
}

// safeNext is reader.Next with a panic of the IPC decoder (malformed
// input) turned into INVALID_ARGUMENT.
func safeNext(reader *flight.Reader) (next bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			next, err = false, invalid("reading the Flight stream: malformed IPC message (%v)", p)
		}
	}()
	return reader.Next(), nil
}

// BatchTooLargeMessage is the status message of a request whose record
// bytes exceed Options.MaxMessageBytes (INVALID_ARGUMENT).
const BatchTooLargeMessage = "Batch size exceeds maximum allowed size"

// handleFlight checks, converts and stores one record batch.
func (r *rpc) handleFlight(fb *flightBatch) error {
	defer fb.rec.Release()
	r.s.stats.messagesReceived.Add(1)
	if r.discarding {
		return nil
	}
	var meta struct {
		OffsetID *int64 `json:"offset_id"`
	}
	if err := json.Unmarshal(fb.meta, &meta); err != nil || meta.OffsetID == nil {
		return invalid("FlightData app_metadata %q: want JSON {\"offset_id\": n}", fb.meta)
	}
	if off := *meta.OffsetID; off != r.nextOffset {
		return invalid("Non-incremental offset: expected %d, actual %d", r.nextOffset, off)
	}
	offset := r.nextOffset
	if fb.bodyBytes > r.s.opts.MaxMessageBytes {
		return invalid("%s: batch at offset %d has %d bytes of records, the limit is %d", BatchTooLargeMessage, offset, fb.bodyBytes, r.s.opts.MaxMessageBytes)
	}
	if errors.Is(fb.damaged, protoarrow.ErrValidatorFailure) {
		return status.Errorf(codes.Internal, "batch at offset %d: %v (a bug of the local server's validator, not of the batch)", offset, fb.damaged)
	}
	if fb.damaged != nil {
		return invalid("batch at offset %d: %v (the whole batch is rejected; the client sent a damaged Arrow record batch)", offset, fb.damaged)
	}
	n := int(fb.rec.NumRows())
	if r.partial != nil {
		keep := r.partial.f.Records
		if keep <= 0 || keep >= n {
			keep = n / 2
		}
		prefix := fb.rec.NewSlice(0, int64(keep))
		defer prefix.Release()
		fb.rec = prefix // the deferred Release above still releases the whole batch
		n = keep
	}
	buf, spans, err := encodeArrowRows(fb.rec, r.table.md, r.table.arrow, fb.bodyBytes+8*n)
	if err != nil {
		return invalid("batch at offset %d: %v (the whole batch is rejected)", offset, err)
	}
	if r.decimals != nil {
		if buf, spans, err = r.roundDecimals(buf, spans); err != nil {
			return invalid("batch at offset %d: %v (the whole batch is rejected)", offset, err)
		}
	}
	if n > 0 {
		r.s.store(r.table, &block{src: r.src, offset: offset, buf: buf, spans: spans})
	}
	r.s.events.add(Event{Kind: EventMessageStored, Table: r.tableName, StreamID: r.streamID, Offset: offset, Records: n})
	if r.partial == nil {
		r.queueAck(offset, n)
		return nil
	}
	// Partial ack: everything before goes out, then the prefix of this
	// batch with the close announcement; intake stops.
	af := r.partial
	r.partial = nil
	r.discarding = true
	r.nextOffset++
	r.records += int64(n)
	if !r.stalled && r.head < len(r.pending) {
		last := r.pending[len(r.pending)-1]
		r.beforeSend()
		err := r.tx.ack(last.offset, last.records)
		r.afterSend()
		if err != nil {
			return err
		}
		r.s.stats.acksSent.Add(1)
	}
	r.pending, r.head = r.pending[:0], 0
	r.acked, r.ackedRecs = offset-1, r.records
	r.s.events.add(Event{Kind: EventAckSent, Table: r.tableName, StreamID: r.streamID, Offset: offset - 1, Records: int(r.records)})
	return r.sendCloseSignal(Fault{CloseAfter: af.f.CloseAfter})
}

// authenticate checks the bearer token of the request metadata for the
// RPC's table.
func (r *rpc) authenticate(md metadata.MD) error {
	auth := ""
	if v := md.Get(HeaderAuthorization); len(v) > 0 {
		auth = v[0]
	}
	if tok, ok := strings.CutPrefix(auth, "Bearer "); ok {
		r.token = strings.TrimSpace(tok)
	} else if auth != "" {
		return status.Error(codes.Unauthenticated, "the authorization header must be \"Bearer <token>\"")
	}
	if msg, unauth := r.s.checkToken(r.token, r.tableName); msg != "" {
		if unauth {
			return status.Error(codes.Unauthenticated, msg)
		}
		return status.Error(codes.PermissionDenied, msg)
	}
	return nil
}
