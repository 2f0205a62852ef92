package protoarrow

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sort"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
)

// arrow-go builds arrays straight from the buffers of an IPC body and then
// trusts them: a string offset past its data, a dictionary index past the
// dictionary, a union type id that names no child or a view outside its
// buffer is read as it stands, which panics or returns other memory's
// bytes (and, handed to pyarrow through the C data interface, can crash
// Python). VerifyIPCMessage checks the metadata, not the body. The
// validator here checks the body of a record batch arrow-go has built,
// every array recursively, before anything reads a value: every buffer
// holds what offset+length needs, offsets rise and stay inside their child
// or data, list views, binary views, dictionary indices, union type ids and
// dense union offsets point inside what they index, run ends rise and cover
// the array, children are as long as their parents need, null counts match
// the validity bitmaps, map keys are not null, and strings are UTF-8. It
// reads buffers as bytes and never calls an arrow-go accessor, so it cannot
// panic on what it checks. The command line validates each batch of its
// Arrow input files, the debug file reader each batch of an Arrow debug
// file, the local server each batch of a Flight DoPut.

// ErrArrowData is wrapped by every error of ArrowValidator.Record,
// ValidateArrowRecord and ValidateArrowArray that says the data is damaged
// (each an *ArrowDataError); the only other error they return is a
// *ValidatorFailureError (ErrValidatorFailure).
var ErrArrowData = errors.New("corrupt Arrow data")

// ArrowDataError says which value of which column is malformed.
type ArrowDataError struct {
	Column string // the column's path: "payload.items[]", "tags.key", "kind (dictionary)"
	Row    int    // the row of the batch (or array) it lies in; -1: not one row's
	Reason string // what is wrong, with offsets and lengths
}

func (e *ArrowDataError) Error() string {
	s := ErrArrowData.Error() + ": column " + e.Column
	if e.Row >= 0 {
		s += fmt.Sprintf(", row %d", e.Row)
	}
	return s + ": " + e.Reason
}

// Is makes errors.Is(err, ErrArrowData) true.
func (e *ArrowDataError) Is(target error) bool { return target == ErrArrowData }

// ErrValidatorFailure is wrapped by the error of a validator that
// panicked (a *ValidatorFailureError): a bug of the validator, not
// damaged data. It does not wrap ErrArrowData: the batch may be intact.
var ErrValidatorFailure = errors.New("internal failure of the Arrow data validator (a bug: please report it; the data may be intact)")

// ValidatorFailureError is the error of a validator that panicked on the
// column Column; Panic is what it panicked with.
type ValidatorFailureError struct {
	Column string // the top-level column being checked ("" if none yet)
	Panic  any
}

func (e *ValidatorFailureError) Error() string {
	s := ErrValidatorFailure.Error()
	if e.Column != "" {
		s += ": column " + e.Column
	}
	return s + fmt.Sprintf(": %v", e.Panic)
}

// Is makes errors.Is(err, ErrValidatorFailure) true.
func (e *ValidatorFailureError) Is(target error) bool { return target == ErrValidatorFailure }

// maxArrowNesting bounds the recursion into nested arrays (IPC metadata
// holds at most MaxIPCNesting levels; storage types and dictionaries add a
// few).
const maxArrowNesting = 2*MaxIPCNesting + 8

// maxDicts bounds the dictionaries an ArrowValidator remembers.
const maxDicts = 256

// ArrowValidator validates record batches; it remembers the dictionaries it
// validated, so that batches sharing a dictionary (an IPC stream's) check
// it once. Not safe for concurrent use.
type ArrowValidator struct {
	dicts map[arrow.ArrayData]*ArrowDataError
}

// NewArrowValidator returns a validator for the batches of one stream.
func NewArrowValidator() *ArrowValidator {
	return &ArrowValidator{}
}

// ValidateArrowRecord validates every column of rec (ArrowValidator.Record
// with a new validator).
func ValidateArrowRecord(rec arrow.RecordBatch) error {
	return NewArrowValidator().Record(rec)
}

// ValidateArrowArray validates data as a column named name.
func ValidateArrowArray(name string, data arrow.ArrayData) (err error) {
	defer recoverValidator(&err, &name)
	if e := NewArrowValidator().array(name, data, 0); e != nil {
		return e
	}
	return nil
}

