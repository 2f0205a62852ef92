package tests_go

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/syncbuf"
)

// leakCheck captures everything a Wrapper says (every log record at Debug
// level, every error string the test notes) and, at the end of the test,
// greps it for the client secrets and for every access token the token
// endpoint issued (seen on the wire by a sniffing HTTP transport), and for
// the "Bearer " prefix of an authorization header.
type leakCheck struct {
	t       testing.TB
	secrets []string
	sniff   *tokenSniffer
	logs    *lockedBuffer

	mu    sync.Mutex
	texts map[string]bool
}

// newLeakCheck registers the check at cleanup. Create it before the
// Wrapper (so the check runs after the Wrapper's Close) and pass options()
// to New. secrets are the client secrets to look for.
func newLeakCheck(t testing.TB, secrets ...string) *leakCheck {
	l := &leakCheck{
		t:       t,
		secrets: secrets,
		sniff:   &tokenSniffer{base: http.DefaultTransport.(*http.Transport).Clone()},
		logs:    &lockedBuffer{},
		texts:   map[string]bool{},
	}
	t.Cleanup(l.check)
	return l
}

// options log everything at Debug into the check and fetch tokens through
// the sniffer.
func (l *leakCheck) options() []core.Option {
	return []core.Option{
		core.WithLogger(slog.New(slog.NewJSONHandler(l.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		core.WithHTTPClient(&http.Client{Transport: l.sniff}),
	}
}

// noteErr records err's text in its usual forms.
func (l *leakCheck) noteErr(err error) {
	if err == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		l.texts[s] = true
	}
}

// noteResult records the result's error and every failed row's error.
func (l *leakCheck) noteResult(res *core.TransmissionResult) {
	if res == nil {
		return
	}
	l.noteErr(res.Err)
	seen := map[error]bool{}
	for _, f := range res.FailedRows {
		if !seen[f.Err] {
			seen[f.Err] = true
			l.noteErr(f.Err)
		}
	}
}

func (l *leakCheck) check() {
	t := l.t
	l.sniff.base.CloseIdleConnections()
	logs := l.logs.String()
	lines := strings.Count(logs, "\n")
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		if line != "" && !json.Valid([]byte(line)) {
			t.Errorf("log line is not JSON: %s", line)
		}
	}
	l.mu.Lock()
	texts := append([]string{logs}, keys(l.texts)...)
	l.mu.Unlock()
	tokens := l.sniff.tokens()
	needles := append(append([]string(nil), l.secrets...), tokens...)
	for _, txt := range texts {
		for _, n := range needles {
			if n != "" && strings.Contains(txt, n) {
				t.Errorf("secret or token %.6s… leaked into: %s", n, txt)
			}
		}
		if strings.Contains(txt, "Bearer ") {
			t.Errorf("an authorization header leaked into: %s", txt)
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("leak check: %d log lines, %d error texts, %d issued tokens: clean", lines, len(texts)-1, len(tokens))
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer = syncbuf.Buffer

// tokenSniffer is an HTTP transport that records the access_token of every
// token response passing through it.
type tokenSniffer struct {
	base *http.Transport
	mu   sync.Mutex
	toks []string
}

func (s *tokenSniffer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if rerr == nil && json.Unmarshal(body, &v) == nil && v.AccessToken != "" {
		s.mu.Lock()
		s.toks = append(s.toks, v.AccessToken)
		s.mu.Unlock()
	}
	return resp, rerr
}

func (s *tokenSniffer) tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.toks...)
}
