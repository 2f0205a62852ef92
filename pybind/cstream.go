//go:build cgo

package pybind

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// The Arrow C data and stream interface (ABI-stable; see
// https://arrow.apache.org/docs/format/CDataInterface.html).
struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
  const char* (*get_last_error)(struct ArrowArrayStream*);
  void (*release)(struct ArrowArrayStream*);
  void* private_data;
};

// zb_stream_move moves the stream at src into a new malloc'd struct and
// marks src released, as the C stream interface's move does.
static struct ArrowArrayStream* zb_stream_move(uintptr_t src) {
  struct ArrowArrayStream* s = (struct ArrowArrayStream*)src;
  if (s == NULL || s->release == NULL) return NULL;
  struct ArrowArrayStream* out = malloc(sizeof(*out));
  if (out == NULL) return NULL;
  memcpy(out, s, sizeof(*out));
  s->release = NULL;
  return out;
}

static int zb_get_schema(struct ArrowArrayStream* s, struct ArrowSchema* out) { return s->get_schema(s, out); }
static int zb_get_next(struct ArrowArrayStream* s, struct ArrowArray* out) { return s->get_next(s, out); }
static const char* zb_last_error(struct ArrowArrayStream* s) {
  return s->get_last_error == NULL ? NULL : s->get_last_error(s);
}
static int zb_array_released(struct ArrowArray* a) { return a->release == NULL; }
static int64_t zb_array_children(struct ArrowArray* a) { return a->n_children; }
static void zb_release_array(struct ArrowArray* a) { if (a->release != NULL) a->release(a); }
static void zb_release_schema(struct ArrowSchema* s) { if (s->release != NULL) s->release(s); }
static int64_t zb_schema_children(struct ArrowSchema* s) { return s->n_children; }
static struct ArrowSchema* zb_schema_child(struct ArrowSchema* s, int64_t i) { return s->children[i]; }
static const char* zb_schema_format(struct ArrowSchema* s) { return s->format; }
static struct ArrowSchema* zb_schema_dictionary(struct ArrowSchema* s) { return s->dictionary; }

// A borrowed view of a schema tree: new structs pointing at the producer's
// strings, whose release only marks them released (arrow-go's import
// releases every node it reads), so that a schema can be imported more than
// once (a column at a time, to name one arrow-go cannot import) before the
// producer's own release. zb_borrow_free frees the view.
static void zb_borrow_release(struct ArrowSchema* s) { s->release = NULL; }
static void zb_borrow_free(struct ArrowSchema* b) {
  if (b == NULL) return;
  for (int64_t i = 0; b->children != NULL && i < b->n_children; i++) zb_borrow_free(b->children[i]);
  free(b->children);
  zb_borrow_free(b->dictionary);
  free(b);
}
static struct ArrowSchema* zb_borrow(struct ArrowSchema* s) {
  if (s == NULL) return NULL;
  struct ArrowSchema* b = calloc(1, sizeof(*b));
  if (b == NULL) return NULL;
  b->format = s->format;
  b->name = s->name;
  b->metadata = s->metadata;
  b->flags = s->flags;
  b->release = zb_borrow_release;
  if (s->n_children > 0) {
    b->children = calloc((size_t)s->n_children, sizeof(struct ArrowSchema*));
    if (b->children == NULL) { free(b); return NULL; }
    b->n_children = s->n_children;
    for (int64_t i = 0; i < s->n_children; i++) {
      b->children[i] = zb_borrow(s->children[i]);
      if (b->children[i] == NULL) { zb_borrow_free(b); return NULL; }
    }
  }
  if (s->dictionary != NULL) {
    b->dictionary = zb_borrow(s->dictionary);
    if (b->dictionary == NULL) { zb_borrow_free(b); return NULL; }
  }
  return b;
}
static void zb_release_stream(struct ArrowArrayStream* s) {
  if (s->release != NULL) s->release(s);
  free(s);
}
*/
import "C"

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/cdata"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/cext"
)

// cStream is an array.RecordReader over an Arrow C stream (ArrowArrayStream)
// that Python exported from the caller's object: batches are imported with
// arrow-go's cdata package and read in place, their buffers released back to
// the producer when the last Go reference goes. The stream itself is released
// by the last Release (not by a finalizer), so the producer's objects are freed
// as soon as the send is done.
type cStream struct {
	stream *C.struct_ArrowArrayStream
	arr    *C.struct_ArrowArray // reused for each get_next; moved out on import
	schema *arrow.Schema
	// imported is the schema as arrow-go imports it, batches are imported
	// with it; schema is it with the UUIDs the import lost below a MAP or
	// a dictionary put back (cext), each batch retyped to it when retype.
	imported *arrow.Schema
	retype   bool
	cur      arrow.RecordBatch
	err      error
	// batches and rows count what get_next gave so far (for messages).
	batches int
	rows    int64
	refs    atomic.Int64
	once    sync.Once
}

