//go:build cgo

package pybind

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/ipcbomb"
)

// exported reads the debug file at p through ExportDebugFile, as Python
// does: the stream's schema and batches, then what the DebugReader says.
// The caller releases the batches; at the test's end no reader is open
// (streamsReleased).
func exported(t *testing.T, p string) (*arrow.Schema, []arrow.RecordBatch, *DebugReader) {
	t.Helper()
	t.Cleanup(func() { streamsReleased(t, p) })
	cs := new(cdata.CArrowArrayStream)
	got, err := ExportDebugFile(p, int64(uintptr(unsafe.Pointer(cs))))
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	imported, err := cdata.ImportCRecordReader(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	rdr := imported.(array.RecordReader) // released by its finalizer (streamsReleased)
	var recs []arrow.RecordBatch
	for rdr.Next() {
		rec := rdr.RecordBatch()
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := rdr.Err(); err != nil {
		t.Fatalf("%s: the stream ended with %v; damage must end it without an error", p, err)
	}
	return rdr.Schema(), recs, got
}

// wholeFile is what core's whole-file readers give for the debug file at p
// (core.ReadDebugArrowFileTail, core.ReadDebugProtoFileArrowTail): its
// schema (the batches', else that of the damaged first batch, else the
// schema of a file with no batch, else none), the intact batches, the
// damage as its details JSON ("" for none) and how the file ends.
func wholeFile(t *testing.T, p string) (*arrow.Schema, []arrow.RecordBatch, string, core.DebugTail) {
	t.Helper()
	kind, err := core.DebugFileKind(p)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	var recs []arrow.RecordBatch
	var tail core.DebugTail
	var readErr error
	if kind == "proto" {
		var rec arrow.RecordBatch
		rec, tail, readErr = core.ReadDebugProtoFileArrowTail(p, memory.DefaultAllocator)
		if rec == nil {
			t.Fatalf("%s: %v", p, readErr)
		}
		recs = []arrow.RecordBatch{rec}
	} else {
		recs, tail, readErr = core.ReadDebugArrowFileTail(p, memory.DefaultAllocator)
	}
	damage := ""
	if readErr != nil {
		damage = string(errorJSON(core.KindUnknown, fmt.Errorf("zerobus: %w", readErr)))
	}
	switch {
	case len(recs) > 0:
		return recs[0].Schema(), recs, damage, tail
	case core.DebugDamageSchema(readErr) != nil:
		return core.DebugDamageSchema(readErr), nil, damage, tail
	case readErr != nil:
		t.Fatalf("%s: %v", p, readErr)
	case tail.Schema != nil:
		return tail.Schema, nil, damage, tail
	}
	return arrow.NewSchema(nil, nil), nil, damage, tail
}

// ExportDebugFile gives what core's whole-file readers give (wholeFile),
// for every kind of file Python reads: the same schema, batches, damage,
// still-writing and tail (sound, damaged in a body, a decompression bomb
// at batch 0, an active file cut inside a batch, with no schema yet, of no
// byte, holding its schema and no batch, a protobuf file whole and cut
// short); once every batch is released, no reader is open and no byte
// held.
func TestExportDebugFileAsWholeFile(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{"damaged body": damagedArrowFile(t)}
	bomb, _, err := ipcbomb.WriteFile(dir, "bomb.arrow", false, 2)
	if err != nil {
		t.Fatal(err)
	}
	files["bomb"] = bomb
	whole := twoBatchStream(t)
	for name, data := range map[string][]byte{
		"sound":        whole,
		"active cut":   whole[:len(whole)-8-20],
		"active empty": nil,
	} {
		p := filepath.Join(dir, name, "main.default.t.arrow")
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if name != "sound" {
			debuglock.Hold(t, p) // its writer is still writing it
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		files[name] = p
	}
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"schema only": buf.Bytes(), "no byte": nil, "rotated cut": whole[:len(whole)-8-20]} {
		p := filepath.Join(dir, name, "main.default.t-20261206T170000.000Z-0000.arrow")
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		files[name] = p
	}
	proto, _ := sendProtoDebug(t, 40)
	files["proto"] = proto
	cut, _ := sendProtoDebug(t, 40)
	data, err := os.ReadFile(cut)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cut, data[:len(data)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	files["proto cut"] = cut

	for name, p := range files {
		wantSchema, wantRecs, wantDamage, wantTail := wholeFile(t, p)
		schema, recs, got := exported(t, p)
		if !schema.Equal(wantSchema) {
			t.Errorf("%s: schema %v, the whole file's %v", name, schema, wantSchema)
		}
		if len(recs) != len(wantRecs) {
			t.Errorf("%s: %d batches, the whole file's %d", name, len(recs), len(wantRecs))
		}
		for i := range min(len(recs), len(wantRecs)) {
			if !array.RecordEqual(recs[i], wantRecs[i]) {
				t.Errorf("%s: batch %d is %v, the whole file's %v", name, i, recs[i], wantRecs[i])
			}
		}
		// (Python reads the tail only without damage)
		if got.Damage() != wantDamage || got.StillWriting() != wantTail.StillWriting || (wantDamage == "" && got.Tail() != wantTail.String()) {
			t.Errorf("%s: damage %q still_writing %v tail %q; the whole file's %q %v %q",
				name, got.Damage(), got.StillWriting(), got.Tail(), wantDamage, wantTail.StillWriting, wantTail.String())
		}
		releaseAll(wantRecs)
		releaseAll(recs)
		streamsReleased(t, name)
		if n := core.DebugReadBytes(); n != 0 && name != "bomb" && name != "rotated cut" && name != "damaged body" {
			t.Errorf("%s: %d bytes held after every batch was released", name, n)
		}
	}
}

// streamsReleased waits for the streams imported (which arrow-go releases
// in a finalizer) to be released: no debug reader stays open.
func streamsReleased(t *testing.T, what string) {
	t.Helper()
	for i := 0; core.DebugReadersOpen() != 0; i++ {
		if i == 500 {
			t.Fatalf("%s: %d debug readers open after the stream was released", what, core.DebugReadersOpen())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// A file ExportDebugFile cannot read (a descriptor sidecar, no file, a
// protobuf file with no descriptor beside it) is its error, naming the
// file and what to do, and leaves the stream untouched.
func TestExportDebugFileErrors(t *testing.T) {
	proto, _ := sendProtoDebug(t, 2)
	dir := t.TempDir()
	sidecar := proto[:len(proto)-len(".proto")] + ".descriptor.pb"
	for p, want := range map[string]string{
		sidecar:                          "zerobus: " + sidecar + " is a descriptor sidecar; pass the .proto file beside it",
		filepath.Join(dir, "none.arrow"): "zerobus: open " + filepath.Join(dir, "none.arrow") + ": no such file or directory",
		filepath.Join(dir, "none.proto"): fmt.Sprintf("zerobus: reading the descriptor of %q: open %s: no such file or directory "+
			"(it is expected beside the file, named none.descriptor.pb)", filepath.Join(dir, "none.proto"), filepath.Join(dir, "none.descriptor.pb")),
	} {
		cs := new(cdata.CArrowArrayStream)
		_, err := ExportDebugFile(p, int64(uintptr(unsafe.Pointer(cs))))
		if err == nil || err.Error() != errorOf(core.KindUnknown, "%s", want).Error() {
			t.Errorf("%s: error %v, want the message %q", p, err, want)
		}
		if *cs != (cdata.CArrowArrayStream{}) {
			t.Errorf("%s: the stream was written on an error", p)
		}
	}
	if _, err := ExportDebugFile(proto, 0); err == nil {
		t.Error("a null address was accepted")
	}
	if n := core.DebugReadersOpen(); n != 0 {
		t.Errorf("%d debug readers open", n)
	}
}
