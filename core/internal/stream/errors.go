package stream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/plural"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrClosed is returned by Send, SendJSON, Flush and OpenStream after Close.
var ErrClosed = errors.New("zerobus: stream closed")

// ErrWithdrawn resolves a request removed from the queue by Stream.Withdraw
// before any RPC carried it.
var ErrWithdrawn = errors.New("zerobus: request withdrawn before it was sent")

// ErrAbandoned resolves a request its caller gave up on (Stream.GiveUp)
// after an RPC carried it, when the stream drops it rather than write it
// again on a new RPC. It may have been stored, once.
var ErrAbandoned = errors.New("zerobus: request abandoned by its caller after it was sent")

// causeText is err's message without the "zerobus: " prefix, for a cause
// embedded in another message of this package (one prefix per message).
func causeText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return strings.TrimPrefix(err.Error(), "zerobus: ")
}

// errClientClosed is returned by OpenStream after Client.Close.
var errClientClosed = fmt.Errorf("zerobus: client closed: %w", ErrClosed)

// ServerError is a gRPC status the Zerobus server ended an RPC with (or that
// grpc-go reported for it). Messages are redacted of known secrets.
type ServerError struct {
	// Code is the gRPC status code.
	Code codes.Code
	// Message is the status message.
	Message string
	// Reason is the google.rpc.ErrorInfo reason, if the status carried one
	// (e.g. "SCHEMA_VALIDATION_FAILED").
	Reason string
	// Causes lists the ErrorInfo "causes" metadata (e.g. FIELD_NOT_IN_TABLE,
	// MISSING_REQUIRED_COLUMN), if any.
	Causes []string
}

