package tests_go

// A randomized, differential round-trip test: random Unity Catalog tables
// (every column type of the protocol's table, nested a few levels), random
// Arrow batches for them in every input form the docs accept per transport,
// with edge values, sent through core.Wrapper to the local server over
// protobuf and over Arrow Flight. The stored rows are compared value by
// value with what the input means (rtExpect, written from the documented
// mapping, not from the code under test), and the per-row results with the
// table: every durable row stored once, every not-written row absent, each
// failure a ConversionError naming its row and a column path that holds a
// value the table cannot take.
//
// `make test` runs a fixed list of seeds; `make roundtrip-long` runs random
// seeds for a while (ROUNDTRIP_DURATION). A failure prints its seed: replay
// it with
//
//	go test ./tests_go -run TestRoundTripRandom -roundtrip.seed=N -v

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// rtSkewStream picks rtGen.x's stream apart from rtGen.r's.
const rtSkewStream = 0x5eed5eed

var (
	rtSeedFlag     = flag.Uint64("roundtrip.seed", 0, "TestRoundTripRandom: run this seed only (also $ROUNDTRIP_SEED)")
	rtDurationFlag = flag.Duration("roundtrip.duration", 0, "TestRoundTripRandom: run random seeds for this long (also $ROUNDTRIP_DURATION)")
)

// rtFixedSeeds are the seeds `make test` runs: the first ones and those
// that found bugs (with the generator as it was then).
var rtFixedSeeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 28, 36, 48, 49, 53, 55, 86,
	113, 131, 195, 1796544642715133490, 1796544938935388793, 1796565302455463390}

func TestRoundTripRandom(t *testing.T) {
	seed := *rtSeedFlag
	if s := os.Getenv("ROUNDTRIP_SEED"); s != "" && seed == 0 {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("ROUNDTRIP_SEED=%q: %v", s, err)
		}
		seed = v
	}
	dur := *rtDurationFlag
	if s := os.Getenv("ROUNDTRIP_DURATION"); s != "" && dur == 0 {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("ROUNDTRIP_DURATION=%q: %v", s, err)
		}
		dur = d
	}
	srv := startServer(t, zerobuslocal.Options{})
	switch {
	case seed != 0:
		rtSeed(t, srv, seed)
	case dur > 0:
		start := time.Now()
		base := uint64(start.UnixNano())
		n, failed := 0, 0
		for i := uint64(0); time.Since(start) < dur && failed < 5; i++ {
			// On stderr as it starts: a crash (a panic in a goroutine)
			// ends the process before the test can name its seed.
			fmt.Fprintf(os.Stderr, "roundtrip: seed %d\n", base+i)
			if !rtSeed(t, srv, base+i) {
				failed++ // go on, up to 5 failing seeds
			}
			n++
		}
		t.Logf("%d random seeds from %d in %v (%d failed)", n, base, time.Since(start).Round(time.Second), failed)
		c := rtCounts
		t.Logf("%d tables, %d rows sent (%d failed as expected or not); %d column/STRUCT levels: %d in another order, "+
			"%d names in another case, %d nullable columns/fields left out, %d of Arrow's null type; %d narrowed integer/float leaves, "+
			"%d DECIMAL-as-text leaves", c.tables, c.rows, c.failedRows, c.levels, c.shuffled, c.renamed, c.omitted, c.nullType,
			c.narrowed, c.decText)
	default:
		for _, s := range rtFixedSeeds {
			rtSeed(t, srv, s)
		}
	}
}

// rtSeed runs one seed over both transports; false when it failed.
func rtSeed(t *testing.T, srv *zerobuslocal.Server, seed uint64) bool {
	return t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
		for k, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
			t.Run(tr, func(t *testing.T) {
				rtOne(t, srv, seed, uint64(k), tr)
			})
		}
	})
}

