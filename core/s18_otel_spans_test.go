package core_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18SpansCarryNoRowValues: a row whose value cannot be converted (an
// INT column given 98765432101) fails; the error says the value, but the
// SendBatch span's status and exception event exported to traces.jsonl do
// not: they keep the row, the column and the public kind.
func TestS18SpansCarryNoRowValues(t *testing.T) {
	const table = "main.default.s18_values"
	cfg, srv := s18Server(t, table, "id BIGINT NOT NULL, n INT")
	dir := t.TempDir()
	cfg.ObservabilityEnabled, cfg.ObservabilityOutputDir, cfg.ObservabilityInterval = true, dir, time.Hour
	ctx := context.Background()
	w, err := core.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.Int64Builder).AppendValues([]int64{5, 98765432101, 6}, nil)
	rec := b.NewRecordBatch()
	b.Release()
	res, err := w.SendBatch(ctx, rec)
	rec.Release()
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err == nil || res.FailedCount != 1 || !strings.Contains(err.Error(), "98765432101") {
		t.Fatalf("send: err %v, %d failed; want row 1 failed, its value in the error", err, res.FailedCount)
	}
	if got := srv.RecordCount(table); got != 2 {
		t.Errorf("server stored %d rows, want 2", got)
	}
	raw, rerr := os.ReadFile(filepath.Join(dir, "traces.jsonl"))
	if rerr != nil {
		t.Fatal(rerr)
	}
	if bytes.Contains(raw, []byte("98765432101")) {
		t.Errorf("traces.jsonl holds the row's value 98765432101")
	}
	var found bool
	for _, line := range s18Lines(t, filepath.Join(dir, "traces.jsonl")) {
		for _, rs := range line["resourceSpans"].([]any) {
			for _, ss := range s18Get(rs, "scopeSpans").([]any) {
				for _, sp := range s18Get(ss, "spans").([]any) {
					if s18Get(sp, "name") != "zerobus.SendBatch" {
						continue
					}
					found = true
					msg, _ := s18Get(sp, "status", "message").(string)
					if !strings.Contains(msg, "row 1") || !strings.Contains(msg, `column "n"`) {
						t.Errorf("status %q lacks the row and column", msg)
					}
					ev := s18Get(sp, "events")
					attrs := s18Attrs(s18Get(ev, "attributes"))
					if s18Get(ev, "name") != "exception" || attrs["exception.type"] != string(core.KindConversion) || attrs["exception.message"] != msg {
						t.Errorf("exception event %v, want type %q and the status's message", ev, core.KindConversion)
					}
				}
			}
		}
	}
	if !found {
		t.Error("no zerobus.SendBatch span in traces.jsonl")
	}
}