// Error implements error.
func (e *ServerError) Error() string {
	var b strings.Builder
	b.WriteString("zerobus: server returned ")
	b.WriteString(CodeName(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Reason != "" {
		b.WriteString(" (reason ")
		b.WriteString(e.Reason)
		b.WriteString(")")
	}
	if len(e.Causes) > 0 {
		b.WriteString(" (causes: ")
		b.WriteString(strings.Join(e.Causes, ", "))
		b.WriteString(")")
	}
	return b.String()
}

// CodeName is the canonical name of a gRPC code as the protocol spells it
// and every message and grpc_code shows it: "UNAVAILABLE",
// "INVALID_ARGUMENT", "OK" ("CODE_17" for codes gRPC does not define); not
// Go's "InvalidArgument".
func CodeName(c codes.Code) string {
	s := c.String() // "InvalidArgument", or "Code(17)"
	if strings.HasPrefix(s, "Code(") {
		return "CODE_" + strings.TrimSuffix(strings.TrimPrefix(s, "Code("), ")")
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && unicode.IsUpper(r) && unicode.IsLower(rune(s[i-1])) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// GRPCStatus lets status.FromError and status.Code see the code.
func (e *ServerError) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// AuthError reports that authentication or authorization failed: the token
// endpoint rejected the client credentials, the headers provider failed, or
// the Zerobus server rejected the token (UNAUTHENTICATED) or the privileges
// (PERMISSION_DENIED) even after one retry with a fresh token. It never
// contains the client secret or a token.
type AuthError struct {
	// What names the credential or privilege that is wrong, as advice for
	// the operator (e.g. "client_id/client_secret rejected by the token endpoint").
	What string
	// Keys are the settings What names, by key ("client_id", ...), when the
	// failure points at settings (nil for missing grants, a proxy, ...);
	// core's AuthenticationError reports them.
	Keys []string
	// Err is the underlying *TokenError, *ServerError or headers-provider error.
	Err error
}

// Error implements error.
func (e *AuthError) Error() string {
	if e.Err == nil {
		return "zerobus: authentication failed: " + e.What
	}
	return "zerobus: authentication failed: " + e.What + ": " + causeText(e.Err)
}

// Unwrap returns the cause.
func (e *AuthError) Unwrap() error { return e.Err }

// TokenError is a failure of the OAuth token endpoint.
type TokenError struct {
	// URL is the token endpoint (no credentials in it).
	URL string
	// StatusCode is the final HTTP status, or 0 for a network error.
	StatusCode int
	// ErrorCode and Description are the RFC 6749 "error" and
	// "error_description" fields of the response, if present.
	ErrorCode, Description string
	// Retryable reports whether another attempt may succeed: true for 5xx,
	// 408, 429 (rate limited), network errors and timeouts; false for other 4xx
	// and a missing access_token.
	Retryable bool
	// Err is the sanitized cause (its text is redacted of secrets).
	Err error
	// ProxyAddr is the proxy's host:port when the request could not reach
	// its proxy (Err is then the network's cause, "connection refused"),
	// and ProxySetting where the proxy came from: "Proxy" (Config.Proxy)
	// or "HTTPS_PROXY" (the environment).
	ProxyAddr, ProxySetting string
}

// Error implements error.
func (e *TokenError) Error() string {
	var b strings.Builder
	b.WriteString("zerobus: token request to ")
	b.WriteString(e.URL)
	b.WriteString(" failed")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	if e.ProxyAddr != "" {
		b.WriteString(": cannot reach the proxy " + e.ProxyAddr)
	}
	if d := e.Detail(); d != "" {
		b.WriteString(": ")
		b.WriteString(d)
	}
	return b.String()
}

// Detail is what went wrong without the URL and the HTTP status: the
// endpoint's error and description, else the cause ("" if neither), for a
// message that names the URL and status itself.
func (e *TokenError) Detail() string {
	switch {
	case e.ErrorCode != "" && e.Description != "":
		return e.ErrorCode + " (" + e.Description + ")"
	case e.ErrorCode != "":
		return e.ErrorCode
	case e.Err != nil:
		return e.Err.Error()
	}
	return ""
}

// Unwrap returns the sanitized cause.
func (e *TokenError) Unwrap() error { return e.Err }

// RetryExhaustedError reports that a stream could not be created or recovered
// within the retry policy. Last is the error of the final attempt.
type RetryExhaustedError struct {
	// Attempts is how many tries were made in a row.
	Attempts int
	// Last is the error of the final attempt.
	Last error
}

// Error implements error.
func (e *RetryExhaustedError) Error() string {
	return GaveUpAfter(e.Attempts) + ": " + causeText(e.Last)
}

// GaveUpAfter is how a retry-exhausted error starts: "zerobus: gave up
// after 3 attempts" ("1 attempt").
func GaveUpAfter(attempts int) string {
	return "zerobus: gave up after " + plural.Of(attempts, "attempt")
}

// Unwrap returns Last.
func (e *RetryExhaustedError) Unwrap() error { return e.Last }

// ConnectionError is a transport-level failure: the connection could not be
// set up or broke, the server ended the RPC without a status, or no
// acknowledgement arrived within AckTimeout. It is retryable.
type ConnectionError struct {
	// Op is the phase: "dial", "create", "send", "recv" or "ack-timeout".
	Op string
	// Err is the cause: a *TransportError (grpc-go's UNAVAILABLE for a
	// connection that could not be opened or broke), a *ServerError with
	// code UNAVAILABLE (the server's, when Answered), or another error.
	Err error
	// Answered reports that the server itself ended the RPC with Err's
	// UNAVAILABLE status (response headers or trailers came): the endpoint
	// was reached and is (for now) unavailable, not unreachable.
	Answered bool
}

// Error implements error.
func (e *ConnectionError) Error() string {
	return "zerobus: connection failed (" + e.Op + "): " + causeText(e.Err)
}

// Unwrap returns the cause.
func (e *ConnectionError) Unwrap() error { return e.Err }

// TransportError is an UNAVAILABLE status that grpc-go made on the client
// because the connection to the endpoint (or to Config.Proxy) could not be
// opened or broke: nothing answered, so it is no *ServerError and no
// message says "server returned". Its text is what happened, cut to the
// network's own cause ("cannot connect to 127.0.0.1:1: connection refused",
// "the connection closed (EOF)"), without grpc-go's wrapping; GRPCStatus
// keeps the status (UNAVAILABLE) for status.Code and grpc_code. It is the
// cause of a retryable *ConnectionError.
type TransportError struct {
	// Dial reports that the connection could not be opened (refused, timed
	// out, no route, a failed TLS handshake); false: an open connection
	// broke or closed.
	Dial bool
	// Proxy reports that the failure was on the way through Config.Proxy:
	// the proxy could not be reached (Addr is the proxy's) or refused the
	// tunnel.
	Proxy bool
	// Addr is the address (host:port) dialed or connected to, "" when
	// grpc-go's text names none.
	Addr string
	// Cause is what the network or TLS layer reported, e.g. "connection
	// refused", "i/o timeout", "EOF".
	Cause string
	// Status is grpc-go's status message (redacted of secrets).
	Status string
}

// Error implements error.
func (e *TransportError) Error() string {
	switch {
	case e.Proxy && e.Addr != "":
		return "cannot connect to the HTTP proxy " + e.Addr + ": " + e.Cause
	case e.Proxy:
		return "the HTTP proxy failed: " + e.Cause
	case e.Dial && e.Addr != "":
		return "cannot connect to " + e.Addr + ": " + e.Cause
	case e.Dial:
		return "cannot connect: " + e.Cause
	case e.Cause == "EOF":
		return "the connection closed (EOF)"
	}
	return "the connection broke: " + e.Cause
}

// GRPCStatus is grpc-go's status (UNAVAILABLE).
func (e *TransportError) GRPCStatus() *status.Status { return status.New(codes.Unavailable, e.Status) }

// netOpText is the text of a *net.OpError: "dial tcp 127.0.0.1:1: connect:
// connection refused", "read tcp 127.0.0.1:5->127.0.0.1:1: read: connection
// reset by peer".
var netOpText = regexp.MustCompile(`^(?:dial|read|write) (?:tcp[46]?|udp[46]?|unix) (\S+?)(?:->(\S+))?: (.*)$`)

// netCause cuts the text of a *net.OpError to its address (the remote
// one) and its last cause ("connection refused"); ok is false for other
// text.
func netCause(s string) (addr, cause string, ok bool) {
	m := netOpText.FindStringSubmatch(s)
	if m == nil {
		return "", "", false
	}
	addr = m[1]
	if m[2] != "" {
		addr = m[2]
	}
	cause = m[3]
	if i := strings.LastIndex(cause, ": "); i >= 0 {
		cause = cause[i+2:]
	}
	return addr, cause, true
}

// transportError returns the *TransportError for an UNAVAILABLE status
// message msg that grpc-go made on the client for a connection that could
// not be opened or broke, or nil for any other message (the server's own,
// or one this package does not know).
func transportError(msg string) *TransportError {
	inner := msg
	wrapped := false
	if rest, ok := strings.CutPrefix(msg, "connection error: desc = "); ok {
		if uq, err := strconv.Unquote(rest); err == nil {
			inner, wrapped = uq, true
		}
	}
	e := &TransportError{Status: msg}
	switch {
	case strings.HasPrefix(inner, "transport: Error while dialing: "):
		e.Dial = true
		d := strings.TrimPrefix(inner, "transport: Error while dialing: ")
		if rest, ok := strings.CutPrefix(d, "HTTP proxy "); ok {
			// proxyDialer's "HTTP proxy URL: CONNECT addr: cause"
			e.Proxy = true
			if i := strings.Index(rest, ": CONNECT "); i >= 0 {
				rest = rest[i+len(": CONNECT "):]
				if j := strings.Index(rest, ": "); j >= 0 {
					rest = rest[j+2:]
				}
			}
			if addr, cause, ok := netCause(rest); ok && strings.HasPrefix(rest, "dial ") {
				e.Addr, e.Cause = addr, cause // the proxy could not be reached
			} else {
				e.Cause = rest // the proxy was reached and failed the tunnel
			}
			return e
		}
		if addr, cause, ok := netCause(d); ok {
			e.Addr, e.Cause = addr, cause
		} else {
			e.Cause = d
		}
	case strings.HasPrefix(inner, "transport: authentication handshake failed: "):
		e.Dial = true
		e.Cause = "TLS handshake failed: " + strings.TrimPrefix(inner, "transport: authentication handshake failed: ")
	case strings.HasPrefix(inner, "error reading from server: "), strings.HasPrefix(inner, "error reading server preface: "):
		_, rest, _ := strings.Cut(inner, ": ")
		if addr, cause, ok := netCause(rest); ok {
			e.Addr, e.Cause = addr, cause
		} else {
			e.Cause = rest
		}
	case wrapped:
		e.Cause = strings.TrimPrefix(inner, "transport: ")
	default:
		return nil
	}
	return e
}

// HostNotFoundError reports that the host of the Endpoint or of the
// WorkspaceURL does not exist in DNS ("no such host"). It is not retryable:
// the name is wrong (a typo, a missing workspace id) far more often than
// the DNS is briefly out of date. Temporary DNS failures (timeouts, a
// resolver that cannot be reached) stay retryable *ConnectionError or
// *TokenError.
type HostNotFoundError struct {
	// Host is the name that did not resolve.
	Host string
	// Setting is the Config field the name came from: "Endpoint",
	// "WorkspaceURL" or "Proxy" (or "HTTPS_PROXY": a proxy from the
	// environment).
	Setting string
	// Err is the resolver's error.
	Err error
}

// Error implements error.
func (e *HostNotFoundError) Error() string {
	key := SettingKey(e.Setting)
	return fmt.Sprintf("zerobus: host %s not found: the name in %s does not resolve in DNS (check %s)", e.Host, key, key)
}

// Unwrap returns the resolver's error.
func (e *HostNotFoundError) Unwrap() error { return e.Err }

// hostNotFound returns a *HostNotFoundError for host when err is a DNS
// "no such host" answer, else nil.
func hostNotFound(err error, host, setting string) *HostNotFoundError {
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return &HostNotFoundError{Host: host, Setting: setting, Err: err}
	}
	return nil
}

// HTTPHostNotFound returns a *HostNotFoundError when err, the failure of
// an HTTP request to the workspace (the token endpoint, Unity Catalog), is
// a DNS "no such host" answer, else nil. When the request went through a
// proxy whose own name did not resolve, the error names the proxy's host
// (proxyHost, Config.Proxy's; "" for a proxy from the environment, named by
// the name that failed) and the proxy's setting, not host.
func HTTPHostNotFound(err error, host, proxyHost string) *HostNotFoundError {
	var de *net.DNSError
	if !errors.As(err, &de) || !de.IsNotFound {
		return nil
	}
	var op *net.OpError
	viaProxy := errors.As(err, &op) && op.Op == "proxyconnect"
	switch {
	case proxyHost != "" && (viaProxy || strings.EqualFold(strings.TrimSuffix(de.Name, "."), proxyHost)):
		return &HostNotFoundError{Host: proxyHost, Setting: "Proxy", Err: err}
	case viaProxy:
		return &HostNotFoundError{Host: de.Name, Setting: "HTTPS_PROXY", Err: err}
	}
	return &HostNotFoundError{Host: host, Setting: "WorkspaceURL", Err: err}
}

// CertificateError reports that a server's TLS certificate failed
// verification in the handshake: signed by a CA this client does not trust,
// expired, or issued for another name. It is not retryable: the same
// certificate fails the same way on every attempt. The gRPC connection, the
// token request, the Unity Catalog request and an https proxy all report it.
// With Err a *TLSMismatchError the handshake failed because the two sides
// do not speak the same protocol (an https:// URL answered in plaintext, an
// endpoint without HTTP/2), which is just as final.
type CertificateError struct {
	// Host is the name of the server that presented the certificate.
	Host string
	// Setting is the Config field the host came from: "Endpoint",
	// "WorkspaceURL" or "Proxy".
	Setting string
	// Err is the crypto/tls or crypto/x509 verification error.
	Err error
	// CAFile is the tls_ca_file the certificate was verified with ("" when
	// none was given, or not known), named by the hint of an unknown
	// authority: that file replaces the system roots.
	CAFile string
}

// Error implements error. It names the setting by its key (endpoint,
// unity_catalog_url, proxy_url), as every message users read does.
func (e *CertificateError) Error() string {
	key := SettingKey(e.Setting)
	var mm *TLSMismatchError
	if errors.As(e.Err, &mm) {
		return fmt.Sprintf("zerobus: TLS handshake with %s (%s) failed: %s (%s)", e.Host, key, mm.Error(), mm.Hint())
	}
	return fmt.Sprintf("zerobus: the TLS certificate of %s (%s) failed verification: %s", e.Host, key, causeText(e.Err))
}

// SettingKey is the key (the Python keyword and YAML key) of the setting a
// *HostNotFoundError's or *CertificateError's Setting names: "Endpoint" ->
// "endpoint", "WorkspaceURL" -> "unity_catalog_url", "Proxy" ->
// "proxy_url"; "HTTPS_PROXY" and anything else as given.
func SettingKey(setting string) string {
	switch setting {
	case "Endpoint":
		return "endpoint"
	case "WorkspaceURL":
		return "unity_catalog_url"
	case "Proxy":
		return "proxy_url"
	}
	return setting
}

// TLSMismatchError is the cause of a *CertificateError when a TLS
// handshake failed because the two sides do not speak the same protocol,
// which no retry changes: an https:// setting pointed at a plaintext port
// (the server's first bytes are no TLS record, or it answered plain HTTP),
// or the endpoint pointed at a TLS server that does not speak gRPC's
// HTTP/2 (it refused the h2 protocol: the workspace URL given as the
// endpoint).
type TLSMismatchError struct {
	// Setting is the Config field whose URL was used: "Endpoint",
	// "WorkspaceURL" or "Proxy" (SettingKey names its key).
	Setting string
	// Addr is the host:port that answered.
	Addr string
	// NoH2 reports a TLS server that refused HTTP/2 (tls: no application
	// protocol); false: the server answered plaintext.
	NoH2 bool
	// HTTP reports that the plaintext answer was an HTTP response.
	HTTP bool
}

// Error implements error: what happened, naming the key and the address.
func (e *TLSMismatchError) Error() string {
	key := SettingKey(e.Setting)
	switch {
	case e.NoH2:
		return fmt.Sprintf("%s is https:// and %s speaks TLS, but not gRPC's HTTP/2 (tls: no application protocol)", key, e.Addr)
	case e.HTTP:
		return fmt.Sprintf("%s is https:// but %s answered plaintext HTTP, not TLS", key, e.Addr)
	}
	return fmt.Sprintf("%s is https:// but %s answered plaintext, not TLS (its first bytes are no TLS record)", key, e.Addr)
}

// Hint is what to do about it.
func (e *TLSMismatchError) Hint() string {
	key := SettingKey(e.Setting)
	switch {
	case e.NoH2 && e.Setting == "Endpoint":
		return "is endpoint the workspace URL? the Zerobus endpoint is https://<workspace-id>.zerobus.<region>.cloud.databricks.com, the workspace's URL goes in unity_catalog_url"
	case e.NoH2:
		return "check " + key
	}
	return "use http:// in " + key + " for a local plaintext server, or give the server's TLS port"
}

// TLSMismatchHint returns the hint of a *TLSMismatchError whose text msg
// holds (the messages of core carry the error as text), "" when it holds
// none.
func TLSMismatchHint(msg string) string {
	switch {
	case strings.Contains(msg, " speaks TLS, but not gRPC's HTTP/2"):
		if strings.Contains(msg, "endpoint is https://") {
			return (&TLSMismatchError{Setting: "Endpoint", NoH2: true}).Hint()
		}
		return "check the URL"
	case strings.Contains(msg, " answered plaintext"):
		for _, s := range []string{"Endpoint", "WorkspaceURL", "Proxy"} {
			if strings.Contains(msg, SettingKey(s)+" is https://") {
				return (&TLSMismatchError{Setting: s}).Hint()
			}
		}
		return "use http:// for a local plaintext server"
	}
	return ""
}

// tlsMismatch returns the *TLSMismatchError for err, a failed TLS
// handshake (or HTTPS request) to addr through the URL of setting, when the
// two sides do not speak the same protocol; nil otherwise.
func tlsMismatch(err error, addr, setting string) *TLSMismatchError {
	if err == nil {
		return nil
	}
	var rh tls.RecordHeaderError
	msg := err.Error()
	switch {
	case errors.As(err, &rh):
		// an HTTP server's plaintext answer starts with "HTTP/"
		return &TLSMismatchError{Setting: setting, Addr: addr, HTTP: string(rh.RecordHeader[:]) == "HTTP/"}
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"), strings.Contains(msg, "first record does not look like a TLS handshake"):
		return &TLSMismatchError{Setting: setting, Addr: addr, HTTP: strings.Contains(msg, "HTTP response")}
	case strings.Contains(msg, "tls: no application protocol"):
		return &TLSMismatchError{Setting: setting, Addr: addr, NoH2: true}
	}
	return nil
}

// handshakeFailure is certFailure, or a *CertificateError whose Err is the
// *TLSMismatchError of a protocol mismatch with addr: a failed TLS
// handshake that no retry changes. nil otherwise.
func handshakeFailure(err error, host, addr, setting string) *CertificateError {
	if ce := certFailure(err, host, setting); ce != nil {
		return ce
	}
	if mm := tlsMismatch(err, addr, setting); mm != nil {
		return &CertificateError{Host: host, Setting: setting, Err: mm}
	}
	return nil
}

// Unwrap returns the verification error.
func (e *CertificateError) Unwrap() error { return e.Err }

// certFailure returns a *CertificateError for host when err's chain holds
// a certificate verification failure, else nil.
func certFailure(err error, host, setting string) *CertificateError {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		ci x509.CertificateInvalidError
		hn x509.HostnameError
	)
	switch {
	case errors.As(err, &ua) && ua.Cert != nil:
		// name the issuer: the CA to put in tls_ca_file (or that the one
		// there is not)
		var cause error = ua
		if errors.As(err, &cv) {
			cause = cv
		}
		return &CertificateError{Host: host, Setting: setting, Err: &issuerError{err: cause, issuer: ua.Cert.Issuer.String()}}
	case errors.As(err, &cv):
		return &CertificateError{Host: host, Setting: setting, Err: cv}
	case errors.As(err, &ua):
		return &CertificateError{Host: host, Setting: setting, Err: ua}
	case errors.As(err, &ci):
		return &CertificateError{Host: host, Setting: setting, Err: ci}
	case errors.As(err, &hn):
		return &CertificateError{Host: host, Setting: setting, Err: hn}
	}
	return nil
}

// issuerError is a certificate signed by an unknown authority, its text
// naming the certificate's issuer.
type issuerError struct {
	err    error
	issuer string
}

func (e *issuerError) Error() string {
	return e.err.Error() + " (the certificate's issuer: " + e.issuer + ")"
}
func (e *issuerError) Unwrap() error { return e.err }

// HTTPCertFailure is certFailure for an error of an HTTP request to the
// workspace (WorkspaceURL's host): the certificate is the workspace's, or
// the https proxy's when the failure was on the proxy connection
// (proxyHost is Config.Proxy's host name, "" for a proxy from the
// environment).
//
// It also returns a *CertificateError (its Err a *TLSMismatchError) for an
// https:// URL whose server answered plaintext (an https:// proxy_url, or
// unity_catalog_url): that too fails the same way on every attempt.
func HTTPCertFailure(err error, host, proxyHost string) *CertificateError {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "proxyconnect" {
		addr := ""
		if op.Addr != nil {
			addr = op.Addr.String()
		}
		if proxyHost == "" {
			proxyHost = "the HTTPS proxy from the environment (HTTPS_PROXY)"
		}
		if addr == "" {
			addr = proxyHost
		}
		return handshakeFailure(err, proxyHost, addr, "Proxy")
	}
	return handshakeFailure(err, host, requestAddr(err, host), "WorkspaceURL")
}

// requestAddr is the host:port of the URL of err's *url.Error (the port
// the scheme's default when the URL has none), or host.
func requestAddr(err error, host string) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			port := u.Port()
			if port == "" {
				port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
			}
			return net.JoinHostPort(u.Hostname(), port)
		}
	}
	return host
}

