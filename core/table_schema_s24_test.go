package core_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TableSchema gives ErrNoTableSchema, naming the table and the setting to
// check, for a table the catalog does not know (table_name) and with the
// writer disabled (zerobus_writer_disabled), and ErrClosed after Close.
func TestTableSchemaUnknownTableDisabledClosed(t *testing.T) {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.no_such_table")
	defer srv.Close()
	w, err := core.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.TableSchema(ctx)
	wantNoSchema(t, "unknown table", s, err, "table_name",
		"zerobus: the columns of table main.default.no_such_table cannot be read from Unity Catalog: no such table (HTTP 404): check table_name, or create the table")
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.TableSchema(ctx); !errors.Is(err, core.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}

	cfg.WriterDisabled = true
	wd, err := core.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer wd.Close(ctx)
	s, err = wd.TableSchema(ctx)
	wantNoSchema(t, "writer disabled", s, err, "zerobus_writer_disabled",
		"zerobus: the columns of table main.default.no_such_table cannot be read from Unity Catalog: zerobus_writer_disabled is set, so nothing is contacted; read them with a Wrapper without it")
}

func wantNoSchema(t *testing.T, what string, s *arrow.Schema, err error, key, msg string) {
	t.Helper()
	if s != nil || !errors.Is(err, core.ErrNoTableSchema) || err.Error() != msg {
		t.Errorf("%s: %v, %v; want nil and ErrNoTableSchema %q", what, s, err, msg)
	}
	d := core.DetailsOf(err)
	if d.Kind != core.KindConfiguration || d.Retryable || !slices.Equal(d.Keys, []string{key}) {
		t.Errorf("%s: details %+v; want kind configuration, not retryable, keys [%s]", what, d, key)
	}
}

// A catalog refusing the lookup (403) gives ErrNoTableSchema naming the
// status and client_id, on the first call and on a later one (which the
// engine answers without asking the catalog again).
func TestTableSchemaCatalogRefused(t *testing.T) {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.refused_lookup")
	defer srv.Close()
	ws, err := url.Parse(srv.WorkspaceURL())
	if err != nil {
		t.Fatal(err)
	}
	fwd := httputil.NewSingleHostReverseProxy(ws)
	var lookups atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, zerobuslocal.UnityCatalogTablesPath) {
			lookups.Add(1)
			http.Error(rw, "not readable in this test", http.StatusForbidden)
			return
		}
		fwd.ServeHTTP(rw, r)
	}))
	defer front.Close()
	cfg.UnityCatalogURL = front.URL
	w, err := core.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	const msg = "zerobus: the columns of table main.default.refused_lookup cannot be read from Unity Catalog: the catalog refused the lookup (HTTP 403): check unity_catalog_url and that the service principal (client_id) may read the table"
	for i := range 2 {
		s, err := w.TableSchema(ctx)
		wantNoSchema(t, fmt.Sprintf("call %d", i+1), s, err, "client_id", msg)
	}
	if n := lookups.Load(); n != 1 {
		t.Errorf("%d catalog lookups, want 1 (a refusal is kept)", n)
	}
}