// recoverValidator turns a panic of the validator (while checking column
// *column) into a *ValidatorFailureError. Last resort only: the checks
// read bytes they bounded first and call nothing of arrow-go that reads
// values, so a panic is the validator's bug and says nothing about the
// data.
func recoverValidator(err *error, column *string) {
	if p := recover(); p != nil {
		*err = &ValidatorFailureError{Column: *column, Panic: p}
	}
}

// Record validates every column of rec; an error names the column, the row
// and what is wrong (an *ArrowDataError), or is a *ValidatorFailureError
// if the validator itself failed.
func (v *ArrowValidator) Record(rec arrow.RecordBatch) (err error) {
	var name string
	defer recoverValidator(&err, &name)
	schema := rec.Schema()
	rows := rec.NumRows()
	for c := 0; c < int(rec.NumCols()); c++ {
		name = schema.Field(c).Name
		col := rec.Column(c)
		if col == nil || absent(col.Data()) {
			return &ArrowDataError{Column: name, Row: -1, Reason: "the column has no data"}
		}
		d := col.Data()
		if int64(d.Len()) != rows {
			return &ArrowDataError{Column: name, Row: -1, Reason: fmt.Sprintf("%d values in a batch of %d rows", d.Len(), rows)}
		}
		if !arrow.TypeEqual(d.DataType(), schema.Field(c).Type) {
			return &ArrowDataError{Column: name, Row: -1, Reason: fmt.Sprintf("data of type %s in a column of type %s", d.DataType(), schema.Field(c).Type)}
		}
		if e := v.array(name, d, 0); e != nil {
			return e
		}
	}
	return nil
}

// fail is an error at row (in d's own logical positions; -1: none).
func fail(path string, row int, format string, args ...any) *ArrowDataError {
	return &ArrowDataError{Column: path, Row: row, Reason: fmt.Sprintf(format, args...)}
}

// up maps a child's error to the parent's rows with parentRow (which
// returns -1 for a child position no parent row reaches).
func up(e *ArrowDataError, parentRow func(int) int) *ArrowDataError {
	if e != nil && e.Row >= 0 {
		e.Row = parentRow(e.Row)
	}
	return e
}

// absent reports whether d holds no array data (arrow-go's Dictionary()
// returns a nil *array.Data in a non-nil interface).
func absent(d arrow.ArrayData) bool {
	if dd, ok := d.(*array.Data); ok {
		return dd == nil
	}
	return d == nil
}

// buffer returns the bytes of d's buffer i (nil: absent).
func buffer(d arrow.ArrayData, i int) []byte {
	bs := d.Buffers()
	if i >= len(bs) || bs[i] == nil {
		return nil
	}
	return bs[i].Bytes()
}

// maxArrowLength bounds offset+length of an array (far beyond any real
// batch), so that sums of positions and lengths cannot overflow. It is an
// int64: on 32-bit platforms (386, arm) int cannot hold it.
const maxArrowLength int64 = 1 << 40

// bytesFor is the number of bytes n elements of bitWidth bits take
// (math.MaxInt64 if that overflows).
func bytesFor(n, bitWidth int) int64 {
	hi, lo := bits.Mul64(uint64(n), uint64(bitWidth))
	if hi != 0 || lo > math.MaxInt64-7 {
		return math.MaxInt64
	}
	return int64((lo + 7) / 8)
}

// array validates d (of d.DataType()) as the column at path; the row of an
// error is a position of d.
func (v *ArrowValidator) array(path string, d arrow.ArrayData, depth int) *ArrowDataError {
	if absent(d) || d.DataType() == nil {
		return fail(path, -1, "no data")
	}
	return v.typed(path, d.DataType(), d, depth)
}

