package telemetry

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	colmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// File mode reuses the stock OTLP/HTTP exporters (batching, the exact OTLP
// data model) and swaps their network for fileSink, an http.RoundTripper
// that never dials: it decodes each protobuf export request and appends it as
// one line of OTLP JSON (the OTLP file exporter format) to the signal's file.

// fileSinkHost is the host name the file-mode exporters "send" to; the
// transport never resolves it (.invalid is reserved, RFC 2606).
const fileSinkHost = "otlp-file-sink.invalid"

type fileSink struct {
	mu      sync.Mutex // serialises lines and guards closed
	metrics *rotHandle
	traces  *rotHandle
	logs    *rotHandle // written by slog's JSON handler, which serialises itself
	closed  bool
}

// newFileSink opens metrics.jsonl, traces.jsonl and, with logs,
// logs.jsonl in dir (created if missing), each rotated at maxMB MiB keeping maxBackups old
// files (see openRotating).
func newFileSink(dir string, maxMB, maxBackups int, logs bool) (_ *fileSink, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, &FieldError{"OutputDir", fmt.Sprintf("%q cannot be created: %v", dir, err)}
	}
	var opened []*rotHandle
	open := func(name string) *rotHandle {
		if err != nil {
			return nil
		}
		var h *rotHandle
		h, err = openRotating(filepath.Join(dir, name), maxMB, maxBackups, "OutputDir")
		if err != nil {
			return nil
		}
		opened = append(opened, h)
		return h
	}
	s := &fileSink{metrics: open(MetricsFileName), traces: open(TracesFileName)}
	if logs {
		s.logs = open(LogsFileName)
	}
	if err != nil {
		_ = closeAll(opened...)
		return nil, err
	}
	return s, nil
}

// Close closes the files; later exports fail and are dropped. Idempotent.
func (s *fileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return closeAll(s.metrics, s.traces, s.logs)
}

// RoundTrip implements http.RoundTripper for the OTLP/HTTP exporters.
func (s *fileSink) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return respond(req, http.StatusBadRequest, nil), nil
	}
	var (
		msg, reply proto.Message
		out        *rotHandle
	)
	switch req.URL.Path {
	case "/v1/metrics":
		msg, reply, out = &colmetricpb.ExportMetricsServiceRequest{}, &colmetricpb.ExportMetricsServiceResponse{}, s.metrics
	case "/v1/traces":
		msg, reply, out = &coltracepb.ExportTraceServiceRequest{}, &coltracepb.ExportTraceServiceResponse{}, s.traces
	default:
		return respond(req, http.StatusNotFound, nil), nil
	}
	if err := proto.Unmarshal(body, msg); err != nil {
		return respond(req, http.StatusBadRequest, nil), nil
	}
	line, err := otlpJSON(msg)
	if err != nil {
		return respond(req, http.StatusInternalServerError, nil), nil
	}
	if err := s.writeLine(out, line); err != nil {
		return respond(req, http.StatusInternalServerError, nil), nil
	}
	rb, _ := proto.Marshal(reply) // empty message: cannot fail
	return respond(req, http.StatusOK, rb), nil
}

func (s *fileSink) writeLine(f *rotHandle, line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return os.ErrClosed
	}
	_, err := f.Write(append(line, '\n'))
	return err
}

func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil {
		return nil, nil
	}
	defer req.Body.Close()
	var r io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		r = zr
	}
	return io.ReadAll(r)
}

func respond(req *http.Request, code int, body []byte) *http.Response {
	return &http.Response{
		Status:        strconv.Itoa(code) + " " + http.StatusText(code),
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": []string{"application/x-protobuf"}},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}

// otlpJSON encodes an export request as OTLP/JSON: protobuf JSON with
// lowerCamelCase keys and enums as numbers, except that trace and span ids
// are hex strings rather than base64 (OTLP specification, "JSON Protobuf
// Encoding").
func otlpJSON(m proto.Message) ([]byte, error) {
	raw, err := protojson.MarshalOptions{UseEnumNumbers: true}.Marshal(m)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers exactly as protojson wrote them
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if err := hexIDs(v); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}

// hexIDs rewrites, in place, every traceId, spanId and parentSpanId value
// from base64 to lowercase hex.
func hexIDs(v any) error {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			switch k {
			case "traceId", "spanId", "parentSpanId":
				if s, ok := e.(string); ok {
					b, err := base64.StdEncoding.DecodeString(s)
					if err != nil {
						return fmt.Errorf("telemetry: %s %q is not base64: %w", k, s, err)
					}
					v[k] = hex.EncodeToString(b)
					continue
				}
			}
			if err := hexIDs(e); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range v {
			if err := hexIDs(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// fileExporters builds OTLP/HTTP exporters whose transport is sink.
func fileExporters(ctx context.Context, sink *fileSink) (sdkmetric.Exporter, sdktrace.SpanExporter, error) {
	client := &http.Client{Transport: sink, Timeout: exportTimeout}
	me, err := otlpmetrichttp.New(ctx,
		otlpmetrichttp.WithHTTPClient(client),
		otlpmetrichttp.WithEndpoint(fileSinkHost),
		otlpmetrichttp.WithInsecure(),
		otlpmetrichttp.WithURLPath("/v1/metrics"),
		otlpmetrichttp.WithRetry(otlpmetrichttp.RetryConfig{Enabled: false}),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("telemetry: file metric exporter: %w", err)
	}
	te, err := otlptracehttp.New(ctx,
		otlptracehttp.WithHTTPClient(client),
		otlptracehttp.WithEndpoint(fileSinkHost),
		otlptracehttp.WithInsecure(),
		otlptracehttp.WithURLPath("/v1/traces"),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
	)
	if err != nil {
		_ = me.Shutdown(ctx)
		return nil, nil, fmt.Errorf("telemetry: file trace exporter: %w", err)
	}
	return me, te, nil
}
