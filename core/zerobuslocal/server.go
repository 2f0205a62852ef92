package zerobuslocal

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// HTTP/2 tuning of the gRPC listener. The windows are fixed (grpc-go's
// dynamic window grows to 16 MiB per connection): a stream's window is
// what its client may send beyond what the server has read, so it is what
// a stream held back by MaxInflightBytes still costs (a message larger than
// the window is let in whole once its reading starts).
const (
	grpcStreamWindow = 256 << 10
	grpcConnWindow   = 1 << 20
	grpcReadBuffer   = 256 << 10
)

// ErrClosed is returned by Server methods called after Close.
var ErrClosed = errors.New("zerobuslocal: server closed")

// Server is a running local Zerobus server: a gRPC listener speaking the
// Zerobus ingest protocol and an HTTP listener (the workspace URL) serving
// the OAuth token endpoint and the inspection API. All methods are safe for
// concurrent use. Close it when done.
type Server struct {
	// opts are the options with defaults, ClientSecret and InspectToken
	// blanked: they are held by secrets, a func, so that even a copied
	// Server value, which fmt prints field by field without calling any
	// method of an unexported field, shows no secret (*Server prints
	// through String).
	opts    *Options
	secrets func() (clientSecret, inspectToken string)
	log     *slog.Logger
	events  *eventLog
	stats   stats
	faults  faultStore

	grpcLis      *trackingListener
	httpLis      net.Listener
	grpcSrv      *grpc.Server
	httpSrv      *http.Server
	endpoint     string
	workspaceURL string
	workspaceIDs map[string]bool
	caPEM        []byte

	clientID      string
	tokenLifetime atomic.Int64  // time.Duration
	bodyTimeout   time.Duration // connTimeouts.httpBody at Start

	mu          sync.Mutex
	tables      map[string]*table
	ackPolicies map[string]AckPolicy
	tokens      map[string]tokenInfo
	tokenSweep  int       // len(tokens) at which IssueToken next sweeps (auth.go)
	seq         int64     // arrival order across all tables
	retained    retention // MaxStoredRows across all tables

	inflight *byteGate // received request bytes not yet stored (MaxInflightBytes)

	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
	handlers  sync.WaitGroup // stream handlers and their helper goroutines
	serving   sync.WaitGroup // Serve goroutines
}

// connTimeouts bound how long a connection that does nothing holds the
// server's resources (a variable for tests, read by Start). httpBody is
// the time an HTTP request's body has to arrive in full (boundBody).
var connTimeouts = struct {
	handshake, ping, pingAnswer, httpIdle, httpBody time.Duration
}{handshake: 20 * time.Second, ping: 2 * time.Minute, pingAnswer: 20 * time.Second, httpIdle: 2 * time.Minute, httpBody: 30 * time.Second}

