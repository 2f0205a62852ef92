package stream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/leakcheck"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/syncbuf"
)

const testTable = "main.default.events"

// testDescriptor is {1 required int64 id, 2 optional string s}.
func testDescriptor() *descriptorpb.DescriptorProto {
	return &descriptorpb.DescriptorProto{
		Name: proto.String("Event"),
		Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("id"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()},
			{Name: proto.String("s"), Number: proto.Int32(2), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
		},
	}
}

// encodeRow encodes one test record.
func encodeRow(id int64, s string) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(id))
	if s != "" {
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, s)
	}
	return b
}

// decodeID reads field 1 of a test record.
func decodeID(t testing.TB, raw []byte) int64 {
	t.Helper()
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			t.Fatalf("bad record bytes %x", raw)
		}
		raw = raw[n:]
		if num == 1 && typ == protowire.VarintType {
			v, m := protowire.ConsumeVarint(raw)
			if m < 0 {
				t.Fatalf("bad id varint")
			}
			return int64(v)
		}
		m := protowire.ConsumeFieldValue(num, typ, raw)
		if m < 0 {
			t.Fatalf("bad field")
		}
		raw = raw[m:]
	}
	t.Fatalf("record without id")
	return 0
}

// rowsBatch builds records with ids [from, from+n).
func rowsBatch(from, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = encodeRow(int64(from+i), fmt.Sprintf("row-%d", from+i))
	}
	return out
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer = syncbuf.Buffer

// sniffer records every access token the token endpoint hands out and
// counts token requests.
type sniffer struct {
	base http.RoundTripper
	mu   sync.Mutex
	toks []string
	reqs int
}

func (s *sniffer) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.base.RoundTrip(r)
	s.mu.Lock()
	s.reqs++
	s.mu.Unlock()
	if err != nil || resp.Body == nil {
		return resp, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if rerr == nil {
		var v struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(body, &v) == nil && v.AccessToken != "" {
			s.mu.Lock()
			s.toks = append(s.toks, v.AccessToken)
			s.mu.Unlock()
		}
	}
	return resp, err
}

func (s *sniffer) tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.toks...)
}

func (s *sniffer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs
}

// env is one local server plus everything a test needs to check that no
// secret leaks: every log line and every error string is collected and
// grepped at cleanup for the client secret and every issued token, and the
// goroutine count must return to its baseline.
type env struct {
	t      *testing.T
	srv    *zerobuslocal.Server
	logs   *syncBuffer
	tel    *telemetry.Telemetry
	sniff  *sniffer
	httpc  *http.Client
	before int

	mu      sync.Mutex
	errs    []string
	secrets []string // more secrets to look for (a proxy password, tokens seen by a proxy)
	clients []*Client
	backoff []time.Duration // bases passed to the test backoff
}

func newEnv(t *testing.T, opts zerobuslocal.Options) *env {
	t.Helper()
	srv, err := zerobuslocal.Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("zerobuslocal.Start: %v", err)
	}
	e := &env{t: t, srv: srv, logs: &syncBuffer{}}
	e.sniff = &sniffer{base: http.DefaultTransport.(*http.Transport).Clone()}
	e.httpc = &http.Client{Transport: e.sniff, Timeout: 10 * time.Second}
	logger := slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.tel = telemetry.New(metricnoop.NewMeterProvider(), tracenoop.NewTracerProvider(), logger)
	e.before = runtime.NumGoroutine()
	t.Cleanup(e.cleanup)
	return e
}

// faultedClient is a new env whose server has faults injected on
// testTable, and a client on its config as mutate (may be nil) changes it.
func faultedClient(t *testing.T, faults []zerobuslocal.Fault, mutate func(*Config)) (*env, *Client) {
	t.Helper()
	e := newEnv(t, zerobuslocal.Options{})
	for _, f := range faults {
		e.srv.InjectFault(testTable, f)
	}
	cfg := e.config()
	if mutate != nil {
		mutate(&cfg)
	}
	return e, e.client(cfg)
}

// config is a Config for the env's server with tiny backoffs.
func (e *env) config() Config {
	return Config{
		Endpoint:     e.srv.Endpoint(),
		WorkspaceURL: e.srv.WorkspaceURL(),
		TableName:    testTable,
		ClientID:     e.srv.ClientID(),
		ClientSecret: e.srv.ClientSecret(),
		HTTPClient:   e.httpc,
		Telemetry:    e.tel,
		Retry: RetryPolicy{
			BaseDelay: time.Millisecond,
			MaxDelay:  20 * time.Millisecond,
			Backoff: func(attempt int, base, max time.Duration) time.Duration {
				e.mu.Lock()
				e.backoff = append(e.backoff, base)
				e.mu.Unlock()
				return min(base, max)
			},
		},
		CreateTimeout: 5 * time.Second,
		AckTimeout:    10 * time.Second,
		FlushTimeout:  30 * time.Second,
	}
}

