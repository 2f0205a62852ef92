package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// countingWorkspace is s's workspace URL behind a proxy on loopback that
// counts the token requests and the Unity Catalog table reads going
// through it; hold, when set, answers a table read instead.
type countingWorkspace struct {
	url             string
	tokens, catalog atomic.Int64
	hold            func(w http.ResponseWriter, r *http.Request)
}

func newCountingWorkspace(t *testing.T, s *zerobuslocal.Server) *countingWorkspace {
	t.Helper()
	target, err := url.Parse(s.WorkspaceURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	c := &countingWorkspace{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == zerobuslocal.TokenPath:
			c.tokens.Add(1)
		case strings.HasPrefix(r.URL.Path, zerobuslocal.UnityCatalogTablesPath):
			c.catalog.Add(1)
			if c.hold != nil {
				c.hold(w, r)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	c.url = hs.URL
	return c
}

// TestSendCSVTypesOneLookup: a send of CSV files under -csv-types auto
// reads the table's columns with the Wrapper that sends them: one token
// request and one catalog read per run, however many CSV inputs (before,
// a Wrapper of the lookup's own asked for a token and read the catalog,
// then the send's did both again). The rows are stored as the table's
// types, and stderr says so.
func TestSendCSVTypesOneLookup(t *testing.T) {
	for _, transport := range []string{"protobuf", "arrow_flight"} {
		t.Run(transport, func(t *testing.T) {
			s := startServer(t)
			const table = "main.csv.one_lookup"
			csvTable(t, s, table, csvTableDDL)
			ws := newCountingWorkspace(t, s)
			a := writeCSV(t, "zip,qty,price\n01234,,12.50\n")
			b := writeCSV(t, "zip,qty\n00501,42\n")
			args := []string{"send", "-progress", "never", "-transport", transport, "-csv-infer-rows", "1",
				"-endpoint", s.Endpoint(), "-workspace-url", ws.url, "-client-id", s.ClientID(), "-client-secret", s.ClientSecret(),
				"-table", table, a, b}
			code, stdout, stderr := runCLI(t, args...)
			if code != ExitOK {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			if n := strings.Count(stderr, "CSV columns are read as the column types of table "+table+" (from Unity Catalog)"); n != 1 {
				t.Errorf("stderr says %d times that the table's types were used, want once:\n%s", n, stderr)
			}
			want := []string{
				"zip=00501 qty=42 price=(null) day=(null) at=(null) code=(null)",
				"zip=01234 qty=(null) price=12.50 day=(null) at=(null) code=(null)",
			}
			if got := storedRows(t, s, table); !slices.Equal(got, want) {
				t.Errorf("stored\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if got := ws.tokens.Load(); got != 1 {
				t.Errorf("%d token requests, want 1", got)
			}
			if got := ws.catalog.Load(); got != 1 {
				t.Errorf("%d catalog reads of the table, want 1", got)
			}
			if got := s.Stats().TokensIssued; got != 1 {
				t.Errorf("the server issued %d tokens, want 1", got)
			}
		})
	}
}

// TestSendCSVTypesDryRunNoLookup: a dry run reads no catalog and asks for
// no token (-csv-types auto infers, saying why), and converts the rows.
func TestSendCSVTypesDryRunNoLookup(t *testing.T) {
	s := startServer(t)
	ws := newCountingWorkspace(t, s)
	path := writeCSV(t, "zip,qty\n01234,5\n")
	code, stdout, stderr := runCLI(t, "send", "-progress", "never", "-dry-run", "-workspace-url", ws.url, "-table", "main.csv.dry", path)
	if code != ExitOK || !strings.Contains(stderr, "cannot be read: a dry run (-dry-run, zerobus_writer_disabled) contacts nothing") {
		t.Errorf("exit %d:\n%s\n%s", code, stdout, stderr)
	}
	if ws.tokens.Load() != 0 || ws.catalog.Load() != 0 {
		t.Errorf("a dry run made %d token requests and %d catalog reads, want none", ws.tokens.Load(), ws.catalog.Load())
	}
}

// TestSendCSVTypesLookupInterrupted: the first interrupt ends a lookup
// still waiting for the catalog (which here never answers, and the
// stream's create timeout is 10 minutes): the run ends interrupted with
// nothing sent, the catalog read given up by the client.
func TestSendCSVTypesLookupInterrupted(t *testing.T) {
	s := startServer(t)
	const table = "main.csv.lookup_interrupted"
	csvTable(t, s, table, csvTableDDL)
	ws := newCountingWorkspace(t, s)
	waiting := make(chan struct{}, 1)
	released := make(chan struct{})
	t.Cleanup(func() { close(released) })
	abandoned := make(chan struct{})
	var once sync.Once
	ws.hold = func(w http.ResponseWriter, r *http.Request) {
		select {
		case waiting <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
			once.Do(func() { close(abandoned) })
		case <-released:
		}
	}
	path := writeCSV(t, "zip,qty\n01234,5\n")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		<-waiting
		cancel()
	}()
	var stdout, stderr bytes.Buffer
	code := RunEnv(ctx, []string{"send", "-progress", "never", "-endpoint", s.Endpoint(), "-workspace-url", ws.url,
		"-client-id", s.ClientID(), "-client-secret", s.ClientSecret(), "-table", table, path},
		Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
			LookupEnv: func(k string) (string, bool) { return "600000", k == "ZEROBUS_CREATE_TIMEOUT_MS" }})
	if code != ExitInterrupted {
		t.Errorf("exit %d, want %d\n%s\n%s", code, ExitInterrupted, stdout.String(), stderr.String())
	}
	<-abandoned // the client gave the catalog read up (it would wait on 10 minutes)
	if n := s.RecordCount(table); n != 0 {
		t.Errorf("%d rows stored, want 0", n)
	}
}
