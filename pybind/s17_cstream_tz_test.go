//go:build cgo

package pybind

import (
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
)

// s17 H2: arrow-go's C data import cut a fixed-offset time zone at its
// second colon ("tsu:+05:30" became "+05"), at the top level and nested.
func TestS17ImportKeepsFixedOffsetZones(t *testing.T) {
	ts := func(tz string) arrow.DataType { return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: tz} }
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: ts("+05:30"), Nullable: true},
		{Name: "b", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "-03:45"}, Nullable: true},
		{Name: "utc", Type: ts("UTC"), Nullable: true},
		// Cut to "+00", this one passed for UTC (convert.IsUTCZone): its
		// wall clock could go to a TIMESTAMP_NTZ column unrefused.
		{Name: "half", Type: ts("+00:30"), Nullable: true},
		{Name: "naive", Type: ts(""), Nullable: true},
		{Name: "l", Type: arrow.ListOf(ts("+09:30")), Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: ts("-09:30"), Nullable: true}), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, ts("+05:45")), Nullable: true},
		{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: ts("+12:45")}, Nullable: true},
	}, nil)
	rdr, err := array.NewRecordReader(schema, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	cs := new(cdata.CArrowArrayStream)
	cdata.ExportRecordReader(rdr, cs)
	s, err := importStream(int64(uintptr(unsafe.Pointer(cs))))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	if !s.Schema().Equal(schema) {
		t.Errorf("imported schema\n%s\nwant\n%s", s.Schema(), schema)
	}
}