// rtOne sends a few random batches of one random table over tr and
// checks the results and the stored table.
func rtOne(t *testing.T, srv *zerobuslocal.Server, seed, stream uint64, tr string) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	g := &rtGen{r: rand.New(rand.NewPCG(seed, stream)), x: rand.New(rand.NewPCG(seed, stream^rtSkewStream)), tr: tr}
	cols := g.table(6)
	rtCounts.tables++
	for _, c := range cols[1:] { // rid stays int64: the test's row identity
		g.skew(c)
	}
	// The batch's columns: order, case and the nullable ones left out,
	// drawn from g.x (the Flight-only draws from g.r below come first).
	xorder := g.skewLevel(cols, func(i int) bool { return i == 0 }, 25, 15, 6, 3)
	table := fmt.Sprintf("main.default.rt_%d_%s", seed, tr)
	ucCols := make([]zerobuslocal.Column, len(cols))
	var desc strings.Builder
	for i, c := range cols {
		ucCols[i] = zerobuslocal.Column{Name: c.name, Type: c.uc, Nullable: !c.notNull}
		fmt.Fprintf(&desc, "\n  %s %s", c.name, c.uc)
		if c.notNull {
			desc.WriteString(" NOT NULL")
		}
		fmt.Fprintf(&desc, " <- %s", c.dt)
		if c.bname != "" {
			fmt.Fprintf(&desc, " named %q", c.bname)
		}
	}
	if testing.Verbose() && *rtSeedFlag != 0 {
		t.Logf("table:%s", desc.String()) // a replay: shown before a crash too
	}
	// Dropped at the end: a long run keeps no stored rows (the memory).
	t.Cleanup(func() { srv.DropTable(table) })
	if err := srv.CreateTableColumns(table, ucCols); err != nil {
		t.Fatalf("seed %d: table%s: %v", seed, desc.String(), err)
	}
	cfg := serverConfig(srv, table)
	cfg.Transport = tr
	if g.pct(30) { // small requests and chunks: many chunk boundaries
		cfg.MaxInflightBytes = 64 << 10
		cfg.MaxMessageBytes = 64 << 10
	}
	w := newWrapper(t, cfg)
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	defer func() {
		if len(problems) == 0 {
			return
		}
		more := ""
		if len(problems) > 10 {
			more = fmt.Sprintf("\n(and %d more)", len(problems)-10)
			problems = problems[:10]
		}
		t.Errorf("seed %d over %s (replay: go test ./tests_go -run TestRoundTripRandom -roundtrip.seed=%d -v)\ntable:%s\n%s%s",
			seed, tr, seed, desc.String(), strings.Join(problems, "\n"), more)
	}()

	type want struct {
		row   map[string]any
		probs []string // paths that fail the row; nil: durable
	}
	wants := map[int64]want{}
	durable := map[int64]bool{}
	rid := int64(0)
	// Columns are matched by name: the batch may hold them in another
	// order and leave out nullable ones (sent as nulls). (These draws from
	// g.r were Flight's only, before protobuf matched by name too; kept so
	// that old seeds draw the same values.)
	order := make([]int, len(cols)) // batch column k is table column order[k]
	for k := range order {
		order[k] = k
	}
	if tr == core.TransportArrowFlight && g.pct(20) {
		g.r.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
	}
	if tr == core.TransportArrowFlight && g.pct(15) {
		if c := 1 + g.pick(len(cols)-1); !cols[c].notNull {
			cols[c].omit = true
		}
	}
	if slices.IsSorted(order) {
		order = xorder
	}
	order = slices.DeleteFunc(order, func(k int) bool { return cols[k].omit })
	if len(order) != len(cols) || !slices.IsSorted(order) {
		fmt.Fprintf(&desc, "\n  (the batches hold columns %v of these, in that order)", order)
	}
	for _, c := range cols {
		if rtSkewed(c) {
			fmt.Fprintf(&desc, "\n  (STRUCTs in the batch's %s: fields in another order, case or left out)", c.batchName())
		}
	}
	batches := 1 + g.pick(4)
	for bi := 0; bi < batches; bi++ {
		n := []int{0, 1, 2, 3, 5, 17, 64, 200}[g.pick(8)]
		switch {
		case g.pct(2): // protobuf encodes from 2 × 4096 rows on in parallel chunks
			n = 8192 + g.pick(4000)
		case g.pct(5):
			n = 1000 + g.pick(3000)
		}
		pre, post := 0, 0
		if g.pct(40) { // send a slice: arrays with an offset
			pre, post = g.pick(5), g.pick(5)
		}
		rows := make([][]any, pre+n+post)
		for r := range rows {
			row := make([]any, len(cols))
			row[0] = int64(-1 - r) // padding rows are never sent
			if r >= pre && r < pre+n {
				row[0] = rid + int64(r-pre)
			}
			for c := 1; c < len(cols); c++ {
				var prev any
				if r > 0 {
					prev = rows[r-1][c]
				}
				row[c] = g.value(cols[c], prev)
				if cols[c].nullType {
					row[c] = nil
				}
			}
			rows[r] = row
		}
		bcols := make([]*rtNode, len(order))
		brows := make([][]any, len(rows))
		for k, c := range order {
			bcols[k] = cols[c]
		}
		for r, row := range rows {
			brows[r] = make([]any, len(order))
			for k, c := range order {
				brows[r][k] = row[c]
			}
		}
		full := rtBuild(mem, bcols, brows)
		if g.pct(30) {
			// As an IPC or Parquet reader gives it: no validity bitmap
			// where there are no nulls, buffers of the reader's own.
			full = rtViaIPC(t, mem, full)
		}
		rec := full.NewSlice(int64(pre), int64(pre+n))
		full.Release()
		for r := pre; r < pre+n; r++ {
			var probs []string
			m := map[string]any{}
			for c, col := range cols {
				if col.omit {
					continue // sent as nulls
				}
				if v, ok := rtExpect(col, rows[r][c], col.name, &probs); ok {
					m[col.name] = v
				}
			}
			wants[rows[r][0].(int64)] = want{row: m, probs: probs}
		}
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		rtCounts.rows += n
		if res != nil {
			rtCounts.failedRows += res.FailedCount
		}
		if res == nil {
			fail("batch %d (%d rows): no result: %v", bi, n, err)
			return
		}
		if res.TotalRows != n || res.SuccessfulCount+res.FailedCount != n {
			fail("batch %d: total %d, successful %d, failed %d; want %d rows", bi, res.TotalRows, res.SuccessfulCount, res.FailedCount, n)
			return
		}
		for _, i := range res.SuccessfulRowIndices() {
			id := rid + int64(i)
			if p := wants[id].probs; p != nil {
				fail("batch %d row %d reported durable; it holds values the table cannot take at %v", bi, i, p)
			}
			durable[id] = true
		}
		for _, fr := range res.FailedRows {
			id := rid + int64(fr.Index)
			p := wants[id].probs
			var ce *core.ConversionError
			switch {
			case fr.State != core.RowNotWritten:
				fail("batch %d row %d: state %v, want not written: %v", bi, fr.Index, fr.State, fr.Err)
			case !errors.As(fr.Err, &ce) || ce.Row != fr.Index:
				fail("batch %d row %d: %v, want a ConversionError naming the row", bi, fr.Index, fr.Err)
			case p == nil:
				fail("batch %d row %d failed, want durable: %v\nrow: %s", bi, fr.Index, fr.Err, rtShow(rows[pre+fr.Index]))
			case !rtHasPath(p, ce.Column):
				fail("batch %d row %d failed naming column %q, want one of %v: %v", bi, fr.Index, ce.Column, p, fr.Err)
			}
		}
		rid += int64(n)
	}
	stored := map[int64]int{}
	for _, r := range srv.Rows(table) {
		got := msgToMap(r.Message)
		id, _ := got["rid"].(int64)
		stored[id]++
		if stored[id] > 1 {
			fail("row %d stored %d times", id, stored[id])
			continue
		}
		w, ok := wants[id]
		switch {
		case !ok:
			fail("stored row with unknown rid %d: %v", id, got)
		case !durable[id]:
			fail("row %d stored but not reported durable (problems %v)", id, w.probs)
		default:
			if d := rtDiff("", w.row, got); d != "" {
				fail("row %d stored differently: %s\nwant %v\ngot  %v", id, d, w.row, got)
			}
		}
	}
	for id := range durable {
		if stored[id] == 0 {
			fail("row %d reported durable, not stored", id)
		}
	}
}

