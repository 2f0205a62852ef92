package stream

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// testProxy is an HTTP proxy on 127.0.0.1: CONNECT opens a tunnel (the
// target is dialled and bytes are piped both ways) and absolute-URI requests
// are forwarded. It records what it saw, can require Basic credentials and
// can refuse every CONNECT with a fixed status.
type testProxy struct {
	t             *testing.T
	srv           *httptest.Server
	user, pass    string // required credentials; "" = none
	connectStatus int    // != 0: answer CONNECT with this status
	earlyBytes    bool   // send the server's first bytes in the same write as the 200
	fwd           *http.Transport

	mu       sync.Mutex
	closed   bool
	connects []string // CONNECT request targets
	forwards []string // forwarded absolute URIs
	auths    []string // Proxy-Authorization of every request
	tokens   []string // access tokens in forwarded responses
	early    int      // bytes sent along with a 200
	tunnels  map[net.Conn]struct{}
	wg       sync.WaitGroup
}

// startProxy starts a proxy (TLS with useTLS) closed at cleanup. Start it
// before newEnv so that its cleanup runs after the env's goroutine check,
// which then also proves that closing the client ends the tunnels.
func startProxy(t *testing.T, useTLS bool, setup func(*testProxy)) *testProxy {
	t.Helper()
	p := &testProxy{t: t, fwd: &http.Transport{DisableKeepAlives: true}, tunnels: map[net.Conn]struct{}{}}
	if setup != nil {
		setup(p)
	}
	p.srv = httptest.NewUnstartedServer(p)
	p.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // e.g. TLS handshakes the test makes fail
	if useTLS {
		p.srv.StartTLS()
	} else {
		p.srv.Start()
	}
	t.Cleanup(p.close)
	return p
}

// url is the proxy's URL, with user:pass if user is not empty.
func (p *testProxy) url(user, pass string) *url.URL {
	u, err := url.Parse(p.srv.URL)
	if err != nil {
		p.t.Fatal(err)
	}
	if user != "" {
		u.User = url.UserPassword(user, pass)
	}
	return u
}

// addr is the proxy's host:port.
func (p *testProxy) addr() string { return p.srv.Listener.Addr().String() }

