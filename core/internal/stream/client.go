package stream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// Defaults of Config.
const (
	DefaultMaxInflightRequests       = 1000
	DefaultMaxInflightBytes    int64 = 64 << 20
	DefaultMaxMessageBytes           = 10<<20 - 64<<10
	DefaultCreateTimeout             = 15 * time.Second
	DefaultAckTimeout                = 60 * time.Second
	DefaultFlushTimeout              = 300 * time.Second
	// DefaultUserAgent identifies this client when Config.UserAgent is empty.
	DefaultUserAgent = "zerobus-wrapper-go/dev"
)

// grpcMsgHeadroom is added to MaxMessageBytes for grpc-go's own caps, so our
// check (with a precise error) always fires first.
const grpcMsgHeadroom = 1 << 20

// Config configures a Client. The zero value of every optional field means
// its default. Config's String, Format and LogValue redact the secret, so
// printing or logging a Config is safe.
type Config struct {
	// Endpoint is the Zerobus gRPC endpoint: "https://host[:port]" (TLS,
	// port 443 by default), "host[:port]" (same, https implied) or
	// "http://host:port" (plaintext, for local servers only). Required.
	Endpoint string
	// WorkspaceURL is the Databricks workspace URL whose /oidc/v1/token
	// issues OAuth tokens. Required unless HeadersProvider is set.
	WorkspaceURL string
	// TableName is "catalog.schema.table" (ASCII letters, digits, '_').
	// Required.
	TableName string
	// ClientID and ClientSecret are the service principal's OAuth
	// credentials. Required unless HeadersProvider is set. The secret never
	// appears in errors, logs or formatted output.
	ClientID, ClientSecret string
	// RootCAs verifies the server for https endpoints. Nil means the system
	// roots.
	RootCAs *x509.CertPool
	// HeadersProvider, when set, replaces OAuth: it is called before every
	// RPC and returns the metadata to send (normally "authorization" and
	// "x-databricks-zerobus-table-name"; the table name is added if
	// missing). On UNAUTHENTICATED or PERMISSION_DENIED it is called once
	// more before the stream fails. It must be safe for concurrent use.
	HeadersProvider func(ctx context.Context) (map[string]string, error)
	// HTTPClient performs token requests; it is wrapped by go-retryablehttp
	// (5xx, 408, 429 and network errors are retried with backoff, other 4xx
	// are final). Nil
	// means a client with a 30s timeout per attempt (see TokenTransport).
	HTTPClient *http.Client
	// Proxy, when set, is the HTTP proxy for all traffic, loopback targets
	// included: gRPC connections are HTTP CONNECT tunnels through it (TLS to
	// the proxy first for an https:// URL; Proxy-Authorization: Basic from
	// its user:password, if any), and the default token client sends its
	// requests through it (a caller's HTTPClient is used as given). Scheme
	// http or https, a host, an optional port (default 80 or 443), nothing
	// else. Nil means the environment (HTTPS_PROXY, NO_PROXY) as net/http
	// and grpc-go read it. Printed with its user information redacted.
	Proxy *url.URL
	// ProxyRootCAs verifies an https:// Proxy. Nil means the system roots.
	ProxyRootCAs *x509.CertPool
	// CAFile is the PEM file (tls_ca_file) RootCAs and ProxyRootCAs were
	// read from, and HTTPCAFile the one HTTPClient verifies with ("" when
	// none, or the caller's own client): a certificate error names it
	// (CertificateError.CAFile), as that file replaces the system roots.
	CAFile, HTTPCAFile string
	// MaxInflightRequests bounds the requests sent and not yet acknowledged
	// across all streams of the Client (one window they share); Send blocks
	// while it is reached. Default 1000.
	MaxInflightRequests int
	// MaxInflightBytes bounds the record bytes sent and not yet
	// acknowledged across all streams of the Client; Send blocks while it
	// is reached (a single request larger than this is admitted alone when
	// nothing else is in flight). Default 64 MiB.
	MaxInflightBytes int64
	// MaxMessageBytes caps one encoded request; Send rejects larger ones
	// with *MessageTooLargeError. Default 10 MiB - 64 KiB.
	MaxMessageBytes int
	// CreateTimeout bounds one stream-creation attempt, token fetch
	// included. Default 15s.
	CreateTimeout time.Duration
	// AckTimeout fails the RPC (retryably) when requests are in flight and
	// nothing arrives from the server for this long. Default 60s.
	AckTimeout time.Duration
	// FlushTimeout bounds Flush and the flush inside Close, in addition to
	// their context. Default 300s.
	FlushTimeout time.Duration
	// Retry is the reconnection policy. Zero value: 5 retries, 100ms base,
	// 30s cap, full jitter.
	Retry RetryPolicy
	// UserAgent is sent as the gRPC user-agent (grpc-go appends its own
	// token). Default DefaultUserAgent.
	UserAgent string
	// Telemetry receives metrics, spans and logs. Nil means telemetry.Nop().
	Telemetry *telemetry.Telemetry
}

