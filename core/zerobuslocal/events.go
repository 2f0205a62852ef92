package zerobuslocal

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	grpcstats "google.golang.org/grpc/stats"
)

// EventKind names what happened in an Event.
type EventKind string

// The events the server records, in the order they usually happen.
const (
	EventTokenIssued      EventKind = "token_issued"      // Table
	EventTokenRejected    EventKind = "token_rejected"    // Table (if known), Message, HTTPStatus
	EventTableCreated     EventKind = "table_created"     // Table
	EventStreamCreated    EventKind = "stream_created"    // Table, StreamID
	EventStreamRejected   EventKind = "stream_rejected"   // Table, Code, Message
	EventMessageStored    EventKind = "message_stored"    // Table, StreamID, Offset, Records
	EventAckSent          EventKind = "ack_sent"          // Table, StreamID, Offset (acked up to)
	EventCloseSignalSent  EventKind = "close_signal_sent" // Table, StreamID, Duration
	EventFaultFired       EventKind = "fault_fired"       // Table, StreamID, Fault
	EventStreamEnded      EventKind = "stream_ended"      // Table, StreamID, Code, Message (Code OK = clean end)
	EventClientHalfClosed EventKind = "client_half_closed"
)

// Event is one thing the server did, recorded in order. Fields that do not
// apply to a kind are zero.
type Event struct {
	Seq        int64 // 1-based position in the event log
	Time       time.Time
	Kind       EventKind
	Table      string
	StreamID   string
	Offset     int64 // wire offset (message_stored) or acked-up-to offset (ack_sent)
	Records    int   // records in the stored message
	Code       codes.Code
	Message    string
	HTTPStatus int
	Duration   time.Duration
	Fault      FaultKind
}

// maxEvents bounds the event log; older events are dropped first.
const maxEvents = 1 << 18

// eventLog is a ring of the latest maxEvents events. It grows on demand, so
// a quiet server holds little.
type eventLog struct {
	mu      sync.Mutex
	ring    []Event // events[first..next) at ring[(start+i)%len(ring)]
	start   int     // ring index of the oldest event once the ring is full
	first   int64   // Seq of the oldest kept event
	next    int64   // Seq of the next event
	changed chan struct{}
	watched bool // changed was handed out: close and replace it on add
}

func newEventLog() *eventLog {
	return &eventLog{first: 1, next: 1, changed: make(chan struct{})}
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	e.Seq = l.next
	e.Time = time.Now()
	l.next++
	if len(l.ring) < maxEvents {
		if len(l.ring) == cap(l.ring) {
			// Grow by doubling, never past maxEvents (append's own growth
			// would overshoot the bound by up to a quarter).
			grown := make([]Event, len(l.ring), min(max(2*cap(l.ring), 1024), maxEvents))
			copy(grown, l.ring)
			l.ring = grown
		}
		l.ring = append(l.ring, e)
	} else {
		l.ring[l.start] = e
		l.start = (l.start + 1) % len(l.ring)
		l.first++
	}
	if l.watched {
		close(l.changed)
		l.changed = make(chan struct{})
		l.watched = false
	}
	l.mu.Unlock()
}

// since returns the events with Seq >= seq and a channel closed on the next add.
func (l *eventLog) since(seq int64) ([]Event, int64, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if seq < l.first {
		seq = l.first
	}
	var out []Event
	if n := int(l.next - seq); n > 0 {
		out = make([]Event, 0, n)
		i := (l.start + int(seq-l.first)) % len(l.ring)
		if i+n <= len(l.ring) {
			out = append(out, l.ring[i:i+n]...)
		} else {
			out = append(out, l.ring[i:]...)
			out = append(out, l.ring[:n-(len(l.ring)-i)]...)
		}
	}
	l.watched = true
	return out, l.next, l.changed
}

// Events returns a copy of the recorded events, oldest first (the log keeps
// at most the latest ~256k). Safe for concurrent use.
func (s *Server) Events() []Event {
	ev, _, _ := s.events.since(0)
	return ev
}

