package core

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/flightstream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// ErrorKind classifies every error this package returns. The values are stable
// strings: language bindings (the Python package) map errors to exception
// classes by kind, so a value is never renamed once released.
type ErrorKind string

// The error kinds. KindOf returns one of these for any error from this
// package, and KindUnknown for errors it did not produce.
const (
	// KindConfiguration: the Config or an Option is invalid
	// (*ConfigurationError), or a call was given a nil ctx (ErrNilContext).
	KindConfiguration ErrorKind = "configuration"
	// KindAuthentication: the server or the token endpoint refused the
	// credentials or the principal lacks a privilege (*AuthenticationError).
	KindAuthentication ErrorKind = "authentication"
	// KindConnection: the endpoint could not be reached or the transport
	// failed (*ConnectionError).
	KindConnection ErrorKind = "connection"
	// KindConversion: a column or row cannot be represented in protobuf or
	// breaks a Zerobus limit (*ConversionError), the batch is nil
	// (ErrNilBatch), or Arrow data was refused as corrupt (ErrArrowData,
	// ErrIPCMetadata, ErrValidatorFailure).
	KindConversion ErrorKind = "conversion"
	// KindTransmission: the server ended the stream with a gRPC status
	// (*TransmissionError).
	KindTransmission ErrorKind = "transmission"
	// KindRetryExhausted: a retryable failure persisted through every retry
	// (*RetryExhaustedError).
	KindRetryExhausted ErrorKind = "retry_exhausted"
	// KindTokenRefresh: the OAuth token endpoint failed (*TokenRefreshError).
	KindTokenRefresh ErrorKind = "token_refresh"
	// KindClosed: the Wrapper was closed (ErrClosed).
	KindClosed ErrorKind = "closed"
	// KindCanceled: the caller's context was canceled or its deadline passed,
	// or Flush / Close ran out of Config.FlushTimeout (flush_timeout_ms; the
	// error says so and is a context.DeadlineExceeded).
	KindCanceled ErrorKind = "canceled"
	// KindUnknown: the error did not come from this package.
	KindUnknown ErrorKind = "unknown"
)

// ErrorKindInfo describes one ErrorKind for callers that decide by kind (the
// CLIs, language bindings).
type ErrorKindInfo struct {
	Kind ErrorKind `json:"kind"`
	// Retryable: some errors of this kind are retryable (IsRetryable decides
	// for one error; e.g. a TransmissionError depends on its gRPC code).
	Retryable bool `json:"retryable"`
	// Fatal: a batch that failed as a whole with this kind means later
	// batches on the same Wrapper would fail the same way (bad credentials or
	// settings, an unreachable endpoint, retries already exhausted, a closed
	// Wrapper, a canceled context), so a loop feeding batches should stop
	// instead of trying the next one.
	Fatal bool `json:"fatal"`
}

// errorKinds is the one table of kinds and their flags.
var errorKinds = []ErrorKindInfo{
	{Kind: KindConfiguration, Fatal: true},
	{Kind: KindAuthentication, Fatal: true},
	{Kind: KindConnection, Retryable: true, Fatal: true},
	{Kind: KindConversion},
	{Kind: KindTransmission, Retryable: true},
	{Kind: KindRetryExhausted, Retryable: true, Fatal: true},
	{Kind: KindTokenRefresh, Retryable: true, Fatal: true},
	{Kind: KindClosed, Fatal: true},
	{Kind: KindCanceled, Fatal: true},
	{Kind: KindUnknown},
}

// ErrorKinds returns every ErrorKind with its flags, in a stable order (a
// fresh copy).
func ErrorKinds() []ErrorKindInfo { return append([]ErrorKindInfo(nil), errorKinds...) }

// Fatal reports whether a whole-batch failure of kind k would repeat for
// every later batch (see ErrorKindInfo.Fatal). Unknown kinds are not fatal.
func (k ErrorKind) Fatal() bool {
	for _, i := range errorKinds {
		if i.Kind == k {
			return i.Fatal
		}
	}
	return false
}

