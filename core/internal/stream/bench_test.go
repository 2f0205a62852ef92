package stream

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// benchStream starts a local server with immediate acks and opens a stream.
func benchStream(b *testing.B, mutate func(*Config)) (*zerobuslocal.Server, *Stream) {
	b.Helper()
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{
		Endpoint:     srv.Endpoint(),
		WorkspaceURL: srv.WorkspaceURL(),
		TableName:    testTable,
		ClientID:     srv.ClientID(),
		ClientSecret: srv.ClientSecret(),
		HTTPClient:   &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		Telemetry:    telemetry.New(nil, nil, slog.New(slog.DiscardHandler)),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		b.Fatal(err)
	}
	s, err := c.OpenStream(context.Background(), testDescriptor(), zerobuspb.RecordType_PROTO)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = s.Close(context.Background())
		_ = c.Close()
		_ = srv.Close()
	})
	return srv, s
}

// kbRecords returns n valid test records of exactly 1024 bytes.
func kbRecords(n int) [][]byte {
	pad := strings.Repeat("x", 1024-3-3-3) // id tag+varint(≤3) + s tag + len(2)
	out := make([][]byte, n)
	for i := range out {
		r := encodeRow(int64(i%100), pad)
		for len(r) < 1024 {
			r = encodeRow(int64(i%100), pad+strings.Repeat("y", 1024-len(r)))
		}
		out[i] = r[:1024]
	}
	return out
}

// BenchmarkThroughput1KB streams 1 KB records over one stream against the
// local server (immediate acks). MB/s comes from SetBytes; rows/s is reported.
func BenchmarkThroughput1KB(b *testing.B) {
	for _, per := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("records_per_request=%d", per), func(b *testing.B) {
			srv, s := benchStream(b, nil)
			recs := kbRecords(per)
			if len(recs[0]) != 1024 {
				b.Fatalf("record size %d", len(recs[0]))
			}
			sendThroughput(b, s, recs)
			if got := srv.RecordCount(testTable); got < b.N*per {
				b.Fatalf("server stored %d rows, want >= %d", got, b.N*per)
			}
		})
	}
}

// BenchmarkThroughput1KBNullServer is BenchmarkThroughput1KB against a
// server that acks without decoding or storing, to show the client's own
// ceiling (the local server decodes every record into a dynamic message).
// The null server raises its HTTP/2 receive windows to 16 MiB.
func BenchmarkThroughput1KBNullServer(b *testing.B) {
	for _, per := range []int{100, 1000} {
		b.Run(fmt.Sprintf("records_per_request=%d", per), func(b *testing.B) {
			cs := &captureServer{discard: true}
			endpoint := startCaptureB(b, cs)
			c, err := NewClient(captureConfig(endpoint))
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			ctx := context.Background()
			s, err := c.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_PROTO)
			if err != nil {
				b.Fatal(err)
			}
			sendThroughput(b, s, kbRecords(per))
			if err := s.Close(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// sendThroughput times b.N sends of the 1 KB records recs on s and a final
// Flush, setting bytes per op and reporting rows/s; the timer is stopped
// when it returns.
func sendThroughput(b *testing.B, s *Stream, recs [][]byte) {
	b.Helper()
	ctx := context.Background()
	per := len(recs)
	b.SetBytes(int64(per * 1024))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := s.Send(ctx, recs); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	el := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*per)/el.Seconds(), "rows/s")
}

// BenchmarkLatency10MB measures Send-to-ack latency of one ~10 MB batch
// (10,000 records of 1 KB) at a time, reporting p50 and p95, against the
// local server and against a null server that acks without decoding.
func BenchmarkLatency10MB(b *testing.B) {
	b.Run("server=local", func(b *testing.B) {
		_, s := benchStream(b, nil)
		latency(b, s)
	})
	b.Run("server=null", func(b *testing.B) {
		c, err := NewClient(captureConfig(startCaptureB(b, &captureServer{discard: true})))
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		s, err := c.OpenStream(context.Background(), testDescriptor(), zerobuspb.RecordType_PROTO)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close(context.Background())
		latency(b, s)
	})
}

func latency(b *testing.B, s *Stream) {
	recs := kbRecords(10_000)
	ctx := context.Background()
	b.SetBytes(int64(len(recs) * 1024))
	b.ReportAllocs()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		p, err := s.Send(ctx, recs)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
}
