package tests_go

// Batches that differ from the table the way users' data does, for the
// randomized round trip: columns and STRUCT fields (at any depth, also in
// ARRAY elements and MAP values) in another order, names in another case,
// nullable columns and fields left out (stored as nulls), list elements
// named as other producers name them. Drawn from rtGen.x, so a seed's
// table and values are those it drew before; only the batch's layout
// changes. The expected stored rows (rtExpect) follow the table, which
// the batch must be matched to by name.

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// batchName is n's name in the batch.
func (n *rtNode) batchName() string {
	if n.bname != "" {
		return n.bname
	}
	return n.name
}

// batchFields lists the table field indices of STRUCT n in batch order,
// without the omitted ones.
func (n *rtNode) batchFields() []int {
	if n.perm != nil {
		return n.perm
	}
	out := make([]int, len(n.flds))
	for i := range out {
		out[i] = i
	}
	return out
}

// rtCounts counts what a long run covered (tests run one at a time).
var rtCounts struct {
	tables, rows, failedRows, levels, shuffled, renamed, omitted, narrowed, decText, nullType int
}

func (g *rtGen) xpct(p int) bool { return g.x.IntN(100) < p }

// skewLevel draws the batch layout of one level (the table's columns or a
// STRUCT's fields): which are renamed to another case, which nullable
// ones are left out (at least one stays; keep: indices that always stay),
// and their order. It returns the batch order (table indices).
func (g *rtGen) skewLevel(flds []*rtNode, keep func(int) bool, pShuffle, pRename, pOmit, pNull int) []int {
	folded := map[string]int{}
	for _, f := range flds {
		folded[strings.ToLower(f.name)]++
	}
	for _, f := range flds {
		// Only a name no sibling shares ignoring case: else the table has
		// two columns one batch name could mean.
		if folded[strings.ToLower(f.name)] == 1 && g.xpct(pRename) {
			f.bname = rtOtherCase(f.name, g.x.IntN(3))
		}
	}
	for i, f := range flds {
		// Arrow's null type where the table's is another: all nulls.
		if !keep(i) && !f.notNull && pNull > 0 && g.xpct(pNull) {
			f.nullType, f.dt, f.reorder = true, arrow.Null, false
			rtCounts.nullType++
		}
	}
	order := make([]int, 0, len(flds))
	for i, f := range flds {
		if !keep(i) && !f.notNull && g.xpct(pOmit) && len(flds) > 1 {
			f.omit = true
			continue
		}
		order = append(order, i)
	}
	if len(order) == 0 { // every field drawn out: keep the first back
		flds[0].omit = false
		order = append(order, 0)
	}
	if g.xpct(pShuffle) {
		g.x.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	}
	rtCounts.levels++
	if !slices.IsSorted(order) {
		rtCounts.shuffled++
	}
	for _, f := range flds {
		if f.bname != "" {
			rtCounts.renamed++
		}
		if f.omit {
			rtCounts.omitted++
		}
	}
	return order
}

// rtOtherCase is name in another case (how 0: upper, 1: lower first
// letter flipped, 2: every letter flipped); name itself when it has no
// letters.
func rtOtherCase(name string, how int) string {
	var out string
	switch how {
	case 0:
		out = strings.ToUpper(name)
	case 1:
		r := []rune(name)
		for i, c := range r {
			if unicode.IsLetter(c) {
				r[i] = flipCase(c)
				break
			}
		}
		out = string(r)
	default:
		out = strings.Map(flipCase, name)
	}
	if out == name {
		out = strings.Map(flipCase, name)
	}
	if out == name {
		return ""
	}
	return out
}

func flipCase(c rune) rune {
	if unicode.IsUpper(c) {
		return unicode.ToLower(c)
	}
	return unicode.ToUpper(c)
}