// String describes the config with the secret redacted.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("stream.Config{")
	fmt.Fprintf(&b, "Endpoint:%q WorkspaceURL:%q TableName:%q ClientID:%q ClientSecret:%s",
		c.Endpoint, redactURLUser(c.WorkspaceURL), c.TableName, c.ClientID, secretMark(c.ClientSecret))
	fmt.Fprintf(&b, " RootCAs:%t HeadersProvider:%t HTTPClient:%t", c.RootCAs != nil, c.HeadersProvider != nil, c.HTTPClient != nil)
	fmt.Fprintf(&b, " Proxy:%q", c.proxyShown())
	fmt.Fprintf(&b, " MaxInflightRequests:%d MaxInflightBytes:%d MaxMessageBytes:%d", c.MaxInflightRequests, c.MaxInflightBytes, c.MaxMessageBytes)
	fmt.Fprintf(&b, " CreateTimeout:%s AckTimeout:%s FlushTimeout:%s", c.CreateTimeout, c.AckTimeout, c.FlushTimeout)
	fmt.Fprintf(&b, " Retry:{MaxAttempts:%d BaseDelay:%s MaxDelay:%s Backoff:%t}", c.Retry.MaxAttempts, c.Retry.BaseDelay, c.Retry.MaxDelay, c.Retry.Backoff != nil)
	fmt.Fprintf(&b, " UserAgent:%q}", c.UserAgent)
	return b.String()
}

// Format prints String for every verb (%v, %+v, %#v, %s, %q), so the secret
// cannot leak through fmt.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", c.String())
		return
	}
	_, _ = f.Write([]byte(c.String()))
}

// GoString is String (for %#v).
func (c Config) GoString() string { return c.String() }

// LogValue logs the config with the secret redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("endpoint", c.Endpoint),
		slog.String("workspace_url", redactURLUser(c.WorkspaceURL)),
		slog.String("table", c.TableName),
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", secretMark(c.ClientSecret)),
		slog.Bool("headers_provider", c.HeadersProvider != nil),
		slog.String("proxy", c.proxyShown()),
		slog.Int("max_inflight_requests", c.MaxInflightRequests),
		slog.Int64("max_inflight_bytes", c.MaxInflightBytes),
		slog.Int("max_message_bytes", c.MaxMessageBytes),
		slog.Duration("create_timeout", c.CreateTimeout),
		slog.Duration("ack_timeout", c.AckTimeout),
		slog.Duration("flush_timeout", c.FlushTimeout),
		slog.String("user_agent", c.UserAgent),
	)
}

// proxyShown is Proxy with its user information redacted ("" if nil).
func (c Config) proxyShown() string {
	if c.Proxy == nil {
		return ""
	}
	return proxyShown(c.Proxy)
}

func secretMark(s string) string {
	if s == "" {
		return `""`
	}
	return redacted
}

