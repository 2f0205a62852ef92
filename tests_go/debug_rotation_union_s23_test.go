package tests_go

import (
	"bufio"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestS23DebugRotatedFilesHoldWhatWasSent (issue 7: "pyarrow-free Go tests
// read back every rotated Arrow file with ipc.NewReader and every protobuf
// file with the descriptor, and the union equals what was sent"): a Wrapper
// with both debug outputs, rotating every few KiB, sends batches to the
// local server; after Close, every Arrow file (each a complete IPC stream)
// is read with arrow-go's ipc.NewReader and every protobuf file with
// protodelim and dynamicpb built from its own .descriptor.pb sidecar, not
// with the project's readers. Each kind holds every sent id exactly once,
// the same ids the server stored.
func TestS23DebugRotatedFilesHoldWhatWasSent(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.s23_debug_union"
	dir := t.TempDir()
	cfg := serverConfig(srv, table)
	cfg.DebugArrowEnabled, cfg.DebugProtobufEnabled, cfg.DebugKindsExplicit = true, true, true
	cfg.DebugOutputDir = dir
	cfg.DebugMaxFileSize = 4 << 10
	cfg.DebugMaxFilesRetained = -1 // keep all
	w := newWrapper(t, cfg)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const batches, rows = 30, 40
	for b := range batches {
		rec := eventBatch(mem, int64(b*rows), rows)
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		if err != nil || res.SuccessfulCount != rows {
			t.Fatalf("batch %d: %v, %v", b, res, err)
		}
	}
	if err := w.Close(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	want := make(map[int64]int, batches*rows)
	for id := range int64(batches * rows) {
		want[id] = 1
	}
	if got := storedIDs(t, srv, table); !sameCounts(got, want) {
		t.Fatalf("server stored %d distinct ids (want each of 0..%d once)", len(got), batches*rows-1)
	}

	arrowFiles := debugFiles(t, filepath.Join(dir, "zerobus", "arrow"), ".arrow")
	protoFiles := debugFiles(t, filepath.Join(dir, "zerobus", "proto"), ".proto")
	if len(arrowFiles) < 3 || len(protoFiles) < 3 {
		t.Fatalf("%d Arrow and %d protobuf files, want several of each (rotation every 4 KiB)", len(arrowFiles), len(protoFiles))
	}

	arrowIDs := map[int64]int{}
	for _, f := range arrowFiles {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := ipc.NewReader(fh, ipc.WithAllocator(mem))
		if err != nil {
			fh.Close()
			t.Fatalf("ipc.NewReader(%s): %v", filepath.Base(f), err)
		}
		for rd.Next() {
			rec := rd.RecordBatch()
			ids := rec.Column(int(rec.Schema().FieldIndices("id")[0])).(*array.Int64)
			for i := range ids.Len() {
				arrowIDs[ids.Value(i)]++
			}
		}
		if err := rd.Err(); err != nil {
			t.Errorf("reading %s: %v", filepath.Base(f), err)
		}
		rd.Release()
		fh.Close()
	}
	if !sameCounts(arrowIDs, want) {
		t.Errorf("Arrow debug files hold %d distinct ids, %d rows in all; want each of the %d sent ids once",
			len(arrowIDs), total(arrowIDs), len(want))
	}

	protoIDs := map[int64]int{}
	for _, f := range protoFiles {
		stem := strings.TrimSuffix(f, ".proto")
		raw, err := os.ReadFile(stem + ".descriptor.pb")
		if err != nil {
			t.Fatalf("descriptor sidecar of %s: %v", filepath.Base(f), err)
		}
		desc := new(descriptorpb.DescriptorProto)
		if err := proto.Unmarshal(raw, desc); err != nil {
			t.Fatalf("%s.descriptor.pb: %v", filepath.Base(stem), err)
		}
		fd, err := protodesc.NewFile(&descriptorpb.FileDescriptorProto{
			Name: proto.String("s23.proto"), Syntax: proto.String("proto2"), MessageType: []*descriptorpb.DescriptorProto{desc},
		}, nil)
		if err != nil {
			t.Fatalf("descriptor of %s: %v", filepath.Base(f), err)
		}
		md := fd.Messages().Get(0)
		idField := md.Fields().ByName("id")
		if idField == nil {
			t.Fatalf("descriptor of %s has no id field", filepath.Base(f))
		}
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(fh)
		for {
			m := dynamicpb.NewMessage(md)
			err := protodelim.UnmarshalFrom(br, m)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("decoding %s: %v", filepath.Base(f), err)
			}
			protoIDs[m.Get(idField).Int()]++
		}
		fh.Close()
	}
	if !sameCounts(protoIDs, want) {
		t.Errorf("protobuf debug files hold %d distinct ids, %d records in all; want each of the %d sent ids once",
			len(protoIDs), total(protoIDs), len(want))
	}
}

// debugFiles lists the data files (rotated and active) of kind ext in dir.
func debugFiles(t *testing.T, dir, ext string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ext) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out
}

func sameCounts(got, want map[int64]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, n := range want {
		if got[k] != n {
			return false
		}
	}
	return true
}

func total(m map[int64]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}
