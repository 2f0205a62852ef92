// Package convert turns Arrow schemas into one self-contained proto2
// DescriptorProto and Arrow record batches into protobuf records, the
// payload of a Zerobus PROTO stream.
//
// # Plans
//
// NewPlan derives the message from an Arrow schema; NewPlanForDescriptor and
// NewPlanForMessage use a caller-supplied message instead, matching columns
// to fields by name and checking types up front. A Plan is compiled once per
// schema, is immutable, and is safe for concurrent Encode calls. Schema
// problems are reported all at once in a *SchemaError.
//
// # Derived descriptor
//
// The message is named Options.MessageName (default "Record"). Fields are
// numbered from 1 in column order, skipping 19000-19999; where
// Options.TableFields gives the table's fields, columns and STRUCT fields
// are matched to them by name (MatchFields) and listed in the table's order
// and spelling. A nullable column
// is optional, a non-nullable one required (Options.AllOptional makes every
// field optional; Options.TableNullable, the target table's own
// optionality, overrides both for the columns it names). Struct columns become messages nested in the message that
// holds them; their fields are always optional, as Zerobus expects, and are
// numbered from 1 (a null in a STRUCT field still fails its row when the
// field is non-nullable, or Options.TableNullable says NOT NULL). A nested message takes the UpperCamel form of its field
// name ("address" -> "Address"), with "_2", "_3"... appended if that name is
// taken in the same scope; a map's value message takes "<Name>Value". Map
// entries are named "<Name>Entry" as protobuf requires. Type names are fully
// qualified from the top message (".Record.Address"), with no package.
// A string value where Options.TableVariant says the table holds a VARIANT
// is JSON text, checked by protoarrow.ParseVariantJSON's rule (the Flight
// path's): one that fails it fails its row with ErrInvalidVariant.
// Names must be ASCII letters, digits and '_', not start with a digit, and
// not be a protobuf keyword; at most 2000 columns; nesting at most 32 deep.
// Two names of one level that differ only in case ("id", "ID") are refused
// (CaseClashes): Unity Catalog names are case-insensitive.
//
// # Type mapping
//
//	Arrow                                      protobuf  value
//	int8, int16, int32, uint8, uint16          int32
//	int64, uint32                              int64
//	uint64                                     int64     over MaxInt64: row error
//	float16, float32                           float     float16 widened exactly (subnormals too)
//	float64                                    double
//	bool                                       bool
//	utf8, large_utf8, string_view              string    bytes as stored; not valid UTF-8: row error
//	binary, large_binary, binary_view,         bytes
//	  fixed_size_binary
//	arrow.uuid (fixed_size_binary[16])         bytes     the 16 bytes; string (8-4-4-4-12 text) into a table STRING
//	date32                                     int32     days since the epoch
//	date64                                     int32     floor(ms / 86400000); outside int32: row error
//	timestamp (s, ms, us, ns; any zone)        int64     microseconds since the epoch, UTC
//	time32, time64                             int64     microseconds since midnight
//	duration                                   int64     microseconds
//	decimal32/64/128/256 (p, s)                string    exact decimal text, see below
//	dictionary<K, V>                           as V
//	run_end_encoded<E, V>                      as V
//	other extension types                      as their storage type
//	list, large_list, fixed_size_list,         repeated T (unpacked)
//	  list_view, large_list_view of T
//	struct                                     nested message
//	map<K, V>                                  map<K, V>: repeated entry {1 key, 2 value}
//
// With Options.TableType (the table's types, from the catalog), an integer
// column of a table int8, int16 or int32 column (TINYINT, SMALLINT, INT) is
// an int32 field and of an int64 one (BIGINT) an int64 field, a float
// column of a float32 one (FLOAT) a float and of a float64 one (DOUBLE) a
// double, also for STRUCT fields, ARRAY elements and MAP keys and values;
// a value that may not fit is checked per row by the rule of narrow.go,
// which the Flight path casts by (IntFits, ToFloat): one outside the
// table's type is a row error (ErrOutOfRange). A float column of a table
// integer column is that integer field and an integer column of a FLOAT or
// DOUBLE column that float field (also a float MAP key of an integer key),
// each value converted by FloatToInt (a whole number in range) or
// IntToFloat (exact only); any other value is a row error (ErrOutOfRange).
//
// Conversions to microseconds multiply with an overflow check (a row error)
// and divide with floor division, so -1 ns is -1 us, before the epoch, and a
// date64 of -1 ms is day -1. Decimal text has an optional '-', at least one
// integer digit and, for a positive scale, exactly scale fraction digits
// ("-12.340" for decimal(5, 3)); a negative scale appends zeros ("1200" for
// 12 at scale -2). Map keys must map to an integer, bool or string type
// (a decimal key is its text, as the Flight transport sends it). A string
// value where Options.TableDecimal names a DECIMAL(p,s) is checked as
// decimal text (see decimal_strings.go); an integer or float value there
// is sent as decimal text (see number_decimal.go).
//
// A UUID column is the canonical arrow.uuid extension, registered or (as
// the C stream import leaves it) a fixed_size_binary[16] whose field
// metadata names it (MarkedType); where Options.TableType gives a STRING it
// is a string field of each value's lowercase 8-4-4-4-12 text (AppendUUID),
// also as a STRUCT field, ARRAY element or MAP key or value, as the Flight
// path casts it.
//
// Refused, with a Problem naming the column and type: the null type (a
// column, STRUCT field, ARRAY element or MAP value of it is the table's
// type, all nulls, when Options.TableType gives the column),
// intervals, unions, a list directly inside a list, a map inside a list or
// map, a list as a map value, and map keys of other types. Wrap the inner
// list or map in a struct to send such shapes.
//
// # Nulls
//
//   - A null in an optional field is omitted.
//   - A null in a required field fails the row (ErrNullValue). Inside
//     structs the descriptor field is optional, but a null in a non-nullable
//     Arrow child still fails the row (it would violate the table's NOT NULL
//     constraint) unless Options.AllOptional is set, in which case it is
//     omitted. Values under a null struct are not looked at.
//   - A null list or map is written as an empty repeated field: protobuf
//     cannot tell the two apart, so both arrive as empty. (A null in a
//     non-nullable list column fails the row unless AllOptional.)
//   - A null list element or map value fails the row: a repeated field or
//     map cannot hold null. The error names the element, e.g. "tags[3]" or
//     "attrs[2].value".
//   - A map value giving one key twice fails the row (ErrDuplicateMapKey,
//     "attrs[2].key"): a protobuf map keeps only a key's last entry. The
//     encoded keys are compared (MapKeys; the Flight path applies the same
//     check to keys cast to the table's type).
//
// With a caller-supplied descriptor the field labels decide instead: null in
// a required field fails the row, in an optional one it is omitted.
//
// # Caller-supplied descriptors
//
// Every column needs a field of the same name and every required field a
// column. Compatible types: any integer-like column (integers, dates,
// timestamps, times, durations, after the conversions above) into any
// integer or enum field, range-checked per row; float columns into float or
// double; bool into bool; string columns into string or bytes; binary into
// bytes; decimals into string; lists into repeated fields of a compatible
// element; structs into message fields, recursively; maps into map fields.
//
// # Encoding
//
// Encode writes the wire format directly from the Arrow buffers with a
// per-schema plan of encoders (protowire, no reflection). Each record is
// written once; nested message lengths are patched in place. Large batches
// are split into chunks encoded in parallel, each into its own buffer.
// Every record is written after its ProtoEncodedRecordBatch framing
// (field tag and length), so Batch.Frames hands any run of records to the
// network as a request body without copying them. A row that cannot be encoded (a
// null where none is allowed, a value out of range, a record over
// Options.MaxRecordBytes) is reported as a *RowError with its row index,
// column path and reason; the other rows still encode.
//
// # Ownership
//
// Encode reads the record batch only during the call; it neither retains
// nor releases it. The returned Batch holds no Arrow memory. Its buffers
// are reference counted (Batch.Retain, Batch.Release): the last Release
// returns them for later Encode calls; a Batch never released gives them
// back once the garbage collector finds it unreachable. Records, Rows and
// the records' bytes are valid while the Batch is reachable and not
// released: keep the Batch, not only its slices.
//
// # Memory
//
// The chunk buffers, the per-row end offsets and the Records and Rows
// arrays live outside the Go heap, in an arena of anonymous memory
// mappings (Linux; elsewhere the same arena hands out Go memory). The
// records in flight therefore do not count toward the garbage collector's
// heap goal, which would otherwise let the heap grow to twice them, and a
// process's first encode writes into regions of 3 MiB or more backed by
// transparent huge pages where the system allows them (a few 2 MiB faults
// rather than thousands of 4 KiB ones). No process-wide setting is
// changed. Regions come in size classes and are reused from free lists;
// the pages of a region free for 2 s, or beyond what was in use lately
// plus a sixteenth, go back to the system (MADV_DONTNEED); a mapping is
// never removed, so a stale slice reads zeros or newer bytes, never
// unmapped memory. ReadArenaStats reports the bytes in use, free and
// trimmed; TrimArena gives every free region's pages back at once.
package convert