// Start listens on loopback addresses and serves until Close. ctx bounds
// only the start-up (listening, certificate generation); cancelling it later
// does not stop the server. It fails if an address is not a loopback address
// or cannot be bound.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := opts.Check(); err != nil {
		return nil, err
	}
	if err := checkDataDir(opts.DataDir); err != nil {
		return nil, err
	}
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.HTTPAddr == "" {
		opts.HTTPAddr = DefaultAddr
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "local-secret-" + randomHex(16)
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = DefaultTokenLifetime
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if opts.StreamLifetime == 0 {
		opts.StreamLifetime = DefaultStreamLifetime
	}
	if opts.StreamLifetime > 0 && opts.StreamCloseGrace <= 0 { // a given one is used as given (Check)
		opts.StreamCloseGrace = min(opts.StreamLifetime/4, time.Minute)
	}
	if opts.HTTPTLS && !opts.TLS {
		opts.TLS = true
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}

	clientSecret, inspectToken := opts.ClientSecret, opts.InspectToken
	opts.ClientSecret, opts.InspectToken = "", ""
	s := &Server{
		opts:        &opts,
		secrets:     func() (string, string) { return clientSecret, inspectToken },
		log:         log,
		events:      newEventLog(),
		clientID:    opts.ClientID,
		tables:      map[string]*table{},
		ackPolicies: map[string]AckPolicy{},
		tokens:      map[string]tokenInfo{},
		closing:     make(chan struct{}),
		bodyTimeout: connTimeouts.httpBody,
	}
	s.tokenLifetime.Store(int64(opts.TokenLifetime))
	s.inflight = newByteGate(MaxInflightBytes)

	var tlsCfg *tls.Config
	if opts.TLS {
		var err error
		tlsCfg, s.caPEM, err = generateTLS()
		if err != nil {
			return nil, fmt.Errorf("zerobuslocal: generating TLS certificate: %w", err)
		}
	}

	lc := net.ListenConfig{}
	gl, err := lc.Listen(ctx, "tcp", opts.Addr)
	if err != nil {
		return nil, &ListenError{Field: "Addr", Key: "addr", Addr: opts.Addr, Err: err}
	}
	hl, err := lc.Listen(ctx, "tcp", opts.HTTPAddr)
	if err != nil {
		gl.Close()
		return nil, &ListenError{Field: "HTTPAddr", Key: "http_addr", Addr: opts.HTTPAddr, Err: err}
	}
	s.grpcLis = newTrackingListener(gl)
	s.httpLis = hl

	scheme := "http"
	if opts.TLS {
		scheme = "https"
	}
	s.endpoint = scheme + "://" + gl.Addr().String()
	httpScheme := "http"
	if opts.HTTPTLS {
		httpScheme = "https"
		httpCfg := tlsCfg.Clone()
		httpCfg.NextProtos = []string{"http/1.1"}
		s.httpLis = tls.NewListener(hl, httpCfg)
	}
	s.workspaceURL = httpScheme + "://" + hl.Addr().String()
	s.workspaceIDs = map[string]bool{"localhost": true}
	if host, _, err := net.SplitHostPort(gl.Addr().String()); err == nil {
		s.workspaceIDs[firstLabel(host)] = true
	}
	if opts.WorkspaceID != "" {
		s.workspaceIDs[opts.WorkspaceID] = true
	}

	gopts := []grpc.ServerOption{
		// Far above the record cap: an oversize request reaches the
		// handler, which answers INVALID_ARGUMENT as the service does.
		// (A request beyond even this limit gets gRPC's own
		// RESOURCE_EXHAUSTED: gRPC writes that status itself when the
		// receive fails, before any handler or interceptor could answer.)
		grpc.MaxRecvMsgSize(grpcMessageLimit(opts.MaxMessageBytes)),
		grpc.MaxSendMsgSize(grpcMessageLimit(opts.MaxMessageBytes)),
		grpc.WaitForHandlers(true),
		// Fixed HTTP/2 flow-control windows bound what each stream can
		// make the server buffer (see inflight.go); the bigger read buffer
		// cuts read syscalls for large messages.
		grpc.InitialWindowSize(grpcStreamWindow),
		grpc.InitialConnWindowSize(grpcConnWindow),
		grpc.ReadBufferSize(grpcReadBuffer),
		// Ingest messages are parsed without copying each record.
		grpc.ForceServerCodecV2(newServerCodec()),
		grpc.StatsHandler(&s.stats),
		// A peer that vanished without closing its connection (or never
		// finished the handshake) does not hold a connection forever:
		// idle connections are pinged, and dropped when the ping is not
		// answered.
		grpc.ConnectionTimeout(connTimeouts.handshake),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: connTimeouts.ping, Timeout: connTimeouts.pingAnswer}),
	}
	if tlsCfg != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	s.grpcSrv = grpc.NewServer(gopts...)
	zerobuspb.RegisterZerobusServer(s.grpcSrv, &service{s: s})
	flight.RegisterFlightServiceServer(s.grpcSrv, &flightService{s: s})

	s.httpSrv = &http.Server{
		Handler:           s.httpHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		// A keep-alive connection left idle is closed. (No ReadTimeout:
		// net/http cancels a request's context once it passes, which would
		// cut a long /arrow answer of a big table. A request's body is
		// bounded by itself instead: boundBody.)
		IdleTimeout: connTimeouts.httpIdle,
		ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	s.serving.Add(2)
	go func() {
		defer s.serving.Done()
		if err := s.grpcSrv.Serve(s.grpcLis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			s.log.Warn("zerobuslocal: gRPC serve ended", "err", err)
		}
	}()
	go func() {
		defer s.serving.Done()
		if err := s.httpSrv.Serve(s.httpLis); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("zerobuslocal: HTTP serve ended", "err", err)
		}
	}()
	s.log.Info("zerobuslocal: started", "endpoint", s.endpoint, "workspace_url", s.workspaceURL)
	return s, nil
}

// Endpoint is the Zerobus endpoint to give clients: "http://127.0.0.1:PORT"
// (plaintext h2c) or "https://127.0.0.1:PORT" with Options.TLS.
func (s *Server) Endpoint() string { return s.endpoint }

