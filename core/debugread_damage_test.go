package core_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// Damage at a batch, the schema being sound, gives the file's schema through
// DebugDamageSchema, also when the first batch is damaged (no batch is
// returned then); a file whose schema cannot be read gives nil.
func TestDebugDamageSchema(t *testing.T) {
	var buf bytes.Buffer
	rec := convert.ReferenceBatch(memory.DefaultAllocator, 20)
	defer rec.Release()
	w := ipc.NewWriter(&buf, ipc.WithSchema(rec.Schema()))
	for k := 0; k < 2; k++ {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	whole := buf.Bytes()
	var schemaOnly bytes.Buffer
	sw := ipc.NewWriter(&schemaOnly, ipc.WithSchema(rec.Schema()))
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	schemaEnd := schemaOnly.Len() - 8 // less the end-of-stream marker
	dir := t.TempDir()
	for i, tc := range []struct {
		name  string
		data  []byte
		batch int // -1: no schema
	}{
		{"cut in batch 0", whole[:schemaEnd+40], 0},
		{"cut in batch 1", whole[:len(whole)-30], 1},
		{"not an IPC stream", []byte("\xff\xff\xff\xff\x10\x00\x00\x00not a flatbuffer\x00\x00\x00\x00\x00\x00\x00\x00"), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, fmt.Sprintf("main.default.t-20261206T170000.000Z-%04d.arrow", i)) // rotated: complete
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			recs, err := core.ReadDebugArrowFile(p, nil)
			for _, r := range recs {
				r.Release()
			}
			if err == nil {
				t.Fatal("no error")
			}
			got := core.DebugDamageSchema(err)
			if tc.batch < 0 {
				if got != nil {
					t.Fatalf("schema %v for %v", got, err)
				}
				return
			}
			if got == nil || !got.Equal(rec.Schema()) {
				t.Fatalf("schema %v, want the file's; error %v", got, err)
			}
			if len(recs) != tc.batch || !strings.Contains(err.Error(), fmt.Sprintf("batch %d:", tc.batch)) {
				t.Fatalf("%d batches, error %v", len(recs), err)
			}
		})
	}
	if core.DebugDamageSchema(nil) != nil {
		t.Fatal("a schema for no error")
	}
}
