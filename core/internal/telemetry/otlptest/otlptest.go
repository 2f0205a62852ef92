// Package otlptest is an in-process OTLP collector for tests: it serves the
// OTLP metrics and trace services over gRPC and over HTTP (protobuf bodies)
// on 127.0.0.1 and keeps everything it receives. It also reads back the OTLP
// JSON files that telemetry.Setup writes in file mode.
package otlptest

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"

	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	metricpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// Receiver is an OTLP collector listening on two loopback ports, one for
// OTLP/gRPC and one for OTLP/HTTP. All methods are safe for concurrent use.
type Receiver struct {
	grpcLis, httpLis net.Listener
	grpcSrv          *grpc.Server
	httpSrv          *http.Server
	wg               sync.WaitGroup

	mu           sync.Mutex
	metrics      []*metricpb.ResourceMetrics
	spans        []*tracepb.ResourceSpans
	grpcRequests int
	httpRequests int
	httpPaths    []string
}

// Start listens on two ephemeral 127.0.0.1 ports and serves until Close.
func Start() (*Receiver, error) {
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("otlptest: listen for gRPC: %w", err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		gl.Close()
		return nil, fmt.Errorf("otlptest: listen for HTTP: %w", err)
	}
	r := &Receiver{grpcLis: gl, httpLis: hl, grpcSrv: grpc.NewServer()}
	colmetricpb.RegisterMetricsServiceServer(r.grpcSrv, metricsService{r: r})
	coltracepb.RegisterTraceServiceServer(r.grpcSrv, traceService{r: r})
	// Any path ending in the signal path is accepted (and recorded), so
	// tests can check how a base URL with a path was joined.
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.httpPaths = append(r.httpPaths, req.URL.Path)
		r.mu.Unlock()
		switch {
		case req.Method != http.MethodPost:
			http.Error(w, "OTLP/HTTP wants POST", http.StatusMethodNotAllowed)
		case strings.HasSuffix(req.URL.Path, "/v1/metrics"):
			r.serveHTTP(w, req, &colmetricpb.ExportMetricsServiceRequest{}, &colmetricpb.ExportMetricsServiceResponse{})
		case strings.HasSuffix(req.URL.Path, "/v1/traces"):
			r.serveHTTP(w, req, &coltracepb.ExportTraceServiceRequest{}, &coltracepb.ExportTraceServiceResponse{})
		default:
			http.NotFound(w, req)
		}
	})
	r.httpSrv = &http.Server{Handler: handler}
	r.wg.Add(2)
	go func() { defer r.wg.Done(); _ = r.grpcSrv.Serve(gl) }()
	go func() { defer r.wg.Done(); _ = r.httpSrv.Serve(hl) }()
	return r, nil
}

// GRPCEndpoint is the OTLP/gRPC endpoint URL, http://127.0.0.1:PORT.
func (r *Receiver) GRPCEndpoint() string { return "http://" + r.grpcLis.Addr().String() }

// HTTPEndpoint is the OTLP/HTTP base URL, http://127.0.0.1:PORT.
func (r *Receiver) HTTPEndpoint() string { return "http://" + r.httpLis.Addr().String() }

// Close stops both servers and waits for them to exit. Idempotent.
func (r *Receiver) Close() {
	r.grpcSrv.Stop()
	_ = r.httpSrv.Close()
	r.wg.Wait()
}

// Requests reports how many export requests arrived over gRPC and over HTTP.
func (r *Receiver) Requests() (grpcCount, httpCount int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.grpcRequests, r.httpRequests
}

// HTTPPaths returns the URL paths of every HTTP request, in arrival order.
func (r *Receiver) HTTPPaths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.httpPaths...)
}

// ResourceMetrics returns clones of every ResourceMetrics received.
func (r *Receiver) ResourceMetrics() []*metricpb.ResourceMetrics {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*metricpb.ResourceMetrics, len(r.metrics))
	for i, m := range r.metrics {
		out[i] = proto.CloneOf(m)
	}
	return out
}

// ResourceSpans returns clones of every ResourceSpans received.
func (r *Receiver) ResourceSpans() []*tracepb.ResourceSpans {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*tracepb.ResourceSpans, len(r.spans))
	for i, s := range r.spans {
		out[i] = proto.CloneOf(s)
	}
	return out
}

// MetricNames returns the sorted, distinct names of the metrics received.
func (r *Receiver) MetricNames() []string { return MetricNames(r.ResourceMetrics()) }