func (p *testProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	authz := r.Header.Get("Proxy-Authorization")
	p.mu.Lock()
	p.auths = append(p.auths, authz)
	if r.Method == http.MethodConnect {
		p.connects = append(p.connects, r.RequestURI)
	} else {
		p.forwards = append(p.forwards, r.URL.String())
	}
	p.mu.Unlock()
	if p.user != "" && authz != basicAuth(p.user, p.pass) {
		w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
		http.Error(w, "proxy credentials required", http.StatusProxyAuthRequired)
		return
	}
	switch {
	case r.Method == http.MethodConnect && p.connectStatus != 0:
		http.Error(w, "refused", p.connectStatus)
	case r.Method == http.MethodConnect:
		p.tunnel(w, r)
	case r.URL.IsAbs():
		p.forward(w, r)
	default:
		http.Error(w, "not a proxy request", http.StatusBadRequest)
	}
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// forward relays one absolute-URI request, noting access tokens it returns.
func (p *testProxy) forward(w http.ResponseWriter, r *http.Request) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Authorization")
	out.Header.Del("Proxy-Connection")
	resp, err := p.fwd.RoundTrip(out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(body, &tok) == nil && tok.AccessToken != "" {
		p.mu.Lock()
		p.tokens = append(p.tokens, tok.AccessToken)
		p.mu.Unlock()
	}
	for k, vs := range resp.Header {
		if k != "Connection" {
			w.Header()[k] = vs
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// tunnel answers 200 and pipes bytes between the client and the target
// until either side closes.
func (p *testProxy) tunnel(w http.ResponseWriter, r *http.Request) {
	target, err := net.DialTimeout("tcp", r.RequestURI, 5*time.Second)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		target.Close()
		p.t.Errorf("proxy: hijack: %v", err)
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		conn.Close()
		target.Close()
		return
	}
	p.tunnels[conn], p.tunnels[target] = struct{}{}, struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()
	defer func() {
		conn.Close()
		target.Close()
		p.mu.Lock()
		delete(p.tunnels, conn)
		delete(p.tunnels, target)
		p.mu.Unlock()
		p.wg.Done()
	}()
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Reader.Peek(n)
		if _, err := target.Write(b); err != nil {
			return
		}
	}
	answer := []byte("HTTP/1.1 200 Connection established\r\n\r\n")
	if p.earlyBytes {
		// A plaintext gRPC server writes its SETTINGS frame at once.
		buf := make([]byte, 4096)
		_ = target.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := target.Read(buf)
		_ = target.SetReadDeadline(time.Time{})
		if err != nil {
			p.t.Errorf("proxy: reading the server's first bytes: %v", err)
			return
		}
		answer = append(answer, buf[:n]...)
		p.mu.Lock()
		p.early += n
		p.mu.Unlock()
	}
	if _, err := conn.Write(answer); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(target, conn)
		target.Close()
		conn.Close()
	}()
	_, _ = io.Copy(conn, target)
	conn.Close()
	target.Close()
	<-done
}

func (p *testProxy) close() {
	p.srv.Close()
	p.mu.Lock()
	p.closed = true
	for c := range p.tunnels {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	p.fwd.CloseIdleConnections()
}

// seen returns copies of what the proxy recorded.
func (p *testProxy) seen() (connects, forwards, auths, tokens []string, early int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := func(s []string) []string { return append([]string(nil), s...) }
	return c(p.connects), c(p.forwards), c(p.auths), c(p.tokens), p.early
}

// TestProxyCarriesTokenAndGRPC: with Config.Proxy set, the token request is
// forwarded by the proxy and the gRPC connection is a CONNECT tunnel through
// it (on loopback, which environment proxies never touch); every row
// arrives; credentials in the URL arrive as Proxy-Authorization. One case
// has the proxy send the server's first bytes in the same write as its 200
// (TestProxyDialer checks such bytes one by one: grpc-go would survive
// losing the server's initial SETTINGS frame).
func TestProxyCarriesTokenAndGRPC(t *testing.T) {
	tests := []struct {
		name       string
		user, pass string
		early      bool
	}{
		{name: "no credentials"},
		{name: "basic credentials and early server bytes", user: "proxy-user", pass: "proxy-Passw0rd-77", early: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startProxy(t, false, func(p *testProxy) { p.user, p.pass, p.earlyBytes = tc.user, tc.pass, tc.early })
			e := newEnv(t, zerobuslocal.Options{})
			if tc.pass != "" {
				e.secret(tc.pass)
			}
			cfg := e.config()
			cfg.HTTPClient = nil // the client's own token transport, which uses Proxy
			cfg.Proxy = p.url(tc.user, tc.pass)
			c := e.client(cfg)
			if strings.Contains(c.cfg.String(), tc.pass+"@") {
				t.Errorf("Config.String shows the proxy password: %s", c.cfg.String())
			}
			s := e.open(c)
			ctx := context.Background()
			sendWaitClose(t, ctx, s, rowsBatch(0, 50))
			if err := c.Close(); err != nil {
				t.Fatalf("Client.Close: %v", err)
			}

			ids := e.ids()
			if len(ids) != 50 {
				t.Errorf("stored ids: got %d distinct, want 50", len(ids))
			}
			for id := int64(0); id < 50; id++ {
				if ids[id] != 1 {
					t.Errorf("id %d stored %d times, want 1", id, ids[id])
				}
			}
			connects, forwards, auths, tokens, early := p.seen()
			for _, tok := range tokens {
				e.secret(tok)
			}
			wantTarget := strings.TrimPrefix(e.srv.Endpoint(), "http://")
			if len(connects) == 0 {
				t.Errorf("proxy saw no CONNECT, want one to %s", wantTarget)
			}
			for _, got := range connects {
				if got != wantTarget {
					t.Errorf("CONNECT target: got %q, want %q", got, wantTarget)
				}
			}
			wantToken := e.srv.WorkspaceURL() + "/oidc/v1/token"
			if len(forwards) != 1 || forwards[0] != wantToken {
				t.Errorf("forwarded requests: got %q, want [%q]", forwards, wantToken)
			}
			if len(tokens) != 1 {
				t.Errorf("tokens through the proxy: got %d, want 1", len(tokens))
			}
			wantAuth := ""
			if tc.user != "" {
				wantAuth = basicAuth(tc.user, tc.pass)
			}
			for i, got := range auths {
				if got != wantAuth {
					t.Errorf("request %d: Proxy-Authorization %q, want %q", i, got, wantAuth)
				}
			}
			if tc.early && early == 0 {
				t.Errorf("the proxy sent no server bytes along with its 200; the test did not exercise them")
			}
			if got := e.sniff.requests(); got != 0 {
				t.Errorf("token requests outside the proxy: got %d, want 0", got)
			}
		})
	}
}

// TestProxyOverTLS: an https:// proxy URL means TLS to the proxy, verified
// with ProxyRootCAs (the system roots without it).
func TestProxyOverTLS(t *testing.T) {
	p := startProxy(t, true, nil)
	e := newEnv(t, zerobuslocal.Options{})
	tok := e.srv.IssueToken(testTable, 0)
	cfg := e.config()
	cfg.ClientID, cfg.ClientSecret, cfg.WorkspaceURL = "", "", ""
	cfg.HeadersProvider = func(context.Context) (map[string]string, error) {
		return map[string]string{"authorization": "Bearer " + tok}, nil
	}
	cfg.Proxy = p.url("", "")
	if cfg.Proxy.Scheme != "https" {
		t.Fatalf("proxy URL %s is not https", cfg.Proxy)
	}
	pool := x509.NewCertPool()
	pool.AddCert(p.srv.Certificate())
	cfg.ProxyRootCAs = pool
	c := e.client(cfg)
	s := e.open(c)
	ctx := context.Background()
	sendWaitClose(t, ctx, s, rowsBatch(0, 5))
	if got := e.srv.RecordCount(testTable); got != 5 {
		t.Errorf("rows: got %d, want 5", got)
	}
	if connects, _, _, _, _ := p.seen(); len(connects) == 0 {
		t.Errorf("the TLS proxy saw no CONNECT")
	}

	// Not trusting the proxy's certificate fails the dial, naming the proxy.
	cfg.ProxyRootCAs = nil
	cfg.Retry.MaxAttempts = -1
	c2 := e.client(cfg)
	_, err := c2.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_PROTO)
	e.note(err)
	if err == nil || !strings.Contains(err.Error(), p.addr()) || !strings.Contains(err.Error(), "TLS handshake with the proxy") {
		t.Errorf("untrusted proxy certificate: got %v, want a TLS handshake error naming %s", err, p.addr())
	}
}