// skew draws the batch layout inside node n (its STRUCT fields, at any
// depth) and rebuilds n.dt, the Arrow type the batch gives it in.
func (g *rtGen) skew(n *rtNode) {
	switch {
	case n.elem != nil:
		rtWideRunEnds(n.elem)
		g.skew(n.elem)
		name := "element"
		if g.xpct(30) { // pyarrow's and arrow-rs's name, or another
			name = []string{"item", "Element", "e"}[g.x.IntN(3)]
		}
		ef := arrow.Field{Name: name, Type: n.elem.dt, Nullable: true}
		switch n.dt.ID() {
		case arrow.LIST:
			n.dt = arrow.ListOfField(ef)
		case arrow.LARGE_LIST:
			n.dt = arrow.LargeListOfField(ef)
		case arrow.FIXED_SIZE_LIST:
			n.dt = arrow.FixedSizeListOfField(int32(n.fsl), ef)
		case arrow.LIST_VIEW:
			n.dt = arrow.ListViewOfField(ef)
		case arrow.LARGE_LIST_VIEW:
			n.dt = arrow.LargeListViewOfField(ef)
		default:
			panic(n.dt.String())
		}
	case n.val != nil:
		rtWideRunEnds(n.key)
		rtWideRunEnds(n.val)
		g.narrow(n.key)
		g.skew(n.val)
		n.dt = arrow.MapOfFields(arrow.Field{Name: "key", Type: n.key.dt}, arrow.Field{Name: "value", Type: n.val.dt, Nullable: true})
	case n.flds != nil:
		for _, f := range n.flds {
			g.skew(f)
		}
		pNull := 0
		if rtDecText { // null-type STRUCT fields take the table's type
			pNull = 8
		}
		n.perm = g.skewLevel(n.flds, func(int) bool { return false }, 50, 20, 15, pNull)
		for _, f := range n.flds {
			// A NOT NULL field of the null type: each row whose STRUCT is
			// not null fails, naming the field.
			if f.notNull && pNull > 0 && g.xpct(3) {
				f.nullType, f.dt, f.reorder = true, arrow.Null, false
				rtCounts.nullType++
			}
		}
		fields := make([]arrow.Field, 0, len(n.perm))
		for _, i := range n.perm {
			f := n.flds[i]
			fields = append(fields, arrow.Field{Name: f.batchName(), Type: f.dt, Nullable: !f.notNull || f.nulls || f.nullType})
		}
		n.dt = arrow.StructOf(fields...)
	default:
		g.narrow(n)
	}
}

// rtSkewed reports whether any STRUCT inside n is laid out otherwise in
// the batch than in the table (for the table's description).
func rtSkewed(n *rtNode) bool {
	switch {
	case n.elem != nil:
		return rtSkewed(n.elem)
	case n.val != nil:
		return rtSkewed(n.val)
	}
	for k, i := range n.batchFields() {
		if k != i || n.flds[i].bname != "" || rtSkewed(n.flds[i]) {
			return true
		}
	}
	return len(n.batchFields()) != len(n.flds)
}

// rtNarrowing: integer and float leaves may come in a wider Arrow type
// than the table's (on since the narrowing change is in).
const rtNarrowing = true

