package core_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestDebugFilesHoldWhatWasSent sends reference batches with both debug
// outputs on, then reads the files back: the Arrow file holds the batches
// as sent, the protobuf file one record per row with the same ids, nothing
// was dropped, and DebugStats agrees with the files.
func TestDebugFilesHoldWhatWasSent(t *testing.T) {
	ctx := context.Background()
	srv, err := zerobuslocal.Start(ctx, zerobuslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	cfg := core.DefaultConfig()
	cfg.Endpoint, cfg.UnityCatalogURL = srv.Endpoint(), srv.WorkspaceURL()
	cfg.ClientID, cfg.ClientSecret = srv.ClientID(), srv.ClientSecret()
	cfg.TableName = "main.default.debug_readback"
	cfg.DebugEnabled, cfg.DebugOutputDir = true, dir
	w, err := core.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if st := w.DebugStats(); st.Arrow.Writes != 0 || st.Protobuf.Writes != 0 {
		t.Fatalf("stats before any send: %+v", st)
	}
	sizes := []int{3000, 10_000, 1}
	var sent []int64
	for _, n := range sizes {
		rec := convert.ReferenceBatch(memory.DefaultAllocator, n)
		res, err := w.SendBatch(ctx, rec)
		if err != nil || res.SuccessfulCount != n {
			t.Fatalf("SendBatch(%d rows) = %+v, %v", n, res, err)
		}
		ids := rec.Column(0).(*array.Int64)
		for i := 0; i < ids.Len(); i++ {
			sent = append(sent, ids.Value(i))
		}
		rec.Release()
	}
	if err := w.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := w.DebugStats()
	total := int64(len(sent))
	if st.Arrow.Writes != int64(len(sizes)) || st.Arrow.Rows != total || st.Protobuf.Rows != total || st.Protobuf.Writes < int64(len(sizes)) {
		t.Errorf("DebugStats = %+v; want %d Arrow writes, %d rows of each kind", st, len(sizes), total)
	}
	for _, k := range []core.DebugFileStats{st.Arrow, st.Protobuf} {
		if k.DroppedWrites != 0 || k.Failures != 0 || k.QueuedWrites != 0 || k.QueuedBytes != 0 || k.BytesWritten == 0 {
			t.Errorf("DebugStats after Flush = %+v; want nothing dropped, failed or queued, bytes written", k)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}

	arrowPath := filepath.Join(dir, "zerobus", "arrow", cfg.TableName+".arrow")
	protoPath := filepath.Join(dir, "zerobus", "proto", cfg.TableName+".proto")
	for _, p := range []struct {
		path  string
		bytes int64
	}{{arrowPath, st.Arrow.BytesWritten}, {protoPath, st.Protobuf.BytesWritten}} {
		fi, err := os.Stat(p.path)
		if err != nil {
			t.Fatal(err)
		}
		if p.path == protoPath && fi.Size() != p.bytes || p.path == arrowPath && fi.Size() < p.bytes {
			t.Errorf("%s: %d bytes on disk, stats said %d written before Close", filepath.Base(p.path), fi.Size(), p.bytes)
		}
		gaps, err := core.ReadDebugDrops(p.path)
		if err != nil || gaps != nil {
			t.Errorf("ReadDebugDrops(%s) = %v, %v; want nothing dropped", filepath.Base(p.path), gaps, err)
		}
	}
	recs, err := core.ReadDebugArrowFile(arrowPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(sizes) {
		t.Fatalf("Arrow file holds %d batches, want %d", len(recs), len(sizes))
	}
	for i, r := range recs {
		want := convert.ReferenceBatch(memory.DefaultAllocator, sizes[i])
		if !array.RecordEqual(r, want) {
			t.Errorf("Arrow batch %d differs from the one sent", i)
		}
		want.Release()
		r.Release()
	}
	protoRec, err := core.ReadDebugProtoFileArrow(protoPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer protoRec.Release()
	idCol := protoRec.Column(protoRec.Schema().FieldIndices("id")[0]).(*array.Int64)
	if int64(idCol.Len()) != total {
		t.Fatalf("protobuf file holds %d records, want %d", idCol.Len(), total)
	}
	for i := range sent {
		if idCol.Value(i) != sent[i] {
			t.Fatalf("protobuf record %d has id %d, want %d", i, idCol.Value(i), sent[i])
		}
	}
}