// TestProxyRejectionNamesProxyNotPassword: a proxy that answers 407 fails
// the stream with an error naming the proxy and the status, never the
// password in the URL (errors and logs are checked at cleanup too).
func TestProxyRejectionNamesProxyNotPassword(t *testing.T) {
	const pw = "wrong-Proxy-Passw0rd-99"
	tests := []struct {
		name     string
		provider bool // HeadersProvider: no token request, so CONNECT is refused
		want     []string
	}{
		{name: "CONNECT refused", provider: true, want: []string{"CONNECT", "407 Proxy Authentication Required", "proxy URL"}},
		{name: "token request refused", want: []string{"HTTP proxy", "407", "proxy URL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := startProxy(t, false, func(p *testProxy) { p.user, p.pass = "proxy-user", "the-right-password" })
			e := newEnv(t, zerobuslocal.Options{})
			e.secret(pw)
			cfg := e.config()
			cfg.HTTPClient = nil
			cfg.Proxy = p.url("proxy-user", pw)
			cfg.Retry.MaxAttempts = -1
			if tc.provider {
				cfg.ClientID, cfg.ClientSecret, cfg.WorkspaceURL = "", "", ""
				cfg.HeadersProvider = func(context.Context) (map[string]string, error) {
					return map[string]string{"authorization": "Bearer unused-token"}, nil
				}
			}
			c := e.client(cfg)
			_, err := c.OpenStream(context.Background(), testDescriptor(), zerobuspb.RecordType_PROTO)
			e.note(err)
			if err == nil {
				t.Fatal("OpenStream through a refusing proxy: got nil error")
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			for _, w := range append(tc.want, p.addr()) {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not contain %q:\n%s", w, msg)
				}
			}
			if strings.Contains(msg, pw) || strings.Contains(e.logs.String(), pw) {
				t.Errorf("the proxy password leaked into the error or logs:\n%s\n%s", msg, e.logs.String())
			}
			if !strings.Contains(msg, "[REDACTED]@") {
				t.Errorf("error does not show the proxy with its user information redacted:\n%s", msg)
			}
			connects, forwards, auths, _, _ := p.seen()
			if tc.provider && len(connects) == 0 || !tc.provider && len(forwards) == 0 {
				t.Errorf("the proxy saw connects %q and forwards %q", connects, forwards)
			}
			for _, got := range auths {
				if got != basicAuth("proxy-user", pw) {
					t.Errorf("Proxy-Authorization: got %q, want the URL's credentials", got)
				}
			}
		})
	}
}

