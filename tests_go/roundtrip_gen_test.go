package tests_go

// The generator of the randomized round-trip test (roundtrip_prop_test.go):
// random Unity Catalog tables, a random Arrow input form for every column
// (each form the docs say a transport accepts for the column's type), and
// random rows of edge values held as plain Go values, from which both the
// Arrow batch and, independently of the code under test, the stored row
// each input row must become are computed.

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/variant"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// rtNode is one column (or struct field, list element, map key or value):
// its table type and the Arrow form the batch gives it in.
type rtNode struct {
	name    string
	uc      zerobuslocal.ColumnType
	notNull bool // the table's NOT NULL (columns and struct fields)
	// nulls: the generator may put nulls here (the Arrow field is nullable).
	nulls bool
	dt    arrow.DataType // Arrow input type (wrappers included)
	leaf  arrow.DataType // for dictionary / run-end encoded forms: the value type
	wrap  string         // "", "dict", "ree"
	fsl   int            // fixed_size_list size (dt is a fixed-size list)
	// reorder: a list view column's elements are laid out in reverse row
	// order (offsets not monotonic).
	reorder bool
	// vbin: a VARIANT given already encoded, struct{metadata, value}
	// binaries (Flight only; the protobuf path takes JSON text).
	vbin bool
	elem *rtNode   // ARRAY element
	key  *rtNode   // MAP key
	val  *rtNode   // MAP value
	flds []*rtNode // STRUCT fields
	// How the batch differs from the table (rtGen.skew): bname is the
	// column's or field's name in the batch ("" = the table's); perm lists a
	// STRUCT's fields in batch order (table field indices; nil = the
	// table's order); omit: a nullable column or field the batch leaves out
	// (stored as null).
	bname string
	perm  []int
	omit  bool
	// narrow: an integer or float leaf the batch gives in a wider (or
	// unsigned) Arrow type than the table's (rtGen.narrow); its values are
	// drawn around the table type's bounds from rtGen.x.
	narrow bool
	orig   arrow.DataType // the leaf type the table's generator drew
	// decText: a DECIMAL leaf the batch gives as strings (rtGen.decText);
	// nullType: a nullable column or STRUCT field the batch gives as
	// Arrow's null type (all nulls, as pyarrow infers a key always None).
	decText, nullType bool
}

// rtGen draws tables and values for one transport.
type rtGen struct {
	r *rand.Rand
	// x draws how batches differ from the table (rtGen.skew), apart from
	// r so that a seed's tables and values are the same with or without.
	x     *rand.Rand
	tr    string
	depth int
	names int
}

func (g *rtGen) pct(p int) bool { return g.r.IntN(100) < p }

func (g *rtGen) pick(n int) int { return g.r.IntN(n) }

func (g *rtGen) name(prefix string) string {
	g.names++
	return fmt.Sprintf("%s%d", prefix, g.names)
}

var (
	rtLeafTypes = []string{
		zerobuslocal.TypeTinyint, zerobuslocal.TypeSmallint, zerobuslocal.TypeInt, zerobuslocal.TypeBigint,
		zerobuslocal.TypeFloat, zerobuslocal.TypeDouble, zerobuslocal.TypeBoolean, zerobuslocal.TypeString,
		zerobuslocal.TypeBinary, zerobuslocal.TypeDate, zerobuslocal.TypeTimestamp, zerobuslocal.TypeTimestampNTZ,
		zerobuslocal.TypeDecimal, zerobuslocal.TypeVariant,
	}
	rtKeyTypes = []string{zerobuslocal.TypeTinyint, zerobuslocal.TypeSmallint, zerobuslocal.TypeInt,
		zerobuslocal.TypeBigint, zerobuslocal.TypeBoolean, zerobuslocal.TypeString}
	rtZones = []string{"UTC", "America/New_York", "+05:30", "Asia/Tokyo"}
)

// table draws the columns of a table: "rid BIGINT NOT NULL" (the row's
// identity) first, then 1..maxCols random columns.
func (g *rtGen) table(maxCols int) []*rtNode {
	cols := []*rtNode{{name: "rid", uc: zerobuslocal.ColumnType{Name: zerobuslocal.TypeBigint}, notNull: true, dt: arrow.PrimitiveTypes.Int64, leaf: arrow.PrimitiveTypes.Int64}}
	n := 1 + g.pick(maxCols)
	used := map[string]bool{"rid": true}
	for range n {
		cols = append(cols, g.node(g.fieldName("c", used, cols), true))
	}
	return cols
}