// openStreams counts the cStreams taken over and not yet released (OpenStreams).
var openStreams atomic.Int64

// OpenStreams is the number of Arrow C streams Go has taken over from Python
// and not yet released, for leak tests.
func OpenStreams() int { return int(openStreams.Load()) }

// importStream takes over the ArrowArrayStream at addr (the caller's struct
// is left released, as after ArrowArrayStreamMove) and reads its schema.
func importStream(addr int64) (*cStream, error) {
	if addr == 0 {
		return nil, errorOf(core.KindUnknown, "zerobus: null ArrowArrayStream address")
	}
	st := C.zb_stream_move(C.uintptr_t(addr))
	if st == nil {
		return nil, errorOf(core.KindUnknown, "zerobus: the ArrowArrayStream is already released (consumed)")
	}
	s := &cStream{stream: st}
	s.refs.Store(1)
	openStreams.Add(1)
	var sc C.struct_ArrowSchema
	if rc := C.zb_get_schema(st, &sc); rc != 0 {
		err := s.lastError("reading the stream's schema", rc)
		s.Release()
		return nil, errorOf(core.KindConversion, "%v", err)
	}
	// A field, not ImportCArrowSchema: that one panics on a stream of one
	// column (a polars or pandas Series exports such a stream).
	field, err := importBorrowed(&sc)
	if err != nil {
		name, cerr := failingColumn(&sc)
		C.zb_release_schema(&sc)
		s.Release()
		if name != "" {
			return nil, kindError{err: &core.ConversionError{Row: -1, Column: name, Err: cerr,
				Reason: fmt.Sprintf("importing the Arrow schema: %v", cerr)}}
		}
		return nil, errorOf(core.KindConversion, "zerobus: importing the Arrow schema: %v", err)
	}
	restored, retype := cext.Restore(schemaNode(&sc), field)
	C.zb_release_schema(&sc)
	cols, ok := field.Type.(*arrow.StructType)
	if !ok {
		s.Release()
		return nil, kindError{kind: core.KindConversion, reason: reasonNotATable, err: fmt.Errorf(
			"zerobus: the Arrow stream is one column (%s), not a table of columns: "+
				"send a table or DataFrame, e.g. pyarrow.table({\"name\": column}) or series.to_frame()", field.Type)}
	}
	s.imported = arrow.NewSchema(cols.Fields(), &field.Metadata)
	s.schema = s.imported
	if retype {
		s.schema = arrow.NewSchema(restored.Type.(*arrow.StructType).Fields(), &field.Metadata)
		s.retype = true
	}
	s.arr = (*C.struct_ArrowArray)(C.calloc(1, C.size_t(unsafe.Sizeof(C.struct_ArrowArray{}))))
	return s, nil
}

// lastError is the producer's error as a plain error: a reader error that
// SendReader wraps (naming the row the input was read to) must not carry a
// pybind kind, which the error details would take instead of the wrapper.
func (s *cStream) lastError(what string, rc C.int) error {
	msg := "error code " + fmt.Sprint(int(rc))
	if p := C.zb_last_error(s.stream); p != nil {
		msg = producerText(C.GoString(p))
	}
	return fmt.Errorf("zerobus: %s: %s", what, msg)
}

// pythonDetail is what pyarrow appends to the error text of a stream whose
// Python producer raised (a generator behind a RecordBatchReader, also when
// another object's __arrow_c_stream__ hands that reader's stream on), before
// the whole formatted traceback.
const pythonDetail = ". Detail: Python exception: "

// producerText is a producer's error text as one line, for an error
// message: pyarrow's detail (pythonDetail and the Python traceback after
// it) is dropped, the exception's message is before it; any other text of
// several lines is cut at its first line break, marked " (...)".
func producerText(msg string) string {
	if i := strings.Index(msg, pythonDetail); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.TrimSpace(msg)
	if i := strings.IndexAny(msg, "\r\n"); i >= 0 {
		msg = strings.TrimSpace(msg[:i]) + " (...)"
	}
	return msg
}

func (s *cStream) Schema() *arrow.Schema          { return s.schema }
func (s *cStream) RecordBatch() arrow.RecordBatch { return s.cur }
func (s *cStream) Err() error                     { return s.err }

