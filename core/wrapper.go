package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"go.opentelemetry.io/otel/attribute"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/debugfile"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/flightstream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/plural"
)

// userAgent identifies this client to the server (the stream client's
// UserAgent; grpc-go appends its own token).
const userAgent = "zerobus-wrapper-go/" + Version

// Wrapper streams Arrow record batches into one Zerobus table. Create it
// with New, send with SendBatch (or SendBatchAsync), and Close it when done.
// A Wrapper is safe for concurrent use by any number of goroutines; see the
// package documentation for delivery guarantees. A nil or zero Wrapper (not
// made by New) behaves as a closed one: sends fail with ErrClosed and Close
// returns nil. A nil ctx fails a call with ErrNilContext (Close takes it as
// context.Background()).
type Wrapper struct {
	cfg       *Config // validated, defaults filled; a pointer so that no fmt path (e.g. %s of a struct holding a *Wrapper) prints it raw
	opts      options
	tel       *telemetry.Telemetry
	log       *slog.Logger
	tableAttr attribute.KeyValue
	// transportAttr is zerobus.transport on batch metrics and spans.
	transportAttr attribute.KeyValue
	now           func() time.Time

	client  *stream.Client       // nil when WriterDisabled
	flight  *flightstream.Client // transport arrow_flight (flight.go); nil otherwise or when WriterDisabled
	target  tableTarget          // the table's Arrow schema (transport arrow_flight)
	ownHTTP *http.Client         // token HTTP client created by New (nil if the caller gave one)
	debug   *debugfile.Writer    // nil when debug output is off
	// records bounds the encoded records held by the Wrapper's sends
	// (protobuf records, or arrow_flight IPC bodies), converting, waiting
	// or in flight, to MaxInflightBytes (recordWindow).
	records *recordWindow

	mu      sync.Mutex
	closed  bool
	schemas map[string]*schemaState  // by schema fingerprint; guarded by mu
	last    *schemaState             // most recently used; guarded by mu
	active  sync.WaitGroup           // SendBatch calls in progress
	bg      sync.WaitGroup           // background goroutines (stream opens and closes)
	futures map[*SendFuture]struct{} // unresolved async sends; guarded by mu

	// opening counts the stream opens in progress in bg (nothing has been
	// sent on such a stream), for Close's message when they outlast it.
	opening atomic.Int32

	closeOnce sync.Once
	closeErr  error         // set by the first Close before closeDone is closed
	closeDone chan struct{} // closed when the first Close has returned
	// aborted is closed when Close gives up waiting for the calls in
	// progress (its ctx ended): SendReader calls stop reading, also one
	// whose reader blocks in Next or whose parts cannot fail (WriterDisabled).
	aborted chan struct{}
}