// fieldName is a new column or field name in a scope: mostly c1, f2...,
// sometimes a name that protobuf or the Arrow layouts also use, or one
// whose nested message name meets a sibling's ("m" and "m_value" are both
// "MValue"-ish).
func (g *rtGen) fieldName(prefix string, used map[string]bool, siblings []*rtNode) string {
	var cand string
	switch {
	case g.pct(8):
		cand = []string{"key", "value", "element", "item", "entries", "metadata", "_under", "CamelCase", "a1"}[g.pick(9)]
	case g.pct(10) && len(siblings) > 0:
		cand = siblings[g.pick(len(siblings))].name + []string{"_value", "_entry", "_2", "Value", "Entry"}[g.pick(5)]
	}
	if cand == "" || used[cand] || rtEntryClash(cand, used) {
		cand = g.name(prefix)
	}
	used[cand] = true
	return cand
}

// rtEntryClash reports whether name and a sibling have the same UpperCamel
// form, or one is the other's plus "Entry": a protobuf map entry message
// must be named exactly <UpperCamel field name>Entry, so two MAP columns
// "a_b" and "aB", or a MAP "a" beside a column "AEntry", have no protobuf
// descriptor at all (protoc refuses them too). Not generated.
func rtEntryClash(name string, used map[string]bool) bool {
	for s := range used {
		a, b := rtCamel(name), rtCamel(s)
		if a == b || a == b+"Entry" || b == a+"Entry" {
			return true
		}
	}
	return false
}