// Record is RecordBatch (array.RecordReader still names it).
func (s *cStream) Record() arrow.RecordBatch { return s.cur } //nolint:staticcheck

// Next imports the next batch; false at the end of the stream or on error.
func (s *cStream) Next() bool {
	if s.cur != nil {
		s.cur.Release()
		s.cur = nil
	}
	if s.err != nil || s.arr == nil {
		return false
	}
	if rc := C.zb_get_next(s.stream, s.arr); rc != 0 {
		s.err = s.lastError("reading the next batch", rc)
		return false
	}
	if C.zb_array_released(s.arr) != 0 {
		s.err = nil
		return false
	}
	batch := s.batches
	s.batches++
	if n := int(C.zb_array_children(s.arr)); n != s.schema.NumFields() {
		C.zb_release_array(s.arr)
		s.err = fmt.Errorf("zerobus: importing an Arrow batch: it has %d columns where the stream's schema has %d (%s): "+
			"the producer changed its schema mid-stream; send batches of another schema in a call of their own",
			n, s.schema.NumFields(), columnNames(s.schema))
		return false
	}
	// arrow-go trusts the batch's shape to match the schema and panics on
	// some that do not, after it took the batch over (nothing releases it
	// then): check first, while the batch is still the producer's.
	if err := checkBatchShape(unsafe.Pointer(s.arr), s.imported); err != nil {
		C.zb_release_array(s.arr)
		s.err = fmt.Errorf("zerobus: importing an Arrow batch: %w: the producer changed the column's type mid-stream "+
			"(or exported a malformed batch); send batches of another schema in a call of their own", err)
		return false
	}
	// A batch is a struct array whose rows are the table's: arrow-go's
	// import ignores its validity, so a null row would be sent with the
	// values hidden under it (pyarrow refuses such a stream as a table).
	if nulls, first := nullRows(unsafe.Pointer(s.arr)); nulls > 0 {
		length := int64(s.arr.length)
		C.zb_release_array(s.arr)
		where := ""
		if first >= 0 {
			where = fmt.Sprintf(", the first at row %d", s.rows+first)
		}
		s.err = fmt.Errorf("zerobus: batch %d of the Arrow stream (rows %d to %d) is a struct array with %d null rows%s "+
			"(ArrowArray struct has non-zero null count): a row of a table cannot be null, and the values under a null "+
			"row are not data; drop those rows first, e.g. pa.Table.from_struct_array(arr.filter(arr.is_valid())) "+
			"for a StructArray or ChunkedArray arr", batch, s.rows, s.rows+length-1, nulls, where)
		return false
	}
	rec, err := importBatch(s.arr, s.imported)
	if err != nil {
		C.zb_release_array(s.arr) // the import released it unless it panicked
		s.err = fmt.Errorf("zerobus: importing an Arrow batch: it does not match the stream's schema "+
			"(did the producer change a column's type mid-stream?): %w", err)
		return false
	}
	if s.retype {
		typed, err := cext.Retype(rec, s.schema)
		rec.Release()
		if err != nil {
			s.err = fmt.Errorf("zerobus: importing an Arrow batch: %w", err)
			return false
		}
		rec = typed
	}
	s.cur = rec
	s.rows += rec.NumRows()
	return true
}

// nullRows counts the null rows of the C array at arr (a batch: a struct of
// the stream's columns) and finds the first (-1 when the array declares a
// null count but has no validity bitmap to find it in). A null count of
// zero is trusted; one of -1 (not computed) is counted from the bitmap.
func nullRows(arr unsafe.Pointer) (count, first int64) {
	a := (*C.struct_ArrowArray)(arr)
	declared, length, off := int64(a.null_count), int64(a.length), int64(a.offset)
	if declared == 0 || length <= 0 {
		return 0, -1
	}
	var bitmap unsafe.Pointer
	if a.n_buffers > 0 && a.buffers != nil {
		bitmap = unsafe.Slice(a.buffers, a.n_buffers)[0]
	}
	if bitmap == nil || off < 0 {
		return max(declared, 0), -1
	}
	bits := unsafe.Slice((*byte)(bitmap), (off+length+7)/8)
	first = -1
	for i := int64(0); i < length; i++ {
		if j := off + i; bits[j/8]&(1<<(j%8)) == 0 {
			if first < 0 {
				first = i
			}
			count++
		}
	}
	if count == 0 && declared > 0 { // a count its bitmap does not show: the count stands
		return declared, -1
	}
	return count, first
}

// Retain adds a reference.
func (s *cStream) Retain() { s.refs.Add(1) }