// New validates cfg and builds a Wrapper. It does no network I/O: streams
// are opened by the first SendBatch of each Arrow schema. With
// cfg.WriterDisabled it needs neither network nor credentials. Errors are
// *ConfigurationError listing every problem. ctx is only used for logging
// and is not retained.
//
// Telemetry: when none of WithTelemetry, WithLogger, WithMeterProvider and
// WithTracerProvider is given and cfg asks for export or a log file
// (ObservabilityEnabled or LogFile), New sets it up from cfg with
// SetupTelemetry, as the command line and the Python package do, and the
// Wrapper owns it (Close shuts it down, as with WithTelemetry). Without
// ObservabilityEnabled only the logger (LogFile at LogLevel) is set up and
// metrics and spans keep going to the otel globals. Those options, when
// given, take the place of cfg's observability settings. With OTLP export
// this replaces OpenTelemetry's process-wide internal logger, as
// SetupTelemetry does (see there): a program with a logger of its own set
// by otel.SetLogger passes WithTelemetry or WithLogger instead.
func New(ctx context.Context, cfg Config, opts ...Option) (_ *Wrapper, err error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	defer func() {
		if err != nil {
			_ = o.shutdownOwned(ctx)
		}
	}()
	var optProblems []ConfigProblem
	if o.descriptor != nil && o.message != nil {
		optProblems = append(optProblems, ConfigProblem{Field: "WithDescriptor/WithMessage", Message: "both were given; use one"})
	}
	if (o.descriptor != nil || o.message != nil) && transportName(cfg.Transport) == TransportArrowFlight {
		optProblems = append(optProblems, ConfigProblem{Field: "WithDescriptor/WithMessage", Message: "describe protobuf records, and transport arrow_flight sends none (batches go in the table's Arrow schema): drop the option or use transport protobuf"})
	}
	if err := cfg.validateForNew(o.headersProvider == nil); err != nil || len(optProblems) > 0 {
		ce := &ConfigurationError{}
		if err != nil {
			ce = err.(*ConfigurationError)
		}
		ce.Problems = append(ce.Problems, optProblems...)
		return nil, ce
	}
	replacedTelemetry, err := o.telemetryFromConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	exportIgnored := cfg.IgnoredExportSettings()
	cfg = cfg.withDefaults()
	w := &Wrapper{
		cfg:           &cfg,
		opts:          o,
		tel:           telemetry.New(o.meterProvider, o.tracerProvider, o.logger),
		tableAttr:     telemetry.KeyTable.String(cfg.TableName),
		transportAttr: telemetry.KeyTransport.String(transportName(cfg.Transport)),
		now:           o.now,
		schemas:       map[string]*schemaState{},
		futures:       map[*SendFuture]struct{}{},
		records:       newRecordWindow(cfg.MaxInflightBytes),
		target:        tableTarget{sem: make(chan struct{}, 1)},
		closeDone:     make(chan struct{}),
		aborted:       make(chan struct{}),
	}
	w.log = w.tel.Logger()
	if w.now == nil {
		w.now = time.Now
	}
	rotationIgnored := slices.DeleteFunc(slices.Clone(exportIgnored), func(k string) bool { return !isRotationSetting(k) })
	exportIgnored = slices.DeleteFunc(exportIgnored, isRotationSetting)
	if len(exportIgnored) > 0 {
		w.log.WarnContext(ctx, "zerobus: observability_enabled is false, so "+strings.Join(exportIgnored, " and ")+
			plural.Verb(len(exportIgnored), " export")+
			" nothing: set observability_enabled to export, or leave them unset", "table", cfg.TableName)
	}
	if len(rotationIgnored) > 0 {
		w.log.WarnContext(ctx, "zerobus: no log or telemetry file is written (no log_file, no observability_output_dir "+
			"exported to), so "+strings.Join(rotationIgnored, " and ")+plural.Verb(len(rotationIgnored), " rotate")+
			" nothing: set one, or leave them unset", "table", cfg.TableName)
	}
	if len(replacedTelemetry) > 0 {
		w.log.WarnContext(ctx, "zerobus: an option given to New replaces telemetry the config asks for: "+
			strings.Join(replacedTelemetry, ", ")+" not written as configured (the option gets it; the config's "+
			"other telemetry is set up): leave those keys unset, or drop the option", "table", cfg.TableName)
	}
	if cfg.debugRequested() && len(cfg.DebugKinds()) == 0 {
		w.log.WarnContext(ctx, "zerobus: debug_enabled is true but debug_arrow_enabled and debug_protobuf_enabled "+
			"are both false: no debug file is written", "table", cfg.TableName)
	}

	if cfg.DebugProtobufEnabled && cfg.debugProtoNotApplicable() { // alone it is refused (transportProblems)
		w.log.WarnContext(ctx, "zerobus: debug_protobuf_enabled is true, but transport arrow_flight encodes no protobuf "+
			"record: only the Arrow debug files are written (leave it unset, or use transport protobuf)", "table", cfg.TableName)
	}
	if cfg.debugArrow() || cfg.debugProto() {
		codec, _ := debugfile.ParseCompression(cfg.DebugArrowCompression) // validated above
		dw, err := debugfile.New(cfg.TableName, debugfile.Config{
			OutputDir:        cfg.DebugOutputDir,
			Arrow:            cfg.debugArrow(),
			Proto:            cfg.debugProto(), // none on arrow_flight, which encodes no record
			FlushInterval:    cfg.DebugFlushInterval,
			RotationInterval: cfg.DebugRotationInterval,
			MaxFileSize:      cfg.DebugMaxFileSize,
			MaxFilesRetained: cfg.DebugMaxFilesRetained,
			ArrowCompression: codec,
		}, debugfile.WithTelemetry(w.tel))
		if err != nil {
			return nil, &ConfigurationError{Problems: []ConfigProblem{problemFor("DebugOutputDir",
				fmt.Sprintf("cannot write debug files to %q: %s", cfg.DebugOutputDir, strings.TrimPrefix(causeText(err), "debugfile: ")))}, Err: err}
		}
		w.debug = dw
	}

	if !cfg.WriterDisabled {
		roots, err := rootCAs(o.rootCAs, cfg.TLSCAFile)
		if err != nil {
			if w.debug != nil {
				_ = w.debug.Close()
			}
			return nil, &ConfigurationError{Problems: []ConfigProblem{problemFor("TLSCAFile", err.Error())}}
		}
		var proxy *url.URL
		if cfg.ProxyURL != "" {
			proxy, _ = url.Parse(cfg.ProxyURL) // validated above
		}
		scfg := stream.Config{
			Endpoint:            cfg.Endpoint,
			WorkspaceURL:        stream.WorkspaceBase(cfg.workspaceURL()),
			TableName:           cfg.TableName,
			ClientID:            cfg.ClientID,
			ClientSecret:        cfg.ClientSecret,
			RootCAs:             roots,
			ProxyRootCAs:        roots,
			CAFile:              cfg.TLSCAFile,
			HeadersProvider:     o.headersProvider,
			HTTPClient:          o.httpClient,
			Proxy:               proxy,
			MaxInflightRequests: cfg.MaxInflightRequests,
			MaxInflightBytes:    cfg.MaxInflightBytes,
			MaxMessageBytes:     cfg.MaxMessageBytes,
			CreateTimeout:       cfg.CreateTimeout,
			AckTimeout:          cfg.AckTimeout,
			FlushTimeout:        cfg.FlushTimeout,
			Retry: stream.RetryPolicy{
				MaxAttempts: streamRetries(cfg.RetryMaxAttempts),
				BaseDelay:   cfg.RetryBaseDelay,
				MaxDelay:    cfg.retryMaxDelay(),
				Backoff:     o.backoff,
			},
			UserAgent: userAgent,
			Telemetry: w.tel,
		}
		if scfg.HTTPClient == nil {
			// Our own transport, so Close can drop its idle connections.
			w.ownHTTP = &http.Client{Timeout: 30 * time.Second, Transport: withRootCAs(stream.TokenTransport(proxy), roots)}
			scfg.HTTPClient = w.ownHTTP
			scfg.HTTPCAFile = cfg.TLSCAFile
		}
		client, err := stream.NewClient(scfg)
		if err != nil {
			if w.debug != nil {
				_ = w.debug.Close()
			}
			return nil, &ConfigurationError{Err: err}
		}
		w.client = client
		if cfg.Transport == TransportArrowFlight {
			if w.flight, err = newFlightClient(&cfg, client); err != nil {
				_ = client.Close()
				if w.debug != nil {
					_ = w.debug.Close()
				}
				return nil, &ConfigurationError{Err: err}
			}
		}
	}
	w.log.DebugContext(ctx, "zerobus wrapper created", "config", cfg)
	return w, nil
}