// MessageTooLargeError is returned by Send when one request would exceed
// Config.MaxMessageBytes. Split the records over several requests.
type MessageTooLargeError struct {
	// Size is the encoded request size in bytes; Limit is MaxMessageBytes.
	Size, Limit int
	// Records is how many records the request had.
	Records int
}

// Error implements error.
func (e *MessageTooLargeError) Error() string {
	return fmt.Sprintf("zerobus: request of %d records encodes to %d bytes, over the max_message_bytes limit of %d: send fewer records per request",
		e.Records, e.Size, e.Limit)
}

// errServerEOF is the cause when the server ends an RPC cleanly while the
// client still expects acknowledgements.
var errServerEOF = errors.New("server ended the stream without a status")

// ackTimeoutError is the cause when no acknowledgement arrives in time.
type ackTimeoutError struct {
	after    time.Duration
	inflight int
}

func (e *ackTimeoutError) Error() string {
	return fmt.Sprintf("no acknowledgement for %s with %s in flight", e.after, plural.Of(e.inflight, "request"))
}

// AckTimeoutCause returns the cause of a *ConnectionError in err's chain
// raised because no acknowledgement arrived within AckTimeout ("no
// acknowledgement for 1s with 3 requests in flight"), or nil: the server
// was reached, so the caller's message names the setting, not the network.
func AckTimeoutCause(err error) error {
	var at *ackTimeoutError
	if errors.As(err, &at) {
		return at
	}
	return nil
}