// withDefaults returns c with zero fields defaulted.
func (c Config) withDefaults() Config {
	if c.MaxInflightRequests == 0 {
		c.MaxInflightRequests = DefaultMaxInflightRequests
	}
	if c.MaxInflightBytes == 0 {
		c.MaxInflightBytes = DefaultMaxInflightBytes
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.CreateTimeout == 0 {
		c.CreateTimeout = DefaultCreateTimeout
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.FlushTimeout == 0 {
		c.FlushTimeout = DefaultFlushTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Telemetry == nil {
		c.Telemetry = telemetry.Nop()
	}
	c.Retry = c.Retry.withDefaults()
	return c
}

// Validate reports every problem of c at once (nil if none). Zero optional
// fields are fine: they mean the defaults.
func (c Config) Validate() error {
	var errs []error
	if _, err := parseEndpoint(c.Endpoint); err != nil {
		errs = append(errs, err)
	}
	if c.TableName == "" {
		errs = append(errs, errors.New("TableName is empty: set it to catalog.schema.table"))
	} else if _, _, _, err := splitTable(c.TableName); err != nil {
		errs = append(errs, err)
	}
	if c.HeadersProvider == nil {
		if c.ClientID == "" {
			errs = append(errs, errors.New("ClientID is empty: set the service principal's OAuth client id (or a HeadersProvider)"))
		}
		if c.ClientSecret == "" {
			errs = append(errs, errors.New("ClientSecret is empty: set the service principal's OAuth secret (or a HeadersProvider)"))
		}
		if _, err := tokenURL(c.WorkspaceURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Proxy != nil {
		if msg := CheckProxy(c.Proxy); msg != "" {
			errs = append(errs, fmt.Errorf("Proxy %q %s", c.proxyShown(), msg))
		}
	}
	if c.MaxInflightRequests < 0 {
		errs = append(errs, fmt.Errorf("MaxInflightRequests is %d: must be positive (0 means %d)", c.MaxInflightRequests, DefaultMaxInflightRequests))
	}
	if c.MaxInflightBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxInflightBytes is %d: must be positive (0 means %d)", c.MaxInflightBytes, DefaultMaxInflightBytes))
	}
	if c.MaxMessageBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxMessageBytes is %d: must be positive (0 means %d)", c.MaxMessageBytes, DefaultMaxMessageBytes))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"CreateTimeout", c.CreateTimeout}, {"AckTimeout", c.AckTimeout}, {"FlushTimeout", c.FlushTimeout},
		{"Retry.BaseDelay", c.Retry.BaseDelay}, {"Retry.MaxDelay", c.Retry.MaxDelay}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s is %s: must not be negative (0 means the default)", d.name, d.v))
		}
	}
	for _, r := range c.UserAgent {
		if r < 0x20 || r > 0x7e {
			errs = append(errs, fmt.Errorf("UserAgent %q: only printable ASCII is allowed", c.UserAgent))
			break
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("zerobus: invalid stream config: %w", errors.Join(errs...))
}

// Client holds one gRPC connection (shared by its streams) and the token
// cache for one (client id, secret, table). It is safe for concurrent use.
type Client struct {
	cfg   *Config // defaulted; a pointer so that no fmt path prints it raw (a bad verb on a struct holding a *Client prints that struct field by field)
	ep    endpoint
	conn  *grpc.ClientConn
	rpc   zerobuspb.ZerobusClient
	auth  *auth
	red   *redactor
	tel   *telemetry.Telemetry
	retry RetryPolicy

	routeOK atomic.Bool // checkRoute has passed once
	dials   *dialState  // what the last connection attempt met (proxy 407, an untrusted certificate)
	win     *window     // the in-flight window shared by every stream of the client

	mu      sync.Mutex
	closed  bool
	streams map[*Stream]struct{}
}

// NewClient validates cfg and prepares a lazily connecting gRPC client
// (grpc.NewClient): no network I/O happens until a stream opens.
func NewClient(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	ep, _ := parseEndpoint(cfg.Endpoint)
	red := &redactor{}
	red.add(cfg.ClientSecret)
	// Also the forms the secret travels in (escaped, inside a Basic
	// credential), which an endpoint or proxy may echo in its error.
	red.keepCredential(cfg.ClientID, cfg.ClientSecret)
	if cfg.Proxy != nil {
		if pw, ok := cfg.Proxy.User.Password(); ok {
			red.keepCredential(cfg.Proxy.User.Username(), pw)
		}
	}
	a, err := newAuth(&cfg, ep, red, cfg.Telemetry, cfg.Retry)
	if err != nil {
		return nil, fmt.Errorf("zerobus: invalid stream config: %w", err)
	}
	dials := &dialState{caFile: cfg.CAFile}
	var creds credentials.TransportCredentials
	if ep.tls {
		creds = &certNotingCreds{
			TransportCredentials: credentials.NewTLS(&tls.Config{RootCAs: cfg.RootCAs, ServerName: ep.host, MinVersion: tls.VersionTLS12}),
			dials:                dials, host: ep.host, target: ep.target,
		}
	} else {
		creds = insecure.NewCredentials()
	}
	target := ep.target
	var dial func(context.Context, string) (net.Conn, error) // the proxy's, if any
	opts := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent(cfg.UserAgent),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallSendMsgSize(cfg.MaxMessageBytes+grpcMsgHeadroom),
			grpc.MaxCallRecvMsgSize(cfg.MaxMessageBytes+grpcMsgHeadroom),
		),
	}
	if cfg.Proxy != nil {
		// passthrough: the proxy resolves the endpoint's name, as it would
		// for grpc-go's own proxy support.
		target = "passthrough:///" + ep.target
		pd := proxyDialer(cfg.Proxy, cfg.ProxyRootCAs)
		dial = func(ctx context.Context, addr string) (net.Conn, error) {
			conn, err := pd(ctx, addr)
			dials.note(err)
			ce := handshakeFailure(err, cfg.Proxy.Hostname(), cfg.Proxy.Host, "Proxy")
			if ce != nil && tlsMismatch(err, "", "") == nil {
				ce.Err = err // the dial error names the proxy's address (never its password)
			}
			dials.noteCert(ce)
			return conn, err
		}
		opts = append(opts, grpc.WithNoProxy(), grpc.WithContextDialer(dial))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		return nil, &ConnectionError{Op: "dial", Err: red.cleanErr(err)}
	}
	return &Client{
		cfg:     &cfg,
		ep:      ep,
		conn:    conn,
		rpc:     &dialAwareClient{ZerobusClient: zerobuspb.NewZerobusClient(conn), dials: dials, proxy: cfg.proxyShown()},
		auth:    a,
		red:     red,
		dials:   dials,
		tel:     cfg.Telemetry,
		retry:   cfg.Retry,
		win:     newWindow(cfg.MaxInflightRequests, cfg.MaxInflightBytes),
		streams: map[*Stream]struct{}{},
	}, nil
}

// String describes the client without secrets.
func (c *Client) String() string {
	return fmt.Sprintf("stream.Client{endpoint=%s table=%s}", c.cfg.Endpoint, c.cfg.TableName)
}

// Format prints String for every verb so no field (the secret, tokens) can
// leak through fmt.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// OpenStream creates a stream on a new RPC: it fetches a token (or calls the
// HeadersProvider), sends create_stream and waits for the stream id, retrying
// retryable failures per Config.Retry (each attempt bounded by
// CreateTimeout). desc is the record schema for PROTO streams and must be nil
// for JSON streams. It blocks until the stream is ready, ctx ends, or the
// attempts fail. Safe for concurrent use.
func (c *Client) OpenStream(ctx context.Context, desc *descriptorpb.DescriptorProto, rt zerobuspb.RecordType) (*Stream, error) {
	var descBytes []byte
	switch rt {
	case zerobuspb.RecordType_PROTO:
		if desc == nil {
			return nil, errors.New("zerobus: OpenStream: a PROTO stream needs a DescriptorProto")
		}
		b, err := proto.Marshal(desc)
		if err != nil {
			return nil, fmt.Errorf("zerobus: OpenStream: cannot encode the DescriptorProto %q: %w", desc.GetName(), err)
		}
		descBytes = b
	case zerobuspb.RecordType_JSON:
		if desc != nil {
			return nil, errors.New("zerobus: OpenStream: a JSON stream takes no DescriptorProto (pass nil)")
		}
	default:
		return nil, fmt.Errorf("zerobus: OpenStream: record type %v is not supported (use PROTO or JSON)", rt)
	}
	if err := c.checkRoute(ctx); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errClientClosed
	}
	s := newStream(c, descBytes, rt)
	c.streams[s] = struct{}{}
	c.mu.Unlock()
	if err := s.open(ctx); err != nil {
		c.forget(s)
		return nil, err
	}
	return s, nil
}

// routeCheckTimeout bounds the DNS lookup of checkRoute.
const routeCheckTimeout = 5 * time.Second

// lookupHost resolves a host name (net.DefaultResolver; tests replace it).
var lookupHost = net.DefaultResolver.LookupHost

// CheckRoute is the check every OpenStream makes before its first RPC
// (checkRoute), for the streams of other transports on this client's
// connection (Arrow Flight), so that a host name that does not exist fails
// them at once in the same way.
func (c *Client) CheckRoute(ctx context.Context) error { return c.checkRoute(ctx) }

// checkRoute fails OpenStream at once with a *HostNotFoundError when the
// name of the host connections go to does not exist in DNS: the endpoint's,
// or Config.Proxy's when one is set (Setting "Proxy"; the proxy resolves
// the endpoint's name itself). Once a stream RPC fails, gRPC reports only
// UNAVAILABLE, which is retried. Until a lookup has succeeded once, every
// OpenStream checks; any other outcome (an IP address, a proxy from the
// environment, which resolves names itself, a lookup that fails for another
// reason) leaves the connection attempt to report it.
func (c *Client) checkRoute(ctx context.Context) error {
	if c.routeOK.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, routeCheckTimeout)
	defer cancel()
	host, setting := c.ep.host, "Endpoint"
	if c.cfg.Proxy != nil {
		host, setting = c.cfg.Proxy.Hostname(), "Proxy"
	} else if envProxyFor(c.ep) {
		c.routeOK.Store(true)
		return nil
	}
	if net.ParseIP(host) != nil {
		c.routeOK.Store(true)
		return nil
	}
	_, err := lookupHost(ctx, host)
	if err == nil {
		c.routeOK.Store(true)
		return nil
	}
	if hn := hostNotFound(err, host, setting); hn != nil {
		return hn
	}
	return nil
}

