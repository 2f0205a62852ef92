package convert

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
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
		{"abc", d, false}, {"1e2", DecimalSpec{5, 2}, true}, {"1e2", DecimalSpec{4, 2}, false},
	} {
		if why := DecimalFit([]byte(c.text), c.d); (why == "") != c.ok {
			t.Errorf("%s in %s: %q", c.text, c.d, why)
		}
	}
	if why := DecimalFit([]byte("99.995"), DecimalSpec{4, 2}); why != "99.995 does not fit the table's DECIMAL(4,2), which holds at most 2 digits before the point (values are rounded half-up to 2 places first); correct or filter the row, or give the column a larger precision" {
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

// TestDecimalAlwaysFits: DecimalAlwaysFits(decimal(P,S), DECIMAL(p,s)) is
// true exactly when every decimal(P,S) value, as the encoder writes it,
// fits (checked against DecimalFit on all values of small types).
func TestDecimalAlwaysFits(t *testing.T) {
	for P := 1; P <= 3; P++ {
		for S := -1; S <= 4; S++ {
			dt := &arrow.Decimal128Type{Precision: int32(P), Scale: int32(S)}
			lim := int64(1)
			for range P {
				lim *= 10
			}
			for p := 1; p <= 4; p++ {
				for s := 0; s <= p; s++ {
					d := DecimalSpec{p, s}
					all := true
					for v := -lim + 1; v < lim && all; v++ {
						all = DecimalFit(formatDecimal128(nil, decimal128.FromI64(v), int32(S)), d) == ""
					}
					over := decimal128Over(int32(S), d)
					for v := -lim + 1; v < lim; v++ {
						n := decimal128.FromI64(v)
						if fits := DecimalFit(formatDecimal128(nil, n, int32(S)), d) == ""; over == nil && !fits || over != nil && over(n) == fits {
							t.Fatalf("decimal128Over(%d, %s) on %d: %v, the text fits: %v", S, d, v, over != nil && over(n), fits)
						}
					}
					if got := DecimalAlwaysFits(dt, d); got != all {
						t.Errorf("DecimalAlwaysFits(%s, %s) = %v, every value fits: %v", dt, d, got, all)
					}
				}
			}
		}
	}
	if DecimalAlwaysFits(arrow.BinaryTypes.String, DecimalSpec{38, 0}) {
		t.Error("a string type always fits")
	}
}

// TestDecimalCheckDecidedAtPlanTime: a decimal column whose type always
// fits the table's DECIMAL(p,s) has no per-value check; one that may not
// has.
func TestDecimalCheckDecidedAtPlanTime(t *testing.T) {
	for _, c := range []struct {
		from    arrow.DataType
		d       DecimalSpec
		checked bool
	}{
		{&arrow.Decimal128Type{Precision: 18, Scale: 4}, DecimalSpec{18, 4}, false},
		{&arrow.Decimal128Type{Precision: 18, Scale: 4}, DecimalSpec{20, 2}, false},
		{&arrow.Decimal128Type{Precision: 18, Scale: 4}, DecimalSpec{10, 2}, true},
		{&arrow.Decimal128Type{Precision: 18, Scale: 4}, DecimalSpec{16, 2}, true}, // 14 integer digits, but rounding may carry
		{&arrow.Decimal64Type{Precision: 9, Scale: 2}, DecimalSpec{10, 2}, false},
	} {
		s := arrow.NewSchema([]arrow.Field{{Name: "d", Type: c.from, Nullable: true}, {Name: "l", Type: arrow.ListOf(c.from), Nullable: true}}, nil)
		p, err := NewPlan(s, Options{TableDecimal: map[string]DecimalSpec{"d": c.d, "l[]": c.d}})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.cols[0].fit != nil; got != c.checked {
			t.Errorf("%s into %s: checked per value %v, want %v", c.from, c.d, got, c.checked)
		}
		if got := p.cols[1].elem.fit != nil; got != c.checked {
			t.Errorf("%s elements into %s: checked per value %v, want %v", c.from, c.d, got, c.checked)
		}
	}
}
