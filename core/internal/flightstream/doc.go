// Package flightstream is the Zerobus Arrow Flight stream client: Arrow
// record batches sent as Arrow IPC over the Flight DoPut RPC (protocol §9),
// with record-level acknowledgements.
//
// It is built on a stream.Client and shares everything that is not specific
// to Flight with the protobuf transport: the gRPC connection (TLS, proxy
// tunnel, user agent, message caps), the credentials (OAuth token cache and
// refresh, HeadersProvider), error classification and redaction, the retry
// rule and the flow-control window.
//
// # Protocol
//
// An RPC (DoPut) starts with the schema message, without a FlightDescriptor,
// and the stream is open only once the server's READY PutResult
// ({"ack_up_to_offset": -1, "ack_up_to_records": 0}) arrives. Each batch is
// one record-batch FlightData whose app_metadata is {"offset_id": n}, n = 0,
// 1, 2 … per RPC. Acknowledgements carry ack_up_to_records, the cumulative
// number of durable records on the RPC: it is authoritative, so a batch may
// be acknowledged partially, its prefix durable (Pending.Durable). A count
// beyond the records sent is a protocol error; one below an earlier count
// on the RPC (a server bug) is ignored, no durable prefix shrinks, and a
// warning is logged once per stream.
//
// # Recovery
//
// When an RPC fails retryably, no acknowledgement arrives for AckTimeout
// while batches are in flight, or the server announces
// close_stream_duration_ms, the stream opens a new RPC and replays exactly
// the unacknowledged suffix: the rest of a partially acknowledged batch and
// every later batch, renumbered from offset 0. Durable records are never
// re-sent; a lost acknowledgement can still duplicate rows (at-least-once).
// Batches whose caller gave up on them (Stream.GiveUp) are not replayed:
// the recovery drops them. Failures follow the stream.Client's retry rule.
//
// # Concurrency
//
// Client and Stream are safe for concurrent use. Per RPC one sender and one
// receiver goroutine do the network I/O and a supervisor goroutine per stream
// handles recovery; no lock is held across network I/O.
package flightstream
