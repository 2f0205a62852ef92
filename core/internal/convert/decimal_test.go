package convert

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
)

func TestDecimalText(t *testing.T) {
	min128 := decimal128.New(-1<<63, 0)      // -2^127
	min256 := decimal256.New(1<<63, 0, 0, 0) // -2^255
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"d32 scale 2", formatDecimal32(nil, decimal.Decimal32(-1234), 2), "-12.34"},
		{"d32 zero", formatDecimal32(nil, 0, 3), "0.000"},
		{"d64 leading zeros", formatDecimal64(nil, 5, 4), "0.0005"},
		{"d64 negative scale", formatDecimal64(nil, -12, -3), "-12000"},
		{"d64 zero negative scale", formatDecimal64(nil, 0, -3), "0"},
		{"d64 min", formatDecimal64(nil, decimal.Decimal64(-1<<63), 0), "-9223372036854775808"},
		{"d128 small", formatDecimal128(nil, decimal128.FromI64(-12340), 3), "-12.340"},
		{"d128 two words", formatDecimal128(nil, decimal128.New(1, 0), 2), "184467440737095516.16"},
		{"d128 min", formatDecimal128(nil, min128, 0), "-170141183460469231731687303715884105728"},
		{"d256 small", formatDecimal256(nil, decimal256.FromI64(7), 1), "0.7"},
		{"d256 min", formatDecimal256(nil, min256, 10), "-5789604461865809771178549250434395392663499233282028201972879200395.6564819968"},
		{"appends", formatDecimal64([]byte("x="), 1, 0), "x=1"},
	} {
		if string(tc.got) != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, tc.got, tc.want)
		}
	}
}

func TestDecimalNegativeScaleColumn(t *testing.T) {
	mem := checkedMem(t)
	b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: 5, Scale: -2})
	defer b.Release()
	b.Append(decimal128.FromI64(12))
	b.Append(decimal128.FromI64(0))
	b.Append(decimal128.FromI64(-5))
	arr := b.NewArray()
	rec := oneColumn(arr, false)
	arr.Release()
	defer rec.Release()
	checkRoundTrip(t, rec, []string{`v: "1200"`, `v: "0"`, `v: "-500"`}, map[int]string{})
}

func TestNestedNameMatchesTopName(t *testing.T) {
	mem := checkedMem(t)
	dt := arrow.StructOf(arrow.Field{Name: "record", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int8})})
	arr := fromJSON(t, mem, dt, `[{"record": {"x": 1}}]`)
	schema := arrow.NewSchema([]arrow.Field{{Name: "record", Type: dt}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{arr}, 1)
	arr.Release()
	defer rec.Release()
	p, err := NewPlan(schema, Options{MessageName: "Record"})
	if err != nil {
		t.Fatal(err)
	}
	if got := p.MessageDescriptor().Fields().Get(0).Message().Fields().Get(0).Message().FullName(); got != "Record.Record.Record" {
		t.Errorf("inner message full name = %s", got)
	}
	b := encodeOK(t, p, rec)
	want := parseText(t, p.MessageDescriptor(), `record {record {x: 1}}`)
	if got := decode(t, p.MessageDescriptor(), b.Records[0]); !equalMsg(want, got) {
		t.Errorf("got %v, want %v", got, want)
	}
}
