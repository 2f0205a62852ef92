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
	"slices"
	"strings"
	"unicode"

	"github.com/apache/arrow-go/v18/arrow"
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
	tables, rows, failedRows, levels, shuffled, renamed, omitted, narrowed, decText int
}

func (g *rtGen) xpct(p int) bool { return g.x.IntN(100) < p }

// skewLevel draws the batch layout of one level (the table's columns or a
// STRUCT's fields): which are renamed to another case, which nullable
// ones are left out (at least one stays; keep: indices that always stay),
// and their order. It returns the batch order (table indices).
func (g *rtGen) skewLevel(flds []*rtNode, keep func(int) bool, pShuffle, pRename, pOmit int) []int {
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
		g.skew(n.val)
		n.dt = arrow.MapOfFields(arrow.Field{Name: "key", Type: n.key.dt}, arrow.Field{Name: "value", Type: n.val.dt, Nullable: true})
	case n.flds != nil:
		for _, f := range n.flds {
			g.skew(f)
		}
		n.perm = g.skewLevel(n.flds, func(int) bool { return false }, 50, 20, 15)
		fields := make([]arrow.Field, 0, len(n.perm))
		for _, i := range n.perm {
			f := n.flds[i]
			fields = append(fields, arrow.Field{Name: f.batchName(), Type: f.dt, Nullable: !f.notNull || f.nulls})
		}
		n.dt = arrow.StructOf(fields...)
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
