package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in      string
		want    endpoint
		wantErr string
	}{
		{in: "https://123.zerobus.us-west-2.cloud.databricks.com", want: endpoint{target: "123.zerobus.us-west-2.cloud.databricks.com:443", host: "123.zerobus.us-west-2.cloud.databricks.com", tls: true, workspaceID: "123"}},
		{in: "123.zerobus.region.azuredatabricks.net", want: endpoint{target: "123.zerobus.region.azuredatabricks.net:443", host: "123.zerobus.region.azuredatabricks.net", tls: true, workspaceID: "123"}},
		{in: "https://host.example:8443/", want: endpoint{target: "host.example:8443", host: "host.example", tls: true, workspaceID: "host"}},
		{in: "http://127.0.0.1:5000", want: endpoint{target: "127.0.0.1:5000", host: "127.0.0.1", tls: false, workspaceID: "127"}},
		{in: "http://[::1]:5000", want: endpoint{target: "[::1]:5000", host: "::1", tls: false, workspaceID: "::1"}},
		{in: "", wantErr: "empty"},
		{in: "http://127.0.0.1", wantErr: "explicit port"},
		{in: "ftp://host", wantErr: "scheme"},
		{in: "https://host/path", wantErr: "bare host"},
		{in: "https://user:pw@host", wantErr: "user information"},
		// Every message echoing the endpoint hides user info, whatever the
		// problem it reports.
		{in: "ftp://user:pw@host", wantErr: "scheme"},
		{in: "http://user:pw@127.0.0.1", wantErr: "user information"},
		{in: "https://user:pw@host/path", wantErr: "user information"},
		{in: "https://user:pw@host:bad%zz", wantErr: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseEndpoint(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "pw") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// WorkspaceBase is the one rule for the workspace URL (core, the token URL
// and Flight's Unity Catalog lookup use it).
func TestWorkspaceBase(t *testing.T) {
	for in, want := range map[string]string{
		"https://ws.cloud.databricks.com/?o=123": "https://ws.cloud.databricks.com",
		" https://ws.cloud.databricks.com/// ":   "https://ws.cloud.databricks.com",
		"https://ws.cloud.databricks.com/#frag":  "https://ws.cloud.databricks.com",
		"https://ws.cloud.databricks.com/base/?": "https://ws.cloud.databricks.com/base",
		"http://127.0.0.1:8080":                  "http://127.0.0.1:8080",
		"ws.cloud.databricks.com/":               "ws.cloud.databricks.com",
		"":                                       "",
	} {
		if got := WorkspaceBase(in); got != want {
			t.Errorf("WorkspaceBase(%q) = %q, want %q", in, got, want)
		}
	}
	if got, _ := tokenURL("https://ws.cloud.databricks.com/?o=123"); got != "https://ws.cloud.databricks.com/oidc/v1/token" {
		t.Errorf("tokenURL with a query: got %q", got)
	}
}

func TestTokenURLAndTable(t *testing.T) {
	if got, _ := tokenURL("https://ws.cloud.databricks.com/"); got != "https://ws.cloud.databricks.com/oidc/v1/token" {
		t.Errorf("tokenURL: got %q", got)
	}
	for _, bad := range []string{"", "ws.cloud.databricks.com", "ftp://x"} {
		if _, err := tokenURL(bad); err == nil {
			t.Errorf("tokenURL(%q): got nil error", bad)
		}
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"a.b.c", true}, {"Main_1.default.events_2", true}, {"a.b", false}, {"a.b.c.d", false},
		{"a..c", false}, {"a.b-c.d", false}, {"a.b.c ", false}, {"ä.b.c", false},
	}
	for _, tt := range tests {
		if _, _, _, err := splitTable(tt.name); (err == nil) != tt.ok {
			t.Errorf("splitTable(%q): err = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestConfigValidateReportsEverything(t *testing.T) {
	err := Config{MaxInflightRequests: -1, AckTimeout: -time.Second, UserAgent: "bad\n"}.Validate()
	if err == nil {
		t.Fatal("Validate: got nil")
	}
	for _, want := range []string{"Endpoint", "TableName", "ClientID", "ClientSecret", "WorkspaceURL", "MaxInflightRequests", "AckTimeout", "UserAgent"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error does not mention %s: %v", want, err)
		}
	}
	ok := Config{Endpoint: "http://127.0.0.1:1", TableName: "a.b.c", HeadersProvider: func(context.Context) (map[string]string, error) { return nil, nil }}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate with a HeadersProvider: %v", err)
	}
	if _, err := NewClient(Config{}); err == nil {
		t.Errorf("NewClient(Config{}): got nil error")
	}
}

func TestConfigNeverPrintsSecret(t *testing.T) {
	cfg := Config{Endpoint: "https://h", WorkspaceURL: "https://u:pw-in-url@ws", TableName: "a.b.c", ClientID: "id", ClientSecret: unitSecret}
	var logBuf syncBuffer
	slog.New(slog.NewTextHandler(&logBuf, nil)).Info("cfg", "config", cfg)
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("cfg", "config", cfg)
	c, err := NewClient(Config{Endpoint: "http://127.0.0.1:1", WorkspaceURL: "http://127.0.0.1:2", TableName: "a.b.c", ClientID: "id", ClientSecret: unitSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	outputs := []string{
		cfg.String(), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg),
		fmt.Sprintf("%q", cfg), fmt.Sprintf("%v", &cfg), fmt.Sprintf("%+v", []Config{cfg}), logBuf.String(),
		fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c),
	}
	// A bad verb on a struct holding the client makes fmt print the pointer's
	// struct raw, methods ignored.
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		outputs = append(outputs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, struct{ c *Client }{c}), fmt.Sprintf(verb, []*Client{c}))
	}
	for _, out := range outputs {
		if strings.Contains(out, unitSecret) || strings.Contains(out, "pw-in-url") {
			t.Errorf("secret printed: %s", out)
		}
	}
	if !strings.Contains(cfg.String(), redacted) {
		t.Errorf("String() does not mark the secret as redacted: %s", cfg.String())
	}
}

func TestIsRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"closed", ErrClosed, false},
		{"wrapped closed", fmt.Errorf("x: %w", ErrClosed), false},
		{"unavailable", &ServerError{Code: codes.Unavailable}, true},
		{"internal", &ServerError{Code: codes.Internal}, true},
		{"resource exhausted", &ServerError{Code: codes.ResourceExhausted}, true},
		{"deadline exceeded status", &ServerError{Code: codes.DeadlineExceeded}, true},
		{"aborted", &ServerError{Code: codes.Aborted}, true},
		{"invalid argument", &ServerError{Code: codes.InvalidArgument}, false},
		{"unauthenticated", &ServerError{Code: codes.Unauthenticated}, false},
		{"permission denied", &ServerError{Code: codes.PermissionDenied}, false},
		{"out of range", &ServerError{Code: codes.OutOfRange}, false},
		{"unimplemented", &ServerError{Code: codes.Unimplemented}, false},
		{"not found", &ServerError{Code: codes.NotFound}, false},
		{"raw grpc status", status.Error(codes.Unavailable, "x"), true},
		{"raw grpc invalid", status.Error(codes.InvalidArgument, "x"), false},
		{"connection", &ConnectionError{Op: "recv", Err: io.ErrUnexpectedEOF}, true},
		{"ack timeout", &ConnectionError{Op: "ack-timeout", Err: &ackTimeoutError{}}, true},
		{"token 503", &TokenError{StatusCode: 503, Retryable: true}, true},
		{"token 401", &TokenError{StatusCode: 401}, false},
		{"auth", &AuthError{What: "x", Err: &ServerError{Code: codes.Unavailable}}, false},
		{"exhausted", &RetryExhaustedError{Attempts: 6, Last: &ServerError{Code: codes.Unavailable}}, false},
		{"too large", &MessageTooLargeError{}, false},
		{"canceled", context.Canceled, false},
		{"plain", errors.New("x"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsRetryable(tt.err); got != tt.want {
				t.Errorf("IsRetryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	base, maxD := 100*time.Millisecond, 30*time.Second
	for attempt := 1; attempt <= 40; attempt++ {
		ceil := expCap(attempt, base, maxD)
		wantCap := maxD
		if attempt <= 9 {
			wantCap = base << (attempt - 1)
		}
		if ceil != wantCap {
			t.Errorf("expCap(%d) = %s, want %s", attempt, ceil, wantCap)
		}
		for i := 0; i < 20; i++ {
			if d := FullJitter(attempt, base, maxD); d < 0 || d > ceil {
				t.Fatalf("FullJitter(%d) = %s, outside [0, %s]", attempt, d, ceil)
			}
		}
	}
	p := RetryPolicy{}.withDefaults()
	if p.MaxAttempts != 5 || p.BaseDelay != 100*time.Millisecond || p.MaxDelay != 30*time.Second || p.Backoff == nil {
		t.Errorf("defaults: got %+v", p)
	}
	if got := (RetryPolicy{MaxAttempts: -1}).withDefaults().MaxAttempts; got != 0 {
		t.Errorf("negative MaxAttempts: got %d, want 0 retries", got)
	}
	p.Backoff = func(_ int, b, _ time.Duration) time.Duration { return b }
	if got := p.delay(1, true); got != time.Second {
		t.Errorf("blocked delay: got %s, want 1s (10x base)", got)
	}
	p.Backoff = func(int, time.Duration, time.Duration) time.Duration { return time.Hour }
	if got := p.delay(1, false); got != maxD {
		t.Errorf("delay is not capped: got %s", got)
	}
}

func TestWindow(t *testing.T) {
	ctx := context.Background()
	w := newWindow(2, 100)
	never := make(chan struct{})
	if err := w.acquire(ctx, 60, never); err != nil {
		t.Fatal(err)
	}
	// Bytes would overflow: blocks.
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	if err := w.acquire(short, 50, never); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("over the byte limit: got %v, want DeadlineExceeded", err)
	}
	cancel()
	if err := w.acquire(ctx, 40, never); err != nil {
		t.Fatal(err)
	}
	if n, b := w.usage(); n != 2 || b != 100 {
		t.Errorf("usage: got %d/%d, want 2/100", n, b)
	}
	// Request limit: a waiter is admitted when one is released, FIFO.
	got := make(chan int, 2)
	go func() { _ = w.acquire(ctx, 10, never); got <- 1 }()
	waitWaiters(t, w, 1)
	go func() { _ = w.acquire(ctx, 10, never); got <- 2 }()
	waitWaiters(t, w, 2)
	w.release(60)
	if first := <-got; first != 1 {
		t.Errorf("first admitted: got waiter %d, want 1 (FIFO)", first)
	}
	w.release(40)
	if second := <-got; second != 2 {
		t.Errorf("second admitted: got waiter %d, want 2", second)
	}
	w.release(10)
	w.release(10)
	// An oversized request is admitted alone into an empty window.
	if err := w.acquire(ctx, 1000, never); err != nil {
		t.Fatalf("oversized into empty window: %v", err)
	}
	// Abort releases waiters.
	abort := make(chan struct{})
	done := make(chan error, 1)
	go func() { done <- w.acquire(ctx, 10, abort) }()
	waitWaiters(t, w, 1)
	close(abort)
	if err := <-done; !errors.Is(err, errWindowAborted) {
		t.Errorf("aborted waiter: got %v", err)
	}
	w.release(1000)
	if n, b := w.usage(); n != 0 || b != 0 {
		t.Errorf("final usage: got %d/%d, want 0/0", n, b)
	}
}

func waitWaiters(t *testing.T, w *window, n int) {
	t.Helper()
	for i := 0; i < 5000; i++ {
		w.mu.Lock()
		k := len(w.waiters)
		w.mu.Unlock()
		if k == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("waiters never reached %d", n)
}

func TestRedactor(t *testing.T) {
	r := &redactor{}
	r.add("super-secret") // the first: the client secret, never dropped
	r.add("abc")          // short: redacted as a token of its own only (s20 clipipes)
	r.add("token-xyz")
	r.keep("proxy-pw")
	got := r.clean("a super-secret and token-xyz and abc, abcdef")
	if want := "a [REDACTED] and [REDACTED] and [REDACTED], abcdef"; got != want {
		t.Errorf("clean: got %q, want %q", got, want)
	}
	for i := 0; i < 40; i++ {
		r.add(fmt.Sprintf("tok-%03d-value", i))
	}
	if got := r.clean("super-secret tok-039-value proxy-pw"); got != "[REDACTED] [REDACTED] [REDACTED]" {
		t.Errorf("after many tokens: got %q (the client secret and kept secrets must stay)", got)
	}
	ce := r.cleanErr(fmt.Errorf("ctx: %w super-secret", context.DeadlineExceeded))
	if !errors.Is(ce, context.DeadlineExceeded) || strings.Contains(ce.Error(), "super-secret") {
		t.Errorf("cleanErr: %v", ce)
	}
	if got := splitCauses(`["FIELD_NOT_IN_TABLE", "TYPE_INCOMPATIBLE"]`); len(got) != 2 || got[1] != "TYPE_INCOMPATIBLE" {
		t.Errorf("splitCauses: %q", got)
	}
}

// A unit already resolved when the caller's ctx has ended too: Wait returns
// its outcome, never ctx's error (a select between the two picks at random,
// and a caller that cancels after the acks came would report acknowledged
// rows as unknown).
func TestFutureWaitPrefersTheOutcomeOverAnEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	failed := errors.New("terminal")
	for i := 0; i < 200; i++ {
		var ok, bad Future
		ok.Init()
		ok.Resolve(nil)
		bad.Init()
		bad.Resolve(failed)
		if err := ok.Wait(ctx); err != nil {
			t.Fatalf("try %d: Wait of an acknowledged unit with an ended ctx = %v, want nil", i, err)
		}
		if err := bad.Wait(ctx); err != failed {
			t.Fatalf("try %d: Wait of a failed unit with an ended ctx = %v, want its error", i, err)
		}
	}
	var open Future
	open.Init()
	if err := open.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait of an unresolved unit with an ended ctx = %v, want context.Canceled", err)
	}
}

// CtxErr names the flush timeout only when its bound, not the caller's
// context, ended the wait; both are a context.DeadlineExceeded.
func TestCtxErrTellsTheFlushTimeoutFromTheCaller(t *testing.T) {
	ctx, cancel := WithFlushTimeout(context.Background(), time.Millisecond)
	defer cancel()
	<-ctx.Done()
	var fe *FlushTimeoutError
	if err := CtxErr(ctx); !errors.As(err, &fe) || !errors.Is(err, context.DeadlineExceeded) || !ContextEnded(err) ||
		!strings.Contains(err.Error(), "flush_timeout_ms (1 ms)") {
		t.Fatalf("flush timeout: %v", err)
	}
	caller, cancelCaller := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancelCaller()
	ctx, cancel = WithFlushTimeout(caller, time.Minute)
	defer cancel()
	<-ctx.Done()
	if err := CtxErr(ctx); err != context.DeadlineExceeded { //nolint:errorlint // the caller's own error, as it is
		t.Fatalf("caller's deadline: %v, want context.DeadlineExceeded itself", err)
	}
	ctx, cancel = WithFlushTimeout(context.Background(), time.Minute)
	cancel()
	if err := CtxErr(ctx); err != context.Canceled { //nolint:errorlint // as it is
		t.Fatalf("canceled: %v", err)
	}
}

// Outcome, the rule Wait and both Flushes use: a unit resolved when ctx has
// ended is resolved (ok), whichever channel a select would pick.
func TestOutcomeOfAResolvedUnitWithAnEndedContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 200; i++ {
		var f Future
		f.Init()
		f.Resolve(ErrWithdrawn)
		if err, ok := f.Outcome(ctx); !ok || err != ErrWithdrawn {
			t.Fatalf("try %d: Outcome = %v, %v; want ErrWithdrawn, true", i, err, ok)
		}
	}
	var open Future
	open.Init()
	if err, ok := open.Outcome(ctx); ok || err != nil {
		t.Fatalf("Outcome of an unresolved unit with an ended ctx = %v, %v; want nil, false", err, ok)
	}
}
