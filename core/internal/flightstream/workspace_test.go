package flightstream

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// A workspace URL as copied from the browser ("https://…/?o=<id>", with a
// trailing "/") reaches the token endpoint and the Unity Catalog API: the
// stream and Flight packages trim it with the rule core uses,
// stream.WorkspaceBase (each wrote its own trim of the trailing "/" only,
// so a query made ".../?o=1/oidc/v1/token").
func TestFetchTableSchemaTakesABrowserWorkspaceURL(t *testing.T) {
	e := newEnv(t, func(c *stream.Config) { c.WorkspaceURL += "/?o=1234#x" })
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	if err := e.srv.CreateTableFromArrow(testTable, schema); err != nil {
		t.Fatal(err)
	}
	uc, err := FetchTableSchema(context.Background(), e.sc)
	if err != nil {
		t.Fatalf("FetchTableSchema with %q: %v", e.sc.Settings().WorkspaceURL, err)
	}
	if uc.NumFields() != 1 || uc.Field(0).Name != "id" {
		t.Errorf("catalog schema %s, want the table's id column", uc)
	}
}
