package convert

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// CaseClash is a column or STRUCT field whose name differs only in case
// from an earlier one of the same level ("ID" after "id"). Delta and Unity
// Catalog names are case-insensitive, so no table holds both and the
// service refuses such data; both transports refuse the batch before
// sending anything (NewPlan and its descriptor forms report it as a
// Problem, the Flight cast as a column mismatch).
type CaseClash struct {
	Path  string // the later one's path: "ID", "payload.Key", "items[].Sku"
	Other string // the earlier one's path: "id", "payload.key", "items[].sku"
}

// Reason names both and says what to do.
func (c CaseClash) Reason() string {
	return fmt.Sprintf("%q and %q differ only in case; Delta and Unity Catalog names are case-insensitive, so a table cannot hold both: rename one of them", c.Other, c.Path)
}

// CaseClashes lists the columns and STRUCT fields of s (at any depth, also
// inside ARRAY elements and MAP values) whose names differ only in case from
// an earlier one of the same level, in schema order; nil when there are
// none. Names that are equal are not clashes here (each transport refuses
// those as duplicates).
func CaseClashes(s *arrow.Schema) []CaseClash {
	var out []CaseClash
	walkTable(s, func(prefix string, fs []arrow.Field) {
		if len(fs) < 2 {
			return
		}
		seen := make(map[string]string, len(fs))
		for _, f := range fs {
			k := strings.ToLower(f.Name)
			first, ok := seen[k]
			switch {
			case !ok:
				seen[k] = f.Name
			case first != f.Name:
				out = append(out, CaseClash{Path: joinPath(prefix, f.Name), Other: joinPath(prefix, first)})
			}
		}
	}, func(string, arrow.DataType, bool, bool) {})
	return out
}

// addCaseClashes records every CaseClash of s as a Problem.
func (p *problems) addCaseClashes(s *arrow.Schema) {
	for _, c := range CaseClashes(s) {
		p.add(c.Path, "", "%s", c.Reason())
	}
}