// createTimeoutError is the cause when a stream's creation (its token
// included) does not complete within CreateTimeout.
type createTimeoutError struct {
	what  string // what did not come: "stream id", "READY from the Flight service"
	after time.Duration
}

func (e *createTimeoutError) Error() string {
	return fmt.Sprintf("no %s within create_timeout_ms (%d ms)", e.what, e.after.Milliseconds())
}

// CreateTimeout is the *ConnectionError of a stream's creation that did
// not complete within after (Config.CreateTimeout): what names what did not
// come ("stream id"). CreateTimeoutCause finds its cause.
func CreateTimeout(what string, after time.Duration) *ConnectionError {
	return &ConnectionError{Op: "create", Err: &createTimeoutError{what: what, after: after}}
}

// CreateTimeoutCause returns the cause of a *ConnectionError in err's
// chain raised because a stream's creation did not complete within
// CreateTimeout ("no stream id within create_timeout_ms (200 ms)"), or nil:
// the caller's message names the setting, as for AckTimeoutCause.
func CreateTimeoutCause(err error) error {
	var ct *createTimeoutError
	if errors.As(err, &ct) {
		return ct
	}
	return nil
}

// redactor removes known secrets (the client secret and recent tokens) from
// text that came from outside (server messages, HTTP errors).
type redactor struct {
	mu      sync.Mutex
	secrets []string // never empty strings; newest last; bounded
	kept    []string // configured secrets besides the client secret (the proxy password); never dropped
}

