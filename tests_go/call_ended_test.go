package tests_go

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A send whose caller's context ends says so, and what ended it (the
// context's cause, e.g. a timeout the caller named), on both transports; the
// rows are unknown (sent, never acknowledged) and the error stays a
// context.DeadlineExceeded (KindCanceled). It was a bare "context deadline
// exceeded".
func TestSendEndedByTheCallersTimeoutSaysSo(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.call_ended_" + transport
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			cfg.FlushTimeout = 200 * time.Millisecond // Close gives up on the stalled acks
			w := newWrapper(t, cfg)
			rec := eventBatch(memory.DefaultAllocator, 0, 4)
			defer rec.Release()
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
			cause := errors.New("timeout=0.3 s passed (" + context.DeadlineExceeded.Error() + ")")
			ctx, cancel := context.WithTimeoutCause(testCtx(t), 300*time.Millisecond, causeErr{cause})
			defer cancel()
			res, err := w.SendBatch(ctx, rec)
			if err == nil || res == nil || res.UnknownCount != 4 {
				t.Fatalf("send with stalled acks: %v, %v; want 4 unknown rows and an error", res, err)
			}
			for _, e := range []error{err, res.FailedRows[0].Err} {
				msg := e.Error()
				if !strings.Contains(msg, "zerobus: the call ran out of time before the server acknowledged these rows: timeout=0.3 s passed") ||
					!errors.Is(e, context.DeadlineExceeded) || core.KindOf(e) != core.KindCanceled {
					t.Errorf("error %q (kind %s): want it to say the call ran out of time, name the cause, and be a DeadlineExceeded", msg, core.KindOf(e))
				}
				checkOnePrefix(t, msg)
			}
		})
	}
}

// causeErr is a cause wrapping context.DeadlineExceeded, as pybind's.
type causeErr struct{ error }

func (c causeErr) Unwrap() error { return context.DeadlineExceeded }