// narrow may give leaf n (a table TINYINT, SMALLINT, INT or FLOAT) a wider
// or unsigned Arrow type, as pandas and polars hold them (int64, float64);
// over protobuf a BIGINT or DOUBLE may also come in a narrower one (which
// Flight's generator already draws). Its values are then drawn around the
// table type's bounds (narrowValue): those that do not fit fail their row.
func (g *rtGen) narrow(n *rtNode) {
	if n.leaf == nil || (n.wrap != "" && n.wrap != "ree") {
		return
	}
	p := arrow.PrimitiveTypes
	var to []arrow.DataType
	floats := []arrow.DataType{p.Float64, p.Float64, p.Float32, arrow.FixedWidthTypes.Float16} // (pandas' int with None)
	ints := []arrow.DataType{p.Int8, p.Int32, p.Int64, p.Int64, p.Uint8, p.Uint32, p.Uint64}
	switch n.uc.Name {
	case zerobuslocal.TypeTinyint:
		to = []arrow.DataType{p.Int16, p.Int32, p.Int64, p.Uint8, p.Uint16, p.Uint32, p.Uint64}
	case zerobuslocal.TypeSmallint:
		to = []arrow.DataType{p.Int32, p.Int64, p.Uint16, p.Uint32, p.Uint64}
	case zerobuslocal.TypeInt:
		to = []arrow.DataType{p.Int64, p.Int64, p.Uint32, p.Uint64}
	case zerobuslocal.TypeFloat:
		to = []arrow.DataType{p.Float64}
	case zerobuslocal.TypeBigint:
		if g.tr == core.TransportProtobuf && rtIsInt(n.leaf) {
			to = []arrow.DataType{p.Int8, p.Int16, p.Int32, p.Uint8, p.Uint16}
		}
	case zerobuslocal.TypeDouble:
		if g.tr == core.TransportProtobuf {
			to = []arrow.DataType{p.Float32, arrow.FixedWidthTypes.Float16}
		}
	case zerobuslocal.TypeDecimal:
		g.decText(n)
		return
	}
	if !rtNarrowing || !g.xpct(30) {
		return
	}
	// Floats into integer columns, integers into FLOAT and DOUBLE (on
	// since that change is in): each value exactly, or its row fails.
	switch _, isInt := rtIntRanges[n.uc.Name]; {
	case isInt && rtIsInt(n.leaf) && g.xpct(35):
		to = floats
	case (n.uc.Name == zerobuslocal.TypeFloat || n.uc.Name == zerobuslocal.TypeDouble) && g.xpct(40):
		to = ints
	}
	if len(to) == 0 {
		return
	}
	t := to[g.x.IntN(len(to))]
	n.orig, n.leaf, n.narrow = n.leaf, t, true
	if n.wrap == "ree" {
		n.dt = arrow.RunEndEncodedOf(n.dt.(*arrow.RunEndEncodedType).RunEnds(), t)
	} else {
		n.dt = t
	}
	rtCounts.narrowed++
}

