package zerobuslocal

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// Default values used by Start for zero fields of Options.
const (
	DefaultAddr            = "127.0.0.1:0"
	DefaultClientID        = "local-client"
	DefaultTokenLifetime   = time.Hour
	DefaultMaxMessageBytes = 10 << 20 // 10 MiB of records per request, as newer Zerobus servers
	DefaultStreamLifetime  = 15 * time.Minute
)

// Options configures Start. The zero value is a usable configuration: both
// listeners on random loopback ports, plaintext, tables created on demand,
// immediate acks, memory-only storage.
//
// Options (with AckPolicy) also decodes from JSON, keyed by the snake_case
// names in the field tags, durations in nanoseconds (encoding/json's form of
// a time.Duration, hence the _ns suffix); language bindings pass options
// this way, through DecodeOptions, which names the key of a value out of
// range. Encoding Options as JSON shows ClientSecret and InspectToken (so
// that the form round-trips); printing them (fmt's verbs, String,
// GoString) and logging them (slog, LogValue) show "<redacted>" for every
// field tagged secret:"true" (SecretOptionKeys).
type Options struct {
	// Addr is the gRPC listen address. Default "127.0.0.1:0" (a free port).
	// It must be a loopback address with a numeric port (0..MaxPort).
	Addr string `json:"addr"`
	// HTTPAddr is the listen address of the OAuth token endpoint and the
	// inspection API (the "workspace URL"). Default "127.0.0.1:0".
	HTTPAddr string `json:"http_addr"`

	// ClientID and ClientSecret are the only credentials the token endpoint
	// accepts. Defaults "local-client" and a random secret (see
	// Server.ClientSecret).
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret" secret:"true"`
	// TokenLifetime is how long an issued token is valid (expires_in is
	// rounded up to whole seconds). Default 1h. Server.SetTokenLifetime
	// changes it at run time.
	TokenLifetime time.Duration `json:"token_lifetime_ns"`
	// WorkspaceID is an extra workspace id accepted in the token request's
	// resource (api://databricks/workspaces/<id>/zerobusDirectWriteApi). The
	// first DNS label of the endpoint host ("127" for 127.0.0.1) and
	// "localhost" are always accepted; each also followed by ":<port>" (the
	// official Rust SDK derives "localhost:8080" from http://localhost:8080).
	WorkspaceID string `json:"workspace_id"`
	// AllowAnyToken makes the gRPC service accept any non-empty bearer token
	// (for clients with a custom headers provider). Default false: only
	// tokens issued by this server, unexpired and bound to the table, pass.
	AllowAnyToken bool `json:"allow_any_token"`

	// AllowedHosts are extra host names (without port) the HTTP listener
	// answers in the Host header, for example a container name when the port
	// is forwarded. Loopback IPs, localhost and *.localhost are always
	// allowed; any other Host gets 403, which defeats DNS rebinding. A
	// name with a scheme, port or path is refused (Check).
	AllowedHosts []string `json:"allowed_hosts"`
	// InspectToken, when set, is required as "Authorization: Bearer
	// <InspectToken>" by the inspection API (InspectPrefix). Default "": the
	// inspection API is open to local processes (mutating requests still
	// need Content-Type: application/json).
	InspectToken string `json:"inspect_token" secret:"true"`

	// DisableTokenExchange refuses the RFC 8693 token exchange grant
	// (federated identity: an IdP JWT as subject_token, no client secret).
	// Default false: any JWT-shaped subject token is accepted.
	DisableTokenExchange bool `json:"disable_token_exchange"`

	// DisableAutoCreate turns off creating a table from the first stream's
	// descriptor (PROTO) or as a raw JSON table (JSON). When set, streams to
	// unknown tables fail with NOT_FOUND. Default false (auto-create on).
	DisableAutoCreate bool `json:"disable_auto_create"`

	// AckPolicy is the default ack policy of every table (see
	// Server.SetAckPolicy for per-table overrides). Default: immediate.
	AckPolicy AckPolicy `json:"ack_policy"`

	// MaxMessageBytes caps the record bytes of one request (the records of
	// an ingest message, the IPC body of a Flight batch; framing is not
	// counted), as the service does: a bigger request ends the RPC with
	// INVALID_ARGUMENT "Batch size exceeds maximum allowed size", which
	// clients do not retry. gRPC's own receive limit is set well above it
	// (2 × MaxMessageBytes + 1 MiB). Default 10 MiB.
	MaxMessageBytes int `json:"max_message_bytes"`

	// StreamLifetime is how long the server keeps a stream before ending
	// it, as the service does after about 15 minutes: StreamCloseGrace
	// before the end it sends CloseStreamSignal{duration: grace} (Flight:
	// a PutResult with close_stream_duration_ms), keeps acknowledging, and
	// at the end closes the RPC cleanly. Default 15m; negative: never.
	StreamLifetime time.Duration `json:"stream_lifetime_ns"`
	// StreamCloseGrace is the announced duration of that signal. Default a
	// quarter of StreamLifetime, at most 1m. Check refuses one not shorter
	// than StreamLifetime, or one given with a negative StreamLifetime.
	StreamCloseGrace time.Duration `json:"stream_close_grace_ns"`

	// TLS serves gRPC over TLS with a freshly generated CA and a leaf
	// certificate for 127.0.0.1, ::1 and localhost; trust Server.CACertPEM.
	// Default false: plaintext HTTP/2 (h2c), Endpoint is http://.
	TLS bool `json:"tls"`
	// HTTPTLS also serves the token endpoint and inspection API over TLS with
	// the same certificate (WorkspaceURL becomes https://). It implies TLS.
	// Default false.
	HTTPTLS bool `json:"http_tls"`

	// DataDir, if set, receives the tables when Close (or Persist) runs:
	// <table>.arrow (Arrow IPC file) and <table>.parquet for tables with a
	// schema, <table>.jsonl for raw JSON tables. Default "": memory only.
	// Start creates it and checks that a file can be written there (an
	// *OptionsError naming DataDir when not).
	DataDir string `json:"data_dir"`

	// MaxStoredRows bounds the rows kept across all tables together: when
	// a stored request message takes the server over the bound, the oldest
	// rows of the server are dropped first, whatever their table (a quiet
	// table may be emptied by busy ones), and counted in Stats.RowsDropped
	// and per table (EvictedCount, the inspection API's rows_evicted). So
	// memory stays bounded however many tables a long-running `zerobus
	// local` serves. Besides the rows (and the whole request messages they
	// were received in), a busy server keeps its latest 262,144 events
	// (Events, the inspection API's events: about 40 MB when full) and the
	// tokens of the last hour. Requests being received and stored share
	// MaxInflightBytes (32 MiB) across all streams, which each stream can
	// go over by one request: gRPC reads a message whole before its length
	// is known, so the growth of a request over the stream's previous one,
	// or the first request after the client paused for 50 ms or more while
	// other streams waited for the budget (its share went to them), comes
	// in without waiting. So the server holds at most MaxInflightBytes
	// plus, per stream, one request (at most 2 × MaxMessageBytes + 1 MiB)
	// and a 256 KiB window; streams whose requests do not grow stay within
	// MaxInflightBytes while their shares fit in it together. Default 0:
	// unlimited.
	MaxStoredRows int `json:"max_stored_rows"`

	// Logger receives server logs. Default: discard.
	Logger *slog.Logger `json:"-"`
}