// TestProxyDialer checks the CONNECT exchange on the wire: the request,
// server bytes that arrive with the 200, a non-200 answer, and a proxy that
// never answers (ctx deadline and cancellation).
func TestProxyDialer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	reqs := make(chan *http.Request, 1)
	answers := make(chan string, 1)
	var wg sync.WaitGroup
	defer wg.Wait()
	serve := func() {
		conn, err := ln.Accept()
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			req, err := http.ReadRequest(bufio.NewReader(conn))
			if err != nil {
				t.Errorf("proxy: reading the request: %v", err)
				return
			}
			reqs <- req
			if a := <-answers; a != "" {
				_, _ = io.WriteString(conn, a)
			}
			_, _ = io.Copy(io.Discard, conn) // until the client closes
		}()
	}
	const pw = "dialer-Passw0rd"
	proxy := &url.URL{Scheme: "http", Host: ln.Addr().String(), User: url.UserPassword("u", pw)}
	dial := proxyDialer(proxy, nil)

	t.Run("early bytes", func(t *testing.T) {
		go serve()
		answers <- "HTTP/1.1 200 Connection established\r\n\r\nhello"
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := dial(ctx, "zerobus.example.com:443")
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer conn.Close()
		req := <-reqs
		if req.Method != http.MethodConnect || req.RequestURI != "zerobus.example.com:443" || req.Host != "zerobus.example.com:443" {
			t.Errorf("request: got %s %s (Host %s), want CONNECT zerobus.example.com:443", req.Method, req.RequestURI, req.Host)
		}
		if got, want := req.Header.Get("Proxy-Authorization"), basicAuth("u", pw); got != want {
			t.Errorf("Proxy-Authorization: got %q, want %q", got, want)
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "hello" {
			t.Errorf("bytes behind the 200: got %q, %v; want \"hello\"", buf, err)
		}
	})

	t.Run("refused", func(t *testing.T) {
		go serve()
		answers <- "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
		_, err := dial(context.Background(), "zerobus.example.com:443")
		<-reqs
		if err == nil || !strings.Contains(err.Error(), "403 Forbidden") || !strings.Contains(err.Error(), ln.Addr().String()) {
			t.Errorf("got %v, want an error naming the proxy and 403 Forbidden", err)
		}
		if err != nil && strings.Contains(err.Error(), pw) {
			t.Errorf("error shows the password: %v", err)
		}
	})

	for _, tc := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, context.DeadlineExceeded},
		{"cancel", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run("silent proxy/"+tc.name, func(t *testing.T) {
			go serve()
			ctx, cancel := tc.ctx()
			defer cancel()
			start := time.Now()
			_, err := dial(ctx, "zerobus.example.com:443")
			<-reqs
			answers <- ""
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("dial returned after %v; ctx ended after 200ms", d)
			}
		})
	}
}

// TestProxyConfigValidate: a bad Proxy is reported by Validate without its
// password.
func TestProxyConfigValidate(t *testing.T) {
	for _, raw := range []string{"ftp://u:hunter2-pw@proxy:21", "http://u:hunter2-pw@proxy:3128/path", "http://u:hunter2-pw@:3128"} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		cfg := Config{Endpoint: "http://127.0.0.1:1", TableName: testTable, HeadersProvider: func(context.Context) (map[string]string, error) { return nil, nil }, Proxy: u}
		err = cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), "Proxy") {
			t.Errorf("%s: Validate() = %v, want an error naming Proxy", redactURLUser(raw), err)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2-pw") {
			t.Errorf("Validate shows the password: %v", err)
		}
		if s := cfg.String(); strings.Contains(s, "hunter2-pw") {
			t.Errorf("String shows the password: %s", s)
		}
	}
}