func (v *ArrowValidator) typed(path string, dt arrow.DataType, d arrow.ArrayData, depth int) *ArrowDataError {
	if depth > maxArrowNesting {
		return fail(path, -1, "arrays nested deeper than %d", maxArrowNesting)
	}
	off, n := d.Offset(), d.Len()
	if off < 0 || n < 0 || int64(off) > maxArrowLength-int64(n) {
		return fail(path, -1, "offset %d and length %d", off, n)
	}
	if nulls := d.NullN(); nulls > n || nulls < -1 {
		return fail(path, -1, "%d nulls in %d values", nulls, n)
	}
	switch dt := dt.(type) {
	case arrow.ExtensionType:
		return v.typed(path, dt.StorageType(), d, depth+1)
	case *arrow.NullType:
		return nil
	case *arrow.DictionaryType:
		return v.dictionary(path, dt, d, depth)
	case *arrow.BinaryType:
		return checkBinary[int32](path, d, false)
	case *arrow.StringType:
		return checkBinary[int32](path, d, true)
	case *arrow.LargeBinaryType:
		return checkBinary[int64](path, d, false)
	case *arrow.LargeStringType:
		return checkBinary[int64](path, d, true)
	case *arrow.BinaryViewType:
		return checkViews(path, d, false)
	case *arrow.StringViewType:
		return checkViews(path, d, true)
	case *arrow.ListType:
		return checkList[int32](v, path+"[]", d, depth)
	case *arrow.LargeListType:
		return checkList[int64](v, path+"[]", d, depth)
	case *arrow.MapType:
		return v.checkMap(path, d, depth)
	case *arrow.ListViewType:
		return checkListView[int32](v, path+"[]", d, depth)
	case *arrow.LargeListViewType:
		return checkListView[int64](v, path+"[]", d, depth)
	case *arrow.FixedSizeListType:
		return v.fixedSizeList(path, dt, d, depth)
	case *arrow.StructType:
		return v.structArray(path, dt, d, depth)
	case arrow.UnionType:
		return v.union(path, dt, d, depth)
	case *arrow.RunEndEncodedType:
		return v.runEndEncoded(path, dt, d, depth)
	case *arrow.FixedSizeBinaryType:
		if e := validity(path, d); e != nil {
			return e
		}
		return sized(path, d, 1, "values", dt.ByteWidth*8)
	case arrow.DecimalType:
		// arrow-go formats a value with a table of powers of ten indexed
		// by the scale: the metadata's scale is trusted.
		maxPrec := maxDecimalPrecision(dt.BitWidth())
		if p, sc := dt.GetPrecision(), dt.GetScale(); p < 1 || p > maxPrec || sc < -maxPrec || sc > maxPrec {
			return fail(path, -1, "type %s: precision %d and scale %d, outside 1..%d and -%d..%d", dt, p, sc, maxPrec, maxPrec, maxPrec)
		}
		if e := validity(path, d); e != nil {
			return e
		}
		return sized(path, d, 1, "values", dt.BitWidth())
	case arrow.FixedWidthDataType: // booleans, numbers, dates, times, timestamps, intervals, durations
		if e := validity(path, d); e != nil {
			return e
		}
		return sized(path, d, 1, "values", dt.BitWidth())
	}
	return fail(path, -1, "type %s cannot be validated", dt)
}

// maxDecimalPrecision is the largest precision of a decimal of bitWidth
// bits (arrow-go's tables of powers of ten stop there).
func maxDecimalPrecision(bitWidth int) int32 {
	switch bitWidth {
	case 32:
		return 9
	case 64:
		return 18
	case 128:
		return 38
	case 256:
		return 76
	}
	return 0
}

// sized checks that buffer i of d holds offset+length elements of bitWidth
// bits.
func sized(path string, d arrow.ArrayData, i int, what string, bitWidth int) *ArrowDataError {
	if d.Len() == 0 {
		return nil
	}
	if bitWidth < 0 {
		return fail(path, -1, "a type %d bits wide", bitWidth)
	}
	need := bytesFor(d.Offset()+d.Len(), bitWidth)
	if have := int64(len(buffer(d, i))); have < need {
		return fail(path, -1, "the %s buffer holds %d bytes, offset %d + length %d needs %d", what, have, d.Offset(), d.Len(), need)
	}
	return nil
}