const redacted = "[REDACTED]"

// add remembers s as a secret (of any length but empty: clean redacts a
// short one where it stands as a token of its own).
func (r *redactor) add(s string) {
	if s == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.secrets {
		if x == s {
			return
		}
	}
	if len(r.secrets) >= 16 {
		// Keep the first (the client secret) and drop the oldest token.
		copy(r.secrets[1:], r.secrets[2:])
		r.secrets = r.secrets[:len(r.secrets)-1]
	}
	r.secrets = append(r.secrets, s)
}

// keep remembers s as a secret that is never dropped (of any length but
// empty, as add).
func (r *redactor) keep(s string) {
	if s == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.kept = append(r.kept, s)
}

// clean returns s with every known secret replaced (redactSecret), the
// longest first: a short secret standing as a token inside a longer one
// ("abc" in the proxy password "abc.Zx9-...") replaced first would leave
// the rest of the longer one shown.
func (r *redactor) clean(s string) string {
	if r == nil {
		return s
	}
	r.mu.Lock()
	all := append(slices.Clone(r.secrets), r.kept...)
	r.mu.Unlock()
	slices.SortStableFunc(all, func(a, b string) int { return len(b) - len(a) })
	for _, x := range all {
		if strings.Contains(s, x) {
			s = redactSecret(s, x)
		}
	}
	return s
}

