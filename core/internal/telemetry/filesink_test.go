package telemetry

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry/otlptest"
)

func sampleTraceRequest() *coltracepb.ExportTraceServiceRequest {
	return &coltracepb.ExportTraceServiceRequest{ResourceSpans: []*tracepb.ResourceSpans{{
		ScopeSpans: []*tracepb.ScopeSpans{{
			Scope: &commonpb.InstrumentationScope{Name: ScopeName},
			Spans: []*tracepb.Span{{
				TraceId:           []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xfe},
				SpanId:            []byte{0xaa, 0xbb, 0xcc, 0xdd, 0x00, 0x11, 0x22, 0x33},
				ParentSpanId:      []byte{0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80},
				Name:              "zerobus.SendBatch",
				Kind:              tracepb.Span_SPAN_KIND_CLIENT,
				StartTimeUnixNano: 1700000000000000001,
				EndTimeUnixNano:   1700000000000000002,
				Attributes:        []*commonpb.KeyValue{{Key: string(KeyTable), Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: "a.b.c"}}}},
				Links: []*tracepb.Span_Link{{
					TraceId: []byte{0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00},
					SpanId:  []byte{0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01},
				}},
				Status: &tracepb.Status{Code: tracepb.Status_STATUS_CODE_ERROR, Message: "boom"},
			}},
		}},
	}}}
}

func TestOTLPJSON(t *testing.T) {
	req := sampleTraceRequest()
	got, err := otlpJSON(req)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(got, '\n') {
		t.Errorf("OTLP JSON line contains a newline: %s", got)
	}
	// OTLP/JSON: hex ids, enums as numbers, lowerCamelCase keys, 64-bit
	// integers as decimal strings.
	for _, want := range []string{
		`"traceId":"0102030405060708090a0b0c0d0e0ffe"`,
		`"spanId":"aabbccdd00112233"`,
		`"parentSpanId":"1020304050607080"`,
		`"traceId":"ffeeddccbbaa99887766554433221100"`,
		`"kind":3`,
		`"code":2`,
		`"startTimeUnixNano":"1700000000000000001"`,
		`"name":"zerobus.SendBatch"`,
	} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("OTLP JSON lacks %s:\n%s", want, got)
		}
	}

	back := &coltracepb.ExportTraceServiceRequest{}
	if err := otlptest.UnmarshalOTLPJSON(got, back); err != nil {
		t.Fatalf("decoding our own OTLP JSON: %v", err)
	}
	if diff := cmp.Diff(req, back, protocmp.Transform()); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestFileSinkRoundTrip(t *testing.T) {
	valid, err := proto.Marshal(sampleTraceRequest())
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(valid)
	_ = zw.Close()

	tests := []struct {
		name      string
		path      string
		body      []byte
		gzip      bool
		closed    bool
		wantCode  int
		wantLines int // lines in traces.jsonl afterwards
	}{
		{name: "traces", path: "/v1/traces", body: valid, wantCode: http.StatusOK, wantLines: 1},
		{name: "gzip traces", path: "/v1/traces", body: gz.Bytes(), gzip: true, wantCode: http.StatusOK, wantLines: 1},
		{name: "unknown path", path: "/v1/logs", body: valid, wantCode: http.StatusNotFound},
		{name: "not protobuf", path: "/v1/traces", body: []byte("\xff\xff\xff"), wantCode: http.StatusBadRequest},
		{name: "bad gzip", path: "/v1/traces", body: valid, gzip: true, wantCode: http.StatusBadRequest},
		{name: "after close", path: "/v1/traces", body: valid, closed: true, wantCode: http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			sink, err := newFileSink(dir, DefaultMaxFileMB, DefaultMaxBackups, true)
			if err != nil {
				t.Fatal(err)
			}
			defer sink.Close()
			if tt.closed {
				if err := sink.Close(); err != nil {
					t.Fatal(err)
				}
			}
			req, err := http.NewRequest(http.MethodPost, "http://"+fileSinkHost+tt.path, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.gzip {
				req.Header.Set("Content-Encoding", "gzip")
			}
			resp, err := sink.RoundTrip(req)
			if err != nil {
				t.Fatalf("RoundTrip error %v; want an HTTP status", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantCode {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantCode)
			}
			b, err := os.ReadFile(filepath.Join(dir, TracesFileName))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Count(string(b), "\n"); got != tt.wantLines {
				t.Errorf("traces file has %d lines, want %d", got, tt.wantLines)
			}
		})
	}
}
