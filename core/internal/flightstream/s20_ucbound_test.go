package flightstream

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// TestCatalogColumnTypesBounded: a catalog answer whose types stand for
// more than protoarrow.MaxColumnTypes column types is refused naming the
// column, as the local server refuses such an Avro or proto schema; one
// at the bound is read.
func TestCatalogColumnTypesBounded(t *testing.T) {
	structOf := func(n int) string {
		var b strings.Builder
		b.WriteString(`{"type":{"type":"struct","fields":[`)
		for i := range n {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"name":"f%d","type":"int"}`, i)
		}
		b.WriteString(`]}}`)
		return b.String()
	}
	// c0 (one type) and c1's STRUCT (one) with n fields.
	s, err := fetchUCBody(t, ucBody(ucFuzzTypes[0], structOf(protoarrow.MaxColumnTypes-2)))
	if err != nil || s.NumFields() != 2 {
		t.Fatalf("at the bound: %v", err)
	}
	_, err = fetchUCBody(t, ucBody(ucFuzzTypes[0], structOf(protoarrow.MaxColumnTypes-1)))
	var ce *CatalogError
	if !errors.As(err, &ce) || ce.Column != "c1" || !ce.Answered() || !strings.Contains(ce.Msg, "more than 200000 column types") {
		t.Fatalf("past the bound: %v", err)
	}
}