// shortSecret is the length (in bytes) under which a secret is redacted
// only where it stands as a token of its own: a short secret is likely to
// occur inside ordinary words of a server's message (the secret "wrong"
// turned "... or wrong client secret" into "... or [REDACTED] client
// secret", "abc" would hide part of "abcdef"), and redacting those both
// garbles the message and tells what the secret is.
const shortSecret = 8

// redactSecret is s with secret x replaced by [REDACTED]: every occurrence
// when x has at least shortSecret bytes; when shorter, the occurrences that
// are whole tokens ("abc" and "token=abc", not the "abc" of "abcdef"). An
// occurrence is whole when the characters on each side of it are not word
// characters (letters, digits, '_'), checked on a side only where x itself
// begins or ends with a word character: a secret is never shown as a token
// of its own, whatever its length.
func redactSecret(s, x string) string {
	if len(x) >= shortSecret {
		return strings.ReplaceAll(s, x, redacted)
	}
	first, _ := utf8.DecodeRuneInString(x)
	last, _ := utf8.DecodeLastRuneInString(x)
	checkBefore, checkAfter := isWordRune(first), isWordRune(last)
	var b strings.Builder
	from := 0 // s[:from] is written
	for at := 0; at <= len(s)-len(x); {
		i := strings.Index(s[at:], x)
		if i < 0 {
			break
		}
		i += at
		end := i + len(x)
		before, _ := utf8.DecodeLastRuneInString(s[:i])
		after, _ := utf8.DecodeRuneInString(s[end:])
		whole := (!checkBefore || i == 0 || !isWordRune(before)) && (!checkAfter || end == len(s) || !isWordRune(after))
		if !whole {
			at = i + 1
			continue
		}
		b.WriteString(s[from:i])
		b.WriteString(redacted)
		from, at = end, end
	}
	if from == 0 {
		return s
	}
	b.WriteString(s[from:])
	return b.String()
}

