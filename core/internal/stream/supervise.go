package stream

import (
	"context"
	"errors"
	"log/slog"
)

// Supervised is one transport's stream as Supervise drives it (Stream here,
// flightstream.Stream); R is its RPC handle, the zero R meaning "no RPC".
// Implementations are small unexported adapters over the stream.
type Supervised[R comparable] interface {
	Context() context.Context    // the stream's: it ends on abort
	PendingCtx() context.Context // for logs and spans of recovery
	Logger() *slog.Logger
	Watch(r R) (Event, error)                             // see RPCState.Watch
	Detach(r R, cause error) (progress bool, pending int) // stop r; unacknowledged work becomes unsent
	Install(r R)                                          // make r current and start its goroutines
	Reconnect(rt *Retrier, reason string) (R, error)      // open the next RPC
	Idle() error                                          // see RPCState.Idle; the abort cause if aborted
	CleanDone() bool                                      // see RPCState.CleanDone
	Finish(err error)                                     // end the stream (err nil: clean)
	AbortCause() error
	Cred(r R) string    // the credential r was opened with
	LogAttrs(r R) []any // the attributes of every log record about r
	CountRetry(err error)
}

// SuperviseText is what differs between transports in Supervise's logs.
type SuperviseText struct {
	Rotating   string // the server announced the end of the RPC
	Failed     string // the stream failed terminally
	Recovering string // a failed RPC is replaced
	Unit       string // what the server acknowledges: "request", "record"
	// IdleEnd, if set, is logged (debug) when an RPC with nothing pending
	// ends retryably, and that end restarts the failure count.
	IdleEnd string
}

// Supervise runs until the stream s ends: it watches the current RPC r
// (the zero R: none), moves to a new one on announced ends and retryable
// failures, per rt, and finishes the stream. rotateCause is the cancel
// cause of an RPC left after an announced end.
func Supervise[R comparable](s Supervised[R], r R, rt *Retrier, rotateCause error, text SuperviseText) {
	var none R
	log := s.Logger()
	// reason is why the stream is moving to a new RPC: "close_signal" or
	// the error kind of the failure that ended the last one.
	var reason string
	for {
		if r == none {
			// Idle: nothing was pending when the last RPC ended.
			if err := s.Idle(); err != nil || s.CleanDone() {
				s.Finish(err)
				return
			}
		} else {
			ev, err := s.Watch(r)
			if ev != EventClean && s.Context().Err() != nil {
				ev = EventAbort
			}
			switch ev {
			case EventAbort:
				s.Detach(r, s.AbortCause())
				s.Finish(s.AbortCause())
				return
			case EventClean:
				s.Detach(r, nil)
				s.Finish(nil)
				return
			}
			cause := err
			reason = errorKind(err)
			if ev == EventRotate {
				cause = rotateCause
				reason = "close_signal"
			}
			progress, pending := s.Detach(r, cause)
			if progress {
				rt.Progress()
			}
			lctx := s.PendingCtx()
			attrs := s.LogAttrs(r)
			if ev == EventRotate {
				// Counted in zerobus.stream.recoveries once the new RPC is up.
				log.InfoContext(lctx, text.Rotating, append(attrs, "pending", pending)...)
			}
			if pending == 0 {
				// Nothing to re-send: reconnect lazily on the next Send.
				if ev == EventFail && TerminalWhenIdle(err) {
					log.WarnContext(lctx, text.Failed, append(attrs, "error", err)...)
					s.Finish(err)
					return
				}
				if text.IdleEnd != "" {
					log.DebugContext(lctx, text.IdleEnd, append(attrs, "error", err)...)
					rt.st.fails = 0
				}
				r = none
				continue
			}
			if ev == EventRotate && !progress {
				// An announced end before anything was acknowledged counts
				// as a failure, so a server that keeps doing it is bounded.
				err = &ConnectionError{Op: "close-signal", Err: errors.New("server closed the stream before acknowledging any pending " + text.Unit)}
			}
			if ev == EventFail || !progress {
				delay, terr := rt.OnFailure(lctx, err, s.Cred(r), ev == EventFail)
				if terr != nil {
					log.WarnContext(lctx, text.Failed, append(attrs, "error", terr)...)
					s.Finish(terr)
					return
				}
				s.CountRetry(err)
				log.WarnContext(lctx, text.Recovering, append(attrs,
					"pending", pending, "attempt", rt.Fails(), "delay", delay, "error", err)...)
				if serr := sleepCtx(s.Context(), delay); serr != nil {
					s.Finish(s.AbortCause())
					return
				}
			}
		}
		nr, err := s.Reconnect(rt, reason)
		if err != nil {
			if s.Context().Err() != nil {
				err = s.AbortCause()
			}
			s.Finish(err)
			return
		}
		s.Install(nr)
		r = nr
	}
}

// TerminalWhenIdle reports whether a failure of an RPC with nothing pending
// ends the stream (a permanent error); anything else reconnects lazily.
func TerminalWhenIdle(err error) bool {
	return !IsRetryable(err) && !isAuthCode(codeOf(err))
}