// Release drops a reference; the last one releases the current batch and
// the C stream.
func (s *cStream) Release() {
	if s.refs.Add(-1) > 0 {
		return
	}
	s.once.Do(func() {
		if s.cur != nil {
			s.cur.Release()
			s.cur = nil
		}
		if s.arr != nil {
			C.free(unsafe.Pointer(s.arr))
			s.arr = nil
		}
		C.zb_release_stream(s.stream)
		s.stream = nil
		openStreams.Add(-1)
	})
}

// importField is cdata.ImportCArrowField, with a panic of the import (a
// malformed schema) returned as an error.
func importField(sc *C.struct_ArrowSchema) (f arrow.Field, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed ArrowSchema: %v", p)
		}
	}()
	return cdata.ImportCArrowField((*cdata.CArrowSchema)(unsafe.Pointer(sc)))
}

// importBorrowed imports sc through a borrowed view (see zb_borrow): sc
// itself stays unreleased, for the caller to read again and release.
func importBorrowed(sc *C.struct_ArrowSchema) (arrow.Field, error) {
	b := C.zb_borrow(sc)
	if b == nil {
		return arrow.Field{}, fmt.Errorf("out of memory copying the ArrowSchema")
	}
	defer C.zb_borrow_free(b)
	f, err := importField(b)
	if err == nil {
		fixTimeZones(sc, f.Type)
	}
	return f, err
}

// fixTimeZones sets the time zone of every timestamp type in dt (nested
// and dictionary value types too), imported from sc, to the whole of the
// zone in sc's format: arrow-go's import (v18.5.2, cdata.go importSchema)
// splits the format "tsu:+05:30" on every colon and keeps "+05", which is
// another offset (and no zone at all to pyarrow). dt was just created by
// the import, so its types are changed in place.
func fixTimeZones(sc *C.struct_ArrowSchema, dt arrow.DataType) {
	if sc == nil || dt == nil {
		return
	}
	if d := C.zb_schema_dictionary(sc); d != nil {
		if dict, ok := dt.(*arrow.DictionaryType); ok {
			fixTimeZones(d, dict.ValueType)
		}
		return
	}
	if ext, ok := dt.(arrow.ExtensionType); ok {
		dt = ext.StorageType()
	}
	if ts, ok := dt.(*arrow.TimestampType); ok {
		if format := C.GoString(C.zb_schema_format(sc)); len(format) > 4 && strings.HasPrefix(format, "ts") && format[3] == ':' {
			ts.TimeZone = format[4:]
		}
		return
	}
	nested, ok := dt.(arrow.NestedType)
	if !ok {
		return
	}
	fields := nested.Fields()
	n := int64(C.zb_schema_children(sc))
	if n != int64(len(fields)) {
		return
	}
	for i := int64(0); i < n; i++ {
		fixTimeZones(C.zb_schema_child(sc, C.int64_t(i)), fields[i].Type)
	}
}

// schemaNode reads the C schema tree at sc for cext.Restore: formats,
// children, dictionaries, and the metadata of the nodes Restore reads it
// of (cext.NeedsMetadata); a metadata it cannot decode is left empty.
func schemaNode(sc *C.struct_ArrowSchema) *cext.Node {
	if sc == nil {
		return nil
	}
	n := &cext.Node{Format: C.GoString(sc.format)}
	if p := unsafe.Pointer(sc.metadata); p != nil && cext.NeedsMetadata(n.Format) {
		md, err := cext.DecodeMetadata(func(off, size int) ([]byte, bool) {
			return unsafe.Slice((*byte)(unsafe.Add(p, off)), size), true
		})
		if err == nil {
			n.Metadata = md
		}
	}
	if k := int64(sc.n_children); k > 0 && sc.children != nil {
		n.Children = make([]*cext.Node, k)
		for i := range k {
			n.Children[i] = schemaNode(C.zb_schema_child(sc, C.int64_t(i)))
		}
	}
	n.Dictionary = schemaNode(C.zb_schema_dictionary(sc))
	return n
}

// failingColumn names the first top-level column of sc (a struct of the
// stream's columns) that arrow-go cannot import (a fixed-size list of size
// 0, ...), with its error; "" when each column imports alone.
func failingColumn(sc *C.struct_ArrowSchema) (string, error) {
	for i := int64(0); i < int64(C.zb_schema_children(sc)); i++ {
		child := C.zb_schema_child(sc, C.int64_t(i))
		if child == nil {
			continue
		}
		if _, err := importBorrowed(child); err != nil {
			return C.GoString(child.name), err
		}
	}
	return "", nil
}