// isWordRune reports whether r is a letter, a digit or '_' (the characters
// a token is made of; a short secret next to one is part of a longer word).
func isWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// cleanErr returns an error with err's text redacted; context errors are
// preserved so errors.Is still works.
func (r *redactor) cleanErr(err error) error {
	if err == nil {
		return nil
	}
	var (
		ae *AuthError
		hn *HostNotFoundError
		ce *CertificateError
	)
	if errors.As(err, &ae) || errors.As(err, &hn) || errors.As(err, &ce) {
		return err // built by this package from redacted parts; keep the type (not retryable)
	}
	msg := r.clean(err.Error())
	switch {
	case errors.Is(err, context.Canceled):
		return &redactedError{msg: msg, is: context.Canceled}
	case errors.Is(err, context.DeadlineExceeded):
		return &redactedError{msg: msg, is: context.DeadlineExceeded}
	}
	return &redactedError{msg: msg}
}

// redactedError is an error whose text was redacted; it keeps one sentinel
// for errors.Is.
type redactedError struct {
	msg string
	is  error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.is }

// serverError converts a gRPC status error to *ServerError (redacting the
// message). It returns nil for a nil error and for non-status errors.
func (r *redactor) serverError(err error) *ServerError {
	st, ok := status.FromError(err)
	if !ok || st == nil {
		return nil
	}
	se := &ServerError{Code: st.Code(), Message: r.clean(st.Message())}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok {
			continue
		}
		if se.Reason == "" {
			se.Reason = r.clean(info.GetReason())
		}
		if c, ok := info.GetMetadata()["causes"]; ok {
			se.Causes = append(se.Causes, splitCauses(r.clean(c))...)
		}
	}
	return se
}

// splitCauses parses the ErrorInfo "causes" metadata value, which may be a
// comma-separated list or a JSON-style array of strings.
func splitCauses(v string) []string {
	v = strings.TrimSpace(v)
	v = strings.TrimPrefix(v, "[")
	v = strings.TrimSuffix(v, "]")
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.Trim(strings.TrimSpace(p), `"'`)
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}