// dialState remembers what the last connection attempt met that gRPC
// reports to the RPC only as UNAVAILABLE (retried) with the reason in its
// message text: a 407 from Config.Proxy, or a certificate that failed
// verification (the endpoint's, or an https proxy's).
type dialState struct {
	refused atomic.Pointer[proxyStatusError]
	cert    atomic.Pointer[CertificateError]
	caFile  string // Config.CAFile: named by the certificate errors noted
}

func (d *dialState) note(err error) {
	var pe *proxyStatusError
	if errors.As(err, &pe) && pe.code == http.StatusProxyAuthRequired {
		d.refused.Store(pe)
	} else {
		d.refused.Store(nil)
	}
}

// noteCert records the outcome of a TLS handshake: ce, or nil when the
// handshake did not fail on the certificate.
func (d *dialState) noteCert(ce *CertificateError) {
	if ce != nil {
		ce.CAFile = d.caFile
	}
	d.cert.Store(ce)
}

// certNotingCreds is the endpoint's TLS credentials, recording in dials
// whether each handshake failed on the server's certificate (the typed
// error gRPC flattens to text).
type certNotingCreds struct {
	credentials.TransportCredentials
	dials  *dialState
	host   string
	target string // the endpoint's host:port (the raw connection may be a proxy's tunnel)
}

