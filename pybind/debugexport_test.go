//go:build cgo

package pybind

import (
	"bytes"
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

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/ipcbomb"
)

// exported reads the debug file at p through ExportDebugFile, as Python
// does: the stream's schema and batches, then what the DebugReader says.
func exported(t *testing.T, p string) (*arrow.Schema, []arrow.RecordBatch, *DebugReader) {
	t.Helper()
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

// ExportDebugFile gives what ReadDebugFile gives, for every kind of file
// Python reads: the same schema, batches, damage, still-writing and tail
// (sound, damaged in a body, a decompression bomb at batch 0, an active
// file cut inside a batch, with no schema yet, of no byte, holding its
// schema and no batch, a protobuf file whole and cut short); once every
// batch is released, no reader is open and no byte held.
func TestExportDebugFileAsReadDebugFile(t *testing.T) {
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
		want, err := ReadDebugFile(p)
		if err != nil {
			t.Fatalf("%s: ReadDebugFile: %v", name, err)
		}
		r, err := ipc.NewReader(bytes.NewReader(want.IPC))
		if err != nil {
			t.Fatal(err)
		}
		var wantRecs []arrow.RecordBatch
		for r.Next() {
			rec := r.RecordBatch()
			rec.Retain()
			wantRecs = append(wantRecs, rec)
		}
		schema, recs, got := exported(t, p)
		if !schema.Equal(r.Schema()) {
			t.Errorf("%s: schema %v, ReadDebugFile's %v", name, schema, r.Schema())
		}
		if len(recs) != len(wantRecs) {
			t.Errorf("%s: %d batches, ReadDebugFile's %d", name, len(recs), len(wantRecs))
		}
		for i := range min(len(recs), len(wantRecs)) {
			if !array.RecordEqual(recs[i], wantRecs[i]) {
				t.Errorf("%s: batch %d is %v, ReadDebugFile's %v", name, i, recs[i], wantRecs[i])
			}
		}
		// (ReadDebugFile's Tail is "" when the first batch is damaged, else
		// "complete" with damage: Python reads it only without damage)
		if got.Damage() != want.Damage || got.StillWriting() != want.StillWriting || (want.Damage == "" && got.Tail() != want.Tail) {
			t.Errorf("%s: damage %q still_writing %v tail %q; ReadDebugFile's %q %v %q",
				name, got.Damage(), got.StillWriting(), got.Tail(), want.Damage, want.StillWriting, want.Tail)
		}
		r.Release()
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

// A file ExportDebugFile cannot read (a descriptor sidecar, no file) is
// its error, as ReadDebugFile's, and leaves the stream untouched.
func TestExportDebugFileErrors(t *testing.T) {
	proto, _ := sendProtoDebug(t, 2)
	for _, p := range []string{proto[:len(proto)-len(".proto")] + ".descriptor.pb", filepath.Join(t.TempDir(), "none.arrow")} {
		_, want := ReadDebugFile(p)
		cs := new(cdata.CArrowArrayStream)
		_, err := ExportDebugFile(p, int64(uintptr(unsafe.Pointer(cs))))
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%s: error %v, ReadDebugFile's %v", p, err, want)
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
