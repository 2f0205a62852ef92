package stream

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// An explicit HTTP proxy (Config.Proxy) carries both kinds of traffic:
//
//   - token requests: the token client's transport gets Proxy =
//     http.ProxyURL(proxy), so net/http forwards http:// token URLs with an
//     absolute URI and tunnels https:// ones with CONNECT;
//   - gRPC: grpc-go's environment proxy support is switched off
//     (grpc.WithNoProxy) and proxyDialer opens every connection as an HTTP
//     CONNECT tunnel through the proxy (TLS to the proxy first for an
//     https:// proxy URL), with Proxy-Authorization: Basic when the URL
//     carries user:password. The endpoint's TLS then runs inside the tunnel.
//
// Unlike the environment (HTTPS_PROXY, NO_PROXY), an explicit proxy applies
// to every target, loopback included. Errors name the proxy with its user
// information redacted.

// CheckProxy returns "" when u is usable as Config.Proxy, else what is
// wrong (core's Config.Validate reports it too).
func CheckProxy(u *url.URL) string {
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("has scheme %q: use http:// or https:// (the proxy's own scheme), e.g. http://proxy.example.com:3128", u.Scheme)
	case u.Hostname() == "":
		return "has no host"
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "":
		return "must be scheme://[user:password@]host[:port] (no path, query or fragment)"
	}
	return CheckPort(u)
}

// CheckPort returns "" when u has no port or a port in 1..65535 (url.Parse
// only checks that it is digits), else what is wrong. A ':' with nothing
// after it (http://h:, often an unset shell or YAML variable: proxy:${PORT})
// is refused: Go would take it silently as the scheme's default port.
func CheckPort(u *url.URL) string {
	p := u.Port()
	if p == "" {
		if strings.HasSuffix(u.Host, ":") {
			return "has an empty port (nothing after ':'; an unset variable?): give host:port, or leave out the ':' for the scheme's default port"
		}
		return ""
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("has port %s; a port must be between 1 and 65535", p)
	}
	return ""
}

// proxyShown is u for messages and logs, user information redacted.
func proxyShown(u *url.URL) string { return redactURLUser(u.String()) }

// TokenTransport is the transport NewClient uses for token requests when
// Config.HTTPClient is nil (exported for callers that build that client
// themselves): a clone of http.DefaultTransport that, with a non-nil proxy,
// sends every request through it, and otherwise uses the environment's.
func TokenTransport(proxy *url.URL) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if proxy != nil {
		tr.Proxy = http.ProxyURL(proxy)
	}
	return tr
}

// proxyDialer returns a gRPC context dialer that reaches addr (host:port)
// through an HTTP CONNECT tunnel on proxy. rootCAs verifies an https://
// proxy (nil: the system roots). The dial, TLS handshake and CONNECT
// exchange all end when ctx does.
func proxyDialer(proxy *url.URL, rootCAs *x509.CertPool) func(context.Context, string) (net.Conn, error) {
	shown := proxyShown(proxy)
	port := proxy.Port()
	if port == "" {
		port = "80"
		if proxy.Scheme == "https" {
			port = "443"
		}
	}
	proxyAddr := net.JoinHostPort(proxy.Hostname(), port)
	var authz string
	if proxy.User != nil {
		pw, _ := proxy.User.Password()
		authz = "Basic " + base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+pw))
	}
	return func(ctx context.Context, addr string) (net.Conn, error) {
		conn, err := dialTunnel(ctx, proxy.Scheme == "https", proxyAddr, proxy.Hostname(), rootCAs, authz, addr)
		if err != nil {
			return nil, fmt.Errorf("HTTP proxy %s: CONNECT %s: %w", shown, addr, err)
		}
		return conn, nil
	}
}

// proxyStatusError is a CONNECT refused by the proxy.
type proxyStatusError struct {
	code   int
	status string // e.g. "407 Proxy Authentication Required"
}

func (e *proxyStatusError) Error() string {
	if e.code == http.StatusProxyAuthRequired {
		return "proxy authentication failed: the proxy answered " + e.status + " (check the user:password in the proxy URL)"
	}
	return "proxy answered " + e.status
}

// dialTunnel connects to the proxy, sends CONNECT addr and returns the
// tunnel once the proxy answers 200.
func dialTunnel(ctx context.Context, useTLS bool, proxyAddr, proxyHost string, rootCAs *x509.CertPool, authz, addr string) (_ net.Conn, err error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", proxyAddr)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			raw.Close()
		}
	}()
	// Bound the handshake by ctx: when it ends (deadline or cancellation),
	// moving the conn's deadline into the past unblocks reads and writes,
	// and the error reports ctx's.
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer func() {
		stopped := stop()
		switch {
		case err == nil && !stopped:
			err = ctx.Err() // ctx ended: the deadline may have moved into the past
		case err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()):
			err = fmt.Errorf("%w: %v", ctx.Err(), err)
		}
	}()

	conn := raw
	if useTLS {
		tc := tls.Client(raw, &tls.Config{ServerName: proxyHost, RootCAs: rootCAs, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, fmt.Errorf("TLS handshake with the proxy: %w", err)
		}
		conn = tc
	}

	var req strings.Builder
	fmt.Fprintf(&req, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n", addr, addr)
	if authz != "" {
		fmt.Fprintf(&req, "Proxy-Authorization: %s\r\n", authz)
	}
	req.WriteString("\r\n")
	if _, err := io.WriteString(conn, req.String()); err != nil {
		return nil, err
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return nil, fmt.Errorf("reading the proxy's response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &proxyStatusError{code: resp.StatusCode, status: resp.Status}
	}
	_ = raw.SetDeadline(time.Time{})
	// Bytes the server sent right behind the proxy's answer are already in
	// br: hand them out before reading the connection again.
	if n := br.Buffered(); n > 0 {
		early, _ := br.Peek(n)
		return &prefixedConn{Conn: conn, r: io.MultiReader(bytes.NewReader(bytes.Clone(early)), conn)}, nil
	}
	return conn, nil
}

// prefixedConn is a net.Conn whose reads first return bytes already read
// from it.
type prefixedConn struct {
	net.Conn
	r io.Reader
}

func (c *prefixedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
