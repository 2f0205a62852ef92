package zerobuslocal_test

import (
	"net/url"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// RFC 6749 §2.3.1: a client form-urlencodes its id and secret before HTTP
// Basic authentication (Go's oauth2 package does); others send them as
// they are. The token endpoint takes both, and still refuses a wrong one.
func TestTokenEndpointTakesFormEncodedCredentials(t *testing.T) {
	const id, secret = "svc client+1", "p${HOME}q/a=b {x} 100%"
	s := start(t, zerobuslocal.Options{ClientID: id, ClientSecret: secret})
	for _, tc := range []struct {
		name, id, secret string
		code             int
	}{
		{"as is", id, secret, 200},
		{"form-urlencoded", url.QueryEscape(id), url.QueryEscape(secret), 200},
		{"encoded secret, wrong", url.QueryEscape(id), url.QueryEscape(secret + "x"), 401},
		{"plus for a space is a plus when sent as is", id, "p${HOME}q/a=b+{x}+100%", 401},
		{"wrong id", "svc client", secret, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, resp := postToken(t, s, nil, tc.id, tc.secret, tokenForm(testTable))
			if code != tc.code {
				t.Fatalf("status %d (%s: %s), want %d", code, resp.Error, resp.Description, tc.code)
			}
			if code == 200 && resp.AccessToken == "" {
				t.Fatal("200 without an access token")
			}
		})
	}
}