func rtIsInt(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

// rtIntRange is the range of a table integer type or of an Arrow integer
// type.
func rtIntRange(t string) (lo, hi *big.Int) {
	bits, signed := map[string]uint{
		zerobuslocal.TypeTinyint: 8, zerobuslocal.TypeSmallint: 16, zerobuslocal.TypeInt: 32, zerobuslocal.TypeBigint: 64,
		"int8": 8, "int16": 16, "int32": 32, "int64": 64,
	}[t], true
	if bits == 0 {
		bits, signed = map[string]uint{"uint8": 8, "uint16": 16, "uint32": 32, "uint64": 64}[t], false
	}
	if bits == 0 {
		panic("no integer range for " + t)
	}
	one := big.NewInt(1)
	if !signed {
		return new(big.Int), new(big.Int).Sub(new(big.Int).Lsh(one, bits), one)
	}
	hi = new(big.Int).Sub(new(big.Int).Lsh(one, bits-1), one)
	return new(big.Int).Neg(new(big.Int).Add(hi, one)), hi
}

// narrowValue draws a value of a narrowed leaf from g.x, after drawing
// (and dropping) the one the table's own Arrow type would have had from
// g.r, so that the seed's other values stay as they were.
func (g *rtGen) narrowValue(n *rtNode) any {
	g.leafValue(&rtNode{uc: n.uc, leaf: n.orig, dt: n.orig})
	x := g.x
	_, intTable := rtIntRanges[n.uc.Name]
	switch {
	case intTable && !rtIsInt(n.leaf): // a float into an integer column
		return g.floatIntValue(n.uc.Name)
	case !intTable && rtIsInt(n.leaf): // an integer into FLOAT or DOUBLE
		lo, hi := rtIntRange(n.leaf.String())
		one := big.NewInt(1)
		cands := []*big.Int{lo, hi, big.NewInt(0), big.NewInt(1), big.NewInt(-1), new(big.Int).Lsh(one, 24),
			new(big.Int).Add(new(big.Int).Lsh(one, 24), one), new(big.Int).Lsh(one, 53),
			new(big.Int).Add(new(big.Int).Lsh(one, 53), one), new(big.Int).Neg(new(big.Int).Lsh(one, 53)),
			new(big.Int).Sub(new(big.Int).Lsh(one, 63), big.NewInt(1024)), rtBetween(x, lo, hi), rtBetween(x, lo, hi)}
		v := cands[x.IntN(len(cands))]
		if v.Cmp(lo) < 0 {
			v = lo
		}
		if v.Cmp(hi) > 0 {
			v = hi
		}
		if lo.Sign() == 0 {
			return v.Uint64()
		}
		return v.Int64()
	}
	switch n.leaf.ID() {
	case arrow.FLOAT64: // into FLOAT
		m := float64(math.MaxFloat32)
		ulp := math.Ldexp(1, 104) // float32's spacing at its maximum
		vs := []float64{m, -m, m + ulp/4, -(m + ulp/4), m + ulp/2, m + ulp, 1e39, -1e39, math.MaxFloat64,
			math.SmallestNonzeroFloat32, math.SmallestNonzeroFloat32 / 2, math.SmallestNonzeroFloat32 * 0.75, 1e-50,
			0.1, 1.0 / 3, 16777217, math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1)}
		if x.IntN(3) == 0 {
			return (x.Float64() - 0.5) * math.Pow(10, float64(x.IntN(45)))
		}
		return vs[x.IntN(len(vs))]
	case arrow.FLOAT32, arrow.FLOAT16: // into DOUBLE
		if x.IntN(4) == 0 {
			return []float64{0, math.Inf(1), math.NaN(), 65504, math.MaxFloat32}[x.IntN(5)]
		}
		return (x.Float64() - 0.5) * math.Pow(10, float64(x.IntN(5)))
	}
	tlo, thi := rtIntRange(n.uc.Name)
	alo, ahi := rtIntRange(n.leaf.String())
	one := big.NewInt(1)
	var v *big.Int
	switch x.IntN(9) {
	case 0:
		v = tlo
	case 1:
		v = thi
	case 2:
		v = new(big.Int).Sub(tlo, one)
	case 3:
		v = new(big.Int).Add(thi, one)
	case 4:
		v = big.NewInt(int64(x.IntN(3)) - 1)
	case 5:
		v = []*big.Int{alo, ahi}[x.IntN(2)]
	case 6: // anywhere in the Arrow type's range
		v = rtBetween(x, alo, ahi)
	default: // in the table's range
		lo, hi := tlo, thi
		if alo.Cmp(lo) > 0 {
			lo = alo
		}
		if ahi.Cmp(hi) < 0 {
			hi = ahi
		}
		v = rtBetween(x, lo, hi)
	}
	if v.Cmp(alo) < 0 {
		v = alo
	}
	if v.Cmp(ahi) > 0 {
		v = ahi
	}
	if alo.Sign() == 0 { // unsigned: the generator holds these as uint64
		return v.Uint64()
	}
	return v.Int64()
}

// rtBetween draws an integer in lo..hi (a span of at most 2^64 values).
func rtBetween(x *rand.Rand, lo, hi *big.Int) *big.Int {
	span := new(big.Int).Sub(hi, lo)
	off := x.Uint64()
	if span.IsUint64() && span.Uint64() < math.MaxUint64 {
		off = x.Uint64N(span.Uint64() + 1)
	}
	return new(big.Int).Add(lo, new(big.Int).SetUint64(off))
}

// rtFitInt is integer v (int64 or uint64) as the table's integer type t
// stores it; false when it is outside t's range (the row fails).
func rtFitInt(v any, t string) (int64, bool) {
	var b *big.Int
	switch v := v.(type) {
	case int64:
		b = big.NewInt(v)
	case uint64:
		b = new(big.Int).SetUint64(v)
	}
	lo, hi := rtIntRange(t)
	if b.Cmp(lo) < 0 || b.Cmp(hi) > 0 {
		return 0, false
	}
	return b.Int64(), true
}

// rtFitFloat is float64 v as a table FLOAT stores it: rounded to the
// nearest float32 (ties to even, by math/big); false when a finite value
// rounds beyond float32's range (the row fails). NaN and infinities stay.
func rtFitFloat(v float64) (float64, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v, true
	}
	f, _ := new(big.Float).SetFloat64(v).Float32()
	if math.IsInf(float64(f), 0) {
		return 0, false
	}
	return float64(f), true
}