// rtHasPath reports whether col is one of probs, ignoring case (an error
// may name a column or field as the batch or the table spells it).
func rtHasPath(probs []string, col string) bool {
	for _, p := range probs {
		if strings.EqualFold(p, col) {
			return true
		}
	}
	return false
}

func rtShow(row []any) string {
	var b strings.Builder
	for i, v := range row {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%#v", v)
	}
	return b.String()
}

// ---- what a value must be stored as ----

// rtVariant is the JSON text a VARIANT value must be stored as (compared
// as JSON: the Flight path stores the text the Variant encoding reads back).
type rtVariant string

// rtExpect returns what value v of node n must be stored as (protobuf
// form, as msgToMap shows it), false when nothing is stored (a null, an
// empty list or map); it appends to probs the path of each value the table
// cannot take (the row fails).
func rtExpect(n *rtNode, v any, path string, probs *[]string) (any, bool) {
	if v == nil {
		if n.notNull {
			*probs = append(*probs, path)
		}
		return nil, false
	}
	switch {
	case n.elem != nil:
		l := v.([]any)
		out := make([]any, 0, len(l))
		for i, e := range l {
			p := fmt.Sprintf("%s[%d]", path, i)
			if e == nil {
				*probs = append(*probs, p) // a repeated field cannot hold a null
				continue
			}
			ev, _ := rtExpect(n.elem, e, p, probs)
			out = append(out, ev)
		}
		return out, len(l) > 0
	case n.key != nil:
		kvs := v.([]rtKV)
		out := map[string]any{}
		for i, kv := range kvs {
			p := fmt.Sprintf("%s[%d]", path, i)
			k, _ := rtExpect(n.key, kv.k, p+".key", probs)
			if kv.v == nil {
				*probs = append(*probs, p+".value")
				continue
			}
			ev, _ := rtExpect(n.val, kv.v, p+".value", probs)
			out[fmt.Sprint(k)] = ev
		}
		return out, len(kvs) > 0
	case n.vbin:
		if !rtOneJSONDoc(v.(string)) {
			*probs = append(*probs, path)
			return nil, false
		}
		return rtVariant(v.(string)), true
	case n.flds != nil:
		out := map[string]any{}
		for i, f := range n.flds {
			if fv, ok := rtExpect(f, v.([]any)[i], path+"."+f.name, probs); ok {
				out[f.name] = fv
			}
		}
		return out, true
	}
	bad := func() (any, bool) {
		*probs = append(*probs, path)
		return nil, false
	}
	switch t := n.leaf.(type) {
	case *arrow.Int8Type, *arrow.Int16Type, *arrow.Int32Type, *arrow.Int64Type,
		*arrow.Uint8Type, *arrow.Uint16Type, *arrow.Uint32Type, *arrow.Uint64Type:
		// The table's integer type must hold the value (a uint64 over
		// BIGINT, an int64 over INT: the row fails); a FLOAT or DOUBLE
		// exactly (else the row fails).
		if n.uc.Name == zerobuslocal.TypeFloat || n.uc.Name == zerobuslocal.TypeDouble {
			f, ok := rtIntToFloat(v, n.uc.Name == zerobuslocal.TypeFloat)
			if !ok {
				return bad()
			}
			return f, true
		}
		i, ok := rtFitInt(v, n.uc.Name)
		if !ok {
			return bad()
		}
		return i, true
	case *arrow.Float16Type, *arrow.Float32Type, *arrow.Float64Type:
		h := v.(float64) // the value the Arrow type holds
		switch t.ID() {
		case arrow.FLOAT16:
			h = halfValue(float16.New(float32(h)).Uint16())
		case arrow.FLOAT32:
			h = float64(float32(h))
		}
		if _, isInt := rtIntRanges[n.uc.Name]; isInt { // a whole number in the table's range, else the row fails
			i, ok := rtFloatToInt(h, n.uc.Name)
			if !ok {
				return bad()
			}
			return i, true
		}
		if t.ID() != arrow.FLOAT64 {
			return h, true
		}
		if n.uc.Name == zerobuslocal.TypeFloat {
			f, ok := rtFitFloat(v.(float64))
			if !ok {
				return bad()
			}
			return f, true
		}
		return v.(float64), true
	case *arrow.BooleanType:
		return v.(bool), true
	case *arrow.StringType, *arrow.LargeStringType, *arrow.StringViewType:
		if n.uc.Name == zerobuslocal.TypeDecimal {
			d, ok := rtDecimalFromText(v.(string), n.uc.Precision, n.uc.Scale)
			if !ok {
				return bad()
			}
			return d, true
		}
		if !utf8.ValidString(v.(string)) {
			return bad()
		}
		if n.uc.Name == zerobuslocal.TypeVariant {
			if !rtOneJSONDoc(v.(string)) {
				return bad()
			}
			return rtVariant(v.(string)), true
		}
		return v.(string), true
	case *arrow.BinaryType, *arrow.LargeBinaryType, *arrow.BinaryViewType, *arrow.FixedSizeBinaryType:
		return v.(string), true
	case *arrow.Date32Type:
		return v.(int64), true
	case *arrow.Date64Type:
		d := rtFloorDiv(big.NewInt(v.(int64)), 86_400_000)
		if !d.IsInt64() || d.Int64() < math.MinInt32 || d.Int64() > math.MaxInt32 {
			return bad()
		}
		return d.Int64(), true
	case *arrow.TimestampType:
		return rtMicros(v.(int64), t.Unit, bad)
	case *arrow.DurationType:
		return rtMicros(v.(int64), t.Unit, bad)
	case *arrow.Time32Type:
		return rtMicros(v.(int64), t.Unit, bad)
	case *arrow.Time64Type:
		return rtMicros(v.(int64), t.Unit, bad)
	case arrow.DecimalType:
		return rtDecimalText(v.(*big.Int), int(t.GetScale())), true
	}
	panic(n.leaf.String())
}