// rtCamel is protobuf's UpperCamel form of a field name ("a_b" -> "AB").
func rtCamel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		switch {
		case r == '_':
			up = true
		case up:
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// node draws a column or struct field (top: a column).
func (g *rtGen) node(name string, top bool) *rtNode {
	var n *rtNode
	switch {
	case g.depth < 3 && g.pct(12):
		n = g.array()
	case g.depth < 3 && g.pct(12):
		n = g.mapNode()
	case g.depth < 3 && g.pct(14):
		n = g.structNode()
	default:
		n = g.leaf(rtLeafTypes[g.pick(len(rtLeafTypes))])
	}
	n.name = name
	n.notNull = g.pct(20)
	// Nulls where the table allows them (and, over Flight, in NOT NULL
	// columns and fields too: the rows fail). Protobuf: a NOT NULL struct
	// field gets no nulls (the nested-NOT NULL check is another change's).
	n.nulls = g.pct(70)
	if n.notNull && !top && g.tr == core.TransportProtobuf {
		n.nulls = false
	}
	if n.notNull && g.pct(50) {
		n.nulls = false
	}
	return n
}

func (g *rtGen) array() *rtNode {
	g.depth++
	defer func() { g.depth-- }()
	var e *rtNode
	if g.depth < 3 && g.pct(25) {
		e = g.structNode()
	} else {
		e = g.leaf(rtLeafTypes[g.pick(len(rtLeafTypes))])
	}
	e.name = "element"
	e.nulls = g.pct(15) // a null element fails its row
	ef := arrow.Field{Name: "element", Type: e.dt, Nullable: true}
	n := &rtNode{uc: zerobuslocal.ColumnType{Name: zerobuslocal.TypeArray, Element: &e.uc}, elem: e}
	switch g.pick(5) {
	case 0:
		n.dt = arrow.ListOfField(ef)
	case 1:
		n.dt = arrow.LargeListOfField(ef)
	case 2:
		n.fsl = 1 + g.pick(3) // arrow-go refuses size 0
		n.dt = arrow.FixedSizeListOfField(int32(n.fsl), ef)
	case 3:
		n.dt = arrow.ListViewOfField(ef)
		n.reorder = g.pct(50)
	case 4:
		n.dt = arrow.LargeListViewOfField(ef)
		n.reorder = g.pct(50)
	}
	return n
}

func (g *rtGen) mapNode() *rtNode {
	g.depth++
	defer func() { g.depth-- }()
	k := g.leaf(rtKeyTypes[g.pick(len(rtKeyTypes))])
	// Map keys: plain types.
	for k.wrap != "" {
		k = g.leaf(k.uc.Name)
	}
	k.name = "key"
	var v *rtNode
	if g.depth < 3 && g.pct(25) {
		v = g.structNode()
	} else {
		v = g.leaf(rtLeafTypes[g.pick(len(rtLeafTypes))])
	}
	v.name = "value"
	v.nulls = g.pct(15) // a null value fails its row
	n := &rtNode{uc: zerobuslocal.ColumnType{Name: zerobuslocal.TypeMap, Key: &k.uc, Value: &v.uc}, key: k, val: v}
	n.dt = arrow.MapOfFields(arrow.Field{Name: "key", Type: k.dt}, arrow.Field{Name: "value", Type: v.dt, Nullable: true})
	return n
}

func (g *rtGen) structNode() *rtNode {
	g.depth++
	defer func() { g.depth-- }()
	n := &rtNode{uc: zerobuslocal.ColumnType{Name: zerobuslocal.TypeStruct}}
	k := 1 + g.pick(4)
	fields := make([]arrow.Field, 0, k)
	used := map[string]bool{}
	for range k {
		f := g.node(g.fieldName("f", used, n.flds), false)
		n.flds = append(n.flds, f)
		n.uc.Fields = append(n.uc.Fields, zerobuslocal.Column{Name: f.name, Type: f.uc, Nullable: !f.notNull})
		fields = append(fields, arrow.Field{Name: f.name, Type: f.dt, Nullable: !f.notNull || f.nulls})
	}
	n.dt = arrow.StructOf(fields...)
	return n
}

func (g *rtGen) oneOf(ts ...arrow.DataType) arrow.DataType { return ts[g.pick(len(ts))] }

// leaf draws a leaf type and one of the Arrow forms documented for it on
// g's transport (core/internal/convert/doc.go for protobuf, the Flight
// cast's table in core/internal/flightstream/cast.go).
func (g *rtGen) leaf(name string) *rtNode {
	flight := g.tr == core.TransportArrowFlight
	n := &rtNode{uc: zerobuslocal.ColumnType{Name: name}}
	p := arrow.PrimitiveTypes
	switch name {
	case zerobuslocal.TypeTinyint:
		n.dt = p.Int8
	case zerobuslocal.TypeSmallint:
		n.dt = g.oneOf(p.Int8, p.Int16, p.Uint8)
	case zerobuslocal.TypeInt:
		n.dt = g.oneOf(p.Int8, p.Int16, p.Int32, p.Uint8, p.Uint16)
	case zerobuslocal.TypeBigint:
		ts := []arrow.DataType{p.Int64, p.Uint32, p.Uint64, arrow.FixedWidthTypes.Time32s, arrow.FixedWidthTypes.Time32ms,
			arrow.FixedWidthTypes.Time64us, arrow.FixedWidthTypes.Time64ns, arrow.FixedWidthTypes.Duration_s,
			arrow.FixedWidthTypes.Duration_ms, arrow.FixedWidthTypes.Duration_us, arrow.FixedWidthTypes.Duration_ns}
		if flight { // protobuf: these are int32 fields, which a BIGINT column's int64 field refuses
			ts = append(ts, p.Int8, p.Int16, p.Int32, p.Uint8, p.Uint16)
		}
		n.dt = g.oneOf(ts...)
	case zerobuslocal.TypeFloat:
		n.dt = g.oneOf(p.Float32, arrow.FixedWidthTypes.Float16)
	case zerobuslocal.TypeDouble:
		n.dt = p.Float64
		if flight {
			n.dt = g.oneOf(p.Float64, p.Float32, arrow.FixedWidthTypes.Float16)
		}
	case zerobuslocal.TypeBoolean:
		n.dt = arrow.FixedWidthTypes.Boolean
	case zerobuslocal.TypeString, zerobuslocal.TypeVariant:
		n.dt = g.oneOf(arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.StringView)
		switch {
		case name == zerobuslocal.TypeString && g.pct(5): // decimals go to STRING columns as their text
			p := 1 + g.pick(38)
			n.dt = &arrow.Decimal128Type{Precision: int32(p), Scale: int32(g.pick(p + 1))}
		case name == zerobuslocal.TypeVariant && flight && g.pct(15):
			bt := g.oneOf(arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeBinary)
			n.dt = arrow.StructOf(arrow.Field{Name: "metadata", Type: bt}, arrow.Field{Name: "value", Type: bt})
			n.vbin = true
			n.leaf = n.dt
			return n
		case name == zerobuslocal.TypeVariant && g.pct(10): // an extension type: as its storage
			jt, err := extensions.NewJSONType(g.oneOf(arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString))
			if err != nil {
				panic(err)
			}
			n.dt = jt
		}
	case zerobuslocal.TypeBinary:
		n.dt = g.oneOf(arrow.BinaryTypes.Binary, arrow.BinaryTypes.LargeBinary, arrow.BinaryTypes.BinaryView,
			&arrow.FixedSizeBinaryType{ByteWidth: 1 + g.pick(5)}, extensions.NewUUIDType())
	case zerobuslocal.TypeDate:
		n.dt = g.oneOf(arrow.FixedWidthTypes.Date32, arrow.FixedWidthTypes.Date64)
	case zerobuslocal.TypeTimestamp, zerobuslocal.TypeTimestampNTZ:
		tz := rtZones[g.pick(len(rtZones))]
		if g.pct(30) || (name == zerobuslocal.TypeTimestampNTZ && tz != "UTC") {
			tz = "" // only a UTC one goes to TIMESTAMP_NTZ (as its UTC wall clock); other zones are refused
		}
		n.dt = &arrow.TimestampType{Unit: arrow.TimeUnit(g.pick(4)), TimeZone: tz}
	case zerobuslocal.TypeDecimal:
		prec := 1 + g.pick(38)
		if g.pct(30) {
			prec = []int{1, 9, 18, 19, 38}[g.pick(5)]
		}
		scale := g.pick(prec + 1)
		n.uc.Precision, n.uc.Scale = prec, scale
		var forms []arrow.DataType
		if prec <= 9 {
			forms = append(forms, &arrow.Decimal32Type{Precision: int32(prec), Scale: int32(scale)})
		}
		if prec <= 18 {
			forms = append(forms, &arrow.Decimal64Type{Precision: int32(prec), Scale: int32(scale)})
		}
		forms = append(forms, &arrow.Decimal128Type{Precision: int32(prec), Scale: int32(scale)},
			&arrow.Decimal256Type{Precision: int32(prec), Scale: int32(scale)})
		n.dt = g.oneOf(forms...)
	default:
		panic(name)
	}
	n.leaf = n.dt
	if e, ok := n.dt.(arrow.ExtensionType); ok {
		n.leaf = e.StorageType()
		return n
	}
	switch {
	case g.pct(8) && (n.dt.ID() == arrow.STRING || n.dt.ID() == arrow.BINARY): // (arrow-go builds no dictionary of large strings)
		n.wrap = "dict"
		n.dt = &arrow.DictionaryType{IndexType: g.oneOf(p.Int16, p.Int32, p.Int64), ValueType: n.dt}
	case g.pct(6) && n.dt.ID() != arrow.STRING_VIEW && n.dt.ID() != arrow.BINARY_VIEW:
		n.wrap = "ree"
		n.dt = arrow.RunEndEncodedOf(g.oneOf(p.Int16, p.Int32, p.Int64), n.dt)
	}
	return n
}

// ---- values ----

// rtKV is one map entry.
type rtKV struct{ k, v any }

// value draws a value of n (nil: null, when n allows nulls).
func (g *rtGen) value(n *rtNode, prev any) any {
	if n.nulls && g.pct(12) {
		return nil
	}
	if n.wrap != "" && prev != nil && g.pct(40) {
		return prev // runs and repeated dictionary values
	}
	switch {
	case n.elem != nil:
		k := g.pick(4)
		if g.pct(10) {
			k = 0
		}
		if n.fsl > 0 || n.dt.ID() == arrow.FIXED_SIZE_LIST {
			k = n.fsl
		}
		out := make([]any, k)
		var p any
		for i := range out {
			out[i] = g.value(n.elem, p)
			p = out[i]
		}
		return out
	case n.key != nil:
		k := g.pick(4)
		out := make([]rtKV, 0, k)
		seen := map[string]bool{}
		for range k {
			kv := g.value(n.key, nil)
			if kv == nil || seen[fmt.Sprint(kv)] {
				continue
			}
			seen[fmt.Sprint(kv)] = true
			out = append(out, rtKV{kv, g.value(n.val, nil)})
		}
		return out
	case n.flds != nil:
		out := make([]any, len(n.flds))
		for i, f := range n.flds {
			out[i] = g.value(f, nil)
			if f.omit || f.nullType {
				out[i] = nil // not in the batch or all nulls: stored as null
			}
		}
		return out
	}
	return g.leafValue(n)
}

var rtStrings = []string{"", "a", "héllo", "日本語テキスト", "emoji 🎉 ✓", "nul\x00byte", "a string longer than twelve bytes",
	"tab\tnew\nline", "\"quoted\" \\ back", strings.Repeat("x", 300)}

func (g *rtGen) str() string {
	if g.pct(3) {
		return "bad\xff" // not UTF-8: the row fails
	}
	if g.pct(60) {
		return rtStrings[g.pick(len(rtStrings))]
	}
	alphabet := []rune("aZ09_é中🎉 ")
	b := make([]rune, g.pick(20))
	for i := range b {
		b[i] = alphabet[g.pick(len(alphabet))]
	}
	return string(b)
}

func (g *rtGen) edgeInt(lo, hi int64) int64 {
	switch g.pick(6) {
	case 0:
		return lo
	case 1:
		return hi
	case 2:
		return min(hi, max(lo, []int64{0, 1, -1}[g.pick(3)]))
	}
	span := uint64(hi - lo)
	if span == math.MaxUint64 {
		return int64(g.r.Uint64())
	}
	return lo + int64(g.r.Uint64N(span+1))
}

func (g *rtGen) leafValue(n *rtNode) any {
	if n.narrow {
		return g.narrowValue(n)
	}
	if n.decText {
		return g.decTextValue(n)
	}
	if n.uc.Name == zerobuslocal.TypeVariant {
		if !n.vbin && g.pct(3) {
			// Not one JSON document, or a key given twice: the row fails
			// on both transports (the protobuf path checks the text of a
			// column the catalog declares VARIANT).
			return []string{`{"a": 1`, `{"k": 1, "k": 2}`, `1 2`, `[1, {"x": true, "x": false}]`, ``, `nul`}[g.pick(6)]
		}
		return g.jsonDoc(0)
	}
	switch t := n.leaf.(type) {
	case *arrow.Int8Type:
		return g.edgeInt(math.MinInt8, math.MaxInt8)
	case *arrow.Int16Type:
		return g.edgeInt(math.MinInt16, math.MaxInt16)
	case *arrow.Int32Type:
		return g.edgeInt(math.MinInt32, math.MaxInt32)
	case *arrow.Int64Type:
		return g.edgeInt(math.MinInt64, math.MaxInt64)
	case *arrow.Uint8Type:
		return uint64(g.edgeInt(0, math.MaxUint8))
	case *arrow.Uint16Type:
		return uint64(g.edgeInt(0, math.MaxUint16))
	case *arrow.Uint32Type:
		return uint64(g.edgeInt(0, math.MaxUint32))
	case *arrow.Uint64Type:
		if g.pct(4) {
			return uint64(math.MaxInt64) + 1 + g.r.Uint64N(math.MaxInt64) // over BIGINT: the row fails
		}
		return uint64(g.edgeInt(0, math.MaxInt64))
	case *arrow.Float16Type, *arrow.Float32Type, *arrow.Float64Type:
		switch g.pick(8) {
		case 0:
			return []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(), 1.5, -2.25}[g.pick(7)]
		case 1:
			if t.ID() == arrow.FLOAT64 {
				return []float64{math.MaxFloat64, -math.SmallestNonzeroFloat64, 1e-310}[g.pick(3)]
			}
			return []float64{math.MaxFloat32, math.SmallestNonzeroFloat32}[g.pick(2)]
		}
		return (g.r.Float64() - 0.5) * math.Pow(10, float64(g.pick(12)))
	case *arrow.BooleanType:
		return g.pct(50)
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		if n.uc.Name == zerobuslocal.TypeVariant {
			return g.jsonDoc(0)
		}
		return g.str()
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType:
		b := make([]byte, g.pick(30))
		for i := range b {
			b[i] = byte(g.r.Uint32())
		}
		return string(b)
	case *arrow.FixedSizeBinaryType:
		b := make([]byte, t.ByteWidth)
		for i := range b {
			b[i] = byte(g.r.Uint32())
		}
		return string(b)
	case *arrow.Date32Type:
		return g.edgeInt(math.MinInt32, math.MaxInt32)
	case *arrow.Date64Type:
		if g.pct(50) {
			return g.edgeInt(-1e6, 1e6)*86_400_000 + g.edgeInt(-86_399_999, 86_399_999)
		}
		return g.edgeInt(math.MinInt64, math.MaxInt64) // mostly outside DATE: the row fails
	case *arrow.TimestampType:
		return g.timeValue(t.Unit)
	case *arrow.Time32Type:
		if t.Unit == arrow.Second {
			return g.edgeInt(0, 86_399)
		}
		return g.edgeInt(0, 86_399_999)
	case *arrow.Time64Type:
		if t.Unit == arrow.Microsecond {
			return g.edgeInt(0, 86_399_999_999)
		}
		return g.edgeInt(0, 86_399_999_999_999)
	case *arrow.DurationType:
		return g.timeValue(t.Unit)
	case arrow.DecimalType:
		p := int(t.GetPrecision())
		switch g.pick(5) {
		case 0:
			return big.NewInt(0)
		case 1:
			m := new(big.Int).Sub(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(p)), nil), big.NewInt(1))
			if g.pct(50) {
				m.Neg(m)
			}
			return m
		}
		digits := 1 + g.pick(p)
		v, _ := new(big.Int).SetString(fmt.Sprint(1+g.pick(9))+strings.Repeat("7", digits-1), 10)
		for i := 0; i < digits/15; i++ {
			v.Sub(v, big.NewInt(g.r.Int64N(1e15)))
		}
		if v.Sign() < 0 {
			v.Neg(v)
		}
		if g.pct(50) {
			v.Neg(v)
		}
		return v
	}
	panic(n.leaf.String())
}