// rtDecText: DECIMAL leaves may come as strings and STRUCT fields as
// Arrow's null type (on since that change is in).
const rtDecText = true

// decText may give DECIMAL leaf n as strings (the text users hold:
// Python's str(Decimal), CSV columns), keeping a run-end encoded form.
func (g *rtGen) decText(n *rtNode) {
	if !rtDecText || !g.xpct(30) {
		return
	}
	t := []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.StringView}[g.x.IntN(3)]
	if n.wrap == "ree" && t.ID() == arrow.STRING_VIEW {
		t = arrow.BinaryTypes.String
	}
	n.orig, n.leaf, n.decText = n.leaf, t, true
	if n.wrap == "ree" {
		n.dt = arrow.RunEndEncodedOf(n.dt.(*arrow.RunEndEncodedType).RunEnds(), t)
	} else {
		n.dt = t
	}
	rtCounts.decText++
}

// decTextValue draws the text of a DECIMAL(p,s) value from g.x, around
// the value the table's own Arrow type would have had (drawn from g.r):
// exact, with more fraction digits (ties), in other accepted forms (sign,
// spaces, exponent), too large before or after rounding, or not a number.
func (g *rtGen) decTextValue(n *rtNode) any {
	u := g.leafValue(&rtNode{uc: n.uc, leaf: n.orig, dt: n.orig}).(*big.Int)
	x := g.x
	p, s := n.uc.Precision, n.uc.Scale
	exact := rtDecimalText(u, s)
	frac := func(t string) string { // t with more fraction digits
		if s == 0 {
			t += "."
		}
		return t + []string{"5", "4", "49", "50", "51", "9", "0001", "99999"}[x.IntN(8)]
	}
	maxU := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil), big.NewInt(1))
	switch x.IntN(12) {
	case 0, 1:
		return exact
	case 2, 3:
		return frac(exact)
	case 4: // the largest value, then a tie: too large after rounding up
		m := rtDecimalText(maxU, s)
		if x.IntN(2) == 0 {
			m = "-" + m
		}
		return frac(m)
	case 5: // one integer digit too many
		t := "1" + strings.Repeat("0", p-s)
		if x.IntN(2) == 0 {
			t = "-" + t
		}
		return t
	case 6:
		return []string{"abc", "", "-", ".", "1,5", "NaN", "Infinity", "0x10", "1e", "1_000", "--1", "1.2.3", "١٢"}[x.IntN(13)]
	case 7:
		return []string{"+", " ", "\t", " +"}[x.IntN(4)] + exact + []string{"", " ", "\n"}[x.IntN(3)]
	case 8: // the unscaled digits with an exponent
		return u.String() + []string{"e", "E"}[x.IntN(2)] + fmt.Sprint(-s)
	case 9:
		return []string{".5", "5.", "-.5", "0.005", "-0.004", "-0", "-0.00", "1e1", "000123", "0.0"}[x.IntN(10)]
	case 10: // the digits shifted: may fit or not
		return u.String() + "e" + fmt.Sprint(x.IntN(5)-2-s)
	}
	return frac(exact)
}

// rtDecimalTextRE is decimal text as a DECIMAL takes it (Spark's string
// cast): spaces around, a sign, digits with an optional point, an optional
// exponent.
var rtDecimalTextRE = regexp.MustCompile(`^[ \t\r\n]*([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?[ \t\r\n]*$`)

// rtDecimalFromText is text as DECIMAL(p,s) stores it (rounded half away
// from zero to s places, exactly s fraction digits); false when it is not
// a number or has more than p-s integer digits after rounding.
func rtDecimalFromText(text string, p, s int) (string, bool) {
	m := rtDecimalTextRE.FindStringSubmatch(text)
	if m == nil || m[2]+m[3] == "" {
		return "", false
	}
	digits, ok := new(big.Int).SetString(m[2]+m[3], 10)
	if !ok {
		return "", false
	}
	exp := int64(-len(m[3]))
	if m[4] != "" {
		e, err := strconv.ParseInt(m[4], 10, 32)
		if err != nil {
			return "", false
		}
		exp += e
	}
	// digits × 10^(exp+s), rounded half up: the unscaled value at scale s.
	r := new(big.Rat).SetInt(digits)
	k := exp + int64(s)
	pow := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(rtAbs(k)), nil))
	if k >= 0 {
		r.Mul(r, pow)
	} else {
		r.Quo(r, pow)
	}
	r.Add(r, big.NewRat(1, 2))
	q := new(big.Int).Quo(r.Num(), r.Denom()) // floor: both positive
	if q.Cmp(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil)) >= 0 {
		return "", false
	}
	if m[1] == "-" {
		q.Neg(q)
	}
	return rtDecimalText(q, s), true
}