// rtMicros is v (in unit u) in microseconds, rounded down; bad when it
// does not fit int64.
func rtMicros(v int64, u arrow.TimeUnit, bad func() (any, bool)) (any, bool) {
	x := big.NewInt(v)
	switch u {
	case arrow.Second:
		x.Mul(x, big.NewInt(1_000_000))
	case arrow.Millisecond:
		x.Mul(x, big.NewInt(1_000))
	case arrow.Nanosecond:
		x = rtFloorDiv(x, 1_000)
	}
	if !x.IsInt64() {
		return bad()
	}
	return x.Int64(), true
}

func rtFloorDiv(x *big.Int, d int64) *big.Int {
	q, m := new(big.Int).DivMod(x, big.NewInt(d), new(big.Int)) // Euclidean: m >= 0, so q is the floor for d > 0
	_ = m
	return q
}

// rtDecimalText is the exact decimal text of unscaled u at scale s:
// "-12.340", "0.05", "7".
func rtDecimalText(u *big.Int, s int) string {
	digits := new(big.Int).Abs(u).String()
	for len(digits) < s+1 {
		digits = "0" + digits
	}
	sign := ""
	if u.Sign() < 0 {
		sign = "-"
	}
	if s == 0 {
		return sign + digits
	}
	return sign + digits[:len(digits)-s] + "." + digits[len(digits)-s:]
}