// Sentinel errors, usable with errors.Is.
var (
	// ErrClosed is returned by every call on a Wrapper after Close; its
	// message says what to do (the Wrapper is finished). A send that Close
	// cut short fails with an error that is ErrClosed (errors.Is) and says
	// what to do with its rows instead.
	ErrClosed = errors.New("zerobus: wrapper closed: create a new Wrapper to send more")
	// ErrNilContext is returned by the Wrapper's sending, flushing and
	// checking methods when ctx is nil (its rows fail, not written); its
	// kind is KindConfiguration. Close takes a nil ctx as
	// context.Background().
	ErrNilContext = errors.New("zerobus: ctx is nil: pass context.Background() or a context of your own")
	// ErrNilBatch is returned by SendBatch, SendBatchAsync, SendReader and
	// CheckSchema when the record batch (reader, schema) is nil; its kind is
	// KindConversion.
	ErrNilBatch = errors.New("zerobus: record batch is nil")
)

// inFlightClosed is ErrClosed for a send still in flight when Close gave
// up waiting. Its remedy is about the rows, so that it fits every way a
// wrapper is closed: Go's Close and Python's close() (the next call is
// refused with ErrClosed's "create a new Wrapper") as well as Python's
// shutdown() (the next send opens the wrapper again); "create a new
// Wrapper" was wrong after shutdown().
type inFlightClosed struct{}

func (inFlightClosed) Error() string {
	return "zerobus: wrapper closed: the batch was still in flight when close gave up waiting; " +
		"its rows not written can be sent again (those already sent are unknown: they may be stored)"
}

// Is makes it ErrClosed for errors.Is and KindOf.
func (inFlightClosed) Is(target error) bool { return target == ErrClosed }

// kinded is implemented by every typed error of this package.
type kinded interface{ Kind() ErrorKind }

// KindOf classifies err: the kind of the outermost typed error of this
// package in err's chain; for this package's sentinel errors KindClosed
// (ErrClosed), KindConfiguration (ErrNilContext: the caller's misuse, which
// every later call repeats), KindConversion (ErrNilBatch, and ErrArrowData,
// ErrIPCMetadata and ErrValidatorFailure: the batch or file was refused
// before conversion); KindCanceled for context cancellation; KindUnknown
// otherwise (including nil).
func KindOf(err error) ErrorKind {
	if err == nil {
		return KindUnknown
	}
	var k kinded
	if errors.As(err, &k) {
		return k.Kind()
	}
	switch {
	case errors.Is(err, ErrClosed):
		return KindClosed
	case errors.Is(err, ErrNilContext):
		return KindConfiguration // the caller's misuse: no ctx to send under
	case errors.Is(err, ErrNilBatch):
		return KindConversion // the caller's data: no batch to convert
	case errors.Is(err, ErrArrowData), errors.Is(err, ErrIPCMetadata), errors.Is(err, ErrValidatorFailure):
		return KindConversion // the batch or file was refused before conversion
	case stream.ContextEnded(err):
		return KindCanceled
	}
	return KindUnknown
}

// IsRetryable reports whether sending the same data again later may succeed:
// connection failures, retryable gRPC statuses, token endpoint 5xx, 408,
// 429 and network failures, and exhausted retries whose last cause was retryable. Conversion,
// configuration and authentication errors, ErrClosed and cancellation are not.
//
// The rule is the stream layer's, written once (stream.IsRetryable): a
// CANCELED status from the server is retryable, while the caller's own
// context being canceled or timing out (context.Canceled /
// context.DeadlineExceeded in the chain, KindCanceled) never is, whatever
// connection error or status the chain also holds; a host name that does
// not resolve and a certificate that fails verification are final; a
// *TokenRefreshError keeps the token client's decision (Retryable), which
// counts a token request's timeout as retryable. This package's typed
// errors stand for the stream errors they were made from (their As
// methods), so the rule judges them as it judges those. Only
// *RetryExhaustedError is judged here: by its last failure.
func IsRetryable(err error) bool {
	var re *RetryExhaustedError
	if errors.As(err, &re) {
		return re.Last == nil || IsRetryable(re.Last)
	}
	return stream.IsRetryable(err)
}

