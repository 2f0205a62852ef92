package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// shellWords splits a one-line shell command into words: single and double
// quotes, no escapes or expansions but "$WS" (replaced by ws).
func shellWords(t *testing.T, line, ws string) []string {
	t.Helper()
	var words []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ':
			if in {
				words = append(words, strings.ReplaceAll(cur.String(), "$WS", ws))
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(c)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unterminated quote in %q", line)
	}
	if in {
		words = append(words, strings.ReplaceAll(cur.String(), "$WS", ws))
	}
	return words
}

// curl runs a curl command line of the docs with net/http: -X, -H, -d and
// the URL are the options they use.
func curl(t *testing.T, words []string) (int, string) {
	t.Helper()
	method, url, body := "GET", "", ""
	header := http.Header{}
	for i := 1; i < len(words); i++ {
		switch words[i] {
		case "-X":
			i++
			method = words[i]
		case "-H":
			i++
			k, v, _ := strings.Cut(words[i], ":")
			header.Set(k, strings.TrimSpace(v))
		case "-d":
			i++
			body = words[i]
			if method == "GET" {
				method = "POST"
			}
		default:
			if strings.HasPrefix(words[i], "-") {
				t.Fatalf("curl option %s: not handled by this test", words[i])
			}
			url = words[i]
		}
	}
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// The curl requests of docs/local-server.md work against `zerobus local`,
// with WS its workspace URL, and do what the page says.
func TestLocalDocsCurlExamples(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "docs", "local-server.md"))
	if err != nil {
		t.Fatal(err)
	}
	var curls []string
	for _, line := range strings.Split(string(page), "\n") {
		if strings.HasPrefix(line, "curl ") {
			curls = append(curls, line)
		}
	}
	if len(curls) != 4 {
		t.Fatalf("docs/local-server.md has %d curl lines, this test knows 4: update it", len(curls))
	}
	const table = "main.default.events"
	line, stop := runLocalCLI(t, "-json", "-table", table)
	defer stop()
	var info localInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatal(err)
	}
	if info.InspectURL != info.WorkspaceURL+"/zerobus-local/v1" {
		t.Errorf("inspect_url %q, want the workspace URL + /zerobus-local/v1", info.InspectURL)
	}
	ws := info.WorkspaceURL
	csv := filepath.Join(t.TempDir(), "d.csv")
	if err := os.WriteFile(csv, []byte("id,name\n1,a\n2,b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	send := func() sendRun {
		return sendCLI(t, "-endpoint", info.Endpoint, "-workspace-url", ws, "-client-id", info.ClientID,
			"-client-secret", info.ClientSecret, "-table", table, "-batch-rows", "1", csv)
	}
	run := func(i int) (int, string) { return curl(t, shellWords(t, curls[i], ws)) }

	// 1: every send fails with an authentication error
	if code, body := run(0); code != http.StatusNoContent {
		t.Fatalf("%s: %d %s", curls[0], code, body)
	}
	r := send()
	var ae *core.AuthenticationError
	if r.err == nil || !(errors.As(r.err, &ae) || strings.Contains(r.err.Error(), "authentication")) {
		t.Errorf("send after PERMISSION_DENIED: %v\n%s", r.err, r.stdout)
	}
	// 4: cleared; 2: one UNAVAILABLE after the first message, retried
	if code, body := run(3); code != http.StatusNoContent {
		t.Fatalf("%s: %d %s", curls[3], code, body)
	}
	if code, body := run(1); code != http.StatusNoContent {
		t.Fatalf("%s: %d %s", curls[1], code, body)
	}
	if r := send(); r.err != nil {
		t.Errorf("send with a one-shot UNAVAILABLE: %v\n%s", r.err, r.stderr)
	}
	// 3: the rows stored
	code, body := run(2)
	var rows []map[string]any
	if code != http.StatusOK || json.Unmarshal([]byte(body), &rows) != nil || len(rows) < 2 ||
		!bytes.Contains([]byte(body), []byte(`"name":"b"`)) {
		t.Errorf("%s: %d %s", curls[2], code, body)
	}
	http.DefaultClient.CloseIdleConnections()
}