// ---- comparison ----

// rtDiff describes the first difference between want and got ("" when
// equal): floats by bits (NaN equal to NaN), VARIANT as JSON.
func rtDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %T %v, want a message", path, got, got)
		}
		keys := make([]string, 0, len(w)+len(g))
		for k := range w {
			keys = append(keys, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			wv, wok := w[k]
			gv, gok := g[k]
			switch {
			case !wok:
				return fmt.Sprintf("%s.%s: stored %#v, want nothing", path, k, gv)
			case !gok:
				return fmt.Sprintf("%s.%s: nothing stored, want %#v", path, k, wv)
			}
			if d := rtDiff(path+"."+k, wv, gv); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %#v, want %#v", path, got, want)
		}
		for i := range w {
			if d := rtDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i]); d != "" {
				return d
			}
		}
		return ""
	case float64:
		g, ok := got.(float64)
		if !ok || !(math.Float64bits(g) == math.Float64bits(w) || math.IsNaN(g) && math.IsNaN(w)) {
			return fmt.Sprintf("%s: got %#v, want %#v", path, got, want)
		}
		return ""
	case rtVariant:
		g, ok := got.(string)
		if !ok || !rtSameJSON(string(w), g) {
			return fmt.Sprintf("%s: got %#v, want JSON %s", path, got, string(w))
		}
		return ""
	}
	if got != want {
		return fmt.Sprintf("%s: got %#v, want %#v", path, got, want)
	}
	return ""
}