// streamRetries maps "attempts including the first" to the stream client's
// "retries after the first" (negative disables).
func streamRetries(attempts int) int {
	if attempts <= 1 {
		return -1
	}
	return attempts - 1
}

// Config returns the effective configuration (defaults filled). Printing it
// never shows the secret.
func (w *Wrapper) Config() Config {
	if w.unusable() {
		return Config{}
	}
	return *w.cfg
}

// String describes w by its configuration, secrets redacted (see
// Config.String).
func (w *Wrapper) String() string {
	if w == nil {
		return "core.Wrapper(nil)"
	}
	if w.cfg == nil {
		return "core.Wrapper{}"
	}
	return "core.Wrapper{" + w.cfg.String() + "}"
}

// GoString is String: %#v never reveals a secret either.
func (w *Wrapper) GoString() string { return w.String() }

// Format implements fmt.Formatter so that every verb prints String (%q
// quotes it): the default struct printing would show the Config's secret
// and proxy password, held in an unexported field.
func (w *Wrapper) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", w.String())
		return
	}
	_, _ = f.Write([]byte(w.String()))
}

// enter registers a SendBatch call; false after Close.
func (w *Wrapper) enter() bool {
	if w.unusable() {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.active.Add(1)
	return true
}

// SendBatch converts rec to protobuf records and streams them to the table
// (with Config.Transport "arrow_flight" it casts rec to the table's Arrow
// types and sends it as Arrow instead; see "Arrow Flight transport" in the
// package documentation).
// It blocks until every row is durably acknowledged by the server or has
// failed, or ctx ends. The result is never nil and accounts for every row
// (TotalRows = SuccessfulCount + FailedCount); the error is nil exactly when
// result.Success is true, and equals result.Err otherwise.
//
// Batches of any size are accepted: rows are converted in chunks and sent as
// requests under MaxMessageBytes within the in-flight window, so memory stays
// bounded. Rows that cannot be converted fail individually
// (*ConversionError) while the others are sent. If ctx ends first, rows not
// yet acknowledged are reported failed with ctx's error: those whose request
// no RPC had carried yet are withdrawn (State RowNotWritten), the others are
// RowUnknown, since the server may still store them (at-least-once). A ctx
// that has already ended when SendBatch is called sends nothing: every row
// fails not written with ctx's error.
//
// SendBatch does not retain rec after it returns; the caller keeps
// ownership. Safe for concurrent use: concurrent calls share the table's
// streams without a lock held across network I/O. After Close it returns
// ErrClosed.
func (w *Wrapper) SendBatch(ctx context.Context, rec arrow.RecordBatch) (*TransmissionResult, error) {
	if rec == nil {
		res := &TransmissionResult{Err: ErrNilBatch}
		return res, res.Err
	}
	fail := w.allFailed(int(rec.NumRows()))
	if res := w.refused(ctx, fail); res != nil {
		return res, res.Err
	}
	start := w.now()
	if !w.enter() {
		res := w.closedResult(fail)
		return res, res.Err
	}
	defer w.active.Done()
	res := w.send(ctx, rec, start)
	return res, res.Err
}

// Flush waits until every SendBatchAsync call started before it has
// finished and every request sent so far is acknowledged, then flushes
// debug files. It blocks until then or until ctx ends (bounded by
// Config.FlushTimeout when ctx has no deadline). Safe for concurrent use;
// after Close it returns ErrClosed. When FlushTimeout, not ctx, runs out, the
// error names flush_timeout_ms (errors.Is(err, context.DeadlineExceeded)
// still holds).
//
// A Close called while Flush waits drains the same streams: Flush then
// reports what that drain did, not ErrClosed. A stream it closed after every
// request on it was acknowledged counts as flushed; when it aborted requests
// or async sends Flush waited for (its ctx ended first), Flush waits for it
// to finish (or for ctx) and its error wraps Close's.
func (w *Wrapper) Flush(ctx context.Context) error {
	if res := w.refused(ctx, w.allFailed(0)); res != nil {
		return res.Err
	}
	snap, err := w.flushStart()
	if err != nil {
		return err
	}
	return w.flushWait(ctx, snap)
}

// flushSnapshot is what a Flush waits for: the async sends unresolved and
// the schemas (their streams) when it started.
type flushSnapshot struct {
	futures []*SendFuture
	states  []*schemaState
}

// flushStart is Flush's first step: ErrClosed once Close has started, else
// the snapshot flushWait waits for.
func (w *Wrapper) flushStart() (flushSnapshot, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return flushSnapshot{}, ErrClosed
	}
	futures := make([]*SendFuture, 0, len(w.futures))
	for f := range w.futures {
		futures = append(futures, f)
	}
	return flushSnapshot{futures: futures, states: w.schemaList()}, nil
}