// validity checks d's validity bitmap against its length and null count.
func validity(path string, d arrow.ArrayData) *ArrowDataError {
	off, n, nulls := d.Offset(), d.Len(), d.NullN()
	bm := buffer(d, 0)
	if bm == nil {
		if nulls > 0 || (nulls < 0 && n > 0) {
			return fail(path, -1, "%d nulls but no validity bitmap", nulls)
		}
		return nil
	}
	if n == 0 {
		return nil
	}
	if need := bytesFor(off+n, 1); int64(len(bm)) < need {
		return fail(path, -1, "the validity bitmap holds %d bytes, offset %d + length %d needs %d", len(bm), off, n, need)
	}
	if nulls >= 0 {
		if got := n - bitutil.CountSetBits(bm, off, n); got != nulls {
			return fail(path, -1, "the null count says %d, the validity bitmap has %d nulls", nulls, got)
		}
	}
	return nil
}

// valid reports whether position i of d (relative to its offset) is not
// null; bm is its validity bitmap (nil: all valid).
func valid(bm []byte, off, i int) bool {
	return bm == nil || bitutil.BitIsSet(bm, off+i)
}

type offsetInt interface{ int32 | int64 }

// castOffsets views b as offsets of O (the first len(b)/size of them).
func castOffsets[O offsetInt](b []byte) []O {
	var z O
	if _, ok := any(z).(int32); ok {
		return any(arrow.Int32Traits.CastFromBytes(b)).([]O)
	}
	return any(arrow.Int64Traits.CastFromBytes(b)).([]O)
}

func offsetWidth[O offsetInt]() int {
	var z O
	if _, ok := any(z).(int32); ok {
		return 32
	}
	return 64
}

// offsets checks d's offsets buffer (buffer 1): offset+length+1 of them,
// not decreasing, from at least 0 to at most limit, and returns the ones
// of d's positions (length+1 of them; nil for an empty array).
func offsets[O offsetInt](path string, d arrow.ArrayData, limit int64, of string) ([]O, *ArrowDataError) {
	off, n := d.Offset(), d.Len()
	if n == 0 {
		return nil, nil
	}
	w := offsetWidth[O]()
	need := bytesFor(off+n+1, w)
	b := buffer(d, 1)
	if int64(len(b)) < need {
		return nil, fail(path, -1, "the offsets buffer holds %d bytes, offset %d + length %d needs %d", len(b), off, n, need)
	}
	offs := castOffsets[O](b)[off : off+n+1]
	if offs[0] < 0 {
		return nil, fail(path, 0, "offset %d is %d, below 0", off, offs[0])
	}
	prev := offs[0]
	for i, o := range offs[1:] {
		if o < prev {
			return nil, fail(path, i, "offset %d is %d, below the offset %d before it", off+i+1, o, prev)
		}
		prev = o
	}
	if int64(prev) > limit {
		// Rising offsets: the first row to end past limit.
		i := sort.Search(n, func(i int) bool { return int64(offs[i+1]) > limit })
		return nil, fail(path, i, "offset %d is %d, beyond the %d %s", off+i+1, offs[i+1], limit, of)
	}
	return offs, nil
}

// checkBinary checks binary and string arrays (and their large forms):
// offsets inside the data and, for strings, UTF-8.
func checkBinary[O offsetInt](path string, d arrow.ArrayData, utf bool) *ArrowDataError {
	if e := validity(path, d); e != nil {
		return e
	}
	data := buffer(d, 2)
	offs, e := offsets[O](path, d, int64(len(data)), "bytes of data")
	if e != nil || !utf || offs == nil {
		return e
	}
	// The bytes of all values are one valid UTF-8 text that no value
	// starts inside a character of: then each value is valid UTF-8.
	first, last := int(offs[0]), int(offs[len(offs)-1])
	ok := utf8.Valid(data[first:last])
	for i := 0; ok && i < len(offs)-1; i++ {
		if s := int(offs[i]); s < last && !utf8.RuneStart(data[s]) {
			ok = false
		}
	}
	if ok {
		return nil
	}
	bm := buffer(d, 0)
	for i := 0; i < len(offs)-1; i++ {
		if valid(bm, d.Offset(), i) && !utf8.Valid(data[offs[i]:offs[i+1]]) {
			return fail(path, i, "the string is not valid UTF-8")
		}
	}
	return nil // the invalid bytes belong to null values only
}

