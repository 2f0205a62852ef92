package stream

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// endpoint is a parsed Zerobus endpoint.
type endpoint struct {
	target      string // host:port for grpc.NewClient
	host        string // host without port
	tls         bool   // false only for http://
	workspaceID string // first DNS label of host
}

// parseEndpoint accepts "https://host[:port]", "host[:port]" (TLS) and
// "http://host:port" (plaintext, for local servers). A path other than "/"
// is rejected; the port defaults to 443 for TLS.
func parseEndpoint(raw string) (endpoint, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return endpoint{}, fmt.Errorf("Endpoint is empty: set it to https://<workspace-id>.zerobus.<region>.cloud.databricks.com")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	shown := redactURLUser(raw) // every message below echoes this, never raw
	u, err := url.Parse(s)
	if err != nil {
		return endpoint{}, fmt.Errorf("Endpoint %q is not a valid URL: %v", shown, urlErrCause(err))
	}
	var ep endpoint
	switch strings.ToLower(u.Scheme) {
	case "https":
		ep.tls = true
	case "http":
	default:
		return endpoint{}, fmt.Errorf("Endpoint %q has scheme %q: use https:// (or http://host:port for a local plaintext server)", shown, u.Scheme)
	}
	if u.User != nil {
		return endpoint{}, fmt.Errorf("Endpoint %q must not contain user information", shown)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" {
		return endpoint{}, fmt.Errorf("Endpoint %q must be a bare host (no path, query or fragment)", shown)
	}
	ep.host = u.Hostname()
	if ep.host == "" {
		return endpoint{}, fmt.Errorf("Endpoint %q has no host", shown)
	}
	port := u.Port()
	if port == "" {
		if !ep.tls {
			return endpoint{}, fmt.Errorf("Endpoint %q: a plaintext http:// endpoint needs an explicit port", shown)
		}
		port = "443"
	}
	ep.target = net.JoinHostPort(ep.host, port)
	ep.workspaceID, _, _ = strings.Cut(ep.host, ".")
	return ep, nil
}

// redactURLUser hides user:password in a URL-ish string.
func redactURLUser(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		rest, scheme = raw, ""
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = redacted + rest[at:]
	}
	if scheme == "" {
		return rest
	}
	return scheme + "://" + rest
}

// urlErrCause drops the *url.Error wrapper, whose text quotes the whole
// (unredacted) URL.
func urlErrCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// WorkspaceBase is the workspace URL the token endpoint and the Unity
// Catalog API hang off: without surrounding blanks, a trailing "/", a query
// or a fragment. A workspace URL copied from the browser often carries the
// workspace id as "?o=<id>" (Azure), which made the token URL
// ".../?o=<id>/oidc/v1/token" and failed every send with "no token endpoint
// at unity_catalog_url". A string that is not an absolute URL is only
// trimmed (the checks that use it report it).
func WorkspaceBase(s string) string {
	s = strings.TrimSpace(s)
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = "", "", "", false
		s = u.String()
	}
	return strings.TrimRight(s, "/")
}

// tokenURL derives the OAuth token endpoint from the workspace URL.
func tokenURL(workspaceURL string) (string, error) {
	s := WorkspaceBase(workspaceURL)
	if s == "" {
		return "", fmt.Errorf("WorkspaceURL is empty: set it to https://<workspace>.cloud.databricks.com (needed for OAuth unless HeadersProvider is set)")
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("WorkspaceURL %q is not a valid URL: %v", redactURLUser(workspaceURL), urlErrCause(err))
	}
	if u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
		return "", fmt.Errorf("WorkspaceURL %q must be an absolute http(s) URL", redactURLUser(workspaceURL))
	}
	if u.User != nil {
		return "", fmt.Errorf("WorkspaceURL %q must not contain user information", redactURLUser(workspaceURL))
	}
	return s + "/oidc/v1/token", nil
}

// splitTable validates "catalog.schema.table": exactly three non-empty parts
// of ASCII letters, digits and '_'.
func splitTable(name string) (catalog, schema, table string, err error) {
	parts := strings.Split(name, ".")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("TableName %q must have exactly three dot-separated parts: catalog.schema.table", name)
	}
	for i, p := range parts {
		if p == "" {
			return "", "", "", fmt.Errorf("TableName %q has an empty %s part", name, [...]string{"catalog", "schema", "table"}[i])
		}
		for _, r := range p {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				return "", "", "", fmt.Errorf("TableName %q: %s part %q may only contain ASCII letters, digits and '_'",
					name, [...]string{"catalog", "schema", "table"}[i], p)
			}
		}
	}
	return parts[0], parts[1], parts[2], nil
}
