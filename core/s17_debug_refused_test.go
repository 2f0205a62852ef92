package core_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// s17 M1: a batch refused before conversion (here a column the table does
// not have) is in the Arrow debug file too, on both transports: every
// batch passed in is recorded. It was left out.
func TestS17RefusedBatchInArrowDebugFile(t *testing.T) {
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := localServer(t)
			dir := t.TempDir()
			cfg := localConfig(srv, "main.default.s17_refused")
			cfg.Transport = tr
			cfg.DebugArrowEnabled, cfg.DebugKindsExplicit, cfg.DebugOutputDir = true, true, dir
			ctx := context.Background()
			w, err := core.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			mk := func(id int64, extra bool) arrow.RecordBatch {
				fields := []arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}
				if extra {
					fields = append(fields, arrow.Field{Name: "extra", Type: arrow.BinaryTypes.String})
				}
				b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
				defer b.Release()
				b.Field(0).(*array.Int64Builder).Append(id)
				if extra {
					b.Field(1).(*array.StringBuilder).Append("x")
				}
				return b.NewRecordBatch()
			}
			ok, bad := mk(1, false), mk(2, true)
			defer ok.Release()
			defer bad.Release()
			if _, err := w.SendBatch(ctx, ok); err != nil {
				t.Fatal(err)
			}
			if _, err := w.SendBatch(ctx, bad); err == nil || !strings.Contains(err.Error(), "extra") {
				t.Fatalf("the batch with a column the table lacks: err %v, want a refusal naming extra", err)
			}
			closeWrapper(t, w)

			var ids []int64
			files, _ := filepath.Glob(filepath.Join(dir, "zerobus", "arrow", "*.arrow"))
			for _, f := range files {
				recs, err := core.ReadDebugArrowFile(f, memory.DefaultAllocator)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				for _, r := range recs {
					col := r.Column(0).(*array.Int64)
					for i := 0; i < col.Len(); i++ {
						ids = append(ids, col.Value(i))
					}
					r.Release()
				}
			}
			slices.Sort(ids)
			if !slices.Equal(ids, []int64{1, 2}) {
				entries, _ := os.ReadDir(filepath.Join(dir, "zerobus", "arrow"))
				t.Errorf("ids in the Arrow debug files %v, want [1 2] (files %v)", ids, entries)
			}
		})
	}
}