// Addr is the gRPC listen address "127.0.0.1:PORT" (Endpoint without scheme).
func (s *Server) Addr() string { return s.grpcLis.Addr().String() }

// WorkspaceURL is the base URL of the token endpoint (POST /oidc/v1/token)
// and the inspection API: "http://127.0.0.1:HTTPPORT" ("https://..." with
// Options.HTTPTLS).
func (s *Server) WorkspaceURL() string { return s.workspaceURL }

// InspectURL is the base URL of the inspection API: WorkspaceURL followed
// by InspectPrefix.
func (s *Server) InspectURL() string { return s.workspaceURL + InspectPrefix }

// ClientID is the OAuth client id the token endpoint accepts.
func (s *Server) ClientID() string { return s.clientID }

// ClientSecret is the OAuth client secret the token endpoint accepts.
func (s *Server) ClientSecret() string {
	cs, _ := s.secrets()
	return cs
}

// CACertPEM is the PEM certificate of the CA that signed the server
// certificate with Options.TLS (add it to the client's trusted roots); nil
// without TLS.
func (s *Server) CACertPEM() []byte {
	if s.caPEM == nil {
		return nil
	}
	return append([]byte(nil), s.caPEM...)
}

// SetAckPolicy overrides the ack policy of table for streams created
// afterwards ("" changes the default of every table without an override).
func (s *Server) SetAckPolicy(table string, p AckPolicy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if table == "" {
		s.opts.AckPolicy = p
		return
	}
	s.ackPolicies[table] = p
}

func (s *Server) ackPolicy(table string) AckPolicy {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.ackPolicies[table]; ok {
		return p
	}
	return s.opts.AckPolicy
}

func (s *Server) isClosing() bool {
	select {
	case <-s.closing:
		return true
	default:
		return false
	}
}

// Close stops both listeners, ends every open stream with UNAVAILABLE, waits
// for all server goroutines to return and, with Options.DataDir, writes the
// stored tables to disk. Stored rows stay readable after Close. It is
// idempotent; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		done := make(chan struct{})
		go func() {
			s.grpcSrv.GracefulStop()
			close(done)
		}()
		t := time.NewTimer(2 * time.Second)
		select {
		case <-done:
		case <-t.C:
			s.grpcSrv.Stop()
			<-done
		}
		t.Stop()
		errHTTP := s.httpSrv.Close()
		s.grpcLis.closeAll()
		s.handlers.Wait()
		s.serving.Wait()
		var errPersist error
		if s.opts.DataDir != "" {
			errPersist = s.Persist()
		}
		s.closeErr = errors.Join(errHTTP, errPersist)
		s.log.Info("zerobuslocal: closed")
	})
	return s.closeErr
}

// grpcMessageFloor is the least gRPC message limit of the server: well
// above the largest request an official client sends (10 MiB of records
// plus framing), whatever the record cap, so that a request over a lowered
// cap reaches the handler's cap check (INVALID_ARGUMENT) rather than
// gRPC's own limit (RESOURCE_EXHAUSTED, retried by clients).
const grpcMessageFloor = 64 << 20

// grpcMessageLimit is gRPC's message limit for a record cap: 2 × cap +
// 1 MiB (room for the framing of many small records), at least
// grpcMessageFloor.
func grpcMessageLimit(capBytes int) int {
	if capBytes > (1<<31-1-(1<<20))/2 {
		return 1<<31 - 1
	}
	return max(2*capBytes+1<<20, grpcMessageFloor)
}

func firstLabel(host string) string {
	for i := 0; i < len(host); i++ {
		if host[i] == '.' {
			return host[:i]
		}
	}
	return host
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("zerobuslocal: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// trackingListener remembers accepted connections by remote address so a
// fault can close the connection under a given RPC.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns map[string]net.Conn
}

func newTrackingListener(l net.Listener) *trackingListener {
	return &trackingListener{Listener: l, conns: map[string]net.Conn{}}
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, l: l}
	l.mu.Lock()
	l.conns[c.RemoteAddr().String()] = tc
	l.mu.Unlock()
	return tc, nil
}

// conn returns the open connection whose remote address is addr (nil:
// none).
func (l *trackingListener) conn(addr string) *trackedConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	c, _ := l.conns[addr].(*trackedConn)
	return c
}

