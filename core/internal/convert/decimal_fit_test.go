package convert

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestDecimalFit(t *testing.T) {
	d := DecimalSpec{Precision: 10, Scale: 2}
	for _, c := range []struct {
		text string
		ok   bool
	}{
		{"1.23", true}, {"1.230", true}, {"-99999999.99", true}, {"00012345678.9900", true}, {"0", true}, {"-0.01", true},
		{"1.234", false}, {"0.001", false}, {"123456789.00", false}, {"-123456789012.500", false},
		{"abc", true}, // not decimal text: not this check's to judge
	} {
		if why := DecimalFit([]byte(c.text), d); (why == "") != c.ok {
			t.Errorf("%s in %s: %q", c.text, d, why)
		}
	}
	s := arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: arrow.BinaryTypes.LargeString, Metadata: DecimalMeta(10, 2)},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.BinaryTypes.LargeString, Metadata: DecimalMeta(5, 0)})},
		{Name: "l", Type: arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.BinaryTypes.LargeString, Metadata: DecimalMeta(38, 18)})},
		{Name: "t", Type: arrow.BinaryTypes.LargeString},
	}, nil)
	got := TableDecimals(s)
	if len(got) != 3 || got["d"] != d || got["s.x"] != (DecimalSpec{5, 0}) || got["l[]"] != (DecimalSpec{38, 18}) {
		t.Fatalf("TableDecimals: %v", got)
	}
}