func (c *certNotingCreds) ClientHandshake(ctx context.Context, authority string, raw net.Conn) (net.Conn, credentials.AuthInfo, error) {
	conn, info, err := c.TransportCredentials.ClientHandshake(ctx, authority, raw)
	c.dials.noteCert(handshakeFailure(err, c.host, c.target, "Endpoint"))
	return conn, info, err
}

func (c *certNotingCreds) Clone() credentials.TransportCredentials {
	return &certNotingCreds{TransportCredentials: c.TransportCredentials.Clone(), dials: c.dials, host: c.host, target: c.target}
}

// dialAwareClient replaces the UNAVAILABLE error of an RPC that could not
// start because the proxy refused the tunnel with 407 by an *AuthError
// saying so, which is not retried.
type dialAwareClient struct {
	zerobuspb.ZerobusClient
	dials *dialState
	proxy string // Config.Proxy for messages
}

func (c *dialAwareClient) EphemeralStream(ctx context.Context, opts ...grpc.CallOption) (grpc.BidiStreamingClient[zerobuspb.EphemeralStreamRequest, zerobuspb.EphemeralStreamResponse], error) {
	cs, err := c.ZerobusClient.EphemeralStream(ctx, opts...)
	if err != nil && status.Code(err) == codes.Unavailable {
		if pe := c.dials.refused.Load(); pe != nil {
			return nil, &AuthError{What: "the HTTP proxy " + c.proxy + " refused the CONNECT tunnel to the Zerobus endpoint", Err: pe}
		}
	}
	return cs, err
}

// envProxyFor reports whether the environment (HTTPS_PROXY, NO_PROXY...)
// sends connections to ep through a proxy, which then resolves the name.
func envProxyFor(ep endpoint) bool {
	scheme := "https"
	if !ep.tls {
		scheme = "http"
	}
	req := &http.Request{URL: &url.URL{Scheme: scheme, Host: ep.target}}
	u, err := http.ProxyFromEnvironment(req)
	return err != nil || u != nil
}

// forget removes a finished stream from the client.
func (c *Client) forget(s *Stream) {
	c.mu.Lock()
	delete(c.streams, s)
	c.mu.Unlock()
}

// Close aborts streams that are still open (their unresolved requests fail
// with ErrClosed; close streams first for a clean shutdown), waits for their
// goroutines and closes the connection. Idempotent; safe for concurrent use.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	streams := make([]*Stream, 0, len(c.streams))
	for s := range c.streams {
		streams = append(streams, s)
	}
	c.mu.Unlock()
	for _, s := range streams {
		s.abort(errClientClosed)
	}
	if c.auth.closeIdle != nil {
		c.auth.closeIdle()
	}
	err := c.conn.Close()
	if err != nil {
		return &ConnectionError{Op: "close", Err: c.red.cleanErr(err)}
	}
	return nil
}

// metricAttrs wraps attributes as a metric option.
// transportAttr is zerobus.transport on this package's stream metrics: the
// protobuf transport (Arrow Flight streams record their own).
var transportAttr = telemetry.KeyTransport.String("protobuf")

func metricAttrs(kv ...attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributes(kv...)
}
