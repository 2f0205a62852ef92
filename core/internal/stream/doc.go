// Package stream is the Zerobus gRPC stream client: OAuth, pipelined ingest,
// acknowledgements, recovery and retry, in pure Go over grpc-go.
//
// # Lifecycle
//
// NewClient validates a Config and prepares one lazily dialled
// grpc.ClientConn shared by every stream of the Client. OpenStream fetches a
// token (cached per Client and refreshed ahead of expiry), opens the
// EphemeralStream RPC with the protocol metadata, sends create_stream and
// waits for the stream id. Send enqueues one request (a record, or a batch
// that succeeds or fails as a whole) and returns a Pending that resolves on
// the server's durability acknowledgement. Flush waits for everything sent;
// Close flushes, half-closes and drains the RPC.
//
// # Flow control
//
// The streams of a Client share one window: together they admit at most
// MaxInflightRequests requests and MaxInflightBytes record bytes between
// Send and resolution (acknowledgement, failure, GiveUp or abort), so the
// memory held by in-flight requests is bounded however many streams and
// goroutines send; Send blocks (honouring its ctx) while the window is full.
// Waiters are served in FIFO order across streams; a request larger than the
// byte window is admitted alone. A stream in recovery keeps the share of the
// requests it will re-send. Requests are written in
// Send order, each with the next wire offset of the current RPC; cumulative
// acknowledgements resolve them in order. An acknowledgement beyond the
// last offset sent is a protocol error (the RPC fails, retryably); one
// below an earlier acknowledgement on the RPC (a server bug) is ignored,
// with a warning logged once per stream.
//
// # Recovery and retries
//
// When an RPC fails retryably (see IsRetryable), the server ends it cleanly,
// no acknowledgement arrives for AckTimeout while requests are in flight, or
// the server sends CloseStreamSignal, the stream opens a new RPC (exponential
// backoff with full jitter for failures) and re-sends every unacknowledged
// request (but those given up on, see "Giving up") renumbered from wire
// offset 0. After a CloseStreamSignal the stream stops writing, waits for
// the acknowledgements of what is in flight until the announced duration
// is over, then half-closes the RPC and keeps
// reading its last acknowledgements until the server ends it (bounded by
// AckTimeout and 2 s) before it moves on. Acknowledged requests are never
// re-sent, so delivery is at-least-once: only an acknowledgement the client
// never received (a dropped connection, a timeout) produces a duplicate row.
// UNAUTHENTICATED and PERMISSION_DENIED get one retry with a fresh token,
// then an *AuthError, at create and on an open RPC alike (an
// acknowledgement in between starts the count again). One exception: a
// refreshed token that opened an RPC and is then refused with
// UNAUTHENTICATED expired in turn and gets another refresh, within the
// retry budget; past the budget that too is an *AuthError. A terminal failure
// resolves every pending request with the error; Unacked returns their
// records.
//
// # Was it sent
//
// Pending.NeverSent is the one rule callers use to tell a request that
// certainly did not reach the server (resolved without any RPC having
// carried it, or withdrawn from the queue with Stream.GiveUp) from one that may have been stored (anything written,
// acknowledged or not).
//
// # Giving up
//
// A caller that stops waiting for a request (its context ended) calls
// Stream.GiveUp: a request no RPC has carried is withdrawn (not written);
// one an RPC carried is never written again. Queued for a re-send after a
// recovery, it is dropped at once (resolved with ErrAbandoned); still on
// the current RPC, it stays there until acknowledged or until the stream
// leaves that RPC, which drops it instead of re-sending it. So the
// re-sends a caller counts (Future.Resent) when GiveUp returns are all the
// request will ever have: a request is stored at most 1 + Resent times.
// GiveUp and Attempt take the stream's lock, so none is missed.
//
// # Telemetry
//
// OpenStream's "zerobus.stream.create" span (and the "zerobus.token.fetch"
// below it) is a child of the span in its ctx. Work done later for pending
// requests (a "zerobus.stream.recover" span, recovery logs) joins the trace
// of the oldest pending request's sender (the span in Send's ctx). Every log
// record is written with the context of the work it describes, so a
// correlating handler adds trace_id and span_id. zerobus.stream.recoveries
// counts each move to a new RPC once, when the new RPC is up, labelled with
// why the old one was left (close_signal or an error kind).
//
// # Pre-encoded requests
//
// SendFramed takes records already framed as a request body (convert.Batch
// writes them so) and writes the request by reference to them: every RPC
// uses its own gRPC codec (grpc.ForceCodecV2; the global proto codec is not
// changed) that adds only the message header. The caller's Holder is
// retained while the request is queued or in flight and for every buffer
// gRPC holds; it is released when the request is acknowledged, withdrawn,
// dropped (GiveUp) or failed and gRPC has written the bytes. A request
// re-sent after a recovery
// is written again from the same bytes; the records of a stream that ended
// are kept (never released) for Unacked.
//
// # Concurrency
//
// Client and Stream are safe for concurrent use. Per RPC one sender and one
// receiver goroutine do the network I/O and a supervisor goroutine per
// stream handles recovery; no lock is held across network I/O.
//
// # Secrets
//
// The client secret and access tokens never appear in errors, logs or
// formatted values: Config, Client and Stream format themselves redacted,
// and text from the token endpoint or the server is scrubbed of known
// secrets.
package stream