// checkViews checks binary_view and string_view arrays: every view of a
// value lies inside its data buffer, its prefix matches, strings are UTF-8.
func checkViews(path string, d arrow.ArrayData, utf bool) *ArrowDataError {
	if e := validity(path, d); e != nil {
		return e
	}
	if e := sized(path, d, 1, "views", 128); e != nil {
		return e
	}
	off, n := d.Offset(), d.Len()
	if n == 0 {
		return nil
	}
	views := buffer(d, 1)[16*off : 16*(off+n)]
	bm := buffer(d, 0)
	nbuf := len(d.Buffers()) - 2
	for i := 0; i < n; i++ {
		if !valid(bm, off, i) {
			continue
		}
		vw := views[16*i : 16*i+16]
		size := int32(le32(vw))
		if size < 0 {
			return fail(path, i, "a view of %d bytes", size)
		}
		var val []byte
		if size <= arrow.ViewPrefixLen+8 { // inline
			val = vw[4 : 4+size]
		} else {
			idx, at := int32(le32(vw[8:])), int32(le32(vw[12:]))
			if idx < 0 || int(idx) >= nbuf {
				return fail(path, i, "the view points into data buffer %d of %d", idx, nbuf)
			}
			data := buffer(d, 2+int(idx))
			if at < 0 || int64(at)+int64(size) > int64(len(data)) {
				return fail(path, i, "the view of %d bytes at offset %d lies outside the %d bytes of data buffer %d", size, at, len(data), idx)
			}
			val = data[int(at) : int(at)+int(size)]
			if string(val[:arrow.ViewPrefixLen]) != string(vw[4:4+arrow.ViewPrefixLen]) {
				return fail(path, i, "the view's prefix %q differs from its data %q", vw[4:4+arrow.ViewPrefixLen], val[:arrow.ViewPrefixLen])
			}
		}
		if utf && !utf8.Valid(val) {
			return fail(path, i, "the string is not valid UTF-8")
		}
	}
	return nil
}

func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// child returns d's only child (list-like types).
func child(path string, d arrow.ArrayData) (arrow.ArrayData, *ArrowDataError) {
	if len(d.Children()) != 1 || absent(d.Children()[0]) {
		return nil, fail(path, -1, "%d child arrays, want 1", len(d.Children()))
	}
	return d.Children()[0], nil
}

// rowOfOffset maps a child position j to the row whose offsets hold it.
func rowOfOffset[O offsetInt](offs []O) func(int) int {
	return func(j int) int {
		n := len(offs) - 1
		i := sort.Search(n, func(i int) bool { return int64(offs[i+1]) > int64(j) })
		if i < n && int64(offs[i]) <= int64(j) {
			return i
		}
		return -1
	}
}

// checkList checks list, large_list and map arrays: offsets inside the
// child, then the child.
func checkList[O offsetInt](v *ArrowValidator, path string, d arrow.ArrayData, depth int) *ArrowDataError {
	if e := validity(path, d); e != nil {
		return e
	}
	c, e := child(path, d)
	if e != nil {
		return e
	}
	offs, e := offsets[O](path, d, int64(c.Len()), "child values")
	if e != nil {
		return e
	}
	return up(v.array(path, c, depth+1), rowOfOffset(offs))
}

// checkMap checks a map as a list of its entries, whose keys are not null.
func (v *ArrowValidator) checkMap(path string, d arrow.ArrayData, depth int) *ArrowDataError {
	c, e := child(path, d)
	if e != nil {
		return e
	}
	if e := v.listEntries(path, d, c, depth); e != nil {
		return e
	}
	if len(c.Children()) < 1 {
		return fail(path, -1, "map entries without keys")
	}
	keys := c.Children()[0]
	if keys.NullN() == 0 || d.Len() == 0 {
		return nil
	}
	offs := castOffsets[int32](buffer(d, 1))[d.Offset() : d.Offset()+d.Len()+1]
	kb := buffer(keys, 0)
	for j := int(offs[0]); j < int(offs[len(offs)-1]); j++ {
		// The entries struct's position j is the keys' position
		// c.Offset()+j; the validity was checked to cover it.
		if !valid(kb, keys.Offset(), c.Offset()+j) {
			return fail(path+".key", rowOfOffset(offs)(j), "a null map key")
		}
	}
	return nil
}

