// Package zerobuslocal is a local, in-process server that speaks the
// Databricks Zerobus ingest protocol, as Azurite does for Azure Storage. It
// is the peer of every test in this project and can be run by hand with
// `zerobus local`.
//
// # What it serves
//
// Start opens two loopback listeners:
//
//   - the Zerobus gRPC service (/databricks.zerobus.Zerobus/EphemeralStream)
//     at Endpoint, plaintext h2c by default or TLS with a generated CA
//     (Options.TLS, CACertPEM);
//   - an HTTP "workspace URL" (WorkspaceURL) with the OAuth2 token endpoint
//     POST /oidc/v1/token and the inspection API under /zerobus-local/v1
//     (see InspectPrefix), so other processes can read what landed.
//
// # Authentication
//
// The token endpoint accepts only HTTP Basic ClientID:ClientSecret, form
// grant_type=client_credentials, scope=all-apis, a resource naming this
// workspace (api://databricks/workspaces/<id>/zerobusDirectWriteApi, where
// <id> is the first DNS label of the endpoint host: "127" for 127.0.0.1) and
// the three Unity Catalog authorization_details objects. It issues opaque
// tokens bound to the table, valid for Options.TokenLifetime. A stream needs
// such a token for its table: an unknown, revoked or expired token gives
// UNAUTHENTICATED, a token for another table PERMISSION_DENIED.
//
// # Streams and tables
//
// The first message must be create_stream; the request header
// x-databricks-zerobus-table-name must equal its table_name. A PROTO stream
// carries a DescriptorProto; unless Options.DisableAutoCreate is set, the
// first stream to an unknown table creates it with that descriptor (a JSON
// stream creates a raw JSON table without schema). Later streams must match
// the table's schema (same names, order, count, column types and
// optionality) or fail with INVALID_ARGUMENT carrying a google.rpc.ErrorInfo
// with reason SCHEMA_VALIDATION_FAILED and metadata "causes".
//
// Ingest messages must carry wire offsets 0, 1, 2... per RPC. Every record is
// validated before a message is stored: it must decode with the stream's
// descriptor (required fields present, no unknown field numbers, wire types
// matching the fields), exactly as proto.Unmarshal into a dynamic message
// would, but checked by walking the wire format (protoarrow.Validator); a
// message with one bad record is rejected whole and ends the RPC with
// INVALID_ARGUMENT. Acks are cumulative and monotonic and follow the table's
// AckPolicy (immediate by default).
//
// # Storage and performance
//
// Records are stored raw: PROTO ingest messages are parsed without copying
// each record, and a stored message keeps its records in one buffer. They
// are decoded into dynamic messages only when first read (Rows, ArrowBatch,
// the HTTP API, Persist) and the result is cached, so ingest costs about a
// memory copy per byte. The gRPC listener uses 16 MiB HTTP/2 windows.
// Options.MaxStoredRows bounds the rows kept per table (oldest dropped) for
// a long-running server.
//
// Stored rows are readable with Rows, RecordCount and ArrowBatch, over HTTP,
// and, with Options.DataDir, as Arrow IPC and Parquet files (JSON lines for
// raw JSON tables) written at Close or Persist.
//
// # Faults and events
//
// InjectFault arms failures per table (error statuses, clean end, dropped
// connection, stalled acks, CloseStreamSignal, token expiry, token endpoint
// errors and latency), one-shot or persistent. Every server action is
// recorded as an Event; tests wait with WaitFor instead of sleeping. Stats
// returns counters.
//
// # Concurrency and lifetime
//
// All methods are safe for concurrent use. Close ends open streams with
// UNAVAILABLE and returns after every server goroutine has exited.
package zerobuslocal