// flushWait is the rest of Flush: it waits for snap's async sends, then for
// every request on its streams, then flushes the debug files.
func (w *Wrapper) flushWait(ctx context.Context, snap flushSnapshot) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = stream.WithFlushTimeout(ctx, w.cfg.FlushTimeout)
		defer cancel()
	}
	futures := snap.futures
	for _, f := range futures {
		if !stream.Resolved(ctx, f.Ready()) { // its own outcome is its caller's
			n := 0
			for _, g := range futures {
				if !closed(g.Ready()) {
					n++
				}
			}
			return fmt.Errorf("zerobus: flush: %s still in progress: %w", plural.Of(n, "async send"), stream.CtxErr(ctx))
		}
	}
	// A send Close aborted (its ctx ended first) resolved with ErrClosed;
	// its stream may be gone from the slots already.
	overtaken := false
	for _, f := range futures {
		if _, err := f.Wait(ctx); errors.Is(err, ErrClosed) && w.closing() {
			overtaken = true
		}
	}
	var errs []error
	for _, err := range w.eachStream(snap.states, func(st *stream.Stream) error {
		err := st.Flush(ctx)
		if errors.Is(err, stream.ErrClosed) && len(st.Unacked()) == 0 {
			// Closed (by Close, or retired in the background) after every
			// request it carried was acknowledged: nothing is left to wait for.
			return nil
		}
		return err
	}) {
		if errors.Is(err, stream.ErrClosed) && w.closing() {
			overtaken = true
			continue
		}
		errs = append(errs, fromStream(err, w.cfg.TableName, w.cfg.Endpoint))
	}
	errs = append(errs, w.eachFlight(snap.states, func(st *flightstream.Stream) error { return st.Flush(ctx) })...)
	if overtaken {
		errs = append(errs, w.closeOutcome(ctx))
	}
	if w.debug != nil {
		if err := w.debug.Flush(); err != nil {
			w.log.WarnContext(ctx, "zerobus: flushing debug files failed", "error", err)
		}
	}
	return errors.Join(errs...)
}