// WaitFor blocks until an event (already recorded or future) satisfies match
// and returns it, or returns ctx.Err(). Use it in tests instead of sleeping:
//
//	s.WaitFor(ctx, func(e Event) bool { return e.Kind == EventStreamCreated })
//
// match runs on the caller's goroutine and must not call back into s.
func (s *Server) WaitFor(ctx context.Context, match func(Event) bool) (Event, error) {
	var seq int64
	for {
		evs, next, changed := s.events.since(seq)
		for _, e := range evs {
			if match(e) {
				return e, nil
			}
		}
		seq = next
		select {
		case <-changed:
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// WaitForCount blocks until n events satisfy match (counting those already
// recorded), or returns ctx.Err().
func (s *Server) WaitForCount(ctx context.Context, n int, match func(Event) bool) error {
	count := 0
	_, err := s.WaitFor(ctx, func(e Event) bool {
		if match(e) {
			count++
		}
		return count >= n
	})
	return err
}

// Stats are cumulative counters since Start: none goes down when rows are
// evicted or tables dropped. The rows held now are RecordsStored -
// RowsDropped - RowsDeleted (less any that streams still open to a
// dropped table stored after the drop).
type Stats struct {
	TokensIssued     int64 `json:"tokens_issued"`     // successful token responses
	TokensRejected   int64 `json:"tokens_rejected"`   // token requests answered with an error status
	StreamsCreated   int64 `json:"streams_created"`   // create_stream answered with a stream id (sent, whether or not the client still waited for it)
	StreamsRejected  int64 `json:"streams_rejected"`  // RPCs that failed before a stream id was sent
	StreamsEnded     int64 `json:"streams_ended"`     // RPCs that ended after creation, for any reason
	MessagesReceived int64 `json:"messages_received"` // request messages received, create_stream included (valid or not)
	RecordsStored    int64 `json:"records_stored"`    // records stored across all tables
	AcksSent         int64 `json:"acks_sent"`         // ingest_record_response messages sent
	CloseSignals     int64 `json:"close_signals"`     // CloseStreamSignal messages sent
	FaultsFired      int64 `json:"faults_fired"`      // injected faults that fired
	RowsDropped      int64 `json:"rows_dropped"`      // oldest rows dropped to honour Options.MaxStoredRows
	RowsDeleted      int64 `json:"rows_deleted"`      // rows removed with their table (DropTable, DELETE .../tables/NAME)
	// BytesReceived counts the request message bytes of every RPC after
	// gRPC decompression; WireBytesReceived the same messages as they
	// arrived (smaller when the client compressed them, grpc-encoding).
	BytesReceived     int64 `json:"bytes_received"`
	WireBytesReceived int64 `json:"wire_bytes_received"`
}

type stats struct {
	tokensIssued, tokensRejected                  atomic.Int64
	streamsCreated, streamsRejected, streamsEnded atomic.Int64
	messagesReceived, recordsStored, acksSent     atomic.Int64
	closeSignals, faultsFired, rowsDropped        atomic.Int64
	rowsDeleted                                   atomic.Int64
	bytesReceived, wireBytesReceived              atomic.Int64
}

// HandleRPC counts the bytes of each request message received (the
// server's grpc stats.Handler).
func (s *stats) HandleRPC(_ context.Context, st grpcstats.RPCStats) {
	if in, ok := st.(*grpcstats.InPayload); ok {
		s.bytesReceived.Add(int64(in.Length))
		s.wireBytesReceived.Add(int64(in.CompressedLength))
	}
}

func (*stats) TagRPC(ctx context.Context, _ *grpcstats.RPCTagInfo) context.Context   { return ctx }
func (*stats) TagConn(ctx context.Context, _ *grpcstats.ConnTagInfo) context.Context { return ctx }
func (*stats) HandleConn(context.Context, grpcstats.ConnStats)                       {}

// Stats returns a snapshot of the counters. Safe for concurrent use.
func (s *Server) Stats() Stats {
	return Stats{
		TokensIssued:     s.stats.tokensIssued.Load(),
		TokensRejected:   s.stats.tokensRejected.Load(),
		StreamsCreated:   s.stats.streamsCreated.Load(),
		StreamsRejected:  s.stats.streamsRejected.Load(),
		StreamsEnded:     s.stats.streamsEnded.Load(),
		MessagesReceived: s.stats.messagesReceived.Load(),
		RecordsStored:    s.stats.recordsStored.Load(),
		AcksSent:         s.stats.acksSent.Load(),
		CloseSignals:     s.stats.closeSignals.Load(),
		FaultsFired:      s.stats.faultsFired.Load(),
		RowsDropped:      s.stats.rowsDropped.Load(),
		RowsDeleted:      s.stats.rowsDeleted.Load(),

		BytesReceived:     s.stats.bytesReceived.Load(),
		WireBytesReceived: s.stats.wireBytesReceived.Load(),
	}
}
