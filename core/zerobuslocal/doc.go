// Package zerobuslocal is a local, in-process server that speaks the
// Databricks Zerobus ingest protocol, as Azurite does for Azure Storage. It
// is the peer of every test in this project and can be run by hand with
// `zerobus local`. It is checked against the official Python SDK
// (tests_py/test_official_sdk_*.py) and Java SDK (JNI over the same Rust
// core; tests_py/test_official_java_sdk.py drives tests_java/sdkpeer) and
// imports nothing of this project's
// client (only the wire contract zerobuspb and the protobuf/Arrow helpers of
// protoarrow), so a client bug cannot hide behind a shared one.
//
// # What it serves
//
// Start opens two loopback listeners:
//
//   - the gRPC port (Endpoint), plaintext h2c by default or TLS with a
//     generated CA (Options.TLS, CACertPEM), serving the Zerobus service
//     (/databricks.zerobus.Zerobus/EphemeralStream) and the Arrow Flight
//     service (/arrow.flight.protocol.FlightService/DoPut);
//   - an HTTP "workspace URL" (WorkspaceURL) with the OAuth2 token endpoint
//     POST /oidc/v1/token, the Unity Catalog tables endpoint
//     GET /api/2.1/unity-catalog/tables/{catalog.schema.table}, and the
//     inspection API under /zerobus-local/v1 (see InspectPrefix), so other
//     processes can read what landed.
//
// # Tables
//
// A table is a list of columns in Unity Catalog types (Column, ColumnType;
// ParseColumns reads "id BIGINT NOT NULL, tags ARRAY<STRING>, ..."). Every
// view of a table derives from its columns with the server's own rules:
//
//   - the protobuf descriptor PROTO streams must match (one message named
//     after the table, nested messages for structs and map entries; nullable
//     columns optional, NOT NULL ones required, struct fields optional;
//     numbers from 1 in column order skipping 19000-19999; TINYINT, SMALLINT,
//     INT and DATE int32 (days), BIGINT and TIMESTAMP(_NTZ) int64
//     (microseconds), FLOAT float, DOUBLE double, BOOLEAN bool, BINARY bytes,
//     STRING, DECIMAL (exact decimal text) and VARIANT (JSON text) string);
//   - the Arrow schema Flight streams must send (STRING and DECIMAL
//     large_utf8, BINARY large_binary, BIGINT int64, INT int32, SMALLINT
//     int16, TINYINT int8, DOUBLE float64, FLOAT float32, BOOLEAN bool, DATE
//     date32, TIMESTAMP timestamp[us, tz=UTC], TIMESTAMP_NTZ timestamp[us],
//     VARIANT struct{metadata, value: large_binary}, STRUCT struct, ARRAY
//     list, MAP map);
//   - the columns the Unity Catalog tables endpoint serves (name, type_name,
//     type_text, type_json, nullable, position), which the official
//     zerobus.tools.generate_proto turns into a .proto (type_text leaves out
//     the nullability of STRUCT fields, "struct<a:int>", as Spark's catalog
//     string does; type_json carries it).
//
// Tables come from CreateTableColumns, CreateTableFromArrow (the Unity
// Catalog types of Arrow types), CreateTable (a descriptor; its columns are
// derived back: int32 INT, int64 BIGINT, ...) or, unless
// Options.DisableAutoCreate, from the first stream to an unknown name: its
// descriptor (PROTO), Avro writer schema (AVRO) or Arrow schema (Flight); a
// JSON stream creates a raw JSON table without columns.
//
// # Authentication
//
// POST /oidc/v1/token accepts two grants:
//
//   - client_credentials with HTTP Basic ClientID:ClientSecret;
//   - urn:ietf:params:oauth:grant-type:token-exchange (RFC 8693, federated
//     identity) with subject_token = a JWT-shaped token (three base64url
//     segments, a JSON header with "alg"; the signature is not checked),
//     subject_token_type urn:ietf:params:oauth:token-type:jwt and an optional
//     client_id that must be ClientID; no Basic auth. Options.DisableTokenExchange
//     turns it off.
//
// Both need scope=all-apis. With the Zerobus resource
// (api://databricks/workspaces/<id>/zerobusDirectWriteApi, where <id> is the
// first DNS label of the endpoint host: "127" for 127.0.0.1) and the three
// Unity Catalog authorization_details objects, the token is bound to the
// table; with neither, it is a workspace token for the Unity Catalog API,
// which streams refuse (PERMISSION_DENIED). Tokens are opaque and live
// Options.TokenLifetime. A stream needs a token for its table: an unknown,
// revoked or expired token gives UNAUTHENTICATED, a token for another table
// PERMISSION_DENIED. The tables endpoint takes a workspace token or a token
// of that table (401 / 403 / 404 TABLE_DOES_NOT_EXIST otherwise).
//
// # Zerobus streams (gRPC)
//
// The first message must be create_stream; the request header
// x-databricks-zerobus-table-name must equal its table_name. Record types:
//
//   - PROTO (1): a DescriptorProto that must match the table (same names,
//     order, count, column types and optionality; field numbers may differ);
//   - JSON (2): records are JSON objects of the table's fields, read as
//     protojson reads them (so also a field's camelCase JSON name, 64-bit
//     integers as strings, "NaN" and "Infinity" for floats, base64 text for
//     BINARY; whether the service is as lenient is not known), or any JSON
//     object for a raw JSON table; a record that is any other JSON value
//     (null, an array, a string, a number, a boolean) is refused;
//   - AVRO (4): create_stream field 5 carries the Avro writer schema, a
//     record whose fields must map to the table's columns (Avro int fills
//     INT/SMALLINT/TINYINT, long BIGINT, date DATE, timestamp-micros/millis
//     TIMESTAMP, local-timestamp-* TIMESTAMP_NTZ, decimal DECIMAL(p,s),
//     string/enum STRING, bytes/fixed BINARY, array ARRAY, map MAP<STRING,_>,
//     record STRUCT, ["null", T] a nullable column; a named record, enum or
//     fixed may be used again by name, a record inside itself may not); records are Avro binary
//     (ingest_record field 4, ingest_record_batch field 4 AvroRecordBatch),
//     decoded with github.com/linkedin/goavro/v2 and stored in the table's
//     protobuf form.
//
// A schema mismatch is INVALID_ARGUMENT with a google.rpc.ErrorInfo: reason
// SCHEMA_VALIDATION_FAILED, domain "zerobus.databricks.com" (ErrorDomain),
// metadata "causes" (FIELD_NOT_IN_TABLE, MISSING_REQUIRED_COLUMN,
// FIELD_OUT_OF_ORDER, TYPE_INCOMPATIBLE, FIELD_COUNT_MISMATCH; sorted,
// comma separated) and "error_code" "8001". A NOT NULL column (or STRUCT
// field) the stream's schema leaves out is MISSING_REQUIRED_COLUMN for every
// record type, also an ARRAY or MAP column or a STRUCT's field, which a
// descriptor cannot mark required.
//
// Ingest messages must carry wire offsets 0, 1, 2... per RPC. Every record is
// validated before a message is stored: it must decode with the stream's
// schema (protobuf: required fields present, no unknown field numbers, wire
// types matching, checked by walking the wire format with
// protoarrow.Validator), every string must be UTF-8 (Go's proto2
// decoding does not check), and a field the table declares NOT NULL inside
// a STRUCT (also an ARRAY's STRUCT elements, a MAP's STRUCT values) must be
// present when its STRUCT is (the descriptor's STRUCT fields are optional;
// PROTO and JSON records; an ARRAY or MAP field is not checked, as an empty
// one is absent on the wire too), and the JSON text of a VARIANT field
// (also inside a STRUCT, an ARRAY or a MAP; PROTO, JSON and Avro records)
// must be one JSON document whose objects give each key once, by the rule
// the clients encode VARIANT text by (protoarrow.CheckVariantJSON). A message with one bad record is rejected whole
// and ends the RPC with INVALID_ARGUMENT naming the offset, the record and
// the field (by its column name: a field sent with a wire type its type does
// not use is named with both wire types, a JSON field by its column name
// rather than its protojson name). A map entry's fields other than a key and
// a value of the declared wire types are skipped, as protobuf parsers do.
// The text of a DECIMAL(p,s) field (also inside a STRUCT, an ARRAY or a
// MAP; every record type and Flight batches) must be a decimal number whose
// value, rounded half-up to s places, has at most p−s digits before the
// point (protoarrow.CheckDecimalText, the rule the clients check by), else
// the request (or batch) is rejected the same way; it is stored as the
// service stores it, rounded with exactly s fraction digits ("1.234" into
// DECIMAL(10,2) is stored as "1.23", "7" as "7.00").
// Acks are cumulative and monotonic and follow the table's
// AckPolicy (immediate by default).
//
// A TINYINT or SMALLINT column travels as an int32 field (as INT does): a
// value outside the column's range (300 in a TINYINT; also in a STRUCT
// field, an ARRAY element, packed or not, a MAP key or value) rejects its
// request the same way, naming the field, the value and the type (PROTO,
// JSON and Avro records; rangecheck.go).
//
// The service's own handling of these two cases is not documented (the
// protocol says only that a bad record rejects its request, INVALID_ARGUMENT):
// the range and DECIMAL checks, and storing DECIMAL rounded, are what a Delta
// table holds (Spark's rules), assumed of the service. The clients of this
// module check both before sending when the table's columns can be read, so
// only other clients, a caller's own descriptor, or a send made while the
// catalog was unreadable meet these refusals.
//
// # Arrow Flight streams
//
// DoPut on the gRPC port, as the official clients use it:
//
//  1. Request headers: authorization "Bearer <token>" and
//     x-databricks-zerobus-table-name (the table); user-agent is logged.
//  2. The server sends its response headers at once, so that an error status
//     that follows is read by the official client as a typed error (an
//     error-only reply surfaces as a generic create error there).
//  3. The first FlightData is the Arrow IPC schema message; it carries no
//     FlightDescriptor (one is ignored). The schema must equal the table's
//     Arrow schema above: same field names, order and count, the same types
//     (timestamps: unit microseconds and a time zone for TIMESTAMP, none for
//     TIMESTAMP_NTZ); field nullability is not compared. A mismatch is the
//     ErrorInfo above. VARIANT columns, and VARIANTs inside a STRUCT, ARRAY
//     or MAP, are struct{metadata, value} in the Parquet Variant encoding;
//     each value is read with bounds checks and stored as JSON text, as a
//     PROTO stream sends it (a malformed value fails the batch, naming row,
//     column and the path inside it).
//  4. READY: the first PutResult has app_metadata
//     {"ack_up_to_offset": -1, "ack_up_to_records": 0}.
//  5. Each record batch FlightData carries app_metadata {"offset_id": n},
//     n = 0, 1, 2 ... per DoPut. A gap or repeat is INVALID_ARGUMENT
//     "Non-incremental offset: expected X, actual Y"; missing or non-JSON
//     app_metadata is INVALID_ARGUMENT. Dictionary batches are not expected
//     (clients hydrate). IPC buffer compression (zstd, lz4) is accepted, and
//     so is gRPC message compression (grpc-encoding zstd, registered with
//     grpc-go by the zerobuspb package this one imports, unless the program
//     registered its own "zstd"; the decoder's window is bounded at 64 MiB;
//     Stats counts message bytes and wire bytes received). A
//     malformed IPC message is INVALID_ARGUMENT: flatbuffer headers are
//     bounds-checked before arrow-go reads them, and a compressed batch's
//     buffers must decompress to the lengths they declare, together at most
//     16 × MaxMessageBytes (160 MiB by default), checked before any of them
//     is decompressed.
//  6. Rows are checked (a null in a NOT NULL column or inside a list or map
//     value, a string that is not UTF-8: INVALID_ARGUMENT naming row and
//     column, the whole batch rejected) and stored in the table's protobuf
//     form, written column-wise straight from the Arrow arrays into the
//     wire format (no message per row), so Flight ingest costs about what
//     PROTO ingest does.
//  7. Acks: PutResult app_metadata {"ack_up_to_offset": k,
//     "ack_up_to_records": r}, cumulative per DoPut: r counts the durable
//     records of the DoPut and is authoritative; k is the last batch fully
//     acknowledged. Acks follow the AckPolicy like gRPC acks.
//  8. Rotation: a PutResult with "close_stream_duration_ms": d (and the
//     current ack state) announces the end of the DoPut after d; the server
//     keeps acknowledging what arrives and then ends the RPC with OK. Clients
//     reconnect and replay from the ack_up_to_records watermark.
//  9. The client half-closes; the server ends with OK once everything
//     received is acknowledged.
//
// A partial acknowledgement comes from the FaultPartialAck fault: the batch
// after Fault.AfterMessages is stored and acknowledged only for its first
// Fault.Records records (default half), in a PutResult with ack_up_to_offset
// = that batch's offset - 1, ack_up_to_records including the prefix, and
// close_stream_duration_ms = Fault.CloseAfter; the rest of the batch and
// later batches are dropped unacknowledged and the DoPut ends with OK after
// CloseAfter. A client that replays exactly the unacknowledged suffix stores
// every row once.
//
// # Limits and lifetime
//
// Options.MaxMessageBytes (default 10 MiB, `zerobus local
// -max-message-bytes`) caps the record bytes of one request, framing not
// counted: the records of an ingest message, the IPC body of a Flight batch.
// A bigger request is INVALID_ARGUMENT "Batch size exceeds maximum allowed
// size" (BatchTooLargeMessage), which clients do not retry; gRPC's own
// message limit is set far above it (2 × cap + 1 MiB, at least 64 MiB,
// whatever the cap), so clients never see gRPC's retryable
// RESOURCE_EXHAUSTED for it.
//
// Streams live Options.StreamLifetime (default 15 minutes, as the service;
// negative: forever): Options.StreamCloseGrace before the end (default a
// quarter of the lifetime, at most one minute; shorter than the lifetime)
// the server sends
// CloseStreamSignal{duration: grace} (Flight: close_stream_duration_ms),
// keeps acknowledging, and ends the RPC with OK at the end, having first
// acknowledged every request it stored, however long the ack policy would
// delay the acks: what was stored is durable, so a client re-sends only
// what the server never stored (a CloseStreamSignal fault with a non-OK
// Code, or FaultStallAcks, ends without them: the lost acks of a failure).
//
// # Storage and performance
//
// Records are stored raw: PROTO ingest messages are parsed without copying
// each record, and a stored message keeps its records in one buffer. They
// are decoded into dynamic messages by each read that needs them (Rows,
// ArrowBatch of a stream with another descriptor, GET .../rows), which owns
// the result: nothing is cached on the stored rows (decoded messages take
// about 9 times the raw size), so ingest costs about a memory copy per byte
// and a read of a full table does not raise what the server holds. GET
// .../rows is written as it is decoded, a thousand rows at a time.
//
// What the server holds on the way in is bounded too: received request
// messages (Zerobus requests, Flight record batches) take their size from
// one server-wide budget of MaxInflightBytes (32 MiB) until they are
// stored, and a stream reads its next message only once the budget admits
// it, so a client held back waits on HTTP/2 flow control with at most its
// stream window (256 KiB, fixed) buffered in the server. A stream idle for 50 ms gives its share
// to streams that wait for one. gRPC reads a message whole before its
// size is known, so each stream can go over the budget by one request
// (the first after such a give-back, or the growth over its previous
// one): the bound is MaxInflightBytes plus one request and one stream
// window per stream (Options.MaxStoredRows).
//
// Options.MaxStoredRows bounds the rows kept across all tables together
// (the oldest rows of the server dropped first, counted per table) for a
// long-running server.
//
// Stored rows are readable with Rows, RecordCount and ArrowBatch, over HTTP,
// and, with Options.DataDir, as Arrow IPC and Parquet files (JSON lines for
// raw JSON tables) written at Close or Persist.
//
// # Faults and events
//
// InjectFault arms failures per table (error statuses, clean end, dropped
// connection, stalled acks, CloseStreamSignal, token expiry, a delayed
// create response or Flight READY (FaultCreateDelay), a partial Flight ack,
// token endpoint errors and latency), one-shot or persistent; a fault out
// of range (a negative duration or count, Fault.Check) is refused with an
// error naming the option, and not armed. Stream faults
// apply to gRPC and Flight streams alike. Every server action is recorded as
// an Event; tests wait with WaitFor instead of sleeping. Stats returns
// counters.
//
// # HTTP security
//
// The HTTP listener binds loopback only and answers only requests whose
// Host header names a loopback address, localhost (or *.localhost) or one of
// Options.AllowedHosts (`zerobus local -allow-host`); any other Host gets
// 403, so a web page using DNS rebinding cannot reach it. Mutating
// inspection requests (POST, DELETE, ...) need Content-Type
// application/json (415 otherwise), which a cross-site form or "simple"
// fetch cannot send, and the server grants no CORS. With
// Options.InspectToken (`-inspect-token`, $ZEROBUS_LOCAL_INSPECT_TOKEN) the
// inspection API also needs "Authorization: Bearer <token>" (401 otherwise).
// The token and Unity Catalog endpoints keep their own authentication.
//
// # Concurrency and lifetime
//
// All methods are safe for concurrent use. Close ends open streams with
// UNAVAILABLE and returns after every server goroutine has exited.
package zerobuslocal
