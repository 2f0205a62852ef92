package convert

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestDecimalFit(t *testing.T) {
	d := DecimalSpec{Precision: 10, Scale: 2}
	for _, c := range []struct {
		text string
		d    DecimalSpec
		ok   bool
	}{
		{"1.23", d, true}, {"1.230", d, true}, {"-99999999.99", d, true}, {"00012345678.9900", d, true}, {"0", d, true}, {"-0.01", d, true},
		// Extra fraction digits: the service rounds them half-up, as Spark does.
		{"1.234", d, true}, {"0.001", d, true}, {"-99999999.994", d, true}, {"99.994", DecimalSpec{4, 2}, true},
		// Out of range, before or after rounding half-up to s places.
		{"123456789.00", d, false}, {"-123456789012.500", d, false},
		{"99.995", DecimalSpec{4, 2}, false}, {"-99999999.995", d, false}, {"99.999", DecimalSpec{4, 2}, false},
		{"98.995", DecimalSpec{4, 2}, true}, {"99.985", DecimalSpec{4, 2}, true},
		{"0.995", DecimalSpec{2, 2}, false}, {"0.994", DecimalSpec{2, 2}, true}, {"1.00", DecimalSpec{2, 2}, false},
		{"9.5", DecimalSpec{1, 0}, false}, {"9.4", DecimalSpec{1, 0}, true}, {"-9.49", DecimalSpec{1, 0}, true},
		{"abc", d, true}, // not decimal text: not this check's to judge
	} {
		if why := DecimalFit([]byte(c.text), c.d); (why == "") != c.ok {
			t.Errorf("%s in %s: %q", c.text, c.d, why)
		}
	}
	if why := DecimalFit([]byte("99.995"), DecimalSpec{4, 2}); why != "99.995 does not fit the table's DECIMAL(4,2): more than 2 digits before the point after rounding to 2 places" {
		t.Errorf("reason: %q", why)
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
