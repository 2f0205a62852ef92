package zerobuslocal

import (
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
)

// FaultKind selects what an injected Fault does.
type FaultKind string

// Fault kinds. Stream faults fire on a gRPC stream of the fault's table; token
// faults fire on a token request for it.
const (
	// FaultError ends the RPC with status Code (default UNAVAILABLE) and
	// Message. With no trigger it fires at create, before the stream id is
	// sent; otherwise after AfterMessages stored messages or After time.
	FaultError FaultKind = "error"
	// FaultEndStream ends the RPC cleanly (status OK, no error) as a server
	// restart or load balancer would.
	FaultEndStream FaultKind = "end_stream"
	// FaultDropConnection closes the TCP connection carrying the RPC without
	// a status: the client sees a transport error (UNAVAILABLE) on this and
	// every other RPC multiplexed on that connection. The acks due before
	// the fault (with immediate acks, those of every message stored) reach
	// the client first: the server waits until the connection's writes have
	// gone idle after it queued them (at most 100ms, logged if reached) and
	// then closes it.
	FaultDropConnection FaultKind = "drop_connection"
	// FaultStallAcks stops sending acks on the RPC (messages are still
	// received and stored) until the RPC ends.
	FaultStallAcks FaultKind = "stall_acks"
	// FaultCloseSignal sends CloseStreamSignal{duration: CloseAfter} and ends
	// the RPC CloseAfter later with status Code (default OK, a clean end).
	// Messages keep being received and acked in between.
	FaultCloseSignal FaultKind = "close_signal"
	// FaultPartialAck applies to Arrow Flight streams only: the batch that
	// arrives after AfterMessages stored batches is acknowledged partially
	// (its first Records records, default half of it, are stored and acked
	// in a PutResult that also carries close_stream_duration_ms =
	// CloseAfter); the rest of it and every later batch on the RPC are
	// dropped unacknowledged, and the RPC ends cleanly CloseAfter later. The
	// client must replay the unacknowledged suffix on a new stream.
	FaultPartialAck FaultKind = "partial_ack"
	// FaultCreateDelay holds the create response (the Flight READY) back by
	// Latency, as a slow service does; a client's create timeout may fire
	// first.
	FaultCreateDelay FaultKind = "create_delay"
	// FaultExpireToken revokes the RPC's bearer token and ends the RPC with
	// UNAUTHENTICATED, as when a token expires mid-stream.
	FaultExpireToken FaultKind = "expire_token"
	// FaultTokenError answers a token request with HTTPStatus (default 500)
	// and Message.
	FaultTokenError FaultKind = "token_error"
	// FaultTokenLatency delays a token request by Latency before it is
	// handled normally (the client's timeout may fire first).
	FaultTokenLatency FaultKind = "token_latency"
)

// PipelineBlockedMessage is the text of the "pipeline creation temporarily
// blocked" error that the real service returns (error code 6006) while it
// throttles stream creation; see PipelineBlockedFault.
const PipelineBlockedMessage = "error 6006: pipeline creation is temporarily blocked for this table, retry later"

// Fault describes one injected failure. A one-shot fault (Persistent false)
// fires once, on the first stream (or token request) that reaches its
// trigger, and is then removed; a persistent fault fires on every one until
// ClearFaults.
//
// Fault decodes from JSON as Options does (snake_case keys, durations in
// nanoseconds); Code as a gRPC code name such as "UNAVAILABLE" or a number.
type Fault struct {
	Kind FaultKind `json:"kind"`
	// AfterMessages triggers a stream fault once this many ingest messages
	// have been stored on the RPC (and, with immediate acks, acked: the
	// client receives those acks before the fault's status or, for
	// FaultDropConnection, before the connection drops; the messages sent
	// after the last of them are not stored). 0 means no count trigger.
	AfterMessages int `json:"after_messages"`
	// After triggers a stream fault this long after the stream was created.
	// 0 means no time trigger. With neither trigger the fault fires at create.
	After time.Duration `json:"after_ns"`
	// Code is the gRPC status of FaultError (default UNAVAILABLE) and of the
	// forced close of FaultCloseSignal (default OK).
	Code codes.Code `json:"code"`
	// Message is the status message (FaultError) or the token error
	// description (FaultTokenError). A default naming the fault is used when
	// empty.
	Message string `json:"message"`
	// Persistent makes the fault fire on every stream / token request.
	Persistent bool `json:"persistent"`
	// CloseAfter is FaultCloseSignal's announced duration and the time until
	// the forced close. Default 1s.
	CloseAfter time.Duration `json:"close_after_ns"`
	// HTTPStatus is FaultTokenError's status. Default 500.
	HTTPStatus int `json:"http_status"`
	// Latency is FaultTokenLatency's delay.
	Latency time.Duration `json:"latency_ns"`
	// Records is how many records of the batch FaultPartialAck acknowledges
	// (0: half of the batch, at least one record is always dropped when the
	// batch has two or more).
	Records int `json:"records"`
}

