package stream

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// TestAckGoingDownIsLoggedOnce: a server that acknowledges up to offset 2,
// then 0, and later up to 4, then 1 (acknowledgements are cumulative: a
// server bug) does not disturb the stream: every request resolves as
// durable, once, on the one RPC (no recovery, nothing re-sent), and the
// first lower acknowledgement is logged as a warning naming the stream and
// both offsets, the second not (once per stream). Before, a lower
// acknowledgement was ignored without a word.
func TestAckGoingDownIsLoggedOnce(t *testing.T) {
	cs := &captureServer{extraAcks: func(n int, off int64) []int64 {
		switch {
		case n == 1 && off == 2:
			return []int64{0}
		case n == 1 && off == 4:
			return []int64{1}
		}
		return nil
	}}
	logs := &syncBuffer{}
	cfg := captureConfig(startCapture(t, cs))
	cfg.Telemetry = telemetry.New(metricnoop.NewMeterProvider(), tracenoop.NewTracerProvider(),
		slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	s, err := c.OpenStream(ctx, testDescriptor(), zerobuspb.RecordType_PROTO)
	if err != nil {
		t.Fatal(err)
	}
	const n = 6
	ps := make([]*Pending, n)
	for i := range ps {
		if ps[i], err = s.Send(ctx, [][]byte{encodeRow(int64(i), "r")}); err != nil {
			t.Fatal(err)
		}
	}
	for i, err := range waitAll(t, ps) {
		if err != nil || ps[i].Attempts() != 1 {
			t.Fatalf("request %d: %v after %d attempts, want durable after 1", i, err, ps[i].Attempts())
		}
	}
	closeStream(t, s)

	cs.mu.Lock()
	rpcs, msgs := cs.rpcs, cs.msgs[0]
	cs.mu.Unlock()
	if rpcs != 1 || len(msgs) != n+1 {
		t.Fatalf("%d RPCs, %d messages on the first; want 1 RPC with create and %d requests", rpcs, len(msgs), n)
	}
	for i, m := range msgs[1:] {
		ir := m.GetIngestRecord()
		if ir.GetOffsetId() != int64(i) || decodeID(t, ir.GetProtoEncodedRecord()) != int64(i) {
			t.Fatalf("message %d: offset %d id %d, want %d and %d", i+1, ir.GetOffsetId(), decodeID(t, ir.GetProtoEncodedRecord()), i, i)
		}
	}
	var warns []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "acknowledgement went down") {
			warns = append(warns, line)
		}
	}
	if len(warns) != 1 {
		t.Fatalf("%d warnings about an acknowledgement going down, want 1:\n%s", len(warns), logs.String())
	}
	for _, want := range []string{"level=WARN", "table=cat.sch.tbl", "stream_id=cap-x", "acked_up_to_offset=2", "ack_up_to_offset=0"} {
		if !strings.Contains(warns[0], want) {
			t.Errorf("warning %q lacks %q", warns[0], want)
		}
	}
}
