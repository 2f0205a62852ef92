package convert

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// DecimalMetaKey is the Arrow field metadata key under which a table schema
// read from Unity Catalog (flightstream.FetchTableSchema) keeps a DECIMAL
// column's precision and scale ("10,2"); the column's Arrow type is its
// text (large_utf8).
const DecimalMetaKey = "zerobus.decimal"

// DecimalSpec is a table's DECIMAL(Precision, Scale).
type DecimalSpec struct{ Precision, Scale int }

func (d DecimalSpec) String() string { return fmt.Sprintf("DECIMAL(%d,%d)", d.Precision, d.Scale) }

// DecimalMeta returns the metadata FetchTableSchema gives a DECIMAL(p,s)
// field.
func DecimalMeta(p, s int) arrow.Metadata {
	return arrow.NewMetadata([]string{DecimalMetaKey}, []string{strconv.Itoa(p) + "," + strconv.Itoa(s)})
}

// FieldDecimal returns the DECIMAL(p,s) f's metadata declares, if any.
func FieldDecimal(f arrow.Field) (DecimalSpec, bool) {
	v, ok := f.Metadata.GetValue(DecimalMetaKey)
	if !ok {
		return DecimalSpec{}, false
	}
	ps, ss, _ := strings.Cut(v, ",")
	p, err1 := strconv.Atoi(ps)
	s, err2 := strconv.Atoi(ss)
	if err1 != nil || err2 != nil || p < 1 || s < 0 || s > p {
		return DecimalSpec{}, false
	}
	return DecimalSpec{Precision: p, Scale: s}, true
}

// TableDecimals maps the paths (as Options.TableNullable names them) of a
// table schema's DECIMAL columns, STRUCT fields, ARRAY elements, MAP keys
// ("m.key") and MAP values to their DECIMAL(p,s), in the form
// Options.TableDecimal takes; nil when it has none.
func TableDecimals(s *arrow.Schema) map[string]DecimalSpec {
	var m map[string]DecimalSpec
	var walk func(f arrow.Field, path string, depth int)
	walk = func(f arrow.Field, path string, depth int) {
		if depth > MaxNestingDepth {
			return
		}
		if d, ok := FieldDecimal(f); ok {
			if m == nil {
				m = map[string]DecimalSpec{}
			}
			m[path] = d
		}
		switch t := f.Type.(type) {
		case *arrow.StructType:
			for _, c := range t.Fields() {
				walk(c, joinPath(path, c.Name), depth+1)
			}
		case *arrow.MapType:
			walk(t.KeyField(), path+".key", depth+1)
			walk(t.ItemField(), valuePath(path), depth+1)
		case arrow.ListLikeType:
			walk(t.ElemField(), elemPath(path), depth+1)
		}
	}
	for _, f := range s.Fields() {
		walk(f, f.Name, 0)
	}
	return m
}

// DecimalFit says why decimal text ("-123.450", or a string column's
// "1.5e3") cannot be stored in d, or "" when it can. The service converts
// the text it is sent to the column's DECIMAL(p,s) as Spark does: extra
// fraction digits are rounded half-up to s places (1.234 into
// DECIMAL(10,2) is stored as 1.23), and only a value that then needs more
// than p−s digits before the point is out of the column's range (99.995
// into DECIMAL(4,2) rounds to 100.00); text that is not a decimal number
// cannot be stored either. Both transports fail such a value's row. The
// rule is protoarrow.CheckDecimalText, the local server's too.
func DecimalFit(text []byte, d DecimalSpec) string {
	why, _, _ := protoarrow.CheckDecimalText(text, d.Precision, d.Scale)
	return why
}

// DecimalAlwaysFits reports whether every value of the decimal type from
// fits d (DecimalFit finds nothing), so that no value needs checking. A
// decimal(P,S) value is below 10^(P−S) in magnitude. With S ≤ s it is not
// rounded, so P−S ≤ p−s integer digits suffice; with S > s rounding
// half-up to s places may carry into one more digit (99.995 → 100.00), so
// P−S < p−s is needed.
func DecimalAlwaysFits(from arrow.DataType, d DecimalSpec) bool {
	dt, ok := from.(arrow.DecimalType)
	if !ok {
		return false
	}
	intDigits, max := int(dt.GetPrecision())-int(dt.GetScale()), d.Precision-d.Scale
	if int(dt.GetScale()) > d.Scale {
		return intDigits < max
	}
	return intDigits <= max
}

// decimal128Over returns a test on the integer of a decimal128 value of
// scale S that is true exactly when its text does not fit d (DecimalFit),
// comparing with a bound computed once instead of scanning the text: the
// value needs more than p−s integer digits when |v| ≥ 10^k, k = p−s+S
// (k < 0: every value but 0), and after rounding half-up to s places
// (S > s) when |v| + 5·10^(S−s−1) ≥ 10^k. nil when the bound is past
// every decimal128 value.
func decimal128Over(S int32, d DecimalSpec) func(decimal128.Num) bool {
	k := max(d.Precision-d.Scale+int(S), 0)
	pow10 := func(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }
	lim := pow10(k)
	if int(S) > d.Scale {
		lim.Sub(lim, new(big.Int).Mul(big.NewInt(5), pow10(int(S)-d.Scale-1)))
	}
	if lim.BitLen() > 126 {
		return nil
	}
	l := decimal128.FromBigInt(lim)
	return func(v decimal128.Num) bool { return !v.Abs().Less(l) }
}