// PipelineBlockedFault returns a persistent FaultError at create with
// RESOURCE_EXHAUSTED and PipelineBlockedMessage, as the service answers while
// stream creation for a table is throttled. Clear it with ClearFaults.
func PipelineBlockedFault() Fault {
	return Fault{Kind: FaultError, Code: codes.ResourceExhausted, Message: PipelineBlockedMessage, Persistent: true}
}

func (f Fault) isToken() bool { return f.Kind == FaultTokenError || f.Kind == FaultTokenLatency }

func (f Fault) atCreate() bool { return f.AfterMessages <= 0 && f.After <= 0 }

type armedFault struct {
	table string // "" = every table
	f     Fault
	fired atomic.Bool
}

type faultStore struct {
	mu     sync.Mutex
	faults []*armedFault
}

// checkedFaultOptions are the Fault options Check refuses out of range:
// durations and counts (0: unset) must not be negative.
var checkedFaultOptions = []checkedOption[Fault]{
	{"AfterMessages", "after_messages", func(f *Fault) any { return f.AfterMessages }, notNegative},
	{"After", "after_ns", func(f *Fault) any { return f.After }, notNegative},
	{"CloseAfter", "close_after_ns", func(f *Fault) any { return f.CloseAfter }, notNegative},
	{"Latency", "latency_ns", func(f *Fault) any { return f.Latency }, notNegative},
	{"Records", "records", func(f *Fault) any { return f.Records }, notNegative},
	{"HTTPStatus", "http_status", func(f *Fault) any { return f.HTTPStatus }, httpStatus},
}

// httpStatus is the rule of HTTPStatus: 0 (the default, 500) or a status
// net/http can write.
func httpStatus(v any) string {
	if n := v.(int); n != 0 && (n < 100 || n > 599) {
		return "must be an HTTP status between 100 and 599 (0: 500)"
	}
	return ""
}

// Check reports every option of f out of range (an unknown Kind, a
// negative duration or count, an HTTP status outside 100..599) as an
// *OptionsError wrapping ErrInvalidFault, naming each by its field and
// JSON key; nil when f can be armed.
func (f Fault) Check() error {
	var bad []OptionProblem
	if msg := f.Kind.problem(); msg != "" {
		bad = append(bad, OptionProblem{Field: "Kind", Key: "kind", Value: strconv.Quote(string(f.Kind)), Msg: msg})
	}
	bad = checkAll(bad, &f, checkedFaultOptions)
	if len(bad) == 0 {
		return nil
	}
	return &OptionsError{Problems: bad, of: ErrInvalidFault}
}

// InjectFault arms f for table ("" = every table). Stream faults are picked
// up by streams created afterwards. A fault out of range (Fault.Check) is
// refused with that error and not armed. Safe for concurrent use.
func (s *Server) InjectFault(table string, f Fault) error {
	if err := f.Check(); err != nil {
		return err
	}
	if (f.Kind == FaultCloseSignal || f.Kind == FaultPartialAck) && f.CloseAfter <= 0 {
		f.CloseAfter = time.Second
	}
	if f.Kind == FaultTokenError && f.HTTPStatus == 0 {
		f.HTTPStatus = 500
	}
	s.faults.mu.Lock()
	s.faults.faults = append(s.faults.faults, &armedFault{table: table, f: f})
	s.faults.mu.Unlock()
	return nil
}

// ClearFaults removes every armed fault of table ("" removes all faults of
// all tables). Streams that already picked a fault up keep it.
func (s *Server) ClearFaults(table string) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if table == "" {
		s.faults.faults = nil
		return
	}
	kept := s.faults.faults[:0]
	for _, af := range s.faults.faults {
		if af.table != table {
			kept = append(kept, af)
		}
	}
	s.faults.faults = kept
}

// matching returns the armed faults for table of the token or stream class.
func (fs *faultStore) matching(table string, token bool) []*armedFault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var out []*armedFault
	for _, af := range fs.faults {
		if (af.table == "" || af.table == table) && af.f.isToken() == token && !af.fired.Load() {
			out = append(out, af)
		}
	}
	return out
}

// claim reports whether af may fire now; a one-shot fault is claimed once
// and removed.
func (fs *faultStore) claim(af *armedFault) bool {
	if af.f.Persistent {
		return true
	}
	if !af.fired.CompareAndSwap(false, true) {
		return false
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for i, x := range fs.faults {
		if x == af {
			fs.faults = append(fs.faults[:i], fs.faults[i+1:]...)
			break
		}
	}
	return true
}