// listEntries is checkList for a map, whose child is the entries struct
// (named path.key and path.value rather than path[].key).
func (v *ArrowValidator) listEntries(path string, d, c arrow.ArrayData, depth int) *ArrowDataError {
	if e := validity(path, d); e != nil {
		return e
	}
	offs, e := offsets[int32](path, d, int64(c.Len()), "map entries")
	if e != nil {
		return e
	}
	st, ok := c.DataType().(*arrow.StructType)
	if !ok {
		return fail(path, -1, "map entries of type %s", c.DataType())
	}
	return up(v.structArray(path, st, c, depth+1), rowOfOffset(offs))
}

// checkListView checks list_view and large_list_view arrays: each non-null
// value's offset and size lie inside the child.
func checkListView[O offsetInt](v *ArrowValidator, path string, d arrow.ArrayData, depth int) *ArrowDataError {
	if e := validity(path, d); e != nil {
		return e
	}
	c, e := child(path, d)
	if e != nil {
		return e
	}
	w := offsetWidth[O]()
	if e := sized(path, d, 1, "offsets", w); e != nil {
		return e
	}
	if e := sized(path, d, 2, "sizes", w); e != nil {
		return e
	}
	off, n := d.Offset(), d.Len()
	var offs, sizes []O
	if n > 0 {
		offs = castOffsets[O](buffer(d, 1))[off : off+n]
		sizes = castOffsets[O](buffer(d, 2))[off : off+n]
	}
	bm := buffer(d, 0)
	limit := int64(c.Len())
	for i := 0; i < n; i++ {
		if !valid(bm, off, i) {
			continue
		}
		o, s := int64(offs[i]), int64(sizes[i])
		if o < 0 || s < 0 || o > limit || s > limit-o {
			return fail(path, i, "the list view at offset %d of %d values lies outside the %d child values", o, s, limit)
		}
	}
	return up(v.array(path, c, depth+1), func(j int) int {
		for i := 0; i < n; i++ {
			if valid(bm, off, i) && int64(offs[i]) <= int64(j) && int64(j) < int64(offs[i])+int64(sizes[i]) {
				return i
			}
		}
		return -1
	})
}

func (v *ArrowValidator) fixedSizeList(path string, dt *arrow.FixedSizeListType, d arrow.ArrayData, depth int) *ArrowDataError {
	path += "[]"
	if e := validity(path, d); e != nil {
		return e
	}
	c, e := child(path, d)
	if e != nil {
		return e
	}
	size := int64(dt.Len())
	if size < 0 {
		return fail(path, -1, "lists of %d values", size)
	}
	if hi, need := bits.Mul64(uint64(d.Offset()+d.Len()), uint64(size)); hi != 0 || need > uint64(c.Len()) {
		return fail(path, -1, "%d child values, offset %d + length %d lists of %d need %d", c.Len(), d.Offset(), d.Len(), size, int64(d.Offset()+d.Len())*size)
	}
	return up(v.array(path, c, depth+1), func(j int) int {
		if size == 0 {
			return -1
		}
		if i := j/int(size) - d.Offset(); i >= 0 && i < d.Len() {
			return i
		}
		return -1
	})
}

// sameRows maps a child position to the parent's row for children indexed
// like the parent (struct fields, sparse union members).
func sameRows(d arrow.ArrayData) func(int) int {
	return func(j int) int {
		if i := j - d.Offset(); i >= 0 && i < d.Len() {
			return i
		}
		return -1
	}
}

func (v *ArrowValidator) structArray(path string, dt *arrow.StructType, d arrow.ArrayData, depth int) *ArrowDataError {
	if e := validity(path, d); e != nil {
		return e
	}
	return v.sameLengthChildren(path, dt.Fields(), d, depth, "field")
}