// rtSameJSON reports whether a and b are the same JSON value (numbers
// compared exactly).
func rtSameJSON(a, b string) bool {
	var x, y any
	if rtDecodeJSON(a, &x) != nil || rtDecodeJSON(b, &y) != nil {
		return false
	}
	return rtJSONEqual(x, y)
}

func rtDecodeJSON(s string, v *any) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	return d.Decode(v)
}

func rtJSONEqual(x, y any) bool {
	switch a := x.(type) {
	case json.Number:
		b, ok := y.(json.Number)
		if !ok {
			return false
		}
		ra, ok1 := new(big.Rat).SetString(string(a))
		rb, ok2 := new(big.Rat).SetString(string(b))
		return ok1 && ok2 && ra.Cmp(rb) == 0
	case []any:
		b, ok := y.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !rtJSONEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := y.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !rtJSONEqual(v, b[k]) {
				return false
			}
		}
		return true
	}
	return x == y
}

// rtViaIPC returns rec (released) written to and read back from an Arrow
// IPC stream.
func rtViaIPC(t *testing.T, mem memory.Allocator, rec arrow.RecordBatch) arrow.RecordBatch {
	t.Helper()
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()), ipc.WithAllocator(mem))
	if err := w.Write(rec); err != nil {
		t.Fatalf("writing the batch as IPC: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := ipc.NewReader(&buf, ipc.WithAllocator(mem))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if !r.Next() {
		t.Fatalf("reading the IPC batch back: %v", r.Err())
	}
	out := r.RecordBatch()
	out.Retain()
	return out
}

// rtOneJSONDoc reports whether s is one JSON document whose objects name
// each key once (what a VARIANT takes).
func rtOneJSONDoc(s string) bool {
	if !json.Valid([]byte(s)) {
		return false
	}
	d := json.NewDecoder(strings.NewReader(s))
	var walk func() bool
	walk = func() bool {
		tok, err := d.Token()
		if err != nil {
			return false
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for d.More() {
				k, err := d.Token()
				if err != nil || seen[k.(string)] {
					return false
				}
				seen[k.(string)] = true
				if !walk() {
					return false
				}
			}
			_, err = d.Token()
			return err == nil
		case json.Delim('['):
			for d.More() {
				if !walk() {
					return false
				}
			}
			_, err = d.Token()
			return err == nil
		}
		return true
	}
	return walk()
}
