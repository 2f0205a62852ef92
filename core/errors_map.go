package core

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// fromStream converts an error of the stream client into this package's
// typed errors, keeping the original in the chain (errors.As still finds
// the stream types, errors.Is finds context errors).
func fromStream(err error, table, endpoint string) error {
	if err == nil {
		return nil
	}
	var (
		re  *stream.RetryExhaustedError
		ae  *stream.AuthError
		te  *stream.TokenError
		ce  *stream.ConnectionError
		se  *stream.ServerError
		mte *stream.MessageTooLargeError
		hn  *stream.HostNotFoundError
		cf  *stream.CertificateError
	)
	switch {
	case errors.As(err, &re):
		return &RetryExhaustedError{Attempts: re.Attempts, Last: fromStream(re.Last, table, endpoint)}
	case errors.As(err, &ae):
		return &AuthenticationError{Table: table, Reason: ae.What, Keys: ae.Keys, Err: ae.Err}
	case errors.As(err, &te):
		return &TokenRefreshError{URL: te.URL, StatusCode: te.StatusCode, Retryable: te.Retryable, Err: te}
	case stream.ContextEnded(err): // the caller's context wins over any connection error or status in the chain
		return err
	case errors.As(err, &hn):
		return &ConnectionError{Endpoint: endpoint, Err: hn}
	case errors.As(err, &cf):
		return &ConnectionError{Endpoint: endpoint, Err: cf}
	case errors.As(err, &ce):
		return &ConnectionError{Endpoint: endpoint, Err: ce}
	case errors.As(err, &se):
		return &TransmissionError{Code: se.Code, Message: se.Message, Causes: se.Causes, Err: se}
	case errors.As(err, &mte):
		return &ConversionError{Row: -1, Reason: mte.Error(), Err: mte}
	case errors.Is(err, stream.ErrClosed):
		return fmt.Errorf("%w (%s)", ErrClosed, causeText(err))
	}
	code := codes.OK // not a gRPC status: IsRetryable says no
	if st, ok := status.FromError(err); ok {
		code = st.Code()
	}
	return &TransmissionError{Code: code, Message: causeText(err), Err: err}
}

// fromSchemaError converts a plan build failure into a *ConversionError for
// the whole batch (Row -1), listing every problem.
func fromSchemaError(err error) error {
	var se *convert.SchemaError
	if !errors.As(err, &se) || len(se.Problems) == 0 {
		return &ConversionError{Row: -1, Reason: "the Arrow schema cannot be converted: " + causeText(err), Err: err}
	}
	col := ""
	if len(se.Problems) == 1 {
		col = se.Problems[0].Column
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the Arrow schema cannot be sent to Zerobus (%d problem", len(se.Problems))
	if len(se.Problems) != 1 {
		b.WriteString("s")
	}
	b.WriteString("): ")
	for i, p := range se.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.String()) // `column "a" (uint8): reason`; a schema-level problem its reason alone
	}
	return &ConversionError{Row: -1, Column: col, Reason: b.String(), Err: err}
}

// fromRowError converts a per-row encoding failure. offset is the index of
// the chunk's first row in the caller's batch. The cause kept (what
// errors.Unwrap gives) is a copy of re naming the row in the caller's
// batch, as the error does, not within its chunk.
func fromRowError(re *convert.RowError, offset int) *ConversionError {
	reason := re.Reason
	if reason == "" && re.Err != nil {
		reason = causeText(re.Err)
	}
	cause := *re
	cause.Row += offset
	return &ConversionError{Row: cause.Row, Column: re.Column, Reason: reason, Err: &cause}
}
