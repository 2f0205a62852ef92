// Package protoarrow turns what arrives on a Zerobus stream back into Arrow:
// a google.protobuf.DescriptorProto (one message, nested types inside it)
// becomes an Arrow schema, and records encoded with that descriptor become an
// Arrow record batch. It is the inverse of core/internal/convert and is used
// by the local server (core/zerobuslocal) and the debug-file reader.
//
// It also holds the readers of untrusted bytes that both the local server
// and the clients need, written once here (the local server may import only
// zerobuspb and this package):
//
//   - VariantJSON and CheckVariant read a VARIANT value in the Parquet
//     Variant binary encoding with every length and offset bounds-checked:
//     the local server stores what VariantJSON gives, and the Flight client
//     checks each value its caller gives already encoded, so a malformed one
//     fails its row rather than the batch at the server.
//   - VerifyIPCMessage and VerifyIPCFooter check Arrow IPC flatbuffer
//     metadata before arrow-go, which trusts its lengths, reads it: the
//     local server each FlightData header (the body bounded by the
//     FlightData's). VerifyIPCFile and NewIPCStreamVerifier frame them for
//     Arrow IPC bytes in a file (footer and block placement, the bytes left
//     for each body, what each batch's compressed buffers may decompress
//     to: BatchDecodedLimit, and in all where every batch is kept,
//     NewIPCHeldStreamVerifier: DecodedLimit; the local server bounds each FlightData body's by the
//     same check, IPCMessageVerifier.VerifyBody): the command line checks its input files with them
//     (through core's re-exports: cli may not import this package), the
//     debug file reader each Arrow debug file. IPCMessageVerifier verifies
//     a stream message by message (the local server's FlightData), keeping
//     what the schema says its batches must hold.
//   - ArrowValidator checks the body of each record batch arrow-go built
//     from those bytes (offsets, indices, views, lengths, null counts,
//     UTF-8), which arrow-go trusts as well, before anything reads a value:
//     the same three readers validate every batch with it.
//
// # Type mapping
//
//	int32, sint32, sfixed32     -> int32
//	int64, sint64, sfixed64     -> int64
//	uint32, fixed32             -> uint32
//	uint64, fixed64             -> uint64
//	float / double              -> float32 / float64
//	bool                        -> bool
//	string                      -> utf8
//	bytes                       -> binary
//	enum                        -> int32 (the enum number)
//	message                     -> struct (recursively)
//	repeated T                  -> list<T>  (arrow.ListOf)
//	map<K, V> (map_entry)       -> map<K, V> (arrow.MapOf)
//
// An optional field (or a field in a oneof) is a nullable Arrow field whose
// unset value is null; a required field is non-nullable; a repeated field is
// non-nullable (an absent repeated field is an empty list). List items and map
// values use Arrow's default nullable element fields so that a batch that went
// Arrow -> protobuf -> Arrow compares equal to the original, although
// protobuf never produces a null there.
//
// # Descriptor resolution
//
// A lone DescriptorProto has no file: this package wraps it in a proto2 file
// whose package is inferred from fully-qualified type names that point into
// the message (".pkg.Msg.Nested" gives package "pkg"), so descriptors taken
// from generated code, from the official SDKs and from convert all resolve.
// Types outside the message (imports, well-known types) are rejected.
//
// # Fast paths
//
// Validator checks encoded records against a descriptor by walking the wire
// format (no allocation for a valid record) and accepts exactly what the
// strict Unmarshal accepts; Builder appends encoded records straight to
// Arrow builders. Both fall back to Unmarshal for the rare records whose
// meaning depends on protobuf merge rules (a singular message field sent
// twice, a oneof switched), so their results always equal the decode path.
package protoarrow
