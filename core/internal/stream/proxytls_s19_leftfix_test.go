package stream

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http/httptest"
	"net/url"
	"testing"
)

// ProxySpeaksTLS says yes only for an http:// proxy that cut a request off
// and answers a TLS handshake; a plaintext proxy (whose upstream broke) stays
// a no, so that failure is still retried.
func TestProxySpeaksTLS(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(nil) // any TLS server: its certificate is not judged
	defer tlsSrv.Close()
	tlsAddr := tlsSrv.Listener.Addr().String()

	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	go func() {
		for {
			c, err := plain.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
			_ = c.Close()
		}
	}()

	cut := &url.Error{Op: "Post", URL: "http://ws/oidc/v1/token", Err: io.EOF}
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		proxy string
		err   error
		want  bool
	}{
		{"http:// at a TLS proxy", "http://" + tlsAddr, cut, true},
		{"reset by a TLS proxy", "http://" + tlsAddr, errors.New("read tcp 1->2: read: connection reset by peer"), true},
		{"http:// at a plaintext proxy", "http://" + plain.Addr().String(), cut, false},
		{"https:// proxy", "https://" + tlsAddr, cut, false},
		{"not a cut-off", "http://" + tlsAddr, errors.New("proxy answered 407"), false},
	} {
		u, _ := url.Parse(c.proxy)
		if got := ProxySpeaksTLS(ctx, u, c.err); got != c.want {
			t.Errorf("%s: ProxySpeaksTLS = %t, want %t", c.name, got, c.want)
		}
	}
	u, _ := url.Parse("http://" + tlsAddr)
	ce := proxyTLSMismatch(u)
	want := "zerobus: the proxy " + tlsAddr + " (proxy_url) cut the plaintext request off: proxy_url is http:// but " +
		tlsAddr + " speaks TLS (use https:// in proxy_url)"
	if ce.Error() != want {
		t.Errorf("the error = %q\nwant %q", ce.Error(), want)
	}
	if h := TLSMismatchHint(ce.Error()); h != "use https:// in proxy_url" {
		t.Errorf("TLSMismatchHint = %q", h)
	}
}
