package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Every zerobuslocal.Options field a user sets has a `zerobus local` flag
// (issue #17): -ack-jitter (AckPolicy.Jitter) and -http-tls (HTTPTLS) were
// reachable from Go and Python only.

// localStats reads the server's counters from the inspection API.
func localStats(t *testing.T, client *http.Client, inspectURL string) map[string]int64 {
	t.Helper()
	res, err := client.Get(inspectURL + "/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st map[string]int64
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatalf("stats: HTTP %d: %v", res.StatusCode, err)
	}
	return st
}

// TestLocalAckJitterFlag: -ack-jitter sets the ack policy's jitter, and the
// server holds acks back by it: with -ack-jitter 1h rows are stored but no
// ack goes out (an ack due in [0, 1h) comes in the first half second with a
// chance of about 1 in 7000); without it the same send is acknowledged.
func TestLocalAckJitterFlag(t *testing.T) {
	la, err := parseLocalArgs([]string{"-ack-jitter", "250ms", "-ack-delay", "5ms"}, Env{Stdout: io.Discard, Stderr: io.Discard}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	if la.opts.AckPolicy.Jitter != 250*time.Millisecond || la.opts.AckPolicy.Delay != 5*time.Millisecond {
		t.Errorf("ack policy %+v, want Delay 5ms Jitter 250ms", la.opts.AckPolicy)
	}
	_, err = parseLocalArgs([]string{"-ack-jitter", "-1s"}, Env{Stdout: io.Discard, Stderr: io.Discard}.withDefaults())
	if want := "-ack-jitter is -1s; must not be negative (0: the default)"; err == nil || err.Error() != want {
		t.Errorf("-ack-jitter -1s: %v, want %q", err, want)
	}

	data := writeArrowFixture(t, t.TempDir(), 1, 3)
	for _, jitter := range []bool{true, false} {
		args := []string{"-json", "-table", "main.default.jitter"}
		if jitter {
			args = append(args, "-ack-jitter", "1h")
		}
		line, stop := runLocalCLI(t, args...)
		var info localInfo
		if err := json.Unmarshal([]byte(line), &info); err != nil {
			t.Fatalf("-json output %q: %v", line, err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		sent := make(chan error, 1)
		go func() {
			sent <- sendMain(ctx, []string{"-endpoint", info.Endpoint, "-workspace-url", info.WorkspaceURL, "-client-id", info.ClientID,
				"-client-secret", info.ClientSecret, "-table", "main.default.jitter", "-progress", "never", "-json", data},
				sendEnv{stdout: io.Discard, stderr: io.Discard, lookupEnv: func(k string) (string, bool) { return "1", k == "RETRY_MAX_ATTEMPTS" },
					now: time.Now, mem: memory.DefaultAllocator})
		}()
		var st map[string]int64
		if jitter {
			for st = localStats(t, http.DefaultClient, info.InspectURL); st["records_stored"] < 3; st = localStats(t, http.DefaultClient, info.InspectURL) {
				select {
				case err := <-sent:
					t.Fatalf("-ack-jitter 1h: the send ended before its rows were stored: %v", err)
				case <-time.After(20 * time.Millisecond):
				}
			}
			time.Sleep(500 * time.Millisecond)
			if st = localStats(t, http.DefaultClient, info.InspectURL); st["acks_sent"] != 0 {
				t.Errorf("-ack-jitter 1h: %d acks sent within half a second of storing the rows, want 0", st["acks_sent"])
			}
			// The send waits for its acks: the server's end fails it (no retry).
			cancel()
			if err := stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
			if err := <-sent; err == nil {
				t.Error("-ack-jitter 1h: the send succeeded without acks")
			}
			continue
		} else {
			if err := <-sent; err != nil { // acknowledged: the send completes
				t.Errorf("send without -ack-jitter: %v", err)
			}
			if st = localStats(t, http.DefaultClient, info.InspectURL); st["records_stored"] != 3 || st["acks_sent"] == 0 {
				t.Errorf("without -ack-jitter: no ack sent (stats %v)", st)
			}
			cancel()
		}
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestLocalHTTPTLSFlag: -http-tls serves the token endpoint and inspection
// API over TLS with the CA it writes (it implies -tls): the workspace URL is
// https://, a client trusting the CA file gets a token there, and one that
// does not trust it, or speaks plain HTTP, does not.
func TestLocalHTTPTLSFlag(t *testing.T) {
	line, stop := runLocalCLI(t, "-json", "-http-tls")
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}()
	var info localInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("-json output %q: %v", line, err)
	}
	if !strings.HasPrefix(info.WorkspaceURL, "https://") || !strings.HasPrefix(info.Endpoint, "https://") ||
		!strings.HasPrefix(info.InspectURL, "https://") || info.CACertFile == "" {
		t.Fatalf("-http-tls: workspace %q endpoint %q inspect %q CA file %q; want https:// and a CA file",
			info.WorkspaceURL, info.Endpoint, info.InspectURL, info.CACertFile)
	}
	pem, err := os.ReadFile(info.CACertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("CA file %s holds no certificate", info.CACertFile)
	}
	trusting := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer trusting.CloseIdleConnections()
	token := func(c *http.Client, url string) (int, error) {
		req, _ := http.NewRequest(http.MethodPost, url+"/oidc/v1/token", strings.NewReader("grant_type=client_credentials&scope=all-apis"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(info.ClientID, info.ClientSecret)
		res, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer res.Body.Close()
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.NewDecoder(res.Body).Decode(&tr)
		if tr.AccessToken == "" && res.StatusCode == http.StatusOK {
			return 0, io.ErrUnexpectedEOF
		}
		return res.StatusCode, nil
	}
	if code, err := token(trusting, info.WorkspaceURL); err != nil || code != http.StatusOK {
		t.Errorf("token over https trusting the CA file: HTTP %d, %v", code, err)
	}
	if st := localStats(t, trusting, info.InspectURL); st["tokens_issued"] != 1 {
		t.Errorf("stats over https: tokens_issued %d, want 1", st["tokens_issued"])
	}
	untrusting := &http.Client{Transport: &http.Transport{}}
	defer untrusting.CloseIdleConnections()
	if _, err := token(untrusting, info.WorkspaceURL); err == nil {
		t.Error("token over https without trusting the CA: no error")
	}
	plain := "http://" + strings.TrimPrefix(info.WorkspaceURL, "https://")
	if code, err := token(untrusting, plain); err == nil && code == http.StatusOK {
		t.Error("token over plain http from a -http-tls server: HTTP 200")
	}
}

// TestLocalWorkspaceIDFlag: -workspace-id adds a workspace id the token
// endpoint accepts in a token request's resource (a client reaching the
// server by a container name sends that name's first label); without it the
// request is refused.
func TestLocalWorkspaceIDFlag(t *testing.T) {
	for _, withFlag := range []bool{true, false} {
		args := []string{"-json"}
		if withFlag {
			args = append(args, "-workspace-id", "zerobus-box")
		}
		line, stop := runLocalCLI(t, args...)
		var info localInfo
		if err := json.Unmarshal([]byte(line), &info); err != nil {
			t.Fatalf("-json output %q: %v", line, err)
		}
		details := `[{"type":"unity_catalog_privileges","privileges":["USE CATALOG"],"object_type":"CATALOG","object_full_path":"main"},` +
			`{"type":"unity_catalog_privileges","privileges":["USE SCHEMA"],"object_type":"SCHEMA","object_full_path":"main.default"},` +
			`{"type":"unity_catalog_privileges","privileges":["SELECT","MODIFY"],"object_type":"TABLE","object_full_path":"main.default.t"}]`
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}, "authorization_details": {details},
			"resource": {"api://databricks/workspaces/zerobus-box/zerobusDirectWriteApi"}}.Encode()
		req, _ := http.NewRequest(http.MethodPost, info.WorkspaceURL+"/oidc/v1/token", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(info.ClientID, info.ClientSecret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tr struct {
			AccessToken string `json:"access_token"`
			Error       string `json:"error_description"`
		}
		_ = json.NewDecoder(res.Body).Decode(&tr)
		res.Body.Close()
		if !withFlag && !strings.Contains(tr.Error, `resource names workspace "zerobus-box"`) {
			t.Errorf("without -workspace-id: error %q, want the resource's workspace refused", tr.Error)
		}
		if got := res.StatusCode == http.StatusOK && tr.AccessToken != ""; got != withFlag {
			t.Errorf("-workspace-id given %v: token for workspace zerobus-box: HTTP %d, token issued %v", withFlag, res.StatusCode, got)
		}
		if err := stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}

// TestLocalOptionsTableCoversEveryField: docs/local-server.md's table of the
// options on each surface lists every zerobuslocal.Options field, and each
// flag it names is one `zerobus local -h` lists (tests_py checks the
// LocalServer keywords of the same table), so a new field shows up here
// before it is missing from a surface.
func TestLocalOptionsTableCoversEveryField(t *testing.T) {
	page, err := os.ReadFile(filepath.Join("..", "docs", "local-server.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(page), "## Options on each surface")
	if !ok {
		t.Fatal("docs/local-server.md has no \"## Options on each surface\" section")
	}
	rows := map[string]string{} // field -> its `zerobus local` column
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		field := strings.Trim(strings.Fields(strings.TrimSpace(cells[1]))[0], "`")
		rows[field] = cells[2]
	}
	var fields []string
	for _, f := range reflect.VisibleFields(reflect.TypeFor[zerobuslocal.Options]()) {
		if f.Type == reflect.TypeFor[zerobuslocal.AckPolicy]() {
			for _, af := range reflect.VisibleFields(f.Type) {
				fields = append(fields, f.Name+"."+af.Name)
			}
			continue
		}
		fields = append(fields, f.Name)
	}
	var help bytes.Buffer
	_, _ = parseLocalArgs([]string{"-h"}, Env{Stdout: &help, Stderr: io.Discard}.withDefaults())
	for _, field := range fields {
		col, ok := rows[field]
		if !ok {
			t.Errorf("Options.%s is not in docs/local-server.md's table of options", field)
			continue
		}
		for _, word := range strings.Fields(col) {
			word = strings.Trim(word, "`(),")
			listed := strings.Contains(help.String(), "  "+word+" ") || strings.Contains(help.String(), "  "+word+"\n") ||
				strings.Contains(help.String(), "  "+word+"\t")
			if strings.HasPrefix(word, "-") && len(word) > 1 && !listed {
				t.Errorf("Options.%s: the table names %s, which `zerobus local -h` does not list", field, word)
			}
		}
	}
}
