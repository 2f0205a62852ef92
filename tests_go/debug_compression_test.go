package tests_go

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestDebugArrowCompressionConfig: the key loads from YAML (with ${ENV})
// and the environment, prints, and a bad value fails Validate naming the
// field, YAML key and environment variable.
func TestDebugArrowCompressionConfig(t *testing.T) {
	t.Setenv("ZB_TEST_CODEC", "zstd")
	cfg, err := core.ParseConfigYAML([]byte("table_name: a.b.c\ndebug_arrow_compression: ${ZB_TEST_CODEC}\n"))
	if err != nil {
		t.Fatalf("ParseConfigYAML: %v", err)
	}
	if cfg.DebugArrowCompression != "zstd" {
		t.Errorf("YAML: DebugArrowCompression = %q, want zstd", cfg.DebugArrowCompression)
	}
	if !strings.Contains(cfg.String(), "debug_arrow_compression: zstd") {
		t.Errorf("String() = %s; want it to show debug_arrow_compression", cfg)
	}

	t.Setenv("DEBUG_ARROW_COMPRESSION", "lz4")
	cfg, err = core.ConfigFromEnv()
	if err != nil {
		t.Fatalf("ConfigFromEnv: %v", err)
	}
	if cfg.DebugArrowCompression != "lz4" {
		t.Errorf("env: DebugArrowCompression = %q, want lz4", cfg.DebugArrowCompression)
	}

	if d := core.DefaultConfig().DebugArrowCompression; d != "" {
		t.Errorf("default DebugArrowCompression = %q, want \"\" (none)", d)
	}

	bad := validConfig()
	if err := bad.ApplyEnv(mapLookup(map[string]string{"DEBUG_ARROW_COMPRESSION": "gzip"})); err != nil {
		t.Fatalf("ApplyEnv: %v", err)
	}
	err = bad.Validate()
	if err == nil {
		t.Fatal("Validate with gzip: nil error")
	}
	for _, w := range []string{"DebugArrowCompression", "debug_arrow_compression", "DEBUG_ARROW_COMPRESSION", `"gzip"`, `"zstd"`, `"lz4"`, `"none"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %s:\n%s", w, err)
		}
	}
}

// TestDebugArrowCompression: a Wrapper with DebugArrowCompression writes a
// compressed Arrow debug file that core.ReadDebugArrowFile and plain
// ipc.NewReader read back as the batch sent.
func TestDebugArrowCompression(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := eventBatch(mem, 0, 5000)
	defer rec.Release()

	sizes := map[string]int64{}
	for _, codec := range []string{"none", "zstd", "lz4"} {
		t.Run(codec, func(t *testing.T) {
			dir := t.TempDir()
			w := newWrapper(t, core.Config{
				TableName:             "main.default.compressed",
				WriterDisabled:        true,
				DebugArrowEnabled:     true,
				DebugOutputDir:        dir,
				DebugArrowCompression: codec,
			})
			if _, err := w.SendBatch(testCtx(t), rec); err != nil {
				t.Fatalf("SendBatch: %v", err)
			}
			if err := w.Close(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "zerobus", "arrow", "main.default.compressed.arrow")
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			sizes[codec] = st.Size()

			recs, err := core.ReadDebugArrowFile(path, mem)
			if err != nil {
				t.Fatalf("ReadDebugArrowFile: %v", err)
			}
			checkSame(t, "ReadDebugArrowFile", recs, rec)

			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rd, err := ipc.NewReader(f, ipc.WithAllocator(mem))
			if err != nil {
				t.Fatalf("ipc.NewReader: %v", err)
			}
			defer rd.Release()
			var plain []arrow.RecordBatch
			for rd.Next() {
				r := rd.RecordBatch()
				r.Retain()
				plain = append(plain, r)
			}
			if err := rd.Err(); err != nil {
				t.Fatalf("ipc.Reader: %v", err)
			}
			checkSame(t, "ipc.NewReader", plain, rec)
		})
	}
	for _, codec := range []string{"zstd", "lz4"} {
		if sizes[codec] == 0 || sizes[codec] >= sizes["none"] {
			t.Errorf("%s file is %d bytes, uncompressed %d: want it smaller", codec, sizes[codec], sizes["none"])
		}
	}
}

// checkSame checks that got is the one batch want and releases got.
func checkSame(t *testing.T, reader string, got []arrow.RecordBatch, want arrow.RecordBatch) {
	t.Helper()
	if len(got) != 1 || !array.RecordEqual(got[0], want) {
		t.Errorf("%s: read %d batches, want exactly the batch sent", reader, len(got))
	}
	for _, r := range got {
		r.Release()
	}
}