// drop closes the connection whose remote address is addr.
func (l *trackingListener) drop(addr string) bool {
	l.mu.Lock()
	c, ok := l.conns[addr]
	l.mu.Unlock()
	if ok {
		c.Close()
	}
	return ok
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	conns := make([]net.Conn, 0, len(l.conns))
	for _, c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// trackedConn is an accepted connection. It counts its writes so that a
// fault closing it can first let the responses already queued on it reach
// the client (waitWritten): grpc-go's Send only queues a message for the
// connection's writer goroutine, which writes it to the connection later.
type trackedConn struct {
	net.Conn
	l    *trackingListener
	once sync.Once

	wmu     sync.Mutex
	begun   uint64        // writes begun
	ended   uint64        // writes returned
	lastEnd time.Time     // when the last write returned
	failed  bool          // a write failed: nothing more reaches the client
	wake    chan struct{} // closed when the next write returns (nil: nobody waits)
}

func (c *trackedConn) Write(b []byte) (int, error) {
	c.wmu.Lock()
	c.begun++
	c.wmu.Unlock()
	n, err := c.Conn.Write(b)
	c.wmu.Lock()
	c.ended++
	c.lastEnd = time.Now()
	if err != nil {
		c.failed = true
	}
	if c.wake != nil {
		close(c.wake)
		c.wake = nil
	}
	c.wmu.Unlock()
	return n, err
}

// writeMark is the number of writes begun so far. Taken before a message
// is queued (Send), the message is carried by a write begun after the mark.
func (c *trackedConn) writeMark() uint64 {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.begun
}

// waitWritten waits until what was queued between mark and queued (the
// time the last Send returned) has been written: a write begun after mark
// has returned, no write is under way, and none has been for idle since
// queued or since the last write returned, whichever is later. grpc-go's
// writer flushes whatever is queued without pausing (it blocks only on the
// connection and on an empty queue), so a connection idle that long has
// written everything queued before. A failed write ends the wait (nothing
// more would reach the client). It gives up, reporting false, when no
// write has begun after mark within start (on a loaded machine the writer
// goroutine can take that long to run), or bound after the first one was
// seen; it reports whether the writes went idle in time.
func (c *trackedConn) waitWritten(mark uint64, queued time.Time, idle, start, bound time.Duration) bool {
	startBy := time.Now().Add(start)
	var deadline time.Time // bound after the first write after mark was seen
	t := time.NewTimer(bound)
	defer t.Stop()
	for {
		c.wmu.Lock()
		now := time.Now()
		quiet := c.ended == c.begun && c.begun > mark
		since := queued
		if c.lastEnd.After(since) {
			since = c.lastEnd
		}
		if c.failed || (quiet && now.Sub(since) >= idle) {
			c.wmu.Unlock()
			return true
		}
		var wait time.Duration
		if c.begun <= mark { // the writer has not taken it up yet
			if !now.Before(startBy) {
				c.wmu.Unlock()
				return false
			}
			wait = startBy.Sub(now)
		} else {
			if deadline.IsZero() {
				deadline = now.Add(bound)
			}
			if !now.Before(deadline) {
				c.wmu.Unlock()
				return false
			}
			wait = deadline.Sub(now)
			if quiet {
				wait = min(wait, idle-now.Sub(since))
			}
		}
		if c.wake == nil {
			c.wake = make(chan struct{})
		}
		wake := c.wake
		c.wmu.Unlock()
		t.Reset(wait)
		select {
		case <-wake:
		case <-t.C:
		}
	}
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.l.conns[c.RemoteAddr().String()] == net.Conn(c) {
			delete(c.l.conns, c.RemoteAddr().String())
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}

// ListenError reports that Start could not listen on an address (a port in
// use, out of range or not allowed). Field is the Options field ("Addr" or
// "HTTPAddr") and Key its JSON key ("addr", "http_addr"); KeyProblems gives
// the key and the cause as data, so front ends name their own option (the
// CLI's -port, Python's port=) instead of the Go field.
type ListenError struct {
	Field, Key, Addr string
	Err              error
}

func (e *ListenError) Error() string {
	return fmt.Sprintf("zerobuslocal: listening on Options.%s %q: %v", e.Field, e.Addr, e.Err)
}

// Unwrap returns the listen error.
func (e *ListenError) Unwrap() error { return e.Err }

// KeyProblems returns the option's JSON key and the cause (see
// OptionsError), without net's "listen tcp <addr>:" prefix.
func (e *ListenError) KeyProblems() (keys, msgs []string) {
	cause := e.Err
	var oe *net.OpError
	if errors.As(cause, &oe) && oe.Err != nil {
		cause = oe.Err
	}
	return []string{e.Key}, []string{cause.Error()}
}