// AckPolicy decides when the server acknowledges received request messages.
// The zero value acknowledges each message as soon as it is stored.
//
// Acks are always cumulative and monotonic. When both Every and Interval are
// set, an ack goes out when either triggers. Delay (plus a random part of
// Jitter) is added to the moment a message becomes ackable.
type AckPolicy struct {
	// Every coalesces acks: one ack per Every received messages. 0 or 1 means
	// every message. If Every > 1 and Interval is 0, Interval defaults to
	// 10ms so the tail of a stream is still acknowledged.
	Every int `json:"every"`
	// Interval acks whatever is pending at most this long after the oldest
	// unacknowledged message arrived. 0 means no time-based coalescing.
	Interval time.Duration `json:"interval_ns"`
	// Delay holds each ack back by a fixed latency.
	Delay time.Duration `json:"delay_ns"`
	// Jitter adds a uniformly random extra latency in [0, Jitter).
	Jitter time.Duration `json:"jitter_ns"`
}

// ImmediateAcks acknowledges every message as soon as it is stored.
func ImmediateAcks() AckPolicy { return AckPolicy{} }

// CoalescedAcks acknowledges once per n messages or after interval, whichever
// comes first.
func CoalescedAcks(n int, interval time.Duration) AckPolicy {
	return AckPolicy{Every: n, Interval: interval}
}

// DelayedAcks acknowledges each message after delay plus a random part of
// jitter.
func DelayedAcks(delay, jitter time.Duration) AckPolicy {
	return AckPolicy{Delay: delay, Jitter: jitter}
}