// closing reports whether Close has been called.
func (w *Wrapper) closing() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closed
}

// closeOutcome is the error of a Flush whose requests the Close in progress
// aborted: it waits for that Close (or ctx) and wraps its error.
func (w *Wrapper) closeOutcome(ctx context.Context) error {
	select {
	case <-w.closeDone:
	case <-ctx.Done():
		return fmt.Errorf("zerobus: flush: Close aborted requests this flush waited for and had not finished: %w", stream.CtxErr(ctx))
	}
	if w.closeErr == nil { // cannot happen: an abort is Close's error
		return fmt.Errorf("zerobus: flush: Close aborted requests this flush waited for: %w", ErrClosed)
	}
	return fmt.Errorf("zerobus: flush: Close aborted requests this flush waited for: %w", w.closeErr)
}

// Close stops accepting batches (later calls return ErrClosed), waits for
// SendBatch calls in progress to finish, flushes and closes every stream,
// and closes the debug files. If ctx ends first, the remaining streams are
// aborted and calls still in progress fail. A stream the server ended with
// an error while nothing was pending on it affected no row: that error is
// logged, not returned. Close is idempotent: later calls return the first
// call's result (a later call whose ctx ends before the first call has
// returned returns ctx's error). Safe for concurrent use. With WithTelemetry, Close then
// shuts the Telemetry down, its final export taking a bounded share of the
// time ctx has left (half, at most 3s; see WithTelemetry).
func (w *Wrapper) Close(ctx context.Context) error {
	if w.unusable() {
		return nil
	}
	if ctx == nil {
		ctx = context.Background()
	}
	first := false
	w.closeOnce.Do(func() { first = true })
	if first {
		w.closeErr = w.close(ctx)
		close(w.closeDone)
		return w.closeErr
	}
	select {
	case <-w.closeDone:
		return w.closeErr
	case <-ctx.Done():
		return fmt.Errorf("zerobus: close: %w while another Close call was still closing the wrapper", stream.CtxErr(ctx))
	}
}