// sameLengthChildren checks the children of a struct or sparse union: one
// per field, each at least offset+length long, then each.
func (v *ArrowValidator) sameLengthChildren(path string, fields []arrow.Field, d arrow.ArrayData, depth int, what string) *ArrowDataError {
	kids := d.Children()
	if len(kids) != len(fields) {
		return fail(path, -1, "%d child arrays for %d fields", len(kids), len(fields))
	}
	for k, f := range fields {
		p := path + "." + f.Name
		if absent(kids[k]) {
			return fail(p, -1, "no data")
		}
		if need := d.Offset() + d.Len(); kids[k].Len() < need {
			return fail(p, -1, "the %s has %d values, its parent's offset %d + length %d needs %d", what, kids[k].Len(), d.Offset(), d.Len(), need)
		}
		if e := up(v.array(p, kids[k], depth+1), sameRows(d)); e != nil {
			return e
		}
	}
	return nil
}

func (v *ArrowValidator) union(path string, dt arrow.UnionType, d arrow.ArrayData, depth int) *ArrowDataError {
	off, n := d.Offset(), d.Len()
	if buffer(d, 0) != nil || d.NullN() != 0 {
		return fail(path, -1, "a union with a validity bitmap or %d nulls (unions have neither)", d.NullN())
	}
	if e := sized(path, d, 1, "type ids", 8); e != nil {
		return e
	}
	fields := dt.Fields()
	kids := d.Children()
	if len(kids) != len(fields) {
		return fail(path, -1, "%d child arrays for %d fields", len(kids), len(fields))
	}
	var ids []byte
	if n > 0 {
		ids = buffer(d, 1)[off : off+n]
	}
	childOf := dt.ChildIDs()
	for i, id := range ids {
		if int8(id) < 0 || childOf[id] < 0 || childOf[id] >= len(kids) {
			return fail(path, i, "type id %d names none of the union's %d types", int8(id), len(fields))
		}
	}
	if dt.Mode() == arrow.SparseMode {
		return v.sameLengthChildren(path, fields, d, depth, "union member")
	}
	// Dense: each value's offset lies inside its member.
	if e := sized(path, d, 2, "offsets", 32); e != nil {
		return e
	}
	var offs []int32
	if n > 0 {
		offs = arrow.Int32Traits.CastFromBytes(buffer(d, 2))[off : off+n]
	}
	for i, id := range ids {
		k := childOf[id]
		if absent(kids[k]) {
			return fail(path+"."+fields[k].Name, -1, "no data")
		}
		if o := offs[i]; o < 0 || int(o) >= kids[k].Len() {
			return fail(path, i, "offset %d into member %q of %d values", o, fields[k].Name, kids[k].Len())
		}
	}
	for k, f := range fields {
		if absent(kids[k]) {
			return fail(path+"."+f.Name, -1, "no data")
		}
		e := up(v.array(path+"."+f.Name, kids[k], depth+1), func(j int) int {
			for i, id := range ids {
				if childOf[id] == k && int(offs[i]) == j {
					return i
				}
			}
			return -1
		})
		if e != nil {
			return e
		}
	}
	return nil
}

func (v *ArrowValidator) dictionary(path string, dt *arrow.DictionaryType, d arrow.ArrayData, depth int) *ArrowDataError {
	if e := validity(path, d); e != nil {
		return e
	}
	idxType, ok := dt.IndexType.(arrow.FixedWidthDataType)
	if !ok || !arrow.IsInteger(dt.IndexType.ID()) {
		return fail(path, -1, "dictionary indices of type %s", dt.IndexType)
	}
	if e := sized(path, d, 1, "indices", idxType.BitWidth()); e != nil {
		return e
	}
	dict := d.Dictionary()
	if absent(dict) {
		if d.Len() == 0 {
			return nil
		}
		return fail(path, -1, "no dictionary")
	}
	if !arrow.TypeEqual(dict.DataType(), dt.ValueType) {
		return fail(path+" (dictionary)", -1, "a dictionary of type %s for values of type %s", dict.DataType(), dt.ValueType)
	}
	e, seen := v.dicts[dict]
	if !seen {
		e = v.array(path+" (dictionary)", dict, depth+1)
		if e != nil {
			e.Row = -1 // a dictionary position is no row
		}
		if v.dicts == nil || len(v.dicts) >= maxDicts {
			// A long stream that replaces its dictionaries keeps
			// only the recent ones.
			v.dicts = map[arrow.ArrayData]*ArrowDataError{}
		}
		v.dicts[dict] = e
	}
	if e != nil {
		c := *e // each report its own
		return &c
	}
	off, n := d.Offset(), d.Len()
	if n == 0 {
		return nil
	}
	idx := buffer(d, 1)
	bm := buffer(d, 0)
	size := int64(dict.Len())
	w := idxType.BitWidth() / 8
	signed := arrow.IsSignedInteger(dt.IndexType.ID())
	for i := 0; i < n; i++ {
		p := idx[(off+i)*w:]
		var x uint64
		switch w {
		case 1:
			x = uint64(p[0])
			if signed {
				x = uint64(int64(int8(p[0])))
			}
		case 2:
			x = uint64(p[0]) | uint64(p[1])<<8
			if signed {
				x = uint64(int64(int16(x)))
			}
		case 4:
			x = uint64(le32(p))
			if signed {
				x = uint64(int64(int32(x)))
			}
		default:
			x = uint64(le32(p)) | uint64(le32(p[4:]))<<32
		}
		// A negative signed index is a huge unsigned one.
		if x >= uint64(size) && valid(bm, off, i) {
			if signed {
				return fail(path, i, "dictionary index %d, the dictionary has %d values", int64(x), size)
			}
			return fail(path, i, "dictionary index %d, the dictionary has %d values", x, size)
		}
	}
	return nil
}