func (p AckPolicy) normalized() AckPolicy {
	if p.Every < 1 {
		p.Every = 1
	}
	if p.Every > 1 && p.Interval <= 0 {
		p.Interval = 10 * time.Millisecond
	}
	if p.Delay < 0 {
		p.Delay = 0
	}
	if p.Jitter < 0 {
		p.Jitter = 0
	}
	return p
}

// ErrInvalidOptions is wrapped by the error Start, Options.Check and
// DecodeOptions return for an option out of range (a negative duration,
// size or count, a port outside 0..65535, an address off loopback): an
// *OptionsError naming each option by its field and JSON key. Zero means
// the default everywhere.
var ErrInvalidOptions = errors.New("zerobuslocal: invalid options")

// ErrInvalidFault is wrapped by the *OptionsError DecodeFault returns for a
// fault option out of range.
var ErrInvalidFault = errors.New("zerobuslocal: invalid fault")

// OptionProblem is one option out of range.
type OptionProblem struct {
	Field string // the Options field, e.g. "AckPolicy.Delay"
	Key   string // its JSON key, e.g. "ack_policy.delay_ns"
	Value string // the value given, as Go prints it, e.g. "-1s"
	Msg   string // what is wrong, e.g. "must not be negative (0: the default)"
}

// OptionsError lists every option out of range; it wraps ErrInvalidOptions
// (ErrInvalidFault from DecodeFault). Front ends (the CLI's flags, Python's
// keywords) name the options their own way from Field or Key; KeyProblems
// gives the keys and what is wrong with each as data.
type OptionsError struct {
	Problems []OptionProblem
	of       error // the sentinel wrapped; nil: ErrInvalidOptions
}

func (e *OptionsError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = fmt.Sprintf("%s (%s) is %s; %s", p.Field, p.Key, p.Value, p.Msg)
	}
	return e.Unwrap().Error() + ": " + strings.Join(parts, "; ")
}

// Unwrap returns ErrInvalidOptions, or ErrInvalidFault for a fault.
func (e *OptionsError) Unwrap() error {
	if e.of != nil {
		return e.of
	}
	return ErrInvalidOptions
}

// KeyProblems returns the JSON key of each problem and, in the same order,
// what is wrong with it (Msg): the form language bindings read as data.
func (e *OptionsError) KeyProblems() (keys, msgs []string) {
	for _, p := range e.Problems {
		keys = append(keys, p.Key)
		msgs = append(msgs, p.Msg)
	}
	return keys, msgs
}

// checkedOption is one option of T (Options, Fault) Check bounds: its
// field, JSON key, value and rule.
type checkedOption[T any] struct {
	field, key string
	get        func(*T) any       // a time.Duration, an int or a string
	bad        func(v any) string // what is wrong with v ("" when in range)
}

// checkAll appends to bad the problem of each of checks in x.
func checkAll[T any](bad []OptionProblem, x *T, checks []checkedOption[T]) []OptionProblem {
	for _, c := range checks {
		v := c.get(x)
		if msg := c.bad(v); msg != "" {
			bad = append(bad, OptionProblem{c.field, c.key, fmt.Sprint(v), msg})
		}
	}
	return bad
}

// notNegative is the rule of durations, sizes and counts, whose 0 means
// the default.
func notNegative(v any) string {
	switch v := v.(type) {
	case time.Duration:
		if v < 0 {
			return "must not be negative (0: the default)"
		}
	case int:
		if v < 0 {
			return "must not be negative (0: the default)"
		}
	}
	return ""
}

// MaxPort is the highest TCP port; 0 asks for a free one.
const MaxPort = 65535

// portMsg is what is wrong with an address whose port is out of range (the
// front ends set the address from a port: -port, port=).
var portMsg = fmt.Sprintf("must be a port between 1 and %d (0: a free port)", MaxPort)

// loopbackAddr is the rule of Addr and HTTPAddr: "" (the default) or
// host:port with a loopback host (an IP or localhost) and a numeric port in
// 0..MaxPort.
func loopbackAddr(v any) string {
	addr := v.(string)
	if addr == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "must be a loopback host:port, e.g. 127.0.0.1:0"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > MaxPort {
		return portMsg
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "must be a loopback address, e.g. 127.0.0.1:0"
	}
	return ""
}

// hostNames is the rule of AllowedHosts: names the Host header carries,
// without scheme, port, user or path.
func hostNames(v any) string {
	for _, h := range v.([]string) {
		if h == "" || strings.ContainsAny(h, "/:@ ") {
			return fmt.Sprintf("must be host names without scheme or port (e.g. a container name); %q is not", h)
		}
	}
	return ""
}