// timeValue is a timestamp or duration in unit: ordinary, before 1970,
// finer than microseconds, and at the int64 limits (which overflow
// microseconds for seconds and milliseconds: the row fails).
func (g *rtGen) timeValue(u arrow.TimeUnit) int64 {
	per := []int64{1, 1_000, 1_000_000, 1_000_000_000}[u] // per second
	switch g.pick(6) {
	case 0:
		return g.edgeInt(math.MinInt64, math.MaxInt64)
	case 1:
		lim := int64(math.MaxInt64)
		if u < arrow.Microsecond {
			lim = math.MaxInt64 / (1_000_000 / per) // the last value that fits microseconds
		}
		return []int64{lim, -lim, lim + 1, -lim - 1}[g.pick(4)]
	case 2:
		return -g.edgeInt(0, 1000)
	}
	return g.edgeInt(-4e9, 4e9) * per / max(1, g.r.Int64N(per)+1) // 1843 .. 2096, any fraction
}

// jsonDoc is a VARIANT value as JSON text.
func (g *rtGen) jsonDoc(d int) string {
	k := g.pick(9)
	if d >= 2 && k >= 7 {
		k = 0
	}
	switch k {
	case 0:
		return fmt.Sprint(g.edgeInt(-1<<40, 1<<40))
	case 1:
		return []string{"true", "false", "null"}[g.pick(3)]
	case 2:
		return []string{"1.5", "-0.25", "12345.678", "0.001", "-7e3"}[g.pick(5)]
	case 3, 4:
		s := g.str()
		if !utf8.ValidString(s) {
			s = "plain"
		}
		b, _ := json.Marshal(s)
		return string(b)
	case 5:
		return `"é \u00e9 \ud83c\udf89"`
	case 7:
		parts := make([]string, g.pick(4))
		for i := range parts {
			parts[i] = g.jsonDoc(d + 1)
		}
		return "[" + strings.Join(parts, ",") + "]"
	default:
		parts := make([]string, g.pick(4))
		for i := range parts {
			parts[i] = fmt.Sprintf("%q: %s", fmt.Sprintf("k%d", i), g.jsonDoc(d+1))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
}

// ---- Arrow batches ----

// rtBuild builds the Arrow batch of rows (each a []any in column order).
func rtBuild(mem memory.Allocator, cols []*rtNode, rows [][]any) arrow.RecordBatch {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: c.batchName(), Type: c.dt, Nullable: c.nulls || c.nullType}
	}
	schema := arrow.NewSchema(fields, nil)
	arrs := make([]arrow.Array, len(cols))
	rb := &rtBuilder{ree: map[*array.RunEndEncodedBuilder]reeRun{}}
	for i, c := range cols {
		if c.reorder {
			arrs[i] = rb.reorderView(mem, c, rows, i)
			continue
		}
		b := array.NewBuilder(mem, c.dt)
		for _, row := range rows {
			rb.append(b, c, row[i])
		}
		arrs[i] = b.NewArray()
		b.Release()
	}
	rec := array.NewRecordBatch(schema, arrs, int64(len(rows)))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// rtBuilder appends values to Arrow builders.
type rtBuilder struct {
	ree map[*array.RunEndEncodedBuilder]reeRun // the last value appended to each
}

// reeRun is the value of a run-end encoded builder's last run and the
// builder's length after it.
type reeRun struct {
	v any
	n int
}

// append appends v (of node n) to b.
func (rb *rtBuilder) append(b array.Builder, n *rtNode, v any) {
	if v == nil {
		b.AppendNull()
		return
	}
	if n.vbin {
		v, err := variant.ParseJSON(v.(string), false)
		if err != nil {
			panic(err)
		}
		sb := b.(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.BinaryBuilder).Append(v.Metadata().Bytes())
		sb.FieldBuilder(1).(*array.BinaryBuilder).Append(v.Bytes())
		return
	}
	switch bb := b.(type) {
	case *array.RunEndEncodedBuilder:
		// A value equal to the one before continues its run (unless a
		// null was appended since, here or by a parent's AppendNull).
		if rl, ok := rb.ree[bb]; ok && rl.n == bb.Len() && fmt.Sprint(rl.v) == fmt.Sprint(v) {
			bb.ContinueRun(1)
			rb.ree[bb] = reeRun{v, bb.Len()}
			return
		}
		bb.Append(1)
		rb.ree[bb] = reeRun{v, bb.Len()}
		rb.append(bb.ValueBuilder(), &rtNode{leaf: n.leaf, dt: n.leaf, uc: n.uc}, v)
		return
	case array.DictionaryBuilder:
		if err := bb.(*array.BinaryDictionaryBuilder).AppendString(v.(string)); err != nil {
			panic(err)
		}
		return
	case *array.ListBuilder, *array.LargeListBuilder:
		l := v.([]any)
		bb.(array.ListLikeBuilder).Append(true)
		vb := bb.(array.ListLikeBuilder).ValueBuilder()
		for _, e := range l {
			rb.append(vb, n.elem, e)
		}
		return
	case *array.ListViewBuilder:
		l := v.([]any)
		bb.AppendWithSize(true, len(l))
		for _, e := range l {
			rb.append(bb.ValueBuilder(), n.elem, e)
		}
		return
	case *array.LargeListViewBuilder:
		l := v.([]any)
		bb.AppendWithSize(true, len(l))
		for _, e := range l {
			rb.append(bb.ValueBuilder(), n.elem, e)
		}
		return
	case *array.FixedSizeListBuilder:
		bb.Append(true)
		for _, e := range v.([]any) {
			rb.append(bb.ValueBuilder(), n.elem, e)
		}
		return
	case *array.MapBuilder:
		bb.Append(true)
		for _, kv := range v.([]rtKV) {
			rb.append(bb.KeyBuilder(), n.key, kv.k)
			rb.append(bb.ItemBuilder(), n.val, kv.v)
		}
		return
	case *array.StructBuilder:
		bb.Append(true)
		for k, i := range n.batchFields() {
			rb.append(bb.FieldBuilder(k), n.flds[i], v.([]any)[i])
		}
		return
	case *array.Int8Builder:
		bb.Append(int8(v.(int64)))
	case *array.Int16Builder:
		bb.Append(int16(v.(int64)))
	case *array.Int32Builder:
		bb.Append(int32(v.(int64)))
	case *array.Int64Builder:
		bb.Append(v.(int64))
	case *array.Uint8Builder:
		bb.Append(uint8(v.(uint64)))
	case *array.Uint16Builder:
		bb.Append(uint16(v.(uint64)))
	case *array.Uint32Builder:
		bb.Append(uint32(v.(uint64)))
	case *array.Uint64Builder:
		bb.Append(v.(uint64))
	case *array.Float16Builder:
		bb.Append(float16.New(float32(v.(float64))))
	case *array.Float32Builder:
		bb.Append(float32(v.(float64)))
	case *array.Float64Builder:
		bb.Append(v.(float64))
	case *array.BooleanBuilder:
		bb.Append(v.(bool))
	case *array.StringBuilder:
		bb.Append(v.(string))
	case *array.LargeStringBuilder:
		bb.Append(v.(string))
	case *array.StringViewBuilder:
		bb.Append(v.(string))
	case *array.BinaryBuilder: // binary and large_binary
		bb.Append([]byte(v.(string)))
	case *array.BinaryViewBuilder:
		bb.Append([]byte(v.(string)))
	case *array.FixedSizeBinaryBuilder:
		bb.Append([]byte(v.(string)))
	case *array.Date32Builder:
		bb.Append(arrow.Date32(v.(int64)))
	case *array.Date64Builder:
		bb.Append(arrow.Date64(v.(int64)))
	case *array.TimestampBuilder:
		bb.Append(arrow.Timestamp(v.(int64)))
	case *array.Time32Builder:
		bb.Append(arrow.Time32(v.(int64)))
	case *array.Time64Builder:
		bb.Append(arrow.Time64(v.(int64)))
	case *array.DurationBuilder:
		bb.Append(arrow.Duration(v.(int64)))
	case interface{ StorageBuilder() array.Builder }: // extension types
		rb.append(bb.StorageBuilder(), &rtNode{leaf: n.leaf, dt: n.leaf, uc: n.uc}, v)
	case *array.Decimal32Builder:
		bb.Append(decimal.Decimal32(v.(*big.Int).Int64()))
	case *array.Decimal64Builder:
		bb.Append(decimal.Decimal64(v.(*big.Int).Int64()))
	case *array.Decimal128Builder:
		bb.Append(decimal128.FromBigInt(v.(*big.Int)))
	case *array.Decimal256Builder:
		bb.Append(decimal256.FromBigInt(v.(*big.Int)))
	default:
		panic(fmt.Sprintf("no append for %T", b))
	}
}

// rtReorderView builds list view column c of rows (column i) with the
// rows' elements laid out in reverse row order: the same lists, offsets
// going down. (Built from the values, not by joining slices: arrow-go's
// Concatenate gets slices of run-end encoded arrays wrong.)
func (rb *rtBuilder) reorderView(mem memory.Allocator, c *rtNode, rows [][]any, i int) arrow.Array {
	n := len(rows)
	offs, sizes := make([]int64, n), make([]int64, n)
	valid := make([]bool, n)
	cb := array.NewBuilder(mem, c.dt.(arrow.ListLikeType).Elem())
	defer cb.Release()
	for r := n - 1; r >= 0; r-- {
		l, ok := rows[r][i].([]any)
		if !ok {
			continue
		}
		valid[r] = true
		offs[r], sizes[r] = int64(cb.Len()), int64(len(l))
		for _, e := range l {
			rb.append(cb, c.elem, e)
		}
	}
	child := cb.NewArray()
	defer child.Release()
	nulls := 0
	bits := memory.NewResizableBuffer(mem)
	defer bits.Release()
	bits.Resize(int(bitutil.BytesForBits(int64(n))))
	for r, ok := range valid {
		if ok {
			bitutil.SetBit(bits.Bytes(), r)
		} else {
			nulls++
		}
	}
	var ob, sb *memory.Buffer
	if c.dt.ID() == arrow.LIST_VIEW {
		o32, s32 := make([]int32, n), make([]int32, n)
		for r := range n {
			o32[r], s32[r] = int32(offs[r]), int32(sizes[r])
		}
		ob, sb = memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(o32)), memory.NewBufferBytes(arrow.Int32Traits.CastToBytes(s32))
	} else {
		ob, sb = memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(offs)), memory.NewBufferBytes(arrow.Int64Traits.CastToBytes(sizes))
	}
	d := array.NewData(c.dt, n, []*memory.Buffer{bits, ob, sb}, []arrow.ArrayData{child.Data()}, nulls, 0)
	defer d.Release()
	return array.MakeFromData(d)
}