// importBatch is cdata.ImportCRecordBatchWithSchema, with a panic of the
// import returned as an error: arrow-go trusts the producer's batch to match
// the stream's schema (nested children, buffer counts) and panics on some
// that do not. checkShape refuses those first; after a panic (a case it
// misses) the producer's batch may stay unreleased.
func importBatch(arr *C.struct_ArrowArray, schema *arrow.Schema) (rec arrow.RecordBatch, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("malformed ArrowArray: %v", p)
		}
	}()
	return cdata.ImportCRecordBatchWithSchema((*cdata.CArrowArray)(unsafe.Pointer(arr)), schema)
}

// columnNames lists the schema's column names for a message.
func columnNames(schema *arrow.Schema) string {
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// checkBatchShape is checkShape for each column of the C batch (a struct
// ArrowArray whose children the caller counted) at arr.
func checkBatchShape(arr unsafe.Pointer, schema *arrow.Schema) error {
	a := (*C.struct_ArrowArray)(arr)
	for i, f := range schema.Fields() {
		if err := checkShape(childOf(a, i), f.Type, f.Name); err != nil {
			return err
		}
	}
	return nil
}

// childOf is child i of a (a's children were counted by the caller).
func childOf(a *C.struct_ArrowArray, i int) *C.struct_ArrowArray {
	if a.children == nil {
		return nil
	}
	return unsafe.Slice(a.children, a.n_children)[i]
}

// checkShape checks that the C array a has the buffers, children and
// dictionary arrow-go's import reads for an array of type dt (the counts
// its import checks, or indexes without checking), recursively; the error
// names the column (path: "tags", "s.x", "tags.item") and both counts.
func checkShape(a *C.struct_ArrowArray, dt arrow.DataType, path string) error {
	if a == nil {
		return fmt.Errorf("column %q (%s in the stream's schema) is missing from the batch", path, dt)
	}
	if ext, ok := dt.(arrow.ExtensionType); ok {
		dt = ext.StorageType()
	}
	buffers, atLeast, children := 2, false, []arrow.Field(nil)
	switch t := dt.(type) {
	case *arrow.NullType:
		buffers = -1 // not checked by arrow-go
	case *arrow.StringType, *arrow.BinaryType, *arrow.LargeStringType, *arrow.LargeBinaryType:
		buffers = 3
	case *arrow.StringViewType, *arrow.BinaryViewType:
		buffers, atLeast = 3, true // + the variadic data buffers
	case *arrow.ListType, *arrow.LargeListType, *arrow.MapType:
		children = []arrow.Field{t.(arrow.ListLikeType).ElemField()}
	case *arrow.ListViewType, *arrow.LargeListViewType:
		buffers, children = 3, []arrow.Field{t.(arrow.ListLikeType).ElemField()}
	case *arrow.FixedSizeListType:
		buffers, children = 1, []arrow.Field{t.ElemField()}
	case *arrow.StructType:
		buffers, children = 1, t.Fields()
	case *arrow.RunEndEncodedType:
		buffers = 0
		children = []arrow.Field{{Name: "run_ends", Type: t.RunEnds()}, {Name: "values", Type: t.Encoded()}}
	case *arrow.DenseUnionType:
		buffers, atLeast, children = 2, true, t.Fields() // 3 in the legacy form
	case *arrow.SparseUnionType:
		buffers, atLeast, children = 1, true, t.Fields() // 2 in the legacy form
	case arrow.FixedWidthDataType:
	default:
		return nil // the import refuses what it does not know
	}
	if n := int(a.n_children); n != len(children) {
		return fmt.Errorf("column %q (%s in the stream's schema) has %d child arrays where its type has %d", path, dt, n, len(children))
	}
	if n := int(a.n_buffers); buffers >= 0 && (n < buffers || !atLeast && n != buffers) {
		more := ""
		if atLeast {
			more = " or more"
		}
		return fmt.Errorf("column %q (%s in the stream's schema) has %d buffers where its type has %d%s", path, dt, n, buffers, more)
	}
	if len(children) > 0 && a.children == nil {
		return fmt.Errorf("column %q (%s in the stream's schema) has no child arrays where its type has %d", path, dt, len(children))
	}
	for i, f := range children {
		if err := checkShape(childOf(a, i), f.Type, path+"."+f.Name); err != nil {
			return err
		}
	}
	if d, ok := dt.(*arrow.DictionaryType); ok {
		if a.dictionary == nil {
			return fmt.Errorf("column %q (%s in the stream's schema) has no dictionary", path, dt)
		}
		return checkShape(a.dictionary, d.ValueType, path+".dictionary")
	}
	return nil
}