func (v *ArrowValidator) runEndEncoded(path string, dt *arrow.RunEndEncodedType, d arrow.ArrayData, depth int) *ArrowDataError {
	off, n := d.Offset(), d.Len()
	if buffer(d, 0) != nil {
		return fail(path, -1, "a run-end encoded array with a validity bitmap")
	}
	kids := d.Children()
	if len(kids) != 2 || absent(kids[0]) || absent(kids[1]) {
		return fail(path, -1, "%d child arrays, want run ends and values", len(kids))
	}
	runEnds, values := kids[0], kids[1]
	rp := path + " (run ends)"
	if !arrow.TypeEqual(runEnds.DataType(), dt.RunEnds()) {
		return fail(rp, -1, "run ends of type %s for a type with %s run ends", runEnds.DataType(), dt.RunEnds())
	}
	if e := v.array(rp, runEnds, depth+1); e != nil {
		e.Row = -1
		return e
	}
	if runEnds.NullN() != 0 {
		return fail(rp, -1, "%d null run ends", runEnds.NullN())
	}
	runs := runEnds.Len()
	if values.Len() < runs {
		return fail(path+" (values)", -1, "%d values for %d runs", values.Len(), runs)
	}
	if n == 0 {
		return up(v.array(path+" (values)", values, depth+1), func(int) int { return -1 })
	}
	if runs == 0 {
		return fail(rp, -1, "no runs for %d values", n)
	}
	ends := make([]int64, 0, runs) // a copy, simpler than three widths
	rb := buffer(runEnds, 1)
	ro := runEnds.Offset()
	for k := 0; k < runs; k++ {
		var e int64
		switch dt.RunEnds().ID() {
		case arrow.INT16:
			e = int64(int16(uint16(rb[2*(ro+k)]) | uint16(rb[2*(ro+k)+1])<<8))
		case arrow.INT32:
			e = int64(int32(le32(rb[4*(ro+k):])))
		case arrow.INT64:
			e = int64(le32(rb[8*(ro+k):])) | int64(le32(rb[8*(ro+k)+4:]))<<32
		default:
			return fail(rp, -1, "run ends of type %s", dt.RunEnds())
		}
		if e <= 0 {
			return fail(rp, -1, "run end %d is %d, not above 0", k, e)
		}
		if k > 0 && e <= ends[k-1] {
			return fail(rp, -1, "run end %d is %d, not above the one before it (%d)", k, e, ends[k-1])
		}
		ends = append(ends, e)
	}
	if last := ends[runs-1]; last < int64(off+n) {
		return fail(rp, -1, "the runs end at %d, offset %d + length %d needs %d", last, off, n, off+n)
	}
	return up(v.array(path+" (values)", values, depth+1), func(j int) int {
		if j >= runs {
			return -1
		}
		start := int64(0)
		if j > 0 {
			start = ends[j-1]
		}
		if r := max(start, int64(off)) - int64(off); r < int64(n) && ends[j] > int64(off) {
			return int(r)
		}
		return -1
	})
}
