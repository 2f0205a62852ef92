package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

// s17 L1: Arrow decimals printed as floats ("1e-08", "1.1", "8"); they are
// printed exactly, with every digit of their scale, as the protobuf file
// has them.
func TestS17DebugReadDecimalsExact(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 10, Scale: 8}, Nullable: true},
		{Name: "e", Type: &arrow.Decimal256Type{Precision: 40, Scale: 2}, Nullable: true},
		{Name: "f", Type: &arrow.Decimal64Type{Precision: 12, Scale: 3}, Nullable: true},
		{Name: "g", Type: &arrow.Decimal32Type{Precision: 5, Scale: 0}, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for _, v := range []int64{1, 110000000, 0, -123456789} {
		b.Field(0).(*array.Decimal128Builder).Append(decimal128.FromI64(v))
	}
	b.Field(0).(*array.Decimal128Builder).AppendNull()
	for _, v := range []int64{800, 1, -5, 12345678901234} {
		b.Field(1).(*array.Decimal256Builder).Append(decimal256.FromI64(v))
	}
	b.Field(1).(*array.Decimal256Builder).AppendNull()
	for _, v := range []int64{1500, 1, 0, -2} {
		b.Field(2).(*array.Decimal64Builder).Append(decimal.Decimal64(v))
	}
	b.Field(2).(*array.Decimal64Builder).AppendNull()
	for _, v := range []int32{8, 0, -1, 99999} {
		b.Field(3).(*array.Decimal32Builder).Append(decimal.Decimal32(v))
	}
	b.Field(3).(*array.Decimal32Builder).AppendNull()
	rec := b.NewRecordBatch()
	defer rec.Release()
	p := filepath.Join(t.TempDir(), "dec.arrow")
	writeArrow(t, p, true, schema, []arrow.RecordBatch{rec})

	out, err := runDebugCmd(t, "read", p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"d":"0.00000001","e":"8.00","f":"1.500","g":"8"}`,
		`{"d":"1.10000000","e":"0.01","f":"0.001","g":"0"}`,
		`{"d":"0.00000000","e":"-0.05","f":"0.000","g":"-1"}`,
		`{"d":"-1.23456789","e":"123456789012.34","f":"-0.002","g":"99999"}`,
		`{"d":null,"e":null,"f":null,"g":null}`,
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(out), "\n")); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
	out, err = runDebugCmd(t, "read", "-format", "table", p)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		rows = append(rows, strings.Join(strings.Fields(line), " "))
	}
	wantTable := []string{
		"d e f g",
		"0.00000001 8.00 1.500 8",
		"1.10000000 0.01 0.001 0",
		"0.00000000 -0.05 0.000 -1",
		"-1.23456789 123456789012.34 -0.002 99999",
		"null null null null",
	}
	if diff := cmp.Diff(wantTable, rows); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}
}