// SpanNames returns the sorted, distinct names of the spans received.
func (r *Receiver) SpanNames() []string { return SpanNames(r.ResourceSpans()) }

func (r *Receiver) addMetrics(req *colmetricpb.ExportMetricsServiceRequest, viaGRPC bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.metrics = append(r.metrics, req.GetResourceMetrics()...)
	r.count(viaGRPC)
}

func (r *Receiver) addSpans(req *coltracepb.ExportTraceServiceRequest, viaGRPC bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.spans = append(r.spans, req.GetResourceSpans()...)
	r.count(viaGRPC)
}

func (r *Receiver) count(viaGRPC bool) {
	if viaGRPC {
		r.grpcRequests++
	} else {
		r.httpRequests++
	}
}

func (r *Receiver) serveHTTP(w http.ResponseWriter, req *http.Request, msg, reply proto.Message) {
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(io.LimitReader(body, 64<<20))
	if err == nil {
		err = proto.Unmarshal(b, msg)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	switch m := msg.(type) {
	case *colmetricpb.ExportMetricsServiceRequest:
		r.addMetrics(m, false)
	case *coltracepb.ExportTraceServiceRequest:
		r.addSpans(m, false)
	}
	out, _ := proto.Marshal(reply)
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

type metricsService struct {
	colmetricpb.UnimplementedMetricsServiceServer
	r *Receiver
}

func (s metricsService) Export(_ context.Context, req *colmetricpb.ExportMetricsServiceRequest) (*colmetricpb.ExportMetricsServiceResponse, error) {
	s.r.addMetrics(req, true)
	return &colmetricpb.ExportMetricsServiceResponse{}, nil
}

type traceService struct {
	coltracepb.UnimplementedTraceServiceServer
	r *Receiver
}

func (s traceService) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	s.r.addSpans(req, true)
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// MetricNames returns the sorted, distinct metric names in rms.
func MetricNames(rms []*metricpb.ResourceMetrics) []string {
	var names []string
	for _, rm := range rms {
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				names = append(names, m.GetName())
			}
		}
	}
	return distinct(names)
}

// SpanNames returns the sorted, distinct span names in rss.
func SpanNames(rss []*tracepb.ResourceSpans) []string {
	var names []string
	for _, rs := range rss {
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				names = append(names, s.GetName())
			}
		}
	}
	return distinct(names)
}

func distinct(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// ReadMetricsFile parses an OTLP JSON lines file (metrics.jsonl) back into
// export requests, one per line.
func ReadMetricsFile(path string) ([]*colmetricpb.ExportMetricsServiceRequest, error) {
	var out []*colmetricpb.ExportMetricsServiceRequest
	err := readLines(path, func(line []byte) error {
		m := &colmetricpb.ExportMetricsServiceRequest{}
		out = append(out, m)
		return UnmarshalOTLPJSON(line, m)
	})
	return out, err
}

// ReadTracesFile parses an OTLP JSON lines file (traces.jsonl) back into
// export requests, one per line.
func ReadTracesFile(path string) ([]*coltracepb.ExportTraceServiceRequest, error) {
	var out []*coltracepb.ExportTraceServiceRequest
	err := readLines(path, func(line []byte) error {
		m := &coltracepb.ExportTraceServiceRequest{}
		out = append(out, m)
		return UnmarshalOTLPJSON(line, m)
	})
	return out, err
}

func readLines(path string, each func([]byte) error) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for i, line := range bytes.Split(b, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := each(line); err != nil {
			return fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
	}
	return nil
}

// UnmarshalOTLPJSON decodes one OTLP/JSON document (hex trace and span ids)
// into m, strictly: unknown fields are errors.
func UnmarshalOTLPJSON(b []byte, m proto.Message) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	if err := base64IDs(v); err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return protojson.Unmarshal(raw, m)
}

// base64IDs turns hex ids back into the base64 protojson expects.
func base64IDs(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			s, isString := e.(string)
			if isString && (k == "traceId" || k == "spanId" || k == "parentSpanId") {
				if s != strings.ToLower(s) {
					return fmt.Errorf("%s %q is not lowercase hex", k, s)
				}
				b, err := hex.DecodeString(s)
				if err != nil {
					return fmt.Errorf("%s %q is not hex: %w", k, s, err)
				}
				v[k] = base64.StdEncoding.EncodeToString(b)
				continue
			}
			if err := base64IDs(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range v {
			if err := base64IDs(e); err != nil {
				return err
			}
		}
	}
	return nil
}