// stalledConfig is config() for a table whose acknowledgements the server
// withholds (FaultStallAcks, injected here), with an ack timeout that never
// fires during a test: requests stay in flight until the test ends them.
func (e *env) stalledConfig() Config {
	e.srv.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks})
	cfg := e.config()
	cfg.AckTimeout = time.Hour
	return cfg
}

// client builds a client closed at cleanup.
func (e *env) client(cfg Config) *Client {
	e.t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		e.t.Fatalf("NewClient: %v", err)
	}
	e.mu.Lock()
	e.clients = append(e.clients, c)
	e.mu.Unlock()
	return c
}

// open opens a PROTO stream with the test descriptor.
func (e *env) open(c *Client) *Stream {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := c.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_PROTO)
	if err != nil {
		e.note(err)
		e.t.Fatalf("OpenStream: %v", err)
	}
	return s
}

// note records an error string (and its %+v form) for the secrets check.
func (e *env) note(err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	e.errs = append(e.errs, err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err))
	e.mu.Unlock()
}

// secret adds s to the strings that must not appear in logs or errors.
func (e *env) secret(s string) {
	e.mu.Lock()
	e.secrets = append(e.secrets, s)
	e.mu.Unlock()
}

// ids returns the ids stored in the test table with their multiplicity.
func (e *env) ids() map[int64]int {
	e.t.Helper()
	out := map[int64]int{}
	for _, r := range e.srv.Rows(testTable) {
		out[decodeID(e.t, r.Raw)]++
	}
	return out
}

// checkOffsets verifies that on every RPC (stream id) the stored wire
// offsets are 0, 1, 2, ... (renumbered from 0 on each RPC).
func (e *env) checkOffsets() {
	e.t.Helper()
	per := map[string]map[int64]bool{}
	for _, r := range e.srv.Rows(testTable) {
		if per[r.StreamID] == nil {
			per[r.StreamID] = map[int64]bool{}
		}
		per[r.StreamID][r.Offset] = true
	}
	for id, offs := range per {
		for i := int64(0); i < int64(len(offs)); i++ {
			if !offs[i] {
				keys := make([]int64, 0, len(offs))
				for k := range offs {
					keys = append(keys, k)
				}
				sort.Slice(keys, func(a, b int) bool { return keys[a] < keys[b] })
				e.t.Errorf("stream %s: wire offsets %v are not 0..%d", id, keys, len(offs)-1)
				break
			}
		}
	}
}

func (e *env) cleanup() {
	t := e.t
	if t.Failed() {
		t.Logf("client log:\n%s", e.logs.String())
	}
	e.mu.Lock()
	clients := e.clients
	e.mu.Unlock()
	for _, c := range clients {
		if err := c.Close(); err != nil {
			t.Errorf("Client.Close: %v", err)
		}
	}
	e.sniff.base.(*http.Transport).CloseIdleConnections()
	waitGoroutines(t, e.before)
	if err := e.srv.Close(); err != nil {
		t.Errorf("server Close: %v", err)
	}
	secrets := append([]string{e.srv.ClientSecret()}, e.sniff.tokens()...)
	e.mu.Lock()
	texts := append([]string{e.logs.String()}, e.errs...)
	secrets = append(secrets, e.secrets...)
	e.mu.Unlock()
	for _, s := range secrets {
		for _, txt := range texts {
			if strings.Contains(txt, s) {
				t.Errorf("secret %.6s… leaked into: %s", s, txt)
			}
		}
	}
}

// waitGoroutines waits (bounded) for the goroutine count to drop to before.
func waitGoroutines(t *testing.T, before int) {
	t.Helper()
	leakcheck.Goroutines(t, before, 10*time.Second)
}

// waitAll waits for every pending and returns the errors (nil = acked).
func waitAll(t *testing.T, ps []*Pending) []error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p.Wait(ctx)
		if errors.Is(errs[i], context.DeadlineExceeded) && ctx.Err() != nil {
			t.Fatalf("pending %d did not resolve", i)
		}
	}
	return errs
}