// standFor is the As method of this package's typed errors that stand for
// an error of the stream layer (for its retry rule, stream.IsRetryable): it
// sets *target to the stream error of type T in cause's chain, or to made()
// when there is none. The stream layer is internal: a caller of this package
// cannot name its types, so this changes no errors.As a caller can write.
func standFor[T error](target any, cause error, made func() T) bool {
	t, ok := target.(*T)
	if !ok {
		return false
	}
	if cause != nil && errors.As(cause, t) {
		return true
	}
	*t = made()
	return true
}

// As stands e for a *stream.ConnectionError (IsRetryable: retryable unless
// its cause is a host that does not resolve or a certificate that fails).
func (e *ConnectionError) As(target any) bool {
	return standFor(target, e.Err, func() *stream.ConnectionError { return &stream.ConnectionError{Op: "connect", Err: e.Err} })
}

// As stands e for a *stream.ServerError of its Code (IsRetryable:
// stream.RetryableCode).
func (e *TransmissionError) As(target any) bool {
	return standFor(target, e.Err, func() *stream.ServerError { return &stream.ServerError{Code: e.Code, Message: e.Message} })
}

// As stands e for a *stream.TokenError with its Retryable decision.
func (e *TokenRefreshError) As(target any) bool {
	t, ok := target.(**stream.TokenError)
	if !ok {
		return false
	}
	var te *stream.TokenError
	if errors.As(e.Err, &te) && te.Retryable == e.Retryable {
		*t = te
		return true
	}
	*t = &stream.TokenError{URL: e.URL, StatusCode: e.StatusCode, Retryable: e.Retryable, Err: e.Err}
	return true
}

// As stands e for a *stream.AuthError (IsRetryable: never).
func (e *AuthenticationError) As(target any) bool {
	return standFor(target, e.Err, func() *stream.AuthError { return &stream.AuthError{What: e.Reason, Keys: e.Keys, Err: e.Err} })
}

// ConfigProblem is one invalid setting found by Config.Validate or New.
type ConfigProblem struct {
	Field   string // Go field name, e.g. "TableName"
	YAMLKey string // YAML key, e.g. "table_name" ("" for options)
	EnvVar  string // primary environment variable, e.g. "ZEROBUS_TABLE_NAME" ("" if none)
	// SetBy names what set the value when the caller knows it was not the
	// environment, e.g. "flag -transport" (a command-line flag); it is shown
	// in place of EnvVar.
	SetBy   string
	Message string // what is wrong and what would be valid
	// keyMessage is Message with durations in the key's unit (retry_base_delay_ms:
	// "is -1" rather than "is -1ms"), for problems named by key; "" = Message.
	keyMessage string
}

func (p ConfigProblem) String() string { return p.format(false, "") }

// envRead is the Source of settings read from the environment: only their
// problems name the variable without saying when it is read.
const envRead = "environment"

// format renders p named by Field, or by YAMLKey when byKey and it has one,
// with what set it (SetBy) or its environment variable: as read when source
// (ConfigurationError.Source) is the environment, as where the setting can
// be given otherwise (the settings were not necessarily read from the
// environment), and not at all when source is a file.
func (p ConfigProblem) format(byKey bool, source string) string {
	var b strings.Builder
	from := ""
	switch {
	case p.SetBy != "":
		from = p.SetBy
	case p.EnvVar == "" || source != "" && source != envRead: // a file: named by the error
	case source == envRead:
		from = "env " + p.EnvVar
	default:
		from = "env " + p.EnvVar + " when loading from the environment"
	}
	if byKey && p.YAMLKey != "" {
		b.WriteString(p.YAMLKey)
		if from != "" {
			fmt.Fprintf(&b, " (%s)", from)
		}
		b.WriteString(": ")
		msg := p.Message
		if p.keyMessage != "" {
			msg = p.keyMessage
		}
		b.WriteString(fieldsToKeys(msg))
		return b.String()
	}
	b.WriteString(p.Field)
	switch {
	case p.YAMLKey != "" && from != "":
		fmt.Fprintf(&b, " (yaml %s, %s)", p.YAMLKey, from)
	case p.YAMLKey != "":
		fmt.Fprintf(&b, " (yaml %s)", p.YAMLKey)
	case from != "":
		fmt.Fprintf(&b, " (%s)", from)
	}
	b.WriteString(": ")
	b.WriteString(p.Message)
	return b.String()
}

