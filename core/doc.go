// Package core streams Apache Arrow record batches into Databricks Zerobus,
// the gRPC ingest service that writes rows into a Unity Catalog Delta table.
//
// A Wrapper converts each Arrow batch to protobuf records (one proto2
// descriptor derived from the Arrow schema, or one you supply), streams them
// over pipelined gRPC streams, and reports per row what was durably written
// and what failed, with typed errors.
//
//	cfg := core.DefaultConfig()
//	cfg.Endpoint = "https://<workspace-id>.zerobus.<region>.cloud.databricks.com"
//	cfg.TableName = "main.default.events"
//	cfg.UnityCatalogURL = "https://<workspace>.cloud.databricks.com"
//	cfg.ClientID, cfg.ClientSecret = id, secret
//	w, err := core.New(ctx, cfg)
//	if err != nil { ... }
//	defer w.Close(ctx)
//	res, err := w.SendBatch(ctx, rec)
//	if err != nil { // res still says which rows failed and why
//		if bad, xerr := res.ExtractFailedBatch(rec); xerr == nil {
//			quarantine(bad) // every row not acknowledged, for replay
//			bad.Release()
//		}
//	}
//
// # Lifecycle
//
// New validates the Config (every problem at once, as *ConfigurationError)
// and prepares the client; it does no network I/O. The first SendBatch of an
// Arrow schema builds the conversion plan and opens that schema's streams
// (fetching an OAuth token first). SendBatch and SendBatchAsync may then be
// called from any number of goroutines. Flush waits for outstanding async
// sends and acknowledgements. Close waits for calls in progress, flushes and
// closes every stream and the debug files; it is idempotent, and every call
// after it returns ErrClosed.
//
// SendReader (and SendReaderAsync) sends an array.RecordReader of any length
// as one logical batch: it reads as a bounded window of rows and bytes allows
// (WithSendWindow), sends parts concurrently, reports progress per resolved
// part (WithProgress, WithTotalRows), stops promptly when ctx ends, and
// returns one result whose row indices count across the reader. Its parts
// may be written in any order. FailedGroups gives a result's failed rows as
// ranges per error; FailedAsWhole tells a whole-batch failure from row-level
// ones.
//
// # What "sent" means
//
// A row counts as successful only when the server has durably acknowledged
// the request that carried it (Zerobus acknowledgements are cumulative and
// mean the data is committed). SendBatch returns when every row of the batch
// is acknowledged or has failed; its *TransmissionResult lists both sets
// (TotalRows = SuccessfulCount + FailedCount on every path, and a batch that
// fails as a whole lists every row as failed). The returned error is nil
// exactly when every row succeeded.
//
// # Delivery and per-row results
//
// Every row of a batch ends in exactly one of three outcomes, and the
// result says which (durable + not written + unknown = total, on every
// path):
//
//   - Durable (SuccessfulRanges, SuccessfulRowIndices, SuccessfulRows
//     unless WithRowRangesOnly): the server acknowledged the request that
//     carried it. The row is stored; no row is reported durable without.
//   - Not written (FailedRow.State == RowNotWritten, NotWrittenRowIndices,
//     ExtractNotWrittenBatch): the row is certainly not stored. It failed
//     conversion, was refused before it was sent (too large, the stream
//     could not be opened, the Wrapper was closed), or was never handed to
//     an RPC (a canceled ctx withdraws requests still waiting in the queue;
//     the rows of a SendReader input that were never read, when its total
//     is known: WithTotalRows; those are one range, never listed in
//     FailedRows, so a declared total costs nothing per row).
//     Re-sending it cannot create a duplicate.
//   - Unknown (RowUnknown, UnknownRowIndices, ExtractUnknownBatch): the row
//     was sent, but no acknowledgement came before the send gave up:
//     retries exhausted, AckTimeout, ctx canceled or timed out, a terminal
//     server error or a connection lost after the request left. The server
//     may have stored it (it usually has).
//
// FailedRows, FailedCount and ExtractFailedBatch cover both failed states,
// as before: everything to quarantine. Delivery is at-least-once, as in
// Zerobus itself: when an acknowledgement is lost, the stream re-sends the
// request on a new RPC, so a durable row can be stored twice, and re-sending
// an unknown row can store it twice too. Only acknowledgements the client
// never received cause this: after a close signal the stream half-closes
// the old RPC and reads its last acknowledgements before moving on, and
// acknowledged requests are never re-sent. The result counts such
// re-sends: Recoveries (the recoveries that re-sent requests of the batch)
// and ResentRows (the rows written again: at most that many duplicates).
// A request is re-sent only while its call waits for it: once a timeout or
// cancel has ended the call, its stream never writes the call's requests
// again (a recovery drops them), so an unknown row is stored at most once
// plus the re-sends ResentRows counts, until you re-send it yourself.
// The fault matrix in tests_go (make fault-matrix) checks all of this
// against the local server's table.
//
// To get exactly-once results in the table, make writes idempotent: give
// each row a unique id (a column the data already has, or one you add),
// land the data in a staging table and MERGE INTO the target ON the id
// (WHEN NOT MATCHED THEN INSERT), or deduplicate on read with the table's
// own primary key. Then re-send unknown rows freely; without such a key,
// re-send only the not-written ones and report the unknown ones.
//
// # Ordering
//
// The rows of one SendBatch call travel in order on one stream. Batches sent
// one after another from one goroutine are written in that order. Batches
// sent concurrently may interleave or use different streams; no order holds
// between them.
//
// # Retries and delivery
//
// Retryable failures (UNAVAILABLE, INTERNAL, a dropped connection, missing
// acknowledgements for AckTimeout, a server close signal, ...) are handled
// inside the stream: it reconnects with exponential backoff and full jitter
// (RetryBaseDelay, RetryMaxDelay, RetryMaxAttempts attempts in a row) and
// re-sends only the unacknowledged requests. Acknowledged rows are never
// re-sent. A lost acknowledgement can therefore store a row twice: delivery
// is at-least-once (see "Delivery and per-row results"). Non-retryable statuses (INVALID_ARGUMENT, NOT_FOUND,
// OUT_OF_RANGE, UNIMPLEMENTED, ...) fail the pending rows at once; the next
// batch opens a fresh stream. UNAUTHENTICATED and PERMISSION_DENIED, at
// stream creation or on an open stream, get one retry with a fresh token
// (the unacknowledged requests re-sent on it); refused again before any
// acknowledgement, the pending rows fail with an *AuthenticationError (not
// retryable). One case differs: a fresh token the server accepted and then
// refuses with UNAUTHENTICATED has expired in turn, and is refreshed again
// within RetryMaxAttempts; past them, the same *AuthenticationError. An
// acknowledgement starts the count again. IsRetryable tells whether
// re-sending the failed rows later may help.
//
// A token endpoint failure that may pass (5xx, 408, 429, unreachable, or
// no answer within CreateTimeout) is tried again within the token request
// (RetryMaxAttempts requests at most, and at most 4: one when 1 disables
// retries), then retried as a stream creation is, on
// both transports, whether the stream's token request or the read of the
// table's columns from Unity Catalog meets it (see below): past
// RetryMaxAttempts the rows fail with a *RetryExhaustedError whose Last is
// a *TokenRefreshError (or, for no answer in time, a *ConnectionError).
//
// # Errors
//
// Every error is classified by KindOf into a stable ErrorKind
// ("configuration", "authentication", "connection", "conversion",
// "transmission", "retry_exhausted", "token_refresh", plus "closed" and
// "canceled") and is one of the typed errors *ConfigurationError,
// *AuthenticationError, *ConnectionError, *ConversionError (with Row and
// Column), *TransmissionError (with the gRPC Code), *RetryExhaustedError and
// *TokenRefreshError, usable with errors.As; ErrClosed (kind "closed") and
// ErrNilBatch (a nil batch, reader or schema: kind "conversion") with
// errors.Is.
// ErrorKinds lists the kinds with two flags: Retryable (IsRetryable may
// accept errors of the kind) and Fatal (a batch failing as a whole with it
// means later batches would fail too, so a feeding loop should stop; the
// zerobus CLI does).
//
// There is one retry rule, used by the stream's own reconnects and by
// IsRetryable alike. A gRPC status from the server is retryable unless it is
// OK, INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, OUT_OF_RANGE,
// UNIMPLEMENTED or NOT_FOUND. CANCELED from the server is retryable: the
// server or a proxy dropped the RPC, and a new one can succeed. The caller's
// own context being canceled or passing its deadline is different: the error
// holds context.Canceled or context.DeadlineExceeded (KindCanceled), is never
// retried and is never retryable, whatever connection error or status is
// also in its chain (a *TokenRefreshError keeps its own Retryable flag: a
// token request that timed out may be retried).
// Secrets (the client secret, tokens, the password in ProxyURL) never appear
// in errors, logs or the printed Config.
//
// DetailsOf describes any error as data (ErrorDetails, with JSON tags): kind,
// message, retryable, fatal, the gRPC code's name, the server's reason, the
// row and column at fault, the attempts of exhausted retries, the setting
// keys at fault and the nested causes. The Python package receives errors in
// this form.
//
// # Conversion and limits
//
// Rows are converted in chunks (about 2 MiB of records each) and split into
// requests under MaxMessageBytes, streamed within the in-flight window
// (MaxInflightRequests, MaxInflightBytes); a batch of any size is accepted.
// The window is the Wrapper's: all its streams (and all goroutines sending)
// share one MaxInflightRequests / MaxInflightBytes budget, and a chunk
// reserves its bytes in it before it is converted and keeps them until its
// records are acknowledged or failed, so the records being converted,
// waiting and in flight together stay within MaxInflightBytes and memory
// does not grow with the number of senders. The bytes counted are the
// encoded records: protobuf records, or with transport arrow_flight each
// chunk's Arrow IPC body (see Arrow Flight transport). A request larger than the byte window is admitted alone. Zerobus limits are
// checked before sending: at most 2000 columns, ASCII names, records up to
// MaxRecordBytes (4 MiB − 19 bytes by default), table names of the form
// catalog.schema.table. A row that cannot be encoded (a null in a
// non-nullable column, an out-of-range value, an oversize record, a MAP
// value giving one key twice: "m[2].key: duplicate MAP key "a" (the same key
// as entry 0)", as a protobuf map keeps only a key's last entry) fails alone
// with a *ConversionError naming the row and column; a column type protobuf
// cannot express fails the whole batch, naming every bad column. So do, on
// both transports and before anything is sent, two columns or STRUCT fields
// of one level whose names differ only in case ("id" and "ID", or
// "payload.key" and "payload.Key"): Unity Catalog names are
// case-insensitive, so no table holds both; rename one.
//
// When the table's columns can be read from Unity Catalog (see below),
// both transports match the batch's columns and STRUCT fields (also of
// ARRAY elements and MAP values, at any depth) to the table's by name, the
// exact spelling first, else the one that differs only in case ("ID" for
// the table's "id"), and send them in the table's order and spelling: the
// derived descriptor lists them so (the service refuses another order,
// FIELD_OUT_OF_ORDER), the Flight cast builds the table's layout. A nullable
// column or STRUCT field the batch lacks is sent as nulls; a batch field
// the table lacks, a NOT NULL one the batch lacks, or a column whose type
// does not go into the table's, is refused before any stream opens, on
// both transports alike: a *ConversionError (Row -1) whose Err is a
// *SchemaMismatchError listing every such column with the batch's and the
// table's type (the Flight cast's rule; over protobuf a column whose field
// the table's takes as it is, such as an int64 of microseconds into a
// TIMESTAMP or a date32 into an INT, is still sent). A mismatch is checked
// again against the table read anew mismatchRecheck (10 s) later, as the
// table may be altered. Without the catalog the derived descriptor follows
// the batch's order and spelling, and the service judges it
// (FIELD_NOT_IN_TABLE, TYPE_INCOMPATIBLE, MISSING_REQUIRED_COLUMN: a
// *TransmissionError).
//
// A batch whose schema differs from earlier ones gets its own plan and its
// own streams, created with its own descriptor; a stream never carries
// records of another schema. Streams of schemas idle for a minute are closed
// when a new schema appears.
//
// The service takes a stream only if its descriptor matches the table's
// columns, optionality included: a nullable column optional, a NOT NULL
// column required. A derived descriptor (not one given with WithDescriptor
// or WithMessage) therefore takes each column's optionality, and the
// nullability of the fields inside its STRUCTs, from the table, read from
// Unity Catalog (GET
// /api/2.1/unity-catalog/tables/{name}, once per Wrapper, the read the
// arrow_flight transport makes, bounded by CreateTimeout) and matched by name: a NOT NULL Arrow column
// (Spark's ids, literals and expressions) is sent to a nullable column, and
// an all-nullable batch (pandas, Parquet) to a NOT NULL column, where a row
// with a null fails alone (*ConversionError naming the column, RowNotWritten;
// also a null ARRAY or MAP value there, which a nullable column takes as an
// empty one) and the other rows are sent. STRUCT fields are always
// optional in the descriptor (the service wants them so); a null in one the
// table declares NOT NULL (also inside an ARRAY's STRUCT elements or a
// MAP's STRUCT values) fails its row alone the same way, naming the path
// ("address.zip", "items[1].sku", "attrs[0].value.x"), and nullable data
// there is sent. AllFieldsOptional makes optional every column the table
// allows: the columns and STRUCT fields the catalog does not name (their
// nulls then omitted), not a NOT NULL column or field of the table. Columns the table lacks, and types other than
// integers and floats (below), stay as the batch has them (the server names a mismatch). When the catalog cannot
// be read (no UnityCatalogURL, 401/403/404, unreachable, a column type it
// describes without an Arrow mapping) the descriptor follows the batch's
// Arrow nullability as before (a non-nullable field required, unless
// AllFieldsOptional; a null in a NOT NULL field inside a STRUCT then
// reaches the service, which refuses the whole request) and the send goes on (the plan of that batch schema
// keeps that descriptor; after a failure that may pass, such as the catalog
// or the token endpoint unreachable, answering 5xx/408/429 or slower than
// CreateTimeout, a batch 10 s later asks again). If the server refuses the
// stream's schema while the catalog's failure was one that may pass, the
// refusal is no verdict on the batch (the table's columns would have set
// its optionality, names and types): the batch fails with that failure's
// error, retryable (a *ConnectionError or *TokenRefreshError whose message
// says what the server refused), and the next batch of the schema reads the
// catalog again. A refusal after a failure that will not pass (401/403/404)
// is the server's *TransmissionError, with CatalogUnread saying why the
// catalog was not read. Only the workspace's TLS certificate
// failing verification, which the stream's token request would meet the
// same way, is returned at once. The same read names the table's VARIANT
// columns (also inside STRUCTs, ARRAYs and MAPs): the JSON text sent for
// one is checked value by value by the rule the arrow_flight transport
// encodes it by (Spark's parse_json: a number past the DOUBLE range is
// ±Infinity), so text that is not one JSON document, an object giving a
// key twice, more than 1000 objects and arrays open inside each other or
// a \u escape of a lone UTF-16 surrogate (half a pair) fails its row alone
// (*ConversionError naming the path, RowNotWritten) with the reason Flight
// gives; without the catalog the text is sent as it is, and a service that
// refuses it refuses the whole request. The same read gives integer and
// float columns the table's field type: int32 for a TINYINT, SMALLINT or
// INT column, int64 for BIGINT, float for FLOAT, double for DOUBLE (also
// STRUCT fields, ARRAY elements, MAP keys and values), so pandas' and
// polars' int64 and float64 go to narrower columns. Each value that may
// not fit is checked by the rule the arrow_flight transport casts by: an
// integer outside the column's range (300 in a TINYINT, 2^31 in an INT,
// a uint64 over BIGINT), a finite float64 beyond FLOAT's ±3.4028235e38
// (NaN and ±Inf pass, others round to the nearest FLOAT, as Spark casts)
// fails its row alone (*ConversionError naming the path, the value and the
// type, RowNotWritten) and the other rows are sent; without the catalog
// the field types follow the batch. A float column of a table integer
// column (pandas makes an integer column holding a missing value float64,
// the missing value a null) is an int32 or int64 field: a whole number in
// the column's range is sent as that integer (-0.0 as 0), and a value with
// a fraction, NaN, ±Inf or out of range fails its row (never rounded); a
// float MAP key of a table's integer key likewise. An integer column of a
// table FLOAT or DOUBLE column is a float or double field: a value the
// float holds exactly is sent (every integer up to 2^24 in a FLOAT, 2^53
// in a DOUBLE, larger ones where the float has them), one it would round
// (2^53+1 into DOUBLE) fails its row rather than be stored as another
// number (Spark's cast rounds); the rule is convert's (narrow.go), the one
// the arrow_flight transport casts by.
// The same read tells TIMESTAMP from TIMESTAMP_NTZ, and both transports
// follow one rule there (also in STRUCT fields, ARRAY elements, MAP keys
// and values): a timestamp with a time zone into TIMESTAMP is its instant,
// a naive one there is taken as UTC; a timestamp whose zone is UTC ("UTC",
// "Etc/UTC", "Z", "+00:00", …) into TIMESTAMP_NTZ is its UTC wall clock,
// which is the naive value; any other zone into TIMESTAMP_NTZ fails the
// whole batch before anything is sent (*ConversionError naming the column,
// the zone and TIMESTAMP_NTZ), as storing a New York time as its UTC wall
// clock would silently shift it: convert it to naive local time first
// (pandas s.dt.tz_localize(None), after s.dt.tz_convert(zone) for another
// zone's; polars .dt.replace_time_zone(None); pyarrow pc.local_timestamp)
// or make the column TIMESTAMP. Without the catalog the protobuf path
// sends the instant.
// CheckSchema uses the same descriptor, and the protobuf debug file's
// <stem>.descriptor.pb is the descriptor sent.
//
// # Concurrency
//
// A Wrapper is safe for concurrent use. Each schema has a small pool of
// streams (StreamsPerSchema, default 2); every SendBatch uses the least busy
// one, and many calls pipeline their requests on the same stream, so N
// goroutines make progress together. No wrapper-wide lock is held across
// network I/O.
//
// # Arrow memory ownership
//
// SendBatch does not retain the record batch after it returns: the caller
// keeps ownership and releases it. SendBatchAsync Retains the batch until
// its future resolves, so the caller may Release its reference right away.
// ExtractFailedBatch and ExtractSuccessfulBatch return new batches that the
// caller must Release.
//
// # Writer-disabled mode
//
// With WriterDisabled, batches are converted (and debug files written) but
// nothing is sent and no credentials are needed; results report the rows
// that converted as successful and set TransmissionResult.WriterDisabled.
// Use it to validate data and schemas offline. The table name may then be
// "table" or "schema.table" too (it names the debug files). Config.Validate
// asks for a debug output with it, as the original Python API does; New
// accepts it without one for conversion-only checks.
//
// # Debug files
//
// DebugArrowEnabled writes every batch to {DebugOutputDir}/zerobus/arrow/<table>.arrow
// (an Arrow IPC stream) and DebugProtobufEnabled writes every encoded record
// to {DebugOutputDir}/zerobus/proto/<table>.proto (length-delimited, with the
// descriptor beside it); DebugEnabled turns on both, unless a per-kind switch
// is on or was given to a loader (YAML, environment, ConfigFromSettings), also
// as false (DebugKindsExplicit): the per-kind switches then alone say which
// kinds are written, as the original Python API's explicit flags take
// precedence over debug_enabled (debug_enabled with
// debug_protobuf_enabled=false writes none). Files rotate by size
// (DebugMaxFileSize) and time (DebugRotationInterval), DebugMaxFilesRetained
// rotated files are kept, and data reaches disk within DebugFlushInterval.
// DebugArrowCompression ("zstd" or "lz4"; default none) compresses the Arrow
// files with IPC buffer compression, which every Arrow IPC reader (this
// package's ReadDebugArrowFile included) decompresses transparently.
// A debug write failure never fails or slows transmission: SendBatch hands
// the debug writer references (the batch, the encoded records) and a
// background goroutine writes them; when the disk falls behind (64 MiB or
// 8192 writes queued per kind) writes are dropped, counted (DebugStats,
// zerobus.debug.dropped) and recorded beside the file they are missing from
// (ReadDebugDrops). Read the files with `zerobus debug read FILE`.
//
// # Arrow Flight transport
//
// With Config.Transport "arrow_flight" (YAML transport, env
// ZEROBUS_TRANSPORT) batches are not encoded row by row: each batch is cast
// to the table's Arrow types and sent as Arrow IPC over the Flight DoPut RPC
// on the same endpoint, with the same credentials, proxy and TLS settings,
// retries and window. The table's Arrow schema comes from Unity Catalog (GET
// /api/2.1/unity-catalog/tables/{name}, once per Wrapper, and again when a
// new batch schema does not match the copy read, or 10 s after a mismatch,
// as the table may have been altered) or, when the
// catalog may not be read or has no such table yet, from the canonical
// mapping of the batch's schema (protocol §9: STRING and DECIMAL as
// large_utf8, BINARY large_binary, TIMESTAMP timestamp[us, UTC], …).
// A batch cannot be cast without that schema: a read that fails in a way
// that may pass (the catalog or the token endpoint unreachable, answering
// 5xx/408/429, or slower than CreateTimeout) is tried again with the
// stream's backoff and RetryMaxAttempts, then the batch fails with a
// *RetryExhaustedError whose Last is the read's failure (nothing sent), as
// a protobuf stream whose token request fails the same way does.
// Columns are matched by name; safe casts are applied (integer widening,
// any integer into a narrower table integer and float64 into FLOAT, any
// float into a table integer and any integer into FLOAT or DOUBLE, each
// value checked, float widening, string and binary to their large forms,
// decimals to their exact text, date64 to date32, timestamp units to
// microseconds, TIME and DURATION to BIGINT microseconds, as the protobuf
// path sends them, finer units rounded down on both paths (1 ns is 0 µs,
// -1 ns is -1 µs, for timestamps, times and durations alike); dictionaries and run-end encodings decoded, list views
// gathered, extension types as their storage (UUIDs, the arrow.uuid
// extension, into STRING as their 8-4-4-4-12 text, as the protobuf path
// sends them); JSON text to VARIANT, also
// inside structs, lists and maps, which are cast element-wise); a missing
// nullable column is sent as nulls. Anything else fails the whole batch
// before any row is sent with a *ConversionError (Row -1) whose Err is a
// *SchemaMismatchError listing every column with the batch's and the
// table's types. A row fails alone (*ConversionError naming the column path,
// RowNotWritten; the other rows are sent) for what fails it on the protobuf
// path too: a null in a NOT NULL column or struct field, a null list
// element or map value, a MAP key given twice in one map (the protobuf
// path's rule, convert.MapKeys), a string that is not UTF-8, a value out of range
// (an integer outside the table's TINYINT, SMALLINT, INT or BIGINT, a
// finite float64 beyond FLOAT, a float not a whole number in a table
// integer's range, an integer a table FLOAT or DOUBLE would round, a time
// overflowing microseconds, a date64 whose day does not fit DATE's int32
// days since the epoch; a DATE before 0001-01-01 or after 9999-12-31 that
// fits is sent as it is, on both transports, as the protocol gives the
// service no narrower range), JSON text that does not parse as a VARIANT (checked on the
// protobuf path when the catalog names the column VARIANT); and for a
// VARIANT given as struct{metadata, value} whose bytes are malformed.
// Decimals are sent as their exact text: the service rounds fraction digits past the scale of the DECIMAL(p,s) the catalog gives half-up, as Spark does; a decimal too large for it (more than p-s digits before the point after rounding to s places) fails its row on both transports.
// A string column into a DECIMAL(p,s) (top level, STRUCT field, ARRAY element, MAP key or value) is checked by the same rule (protoarrow.CheckDecimalText: Spark's decimal text, an optional sign, digits, an optional point and exponent, surrounding spaces ignored); text that is not a number or too large fails its row on both transports; plain text is sent as given, other decimal text rounded to s places ("1.5e3" → "1500.00"). Decimal MAP keys are checked too.
// An integer or float column into a DECIMAL(p,s) (top level, STRUCT field, ARRAY element, MAP key or value) is sent as decimal text checked by that rule (convert/number_decimal.go, both transports): an integer as its digits, a float by its shortest decimal text (as Spark's double-to-DECIMAL cast reads it) rounded half-up to s places (0.1 → "0.10", 1.005 → "1.01"); a value too large, NaN or ±Inf fails its row. Another type into a DECIMAL fails the batch naming DECIMAL(p,s).
// A column of the Arrow null type is all nulls of the table's type when the catalog gives the column, on both transports (each row failing for the null in a NOT NULL column); without the catalog it is refused. So is a STRUCT field of the null type (pyarrow's struct<x: null>), each row whose STRUCT is not null failing if the field is NOT NULL; ARRAY elements and MAP values of the null type fail the rows that hold one. A row that
// alone takes more than MaxMessageBytes of Arrow IPC fails alone too (not
// checked with WriterDisabled: a dry run does not encode on this path);
// MaxRecordBytes bounds protobuf records: Validate (and so New) refuses a
// value other than its default (or the one a lower MaxMessageBytes gives
// it) on this path, as it refuses protobuf debug files as the only debug
// output; New refuses WithDescriptor and WithMessage.
// With AllFieldsOptional the canonical mapping makes every column and
// STRUCT field nullable, as the protobuf path's descriptor makes them
// optional. A Unity Catalog column type without an Arrow mapping fails the
// batch as a *ConversionError naming the column.
//
// The server acknowledges durable records, not messages, so a partially
// acknowledged batch is split exactly: its acknowledged prefix is durable
// and, after the stream moves to a new RPC, only the rest is re-sent. Per-row
// results, errors and Attempts mean what they mean on the protobuf path;
// BatchSizeBytes counts Arrow IPC bytes. ArrowFlightCompression compresses
// the IPC buffers (zstd or lz4) or each whole gRPC message (grpc_zstd); a
// compressed chunk whose buffers would hold more than 8 × MaxMessageBytes
// uncompressed (a dictionary cast to plain strings) is halved, so that a
// server never decompresses one message into more. Telemetry uses the same instruments and
// spans, with zerobus.transport="arrow_flight". Arrow debug files hold the
// batches as passed to SendBatch (before the cast); protobuf debug files
// are not written on this path, since no protobuf is encoded: DebugEnabled
// writes the Arrow files only, Config.DebugKinds says ["arrow"] and the
// logged config shows the protobuf kind as not applicable
// (debug_kinds_not_applicable); DebugProtobufEnabled is refused as the only
// debug output and warned about beside DebugArrowEnabled.
// WriterDisabled applies the cast and the NOT NULL check and sends nothing.
//
// A batch is cast and encoded in chunks (at most 4 MiB of IPC, a quarter
// of MaxInflightBytes): each chunk reserves its estimated bytes in the
// Wrapper's window before it is cast, holds its IPC body's memory until its
// request is acknowledged or failed (the body's arena region, which may be
// a little larger than the body), and keeps only its IPC message (a
// replay decodes it), so the IPC bodies a Wrapper holds stay within
// MaxInflightBytes however many goroutines send; MaxInflightRequests bounds
// the requests in flight. IPC bodies go to gRPC by reference, without
// another copy. Like the protobuf path's records, the cast's arrays and
// the IPC bodies live in the encoder's off-heap arena (so the collector's
// headroom does not double them): a body goes back when its request has
// resolved and gRPC has written or dropped it. 16 goroutines sending peak
// at about 1.6× MaxInflightBytes of RSS growth (protobuf: about 1.75×).
//
// # Telemetry
//
// Metrics and spans go to the MeterProvider and TracerProvider given with
// WithMeterProvider / WithTracerProvider (default: the otel globals);
// logs go to WithLogger (default: silent). Each SendBatch has a span
// "zerobus.SendBatch" with children "zerobus.convert", "zerobus.debug.write",
// "zerobus.transmit" and "zerobus.wait_acks"; the stream it opens, if any,
// adds "zerobus.stream.create", and a recovery that re-sends its requests
// runs as "zerobus.stream.recover" in the same trace. A token fetch,
// "zerobus.token.fetch", is a child of the span that needed the token: of
// "zerobus.SendBatch" for the Unity Catalog read of the table's columns
// (most of them: the first send of a schema, a recheck), of
// "zerobus.stream.create" or "zerobus.stream.recover" when a stream's token
// had to be fetched or refreshed. The batch and row metrics and the spans
// "zerobus.SendReader", "zerobus.SendBatch", "zerobus.stream.create" and
// "zerobus.stream.recover" carry zerobus.table and zerobus.transport
// ("protobuf" or "arrow_flight"); "zerobus.convert", "zerobus.transmit" and
// "zerobus.wait_acks" carry zerobus.transport, "zerobus.token.fetch"
// zerobus.table. Log records carry the trace_id and span_id of the span
// they belong to. Metrics include
// zerobus.batches.sent (by zerobus.outcome: "success", "partial" or
// "failure"; a send refused after Close counts as a failure),
// zerobus.rows.sent, zerobus.rows.failed (by error kind and
// zerobus.row.state: "not_written", or "unknown" for rows that may have
// been stored, as in the per-row results, including the rows declared with
// WithTotalRows that a SendReader never read), zerobus.rows.resent (rows
// written again after a stream recovery, TransmissionResult.ResentRows:
// possible duplicates), zerobus.bytes.sent, and the
// histograms zerobus.send.duration, zerobus.conversion.duration and
// zerobus.ack.duration, in seconds with bucket bounds from 100 µs to 120 s
// (zerobus.send.duration carries zerobus.outcome too).
// zerobus.stream.creations and zerobus.token.fetches carry zerobus.outcome
// ("success" or "failure"); zerobus.token.fetches and the
// "zerobus.token.fetch" span carry zerobus.token.refresh (a bool), and the
// zerobus.debug.* metrics and the "zerobus.debug.write" span
// zerobus.debug.kind ("arrow" or "proto").
// A SendReader call (and so every Python send_batch) has one span
// "zerobus.SendReader", with zerobus.table and zerobus.transport and, when it
// ends, zerobus.rows and zerobus.parts; each part it was sent in is a
// "zerobus.SendBatch" span under it, and the batch and row metrics count
// each part as a batch. A row reported unknown whose request the
// server acknowledges later (after the call returned, on the RPC that
// carried it) stays counted in zerobus.rows.failed.
//
// Applications without an OpenTelemetry SDK of their own build the
// providers and a JSON logger from Config's observability keys with
// SetupTelemetry (OTLP gRPC/HTTP, OTLP JSON files, Config.LogFile; every file
// rotated at TelemetryMaxFileMB). WithTelemetry hands the
// result to one Wrapper, whose Close then flushes and shuts it down; the
// Python binding takes this path, with a LogQueue (TelemetryLogHandler)
// carrying the records to Python's logging. New takes it by itself when
// Config has ObservabilityEnabled or LogFile and WithTelemetry is not
// given; a WithLogger, WithMeterProvider or WithTracerProvider then replaces
// only its part (the logs with log_file and logs.jsonl, the metrics or
// the traces export), and New logs a warning naming what the option
// replaced. Logs are never exported over OTLP: logs.jsonl and log_file hold
// slog JSON lines (time, level, msg, trace_id, span_id, attributes).
//
// Each SetupTelemetry has a resource of its own, so series of different
// Wrappers and processes stay apart: service.name, service.version, a
// random service.instance.id, host.name, process.pid, the executable and
// runtime (OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win); the
// instrumentation scope carries Version. Counters are cumulative per
// instance (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=delta for
// delta). zerobus.error.kind is the public ErrorKind on zerobus.rows.failed
// and the stream layer's retry reason ("auth", "token", "ack_timeout",
// "connection", a lowercased gRPC code, …) on zerobus.retries,
// zerobus.stream.recoveries and "zerobus.stream.recover". A failed span's
// status and "exception" event (exception.type: the ErrorKind) carry no
// row values: a row's conversion error keeps its row and column, not its
// reason. Export failures are logged by the Telemetry's Logger once per
// episode (see SetupTelemetry), and a final export lost at Close as one
// warning before the log files close.
//
// # Configuration keys
//
// Config loads from code, from YAML (LoadConfigYAML, ParseConfigYAML), from
// the environment (ConfigFromEnv, Config.ApplyEnv) and from a map of keys to
// values (ConfigFromSettings, the inverse of SettingsOf; language bindings
// pass settings this way, and ByKeyError names problems by key). All of them
// read one table, Settings: each key with its Config field, type, unit,
// default, secret flag, environment variables and a doc line. YAML keys,
// defaults (DefaultConfig, in the key's unit: milliseconds for *_ms,
// seconds for *_secs, bytes or a KiB/MiB size; "—" for none: unset, or
// required where the field says so; debug_rotation_interval_secs 0 rotates
// by size only) and environment variables:
//
//	Field                   YAML key                       Default  Environment
//	Endpoint                endpoint                       —        ZEROBUS_ENDPOINT
//	TableName               table_name                     —        ZEROBUS_TABLE_NAME
//	UnityCatalogURL         unity_catalog_url              —        UNITY_CATALOG_URL, DATABRICKS_HOST
//	ClientID                client_id                      —        ZEROBUS_CLIENT_ID, DATABRICKS_CLIENT_ID
//	ClientSecret            client_secret                  —        ZEROBUS_CLIENT_SECRET, DATABRICKS_CLIENT_SECRET
//	ProxyURL                proxy_url                      —        ZEROBUS_PROXY_URL
//	TLSCAFile               tls_ca_file                    —        ZEROBUS_TLS_CA_FILE
//	RetryMaxAttempts        retry_max_attempts             5        RETRY_MAX_ATTEMPTS
//	RetryBaseDelay          retry_base_delay_ms            100      RETRY_BASE_DELAY_MS
//	RetryMaxDelay           retry_max_delay_ms             30000    RETRY_MAX_DELAY_MS
//	MaxInflightRequests     max_inflight_requests          1000     ZEROBUS_MAX_INFLIGHT_REQUESTS
//	MaxInflightBytes        max_inflight_bytes             64MiB    ZEROBUS_MAX_INFLIGHT_BYTES
//	MaxMessageBytes         max_message_bytes              10176KiB ZEROBUS_MAX_MESSAGE_BYTES
//	MaxRecordBytes          max_record_bytes               4194285  ZEROBUS_MAX_RECORD_BYTES
//	CreateTimeout           create_timeout_ms              15000    ZEROBUS_CREATE_TIMEOUT_MS
//	AckTimeout              ack_timeout_ms                 60000    ZEROBUS_ACK_TIMEOUT_MS
//	FlushTimeout            flush_timeout_ms               300000   ZEROBUS_FLUSH_TIMEOUT_MS
//	StreamsPerSchema        streams_per_schema             2        ZEROBUS_STREAMS_PER_SCHEMA
//	AllFieldsOptional       all_fields_optional            false    ZEROBUS_ALL_FIELDS_OPTIONAL
//	DebugEnabled            debug_enabled                  false    DEBUG_ENABLED
//	DebugArrowEnabled       debug_arrow_enabled            —        DEBUG_ARROW_ENABLED
//	DebugProtobufEnabled    debug_protobuf_enabled         —        DEBUG_PROTOBUF_ENABLED
//	DebugOutputDir          debug_output_dir               —        DEBUG_OUTPUT_DIR
//	DebugFlushInterval      debug_flush_interval_secs      5        DEBUG_FLUSH_INTERVAL_SECS
//	DebugMaxFileSize        debug_max_file_size            128MiB   DEBUG_MAX_FILE_SIZE
//	DebugRotationInterval   debug_rotation_interval_secs   0        DEBUG_ROTATION_INTERVAL_SECS
//	DebugMaxFilesRetained   debug_max_files_retained       10       DEBUG_MAX_FILES_RETAINED
//	DebugArrowCompression   debug_arrow_compression        —        DEBUG_ARROW_COMPRESSION
//	ObservabilityEnabled    observability_enabled          false    OTLP_ENABLED
//	OTLPEndpoint            otlp_endpoint                  —        OTLP_ENDPOINT
//	OTLPProtocol            otlp_protocol                  grpc     OTLP_PROTOCOL
//	ObservabilityOutputDir  observability_output_dir       —        OTLP_OUTPUT_DIR
//	ObservabilityInterval   observability_interval_secs    10       OTLP_INTERVAL_SECS, OTLP_WRITE_INTERVAL_SECS
//	LogLevel                log_level                      info     ZEROBUS_LOG_LEVEL, OTLP_LOG_LEVEL
//	LogFile                 log_file                       —        ZEROBUS_LOG_FILE
//	TelemetryMaxFileMB      observability_max_file_mb      100      OTLP_MAX_FILE_MB
//	TelemetryMaxBackups     observability_max_backups      5        OTLP_MAX_BACKUPS
//	WriterDisabled          zerobus_writer_disabled        false    ZEROBUS_WRITER_DISABLED
//	Transport               transport                      protobuf ZEROBUS_TRANSPORT
//	ArrowFlightCompression  arrow_flight_compression       —        ZEROBUS_ARROW_FLIGHT_COMPRESSION
//
// Durations given as *_ms / *_secs are whole numbers of that unit (a Go
// duration such as "1.5s" is accepted too when it is a whole number of the
// unit); byte sizes accept KiB/MiB/GiB
// suffixes. In YAML, "${NAME}" is replaced by the environment variable NAME,
// which keeps secrets out of files.
//
// ProxyURL ("http://[user:password@]host[:port]", or https:// for TLS to the
// proxy) sends all traffic through that proxy, loopback targets included:
// gRPC as HTTP CONNECT tunnels, token requests as proxied HTTP requests.
// Empty (the default) leaves proxying to the environment (HTTPS_PROXY,
// NO_PROXY).
//
// TLSCAFile (a PEM file) replaces the system roots for every TLS connection
// the Wrapper makes: the endpoint (gRPC and Arrow Flight), the workspace's
// token and Unity Catalog requests, and an https:// proxy. New loads it once
// and fails with a *ConfigurationError naming the key and the file when it
// cannot be read or holds no valid certificate. Given together with the
// WithRootCAs option, the certificates of both are trusted (neither replaces
// the other). OpenTelemetry exporters are not affected (they read
// OTEL_EXPORTER_OTLP_CERTIFICATE).
package core
