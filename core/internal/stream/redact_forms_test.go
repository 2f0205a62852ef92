package stream

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// TestKeepCredentialRedactsEveryForm: after keepCredential, clean replaces
// the secret in each form it travels as, alone and inside longer text.
func TestKeepCredentialRedactsEveryForm(t *testing.T) {
	const id, secret = "client id+1", "S3cr3t+XYZ/Z 123&=é"
	red := &redactor{}
	red.add(secret)
	red.keepCredential(id, secret)
	forms := map[string]string{
		"literal":         secret,
		"query escape":    url.QueryEscape(secret),
		"path escape":     url.PathEscape(secret),
		"userinfo":        strings.TrimPrefix(url.UserPassword("u", secret).String(), "u:"),
		"basic (oauth2)":  base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret))),
		"basic (proxy)":   base64.StdEncoding.EncodeToString([]byte(id + ":" + secret)),
		"basic url-safe":  base64.URLEncoding.EncodeToString([]byte(id + ":" + secret)),
		"basic unpadded":  base64.RawStdEncoding.EncodeToString([]byte(id + ":" + secret)),
		"decoded (proxy)": id + ":" + secret,
	}
	for name, form := range forms {
		got := red.clean("echo: <" + form + "> end")
		if strings.Contains(got, form) || !strings.Contains(got, redacted) || !strings.HasPrefix(got, "echo: <") || !strings.HasSuffix(got, "> end") {
			t.Errorf("%s: clean(%q) = %q, want the form replaced by %s", name, form, got, redacted)
		}
	}
	if got := red.clean("nothing secret here"); got != "nothing secret here" {
		t.Errorf("clean changed a text without secrets: %q", got)
	}
}
