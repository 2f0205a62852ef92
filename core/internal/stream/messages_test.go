package stream

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// TestToken400SaysBadRequest: a 400 from the token endpoint is reported as
// a refused request with the server's error and error_description; only its
// invalid_client / unauthorized_client errors (and 401) blame the client
// id and secret.
func TestToken400SaysBadRequest(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		want, not  []string
	}{
		{"invalid_request", `{"error":"invalid_request","error_description":"authorization_details: unknown table"}`, 400,
			[]string{"400 Bad Request", "invalid_request", "authorization_details: unknown table", "check unity_catalog_url"}, []string{"ClientSecret", "rejected by the token endpoint", "WorkspaceURL"}},
		{"invalid_scope", `{"error":"invalid_scope"}`, 400,
			[]string{"400 Bad Request", "invalid_scope"}, []string{"ClientSecret"}},
		{"invalid_client", `{"error":"invalid_client","error_description":"bad secret"}`, 400,
			[]string{"client_id/client_secret rejected", "invalid_client", "bad secret"}, []string{"Bad Request", "ClientID", "WorkspaceURL"}},
		// the settings are named by their keys (Python keywords, YAML keys), not Go fields
		{"401", `{"error":"invalid_client"}`, 401,
			[]string{"client_id/client_secret rejected", "unity_catalog_url is its workspace", "HTTP 401"}, []string{"ClientID", "WorkspaceURL"}},
		{"404", `{"error":"not_found"}`, 404,
			[]string{"no token endpoint at unity_catalog_url"}, []string{"WorkspaceURL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTokenServer(t, func(int, *http.Request) (int, string) { return tc.status, tc.body })
			_, err := newUnitAuth(t, ts).token(context.Background())
			var ae *AuthError
			if !errors.As(err, &ae) {
				t.Fatalf("token: %v, want *AuthError", err)
			}
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q: %s", w, msg)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(msg, w) {
					t.Errorf("error contains %q: %s", w, msg)
				}
			}
			if n := strings.Count(msg, "zerobus:"); n != 1 {
				t.Errorf("%d \"zerobus:\" prefixes: %s", n, msg)
			}
		})
	}
}

// TestOpenStreamUnknownHost: an endpoint host that DNS does not know fails
// OpenStream at once with a *HostNotFoundError naming it (not retried); a
// lookup that fails for another reason leaves the RPC to report it.
func TestOpenStreamUnknownHost(t *testing.T) {
	lookups := 0
	answer := error(&net.DNSError{Err: "no such host", Name: "nope.zerobus.test", IsNotFound: true})
	old := lookupHost
	lookupHost = func(_ context.Context, host string) ([]string, error) {
		lookups++
		return nil, answer
	}
	t.Cleanup(func() { lookupHost = old })
	c, err := NewClient(Config{Endpoint: "https://nope.zerobus.test", WorkspaceURL: "https://nope.zerobus.test",
		TableName: "a.b.c", ClientID: "id", ClientSecret: unitSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.OpenStream(context.Background(), testDescriptor(), zerobuspb.RecordType_PROTO)
	var hn *HostNotFoundError
	if !errors.As(err, &hn) || hn.Host != "nope.zerobus.test" || hn.Setting != "Endpoint" || IsRetryable(err) {
		t.Fatalf("OpenStream: %v, want a non-retryable *HostNotFoundError for nope.zerobus.test", err)
	}
	if lookups != 1 {
		t.Errorf("%d lookups, want 1", lookups)
	}
	if !strings.Contains(err.Error(), "nope.zerobus.test not found") || strings.Count(err.Error(), "zerobus:") != 1 {
		t.Errorf("message: %s", err)
	}
	// A temporary resolver failure is not a verdict on the name.
	answer = &net.DNSError{Err: "i/o timeout", Name: "nope.zerobus.test", IsTimeout: true}
	if err := c.checkRoute(context.Background()); err != nil {
		t.Errorf("checkRoute after a timeout: %v, want nil", err)
	}
}