func rtAbs(k int64) int64 {
	if k < 0 {
		return -k
	}
	return k
}

var rtIntRanges = map[string]bool{zerobuslocal.TypeTinyint: true, zerobuslocal.TypeSmallint: true,
	zerobuslocal.TypeInt: true, zerobuslocal.TypeBigint: true}

// floatIntValue draws a float for an integer column of table type t
// (pandas' int column holding None is float64): whole numbers at and
// beyond the bounds, fractions, -0, NaN and infinities, 2^53 and 2^63.
func (g *rtGen) floatIntValue(t string) float64 {
	x := g.x
	lo, hi := rtIntRange(t)
	l, _ := new(big.Float).SetInt(lo).Float64()
	h, _ := new(big.Float).SetInt(hi).Float64()
	vs := []float64{l, h, l - 1, h + 1, 0, math.Copysign(0, -1), 0.5, -1.5, 1e-300, math.NaN(), math.Inf(1), math.Inf(-1),
		1 << 53, 1<<53 + 2, math.Ldexp(1, 63), -math.Ldexp(1, 63), 1e30}
	switch x.IntN(3) {
	case 0:
		return vs[x.IntN(len(vs))]
	case 1: // a whole number in range (as float64 holds it)
		return math.Round(l + x.Float64()*(h-l))
	}
	return (x.Float64() - 0.5) * math.Pow(10, float64(x.IntN(12))) // mostly fractions
}

// rtFloatToInt is float h as integer table type t stores it: a whole
// number in t's range (-0 as 0); false for NaN, infinities, fractions and
// values out of range (the row fails).
func rtFloatToInt(h float64, t string) (int64, bool) {
	if math.IsNaN(h) || math.IsInf(h, 0) {
		return 0, false
	}
	b := new(big.Float).SetFloat64(h)
	if !b.IsInt() {
		return 0, false
	}
	i, _ := b.Int(nil)
	lo, hi := rtIntRange(t)
	if i.Cmp(lo) < 0 || i.Cmp(hi) > 0 {
		return 0, false
	}
	return i.Int64(), true
}

// rtIntToFloat is integer v (int64 or uint64) as a FLOAT (float32) or
// DOUBLE stores it: exactly, or false (the row fails; never rounded).
func rtIntToFloat(v any, float bool) (float64, bool) {
	b := new(big.Float).SetPrec(200)
	switch v := v.(type) {
	case int64:
		b.SetInt64(v)
	case uint64:
		b.SetUint64(v)
	}
	if float {
		f, acc := b.Float32()
		return float64(f), acc == big.Exact
	}
	f, acc := b.Float64()
	return f, acc == big.Exact
}

// rtWideRunEnds gives the run-end encoded leaves inside ARRAY elements or
// MAP entries int32 run ends: a large batch's lists hold more than the
// 32767 values int16 run ends can count (arrow-go's builder panics).
// Called before skew walks n, which rebuilds the types above the leaves.
func rtWideRunEnds(n *rtNode) {
	switch {
	case n.elem != nil:
		rtWideRunEnds(n.elem)
	case n.val != nil:
		rtWideRunEnds(n.key)
		rtWideRunEnds(n.val)
	case n.flds != nil:
		for _, f := range n.flds {
			rtWideRunEnds(f)
		}
	case n.wrap == "ree" && !n.nullType:
		if ree := n.dt.(*arrow.RunEndEncodedType); ree.RunEnds().ID() == arrow.INT16 {
			n.dt = arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, ree.Encoded())
		}
	}
}