// checkedOptions are the options Check refuses out of range.
var checkedOptions = []checkedOption[Options]{
	{"TokenLifetime", "token_lifetime_ns", func(o *Options) any { return o.TokenLifetime }, notNegative},
	{"StreamCloseGrace", "stream_close_grace_ns", func(o *Options) any { return o.StreamCloseGrace }, notNegative},
	{"AckPolicy.Interval", "ack_policy.interval_ns", func(o *Options) any { return o.AckPolicy.Interval }, notNegative},
	{"AckPolicy.Delay", "ack_policy.delay_ns", func(o *Options) any { return o.AckPolicy.Delay }, notNegative},
	{"AckPolicy.Jitter", "ack_policy.jitter_ns", func(o *Options) any { return o.AckPolicy.Jitter }, notNegative},
	{"MaxMessageBytes", "max_message_bytes", func(o *Options) any { return o.MaxMessageBytes }, notNegative},
	{"MaxStoredRows", "max_stored_rows", func(o *Options) any { return o.MaxStoredRows }, notNegative},
	{"AckPolicy.Every", "ack_policy.every", func(o *Options) any { return o.AckPolicy.Every }, notNegative},
	{"Addr", "addr", func(o *Options) any { return o.Addr }, loopbackAddr},
	{"HTTPAddr", "http_addr", func(o *Options) any { return o.HTTPAddr }, loopbackAddr},
	{"AllowedHosts", "allowed_hosts", func(o *Options) any { return o.AllowedHosts }, hostNames},
}

// zeroRefused says, for the options whose explicit 0 front ends refuse,
// why: Options' 0 means the default, but a user who writes 0 for the stream
// lifetime may mean "never" (a negative value). DecodeOptions refuses such a
// key given as 0, the CLI such a flag set to 0 (ExplicitZeroProblem).
var zeroRefused = map[string]string{
	"stream_lifetime_ns": fmt.Sprintf("must not be 0 (negative: streams never end by themselves; leave it unset for the default, %v)", DefaultStreamLifetime),
}

// ExplicitZeroProblem says what is wrong with a 0 given explicitly for the
// option whose JSON key is key ("" when a given 0 is taken as the default).
func ExplicitZeroProblem(key string) string { return zeroRefused[key] }

// CheckedOptionKeys returns the JSON key of every option Check can refuse
// (front ends test that they can name each).
func CheckedOptionKeys() []string {
	keys := make([]string, len(checkedOptions))
	for i, c := range checkedOptions {
		keys[i] = c.key
	}
	return keys
}

// Check reports every option out of range as an *OptionsError (nil when
// all are in range); Start refuses such options with the same error.
func (o Options) Check() error {
	bad := checkAll(nil, &o, checkedOptions)
	if msg := graceProblem(o); msg != "" {
		bad = append(bad, OptionProblem{"StreamCloseGrace", "stream_close_grace_ns", fmt.Sprint(o.StreamCloseGrace), msg})
	}
	if len(bad) == 0 {
		return nil
	}
	return &OptionsError{Problems: bad}
}

// graceProblem is what is wrong with a StreamCloseGrace given with the
// stream lifetime it belongs to ("" if nothing): a grace not shorter than
// the lifetime, or with streams that never end, could not be used as
// given.
func graceProblem(o Options) string {
	if o.StreamCloseGrace <= 0 {
		return ""
	}
	lifetime := cmp.Or(o.StreamLifetime, DefaultStreamLifetime)
	if lifetime < 0 {
		return "has no effect: the stream lifetime is negative, so streams never end and no close signal is sent"
	}
	if o.StreamCloseGrace >= lifetime {
		return fmt.Sprintf("must be shorter than the stream lifetime (%v): the close signal is sent that long before the stream ends", lifetime)
	}
	return ""
}

// checkDataDir creates dir (Options.DataDir) if needed and writes and
// removes a file in it, so a directory the tables cannot be written to
// fails Start, not Close, when the rows stored are lost. The error is an
// *OptionsError naming DataDir (data_dir); nil without a dir.
func checkDataDir(dir string) error {
	if dir == "" {
		return nil
	}
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		var f *os.File
		if f, err = os.CreateTemp(dir, ".zerobuslocal-probe-*"); err == nil {
			err = errors.Join(f.Close(), os.Remove(f.Name()))
		}
	}
	if err == nil {
		return nil
	}
	return &OptionsError{Problems: []OptionProblem{{Field: "DataDir", Key: "data_dir", Value: dir,
		Msg: "cannot be written: " + err.Error()}}}
}