func (w *Wrapper) close(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = stream.WithFlushTimeout(ctx, w.cfg.FlushTimeout)
		defer cancel()
	}

	var errs []error
	calls := waitGroupCtx(ctx, &w.active)
	if !calls {
		close(w.aborted)
	}
	graceful := calls && waitGroupCtx(ctx, &w.bg)
	if w.client != nil {
		if graceful {
			w.mu.Lock()
			states := w.schemaList()
			w.mu.Unlock()
			// An error of a stream that had nothing pending is logged, not
			// returned (closestreams.go).
			for _, err := range w.eachStream(states, func(st *stream.Stream) error { return w.closeProtoStream(ctx, st) }) {
				if !errors.Is(err, stream.ErrClosed) {
					errs = append(errs, fromStream(err, w.cfg.TableName, w.cfg.Endpoint))
				}
			}
			errs = append(errs, w.eachFlight(states, func(st *flightstream.Stream) error { return w.closeFlightStream(ctx, st) })...)
		} else {
			errs = append(errs, fmt.Errorf("zerobus: close: %w; %s", stream.CtxErr(ctx), w.abortedWhat(calls)))
		}
		// Client.Close aborts whatever is still open, which also unblocks
		// calls in progress after a timeout.
		if w.flight != nil {
			w.flight.Close()
		}
		if err := w.client.Close(); err != nil {
			errs = append(errs, fromStream(err, w.cfg.TableName, w.cfg.Endpoint))
		}
	}
	w.active.Wait()
	w.bg.Wait()
	if w.ownHTTP != nil {
		w.ownHTTP.CloseIdleConnections()
	}
	if w.debug != nil {
		if err := w.debug.Close(); err != nil {
			w.log.WarnContext(ctx, "zerobus: closing debug files failed", "error", err)
		}
	}
	// Last: what the streams and debug files recorded and logged above is
	// exported and written before Close returns. Telemetry never fails data
	// transmission, so an export that fails (a collector that is down) is
	// only logged, by the Telemetry's Shutdown before it closes its log
	// files (log_file, logs.jsonl), so they record it too.
	_ = w.opts.shutdownOwned(ctx)
	return errors.Join(errs...)
}

// abortedWhat says what a Close that ran out of time aborts: the streams
// of the calls still in progress (calls false), or else what is left in the
// background: streams still being opened (as after an interrupted
// CheckSchema whose stream the server holds back), on which nothing was
// sent, or streams still closing.
func (w *Wrapper) abortedWhat(calls bool) string {
	if !calls {
		return "aborted the streams with unacknowledged requests"
	}
	if n := w.opening.Load(); n == 1 {
		return "aborted a stream still being opened (nothing had been sent on it)"
	} else if n > 1 {
		return fmt.Sprintf("aborted %d streams still being opened (nothing had been sent on them)", n)
	}
	return "aborted the streams still closing in the background"
}

// waitGroupCtx waits for wg or ctx; it reports whether wg finished.
func waitGroupCtx(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// unsent makes the result of a call refused before it sent anything, err
// why (ErrClosed, ErrNilContext): allFailed for a batch, unreadInput for a
// reader.
type unsent func(err error) *TransmissionResult

// allFailed makes the result of a batch of rows none of which could be
// sent: all of them not written, kept as one run (also listed one by one in
// FailedRows, unless the Wrapper was created WithRowRangesOnly, so a
// refused call of millions of rows allocates nothing per row).
func (w *Wrapper) allFailed(rows int) unsent {
	return func(err error) *TransmissionResult {
		res := &TransmissionResult{TotalRows: rows, FailedCount: rows, NotWrittenCount: rows, Err: err,
			SuccessfulRanges: [][2]int{}}
		res.setFailed(appendFailed(nil, 0, rows, err, RowNotWritten), w.unusable() || !w.opts.rowRangesOnly)
		return res
	}
}

// closedResult is the result of a call refused because the Wrapper is
// closed: fail's rows not written with ErrClosed, recorded in the metrics
// as any failed send is.
func (w *Wrapper) closedResult(fail unsent) *TransmissionResult {
	res := fail(ErrClosed)
	if !w.unusable() {
		w.record(context.Background(), res)
	}
	return res
}

// unusable reports a nil or zero Wrapper (not made by New), which behaves
// as a closed one: its methods return ErrClosed, Close returns nil.
func (w *Wrapper) unusable() bool { return w == nil || w.cfg == nil }

// refused is the result of a call that sends nothing: fail's rows not
// written with ErrClosed for a nil or zero Wrapper, ErrNilContext for a
// nil ctx; nil when the call may go on. It does not enter (a closed
// Wrapper is refused there: closedResult).
func (w *Wrapper) refused(ctx context.Context, fail unsent) *TransmissionResult {
	switch {
	case w.unusable():
		return fail(ErrClosed)
	case ctx == nil:
		return fail(ErrNilContext)
	}
	return nil
}
