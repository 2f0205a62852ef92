package stream

import (
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// credentialForms are the texts a credential (user, secret) travels as, so
// a server, gateway or proxy echoing a request back (its Authorization
// header, its decoded credential, its form body) in an error is redacted
// too, not only the literal secret: the secret URL-escaped (query and path
// escapes, and as URL userinfo), and the HTTP Basic credential
// base64(user:secret), with the escaped user and secret as OAuth2 sends them
// (RFC 6749 §2.3.1) and unescaped as a proxy's Proxy-Authorization has them,
// in standard and URL-safe alphabets without padding (a prefix of the
// padded form, so the padded one is covered). Longest first; no repeats.
func credentialForms(user, secret string) []string {
	if secret == "" {
		return nil
	}
	forms := []string{
		secret,
		url.QueryEscape(secret),
		url.PathEscape(secret),
		strings.TrimPrefix(url.UserPassword("", secret).String(), ":"),
	}
	for _, cred := range []string{url.QueryEscape(user) + ":" + url.QueryEscape(secret), user + ":" + secret} {
		forms = append(forms,
			base64.RawStdEncoding.EncodeToString([]byte(cred)),
			base64.RawURLEncoding.EncodeToString([]byte(cred)))
	}
	slices.Sort(forms)
	forms = slices.Compact(forms)
	slices.SortStableFunc(forms, func(a, b string) int { return len(b) - len(a) })
	return forms
}

// keepCredential remembers every form of the credential (credentialForms)
// as a secret that is never dropped.
func (r *redactor) keepCredential(user, secret string) {
	for _, f := range credentialForms(user, secret) {
		r.keep(f)
	}
}