// ConfigurationError reports every problem with a Config, a config file, the
// environment or an Option at once. Kind: KindConfiguration.
type ConfigurationError struct {
	Source   string // where the settings came from: "", a file path, or "environment"
	Problems []ConfigProblem
	Err      error // optional underlying cause (e.g. a YAML syntax error); printed only without Problems
	// ByKey names each problem by its key (table_name) rather than its
	// Config field (TableName): set for settings given by key (ConfigFromSettings,
	// ByKeyError).
	ByKey bool
}

// Kind returns KindConfiguration.
func (e *ConfigurationError) Kind() ErrorKind { return KindConfiguration }

// Unwrap returns the underlying cause, if any.
func (e *ConfigurationError) Unwrap() error { return e.Err }

func (e *ConfigurationError) Error() string {
	var b strings.Builder
	b.WriteString("zerobus: invalid configuration")
	if e.Source != "" {
		fmt.Fprintf(&b, " in %s", e.Source)
	}
	if e.Err != nil && len(e.Problems) == 0 {
		// With problems, Err is only their cause (for errors.Is/As): each
		// problem's message already says it.
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	switch len(e.Problems) {
	case 0:
	case 1:
		b.WriteString(": ")
		b.WriteString(e.Problems[0].format(e.ByKey, e.Source))
	default:
		fmt.Fprintf(&b, " (%d problems):", len(e.Problems))
		for _, p := range e.Problems {
			b.WriteString("\n  - ")
			b.WriteString(p.format(e.ByKey, e.Source))
		}
	}
	return b.String()
}

// AuthenticationError means the credentials were refused (bad client id or
// secret, token rejected by the server) or the principal lacks a privilege on
// the table. Retrying with the same credentials will not help.
// Kind: KindAuthentication. The secret and tokens never appear in it.
type AuthenticationError struct {
	Table  string
	Reason string   // which credential or privilege is wrong and what to do
	Keys   []string // the settings Reason names, by key (client_id, unity_catalog_url, ...), if any
	Err    error    // underlying cause
}

// Kind returns KindAuthentication.
func (e *AuthenticationError) Kind() ErrorKind { return KindAuthentication }

// KeyProblems returns Keys, each with Reason as its problem (DetailsOf
// reports them as the error's keys).
func (e *AuthenticationError) KeyProblems() (keys, msgs []string) {
	if len(e.Keys) == 0 {
		return nil, nil
	}
	msgs = make([]string, len(e.Keys))
	for i := range msgs {
		msgs[i] = e.Reason
	}
	return e.Keys, msgs
}

// Unwrap returns the underlying cause.
func (e *AuthenticationError) Unwrap() error { return e.Err }

func (e *AuthenticationError) Error() string {
	msg := "zerobus: authentication failed"
	if e.Table != "" {
		msg += " for table " + e.Table
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Err != nil {
		msg += ": " + causeText(e.Err)
	}
	return msg // Reason says which credential, privilege or proxy to check
}

// ConnectionError means the endpoint could not be reached or the transport
// broke. Retryable, except when a host name does not resolve in DNS (the
// endpoint's or the Unity Catalog URL's) or a server's TLS certificate fails
// verification (*stream.CertificateError in the chain: the endpoint's, the
// Unity Catalog URL's or an https proxy's); those messages name the host and
// the setting. Kind: KindConnection.
type ConnectionError struct {
	Endpoint string
	Err      error
}

// Kind returns KindConnection.
func (e *ConnectionError) Kind() ErrorKind { return KindConnection }

// Unwrap returns the underlying cause.
func (e *ConnectionError) Unwrap() error { return e.Err }

func (e *ConnectionError) Error() string {
	msg, _ := e.describe()
	return msg
}

// describe is the message of Error and whether it ends with a hint of its
// own (what to check or raise): every case but a server's own answer
// (UNAVAILABLE from the endpoint, an HTTP status from the workspace), which
// was reached. It is the one place that rule is written: Error and
// ownHint (a retry budget's one hint) both use it.
func (e *ConnectionError) describe() (msg string, hinted bool) {
	var hn *stream.HostNotFoundError
	if errors.As(e.Err, &hn) {
		key := hostSettingKey(hn.Setting)
		return fmt.Sprintf("zerobus: host %s not found: the name in %s does not resolve in DNS (check the %s setting)", hn.Host, key, key), true
	}
	var cf *stream.CertificateError
	if errors.As(e.Err, &cf) {
		msg := "zerobus: TLS handshake with " + cf.Host
		if !strings.HasPrefix(cf.Host, "the ") { // a proxy from the environment is named by a phrase
			msg += " (" + hostSettingKey(cf.Setting) + ")"
		}
		msg += " failed: " + causeText(cf.Err)
		if hint := untrustedCertHint(cf.Host, msg, cf.CAFile); hint != "" {
			return msg + hint, true
		}
		return msg + " (check the host name and tls_ca_file, env ZEROBUS_TLS_CA_FILE)", true
	}
	if at := stream.AckTimeoutCause(e.Err); at != nil {
		// the server was reached and took the requests, but a silently
		// dropped network path times out the same way
		who := e.Endpoint
		if who == "" {
			who = "the Zerobus endpoint"
		}
		return "zerobus: " + who + " sent " + at.Error() +
			" (raise ack_timeout_ms, env ZEROBUS_ACK_TIMEOUT_MS, or check the network path to the endpoint)", true
	}
	if ct := stream.CreateTimeoutCause(e.Err); ct != nil {
		// the endpoint may have been reached (a slow server, or a slow
		// token endpoint: the timeout covers the token): name the setting
		who := e.Endpoint
		if who == "" {
			who = "the Zerobus endpoint"
		}
		return "zerobus: " + who + ": " + ct.Error() +
			" (raise create_timeout_ms, env ZEROBUS_CREATE_TIMEOUT_MS, or check the endpoint and network)", true
	}
	var tpe *stream.TransportError
	if errors.As(e.Err, &tpe) {
		// nothing answered: grpc-go could not open the connection, or it broke
		return e.transportText(tpe), true
	}
	var sce *stream.ConnectionError
	var se *stream.ServerError
	if errors.As(e.Err, &sce) && sce.Answered && errors.As(sce.Err, &se) {
		// the server itself said UNAVAILABLE: the endpoint, network and TLS
		// are fine, so no hint to check them
		who := e.Endpoint
		if who == "" {
			who = "the Zerobus endpoint"
		}
		return "zerobus: " + who + " answered that it is unavailable: " + causeText(se), false
	}
	var cat *flightstream.CatalogError
	if errors.As(e.Err, &cat) && cat.Status != 0 {
		// the workspace answered with an HTTP status (5xx, 429): reached,
		// so no hint to check the URL, network and TLS
		who := e.Endpoint
		if who == "" {
			who = "the workspace"
		}
		return "zerobus: " + who + " answered: " + causeText(cat), false
	}
	msg = "zerobus: cannot reach"
	if e.Endpoint != "" {
		msg += " " + e.Endpoint
	} else {
		msg += " the Zerobus endpoint"
	}
	if e.Err != nil {
		msg += ": " + causeText(e.Err)
		if hint := untrustedCertHint(e.Endpoint, msg, certCAFile(e.Err)); hint != "" {
			return msg + hint, true
		}
	}
	return msg + endpointHint, true
}

// endpointHint is what a connection error to the endpoint says to check.
const endpointHint = " (check the endpoint URL, network and TLS settings)"

// transportText is the message of a connection to the endpoint (or through
// proxy_url) that could not be opened or broke (grpc-go's own UNAVAILABLE,
// nothing answered): what happened and where, and what to check.
func (e *ConnectionError) transportText(t *stream.TransportError) string {
	who := e.Endpoint
	if who == "" {
		who = "the Zerobus endpoint"
	}
	switch {
	case t.Proxy && t.Addr != "":
		return "zerobus: cannot reach the proxy " + t.Addr + " (proxy_url): " + t.Cause + " (check proxy_url and that the proxy is running)"
	case t.Proxy:
		return "zerobus: the proxy (proxy_url) failed the tunnel to " + who + ": " + t.Cause + " (check proxy_url)"
	case t.Dial:
		msg := "zerobus: cannot reach " + who + ": " + t.Error()
		if hint := untrustedCertHint(e.Endpoint, msg, certCAFile(e.Err)); hint != "" {
			return msg + hint // a handshake that failed on the certificate, not recorded as such
		}
		return msg + endpointHint
	}
	var op string
	var sce *stream.ConnectionError
	if errors.As(e.Err, &sce) {
		op = map[string]string{
			"create": " while creating the stream",
			"send":   " while sending",
			"recv":   " while waiting for acknowledgements",
		}[sce.Op]
	}
	if t.Cause == "EOF" {
		return "zerobus: the connection to " + who + " closed (EOF)" + op + endpointHint
	}
	return "zerobus: the connection to " + who + " broke" + op + ": " + t.Cause + endpointHint
}

// ownHint reports whether err's message ends with a hint of its own (what
// to check or raise), by the rule of its describe method: err is a
// *ConnectionError or a *TokenRefreshError (or has one in its chain).
func ownHint(err error) bool {
	var ce *ConnectionError
	if errors.As(err, &ce) {
		_, hinted := ce.describe()
		return hinted
	}
	var tr *TokenRefreshError
	if errors.As(err, &tr) {
		_, hinted := tr.describe()
		return hinted
	}
	var te *TransmissionError
	if errors.As(err, &te) {
		return te.hint() != ""
	}
	return false
}

// hostSettingKey is the key of the setting a *stream.HostNotFoundError's
// or *stream.CertificateError's Setting names ("Endpoint" -> "endpoint").
func hostSettingKey(setting string) string {
	return map[string]string{"Endpoint": "endpoint", "WorkspaceURL": "unity_catalog_url", "Proxy": "proxy_url", "HTTPS_PROXY": "HTTPS_PROXY"}[setting]
}

// CallbackPanicError is a panic of the caller's code that a send ran on a
// goroutine of its own: a RecordReader's Next (the send fails as for the
// reader's Err, in a *ConversionError) or a WithProgress callback (the send
// stops, as if its ctx were canceled with this cause). It is returned
// instead of the process ending; the panic's stack is logged at ERROR.
type CallbackPanicError struct {
	Callback string // "RecordReader.Next" or "progress"
	Value    any    // the value passed to panic
}

func (e *CallbackPanicError) Error() string {
	return fmt.Sprintf("the %s callback panicked: %v", e.Callback, e.Value)
}

// Unwrap returns the panic's value when it is an error.
func (e *CallbackPanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// ConversionError means a column cannot be represented in protobuf (Row is
// -1: the whole batch is refused) or one row cannot be encoded (Row is its
// index in the batch passed to SendBatch, or across the reader's batches for
// SendReader, as FailedRow.Index). Not retryable. Kind: KindConversion.
type ConversionError struct {
	Row    int    // row index in the caller's input (as FailedRow.Index), or -1 for schema-level problems
	Column string // dotted column path, e.g. "address.zip" or "tags[3]"; "" if not column specific
	Reason string
	Err    error
}

// Kind returns KindConversion.
func (e *ConversionError) Kind() ErrorKind { return KindConversion }

// Unwrap returns the underlying cause.
func (e *ConversionError) Unwrap() error { return e.Err }

func (e *ConversionError) Error() string {
	var b strings.Builder
	b.WriteString("zerobus: conversion failed")
	if e.Row >= 0 {
		fmt.Fprintf(&b, " at row %d", e.Row)
	}
	var sm *SchemaMismatchError
	if e.Column != "" && !(e.Reason != "" && errors.As(e.Err, &sm)) { // a mismatch's reason names each column
		fmt.Fprintf(&b, ", column %q", e.Column)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	} else if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(causeText(e.Err))
	}
	return b.String()
}

// TransmissionError means the server ended the stream with a gRPC status; the
// requests pending on it failed. Causes lists schema validation causes the
// server attached (e.g. FIELD_NOT_IN_TABLE). Kind: KindTransmission.
type TransmissionError struct {
	Code    codes.Code
	Message string
	Causes  []string
	Err     error
	// CatalogUnread, on a refused schema, is why the table's columns could
	// not be read from Unity Catalog when the stream opened: the batch's
	// columns were then sent as they are (not matched by name, not cast to
	// the table's types), which may be why the server refused them.
	CatalogUnread error
}

// Kind returns KindTransmission.
func (e *TransmissionError) Kind() ErrorKind { return KindTransmission }

// Unwrap returns the underlying cause.
func (e *TransmissionError) Unwrap() error { return e.Err }

// KeyProblems names the setting at fault when the server's code points at
// one: NOT_FOUND is a table_name without a table (DetailsOf reports it).
func (e *TransmissionError) KeyProblems() (keys, msgs []string) {
	if e.Code == codes.NotFound {
		return []string{"table_name"}, []string{"the table must exist"}
	}
	return nil, nil
}

func (e *TransmissionError) Error() string {
	msg := fmt.Sprintf("zerobus: server rejected the stream (%s)", CodeName(e.Code))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if len(e.Causes) > 0 {
		msg += " [causes: " + strings.Join(e.Causes, ", ") + "]"
	}
	return msg + e.hint()
}

// hint is what the message advises for the server's code ("" when
// nothing): ownHint counts it, so an exhausted retry adds no second hint.
func (e *TransmissionError) hint() string {
	switch e.Code {
	case codes.InvalidArgument:
		if e.schemaRefused() {
			h := " (check that the Arrow schema matches the table: names, types, nullability)"
			if e.CatalogUnread != nil {
				h += fmt.Sprintf("; the table's columns could not be read from Unity Catalog (%v), so the batch's columns were sent as they are, not matched to the table's by name nor cast to its types: make the catalog readable (unity_catalog_url, the service principal's grants) or send the table's types", e.CatalogUnread)
			}
			return h
		}
	case codes.NotFound:
		return " (check table_name: the table must exist)"
	case codes.OutOfRange:
		return " (the server refused the stream's offsets or a value as out of range; this is not retried: send the failed rows again on a new wrapper, and report it if it repeats)"
	case codes.ResourceExhausted:
		if stream.SizeLimitStatus(e.Code, e.Message) { // gRPC's own message size limit: not retried
			return " (the request is larger than the server accepts: lower max_message_bytes)"
		}
		return " (the server is throttling; lower concurrency or retry later)"
	}
	return ""
}

// schemaRefused reports whether the server refused the stream's schema.
func (e *TransmissionError) schemaRefused() bool {
	var se *stream.ServerError
	return e.Code == codes.InvalidArgument && (len(e.Causes) > 0 || errors.As(e.Err, &se) && se.Reason == "SCHEMA_VALIDATION_FAILED")
}

// RetryExhaustedError means a retryable failure persisted through Attempts
// attempts; Last is the final failure. Kind: KindRetryExhausted.
type RetryExhaustedError struct {
	Attempts int
	Last     error
}

// Kind returns KindRetryExhausted.
func (e *RetryExhaustedError) Kind() ErrorKind { return KindRetryExhausted }

// Unwrap returns the last failure.
func (e *RetryExhaustedError) Unwrap() error { return e.Last }

func (e *RetryExhaustedError) Error() string {
	msg := stream.GaveUpAfter(e.Attempts)
	if e.Last != nil {
		msg += ": " + causeText(e.Last)
		if untrustedCertHint("", msg, "") != "" {
			return msg // retrying does not make a certificate trusted; the hint is in Last
		}
		if ownHint(e.Last) {
			// One hint: an endpoint or a token endpoint (the workspace)
			// that could not be reached (refused, timed out) has its own,
			// what to check; a healthier server would not help.
			return msg
		}
	}
	return msg + " (raise retry_max_attempts or check server health)"
}

// TokenRefreshError means the OAuth token endpoint failed. StatusCode is the
// HTTP status (0 for network errors); Retryable is true for 5xx, 408, 429 (rate
// limited) and network failures. Kind: KindTokenRefresh. The secret never appears in it.
type TokenRefreshError struct {
	URL        string
	StatusCode int
	Retryable  bool
	Err        error
}

// Kind returns KindTokenRefresh.
func (e *TokenRefreshError) Kind() ErrorKind { return KindTokenRefresh }

// Unwrap returns the underlying cause.
func (e *TokenRefreshError) Unwrap() error { return e.Err }

func (e *TokenRefreshError) Error() string {
	msg, _ := e.describe()
	return msg
}

// describe is the message of Error and whether it ends with a hint of its
// own, as ConnectionError's: a token endpoint that could not be reached
// (a network failure: no HTTP status) gets the connection hint naming
// unity_catalog_url, a final refusal the credentials' hint; a retryable
// HTTP status (the endpoint answered) and the caller's context ending have
// none.
func (e *TokenRefreshError) describe() (msg string, hinted bool) {
	msg = "zerobus: token request failed"
	if e.URL != "" {
		msg += " at " + e.URL
	}
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Err != nil {
		cause := causeText(e.Err)
		var te *stream.TokenError
		if errors.As(e.Err, &te) && te.URL == e.URL && te.StatusCode == e.StatusCode {
			cause = te.Detail() // the URL and status are named above
		}
		if key := e.proxyKey(); key != "" {
			// the proxy could not be reached: name it and its setting, not
			// the workspace's
			return msg + ": cannot reach the proxy " + te.ProxyAddr + " (" + key + "): " + cause +
				" (check " + key + " and that the proxy is running)", true
		}
		if cause != "" {
			msg += ": " + cause
		}
		if hint := untrustedCertHint(e.URL, msg, certCAFile(e.Err)); hint != "" {
			return msg + hint, true
		}
	}
	if !e.Retryable {
		return msg + " (check unity_catalog_url, client_id and client_secret)", true
	}
	if e.StatusCode == 0 && e.Err != nil && !stream.ContextEnded(e.Err) {
		return msg + " (check unity_catalog_url, network and TLS settings)", true
	}
	if e.StatusCode == 429 {
		// rate limiting, not a server in bad health
		return msg + " (the token endpoint is rate limiting: send less often or raise retry_max_attempts)", true
	}
	return msg, false
}

// proxyKey is the setting of the proxy a token request could not reach
// (proxy_url, or HTTPS_PROXY for the environment's), "" when the request
// did not fail so.
func (e *TokenRefreshError) proxyKey() string {
	var te *stream.TokenError
	if !errors.As(e.Err, &te) || te.ProxyAddr == "" {
		return ""
	}
	return hostSettingKey(te.ProxySetting)
}

// KeyProblems names proxy_url (or HTTPS_PROXY) when the token request
// could not reach the proxy (DetailsOf reports it).
func (e *TokenRefreshError) KeyProblems() (keys, msgs []string) {
	if key := e.proxyKey(); key != "" {
		return []string{key}, []string{"the proxy cannot be reached"}
	}
	return nil, nil
}

// KeyProblems names proxy_url when the endpoint could not be reached
// because its proxy could not (DetailsOf reports it).
func (e *ConnectionError) KeyProblems() (keys, msgs []string) {
	var t *stream.TransportError
	if errors.As(e.Err, &t) && t.Proxy {
		return []string{"proxy_url"}, []string{"the proxy cannot be reached or failed the tunnel"}
	}
	return nil, nil
}

// LogStreamCreationFailed is the message of the WARN record the library
// logs when the creation of a stream gives up: the send's error then holds
// the same failure, so a command that prints that error may drop the
// record from its own log output (the zerobus CLI does without -v).
const LogStreamCreationFailed = stream.LogStreamCreationFailed

// wrapf returns an error whose message is the formatted prefix followed by
// err's message without its own "zerobus: " (one prefix per message), and
// which unwraps to err.
func wrapf(err error, format string, args ...any) error {
	return &prefixedError{msg: fmt.Sprintf(format, args...), err: err}
}

type prefixedError struct {
	msg string
	err error
}

func (e *prefixedError) Error() string { return e.msg + causeText(e.err) }
func (e *prefixedError) Unwrap() error { return e.err }

// causeText is err's message without the "zerobus: " prefix, for embedding
// a cause in another message of this package.
func causeText(err error) string {
	return strings.TrimPrefix(err.Error(), "zerobus: ")
}
