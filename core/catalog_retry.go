package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// A read of the table's columns from Unity Catalog that fails in a way that
// may pass (the token endpoint or the catalog unreachable, answering
// 5xx/408/429, or slower than create_timeout_ms) is handled the same way on
// both transports, and typed as a stream creation's failure of the same
// cause would be:
//
//   - arrow_flight cannot cast a batch without the table's schema: the read
//     is retried under the stream's retry rule (backoff, retry_max_attempts),
//     and past the budget the batch fails with a *RetryExhaustedError whose
//     Last is the failure, as a protobuf stream whose token fetch fails the
//     same way does (targetSchemaRetried);
//   - protobuf sends with the batch's own columns meanwhile (planFor). If the
//     server then refuses that schema, the refusal is no verdict on the
//     batch: the batch fails with the catalog's retryable error, and the next
//     send reads the catalog again (catalogRefusal, planStale).

// catalogUnread is why the last read of the table's columns failed.
type catalogUnread struct {
	err       error // as the read returned it (TransmissionError.CatalogUnread)
	retryable error // the error the read gave, when it may pass (IsRetryable); else nil
}

// catalogRefusal is the error of a stream refused for its schema (te) while
// the table's columns could not be read for a reason that may pass (why):
// why's error, retryable and of its kind, saying what the server refused.
// Plans made without the table's columns are made again at the next send.
func (w *Wrapper) catalogRefusal(te *TransmissionError, why error) error {
	w.target.refusals.Add(1)
	refused := fmt.Sprintf("server rejected the stream (%s)", CodeName(te.Code))
	if te.Message != "" {
		refused += ": " + te.Message
	}
	return wrapf(why, "zerobus: the table's columns could not be read from Unity Catalog, so the batch's columns were sent as they are and the %s; the next send reads the catalog again: ", refused)
}

// planStale reports whether a plan made without the table's columns
// (planFor) must be made again now: a stream was refused for its schema
// while the catalog could not be read (catalogRefusal) since the plan was
// made, when refusals was gen.
func (w *Wrapper) planStale(gen uint64) bool { return w.target.refusals.Load() != gen }

// targetSchemaRetried is targetSchema, with a failure that may pass
// (IsRetryable) read again under the stream's retry rule when retry is set:
// the backoff and retry_max_attempts of a stream creation, whose token fetch
// meets the same failures. Past the budget it returns a *RetryExhaustedError
// whose Last is the last failure.
func (w *Wrapper) targetSchemaRetried(ctx context.Context, caller *arrow.Schema, notBefore time.Time, retry bool) (*arrow.Schema, time.Time, error) {
	var rt *stream.Retrier
	for {
		s, fetched, err := w.targetSchema(ctx, caller, notBefore)
		if err == nil || !retry || w.client == nil || ctx.Err() != nil || !IsRetryable(err) {
			return s, fetched, err
		}
		if rt == nil {
			rt = w.client.NewRetrier()
		}
		// A retryable failure for the rule (it is one: IsRetryable above);
		// the rule counts it and gives the delay or the exhaustion.
		delay, terr := rt.OnFailure(ctx, &stream.ConnectionError{Op: "catalog", Err: err}, "", false)
		if terr != nil {
			var re *stream.RetryExhaustedError
			if errors.As(terr, &re) {
				return nil, time.Time{}, &RetryExhaustedError{Attempts: re.Attempts, Last: err}
			}
			return nil, time.Time{}, err
		}
		w.log.WarnContext(ctx, "zerobus: reading the table's columns from Unity Catalog failed; retrying",
			"table", w.cfg.TableName, "attempt", rt.Fails(), "delay", delay, "error", err)
		if serr := stream.Sleep(ctx, delay); serr != nil {
			return nil, time.Time{}, callEnded(ctx, "while waiting to read the table's columns from Unity Catalog again, before anything was sent")
		}
	}
}

// failedKeep is how long the error of a catalog read that ran out of
// attempts is kept for the sends of the schema (flightPlan): the longest
// wait the retry rule allows before its last attempt, base·2^(attempts-1)
// capped at the maximum delay, so that the sends right after (a
// SendReader's parts, a caller's next batch) fail with it instead of each
// retrying the catalog, and a send after that reads it again.
func (w *Wrapper) failedKeep() time.Duration {
	base, most := w.cfg.RetryBaseDelay, w.cfg.retryMaxDelay()
	d := base
	for i := 1; i < w.cfg.RetryMaxAttempts && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}
