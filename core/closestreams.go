package core

import (
	"context"
	"errors"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/flightstream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// Close and a stream's terminal error: Close returns the error of a stream
// only when it left requests unacknowledged at Close (rows whose outcome no
// call reported as durable), or when Close itself ran out of time. A stream
// the server ended with an error while nothing was pending on it (every
// request acknowledged, every row reported durable) hurt no row: its error
// is logged once and Close does not fail with it, however the failure and
// Close interleave. A later send opens a new stream in its slot (startSlot).

// closeProtoStream closes a protobuf stream at Wrapper.Close.
func (w *Wrapper) closeProtoStream(ctx context.Context, st *stream.Stream) error {
	err := st.Close(ctx)
	if err == nil || errors.Is(err, stream.ErrClosed) {
		return nil
	}
	// Unacked lists the requests the stream ended with unresolved: none
	// means its failure reached no row.
	if !stream.ContextEnded(err) && len(st.Unacked()) == 0 {
		w.logIdleStreamError(ctx, err)
		return nil
	}
	return err
}

// closeFlightStream closes an Arrow Flight stream at Wrapper.Close. Close
// waits for every running call first, so a stream already ended had its
// error delivered to every batch it carried; for one still running, a
// flush that succeeds shows nothing is pending, and an error after it
// reached no batch.
func (w *Wrapper) closeFlightStream(ctx context.Context, st *flightstream.Stream) error {
	select {
	case <-st.Done():
		if err := st.Close(ctx); err != nil && !errors.Is(err, stream.ErrClosed) && !stream.ContextEnded(err) {
			w.log.WarnContext(ctx, "zerobus: a stream had ended with an error before Close; the batches on it, if any, were resolved with it",
				"table", w.cfg.TableName, "error", fromStream(err, w.cfg.TableName, w.cfg.Endpoint))
		}
		return nil
	default:
	}
	ferr := st.Flush(ctx)
	if ferr != nil && stream.ContextEnded(ferr) {
		// Still unacknowledged when the time ran out: abort at once (the
		// flush already waited) and report it.
		ended, cancel := context.WithCancel(ctx)
		cancel()
		_ = st.Close(ended)
		return ferr
	}
	err := st.Close(ctx)
	if ferr == nil && err != nil && !errors.Is(err, stream.ErrClosed) && !stream.ContextEnded(err) {
		w.logIdleStreamError(ctx, err)
		return nil
	}
	return err
}

// logIdleStreamError logs the error of a stream that ended while nothing
// was pending on it.
func (w *Wrapper) logIdleStreamError(ctx context.Context, err error) {
	w.log.WarnContext(ctx, "zerobus: a stream ended with an error while no request was pending on it; no row was affected",
		"table", w.cfg.TableName, "error", fromStream(err, w.cfg.TableName, w.cfg.Endpoint))
}
