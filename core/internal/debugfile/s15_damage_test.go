package debugfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A protobuf debug file cut short inside a record (a crash, a full disk):
// ReadProtoFileArrow returns the complete records before the cut, with
// their values, together with an error naming the record and its offset.
func TestReadProtoFileArrowCutShortGivesIntactRecords(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const n = 50
	p := writeProtoFile(t, makeRecords(0, n))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// the last record starts where the first n-1 end
	wantOff := int64(0)
	for _, r := range makeRecords(0, n-1) {
		wantOff += int64(1 + len(r)) // every test record is < 128 bytes
	}
	if err := os.WriteFile(p, data[:len(data)-3], 0o600); err != nil { // the writer closed it: complete, not being written
		t.Fatal(err)
	}
	rec, err := ReadProtoFileArrow(p, mem)
	var de *RecordDamageError
	if !errors.As(err, &de) || de.Record != n-1 || de.Offset != wantOff {
		t.Fatalf("err = %v (%#v); want a RecordDamageError at record %d, offset %d", err, de, n-1, wantOff)
	}
	if !strings.Contains(err.Error(), "truncated") || !strings.Contains(err.Error(), filepath.Base(p)) {
		t.Errorf("error %q does not name the file and the truncation", err)
	}
	if rec == nil {
		t.Fatal("no batch returned with the error: want the intact records")
	}
	defer rec.Release()
	if rec.NumRows() != n-1 {
		t.Fatalf("intact rows = %d, want %d", rec.NumRows(), n-1)
	}
	ids := rec.Column(0).(*array.Int64)
	names := rec.Column(1).(*array.String)
	for i := 0; i < n-1; i++ {
		if ids.Value(i) != int64(i) || names.Value(i) != "row-"+strings.Repeat("y", i%11) {
			t.Errorf("row %d = (%d, %q), want (%d, %q)", i, ids.Value(i), names.Value(i), i, "row-"+strings.Repeat("y", i%11))
		}
	}

	// cut inside the first record: a batch of the descriptor's schema, no rows
	if err := os.WriteFile(p, data[:2], 0o600); err != nil {
		t.Fatal(err)
	}
	rec0, err := ReadProtoFileArrow(p, mem)
	if !errors.As(err, &de) || de.Record != 0 || de.Offset != 0 {
		t.Fatalf("err = %v; want a RecordDamageError at record 0", err)
	}
	if rec0 == nil || rec0.NumRows() != 0 || rec0.NumCols() != 2 {
		t.Fatalf("batch = %v; want no rows with the descriptor's 2 columns", rec0)
	}
	rec0.Release()

	// not damage: no batch
	if err := os.Remove(SidecarPath(p)); err != nil {
		t.Fatal(err)
	}
	if rec, err := ReadProtoFileArrow(p, mem); rec != nil || err == nil || errors.As(err, &de) {
		t.Errorf("missing descriptor: batch %v, err %v; want no batch and a plain error", rec, err)
	}
}

// A 0-byte Arrow debug file (a crash right after a rotation) holds no
// batch: no error.
func TestReadArrowFileEmptyFileHoldsNoBatch(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"t.arrow", "t-20260101T000000.000Z-0000.arrow"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		recs, tail, err := ReadArrowFileTail(p, nil)
		if err != nil || len(recs) != 0 || tail.StillWriting {
			t.Errorf("%s: %d batches, tail %v, err %v; want none, complete, no error", name, len(recs), tail, err)
		}
	}
}

// A restart removes a previous run's 0-byte active file (it holds nothing)
// instead of moving it aside under a rotated name; one with a drops
// sidecar (writes are missing from it) is moved aside as before.
func TestRestartRemovesEmptyActiveFile(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	adir := filepath.Join(dir, "zerobus", "arrow")
	pdir := filepath.Join(dir, "zerobus", "proto")
	for _, d := range []string{adir, pdir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(adir, "t.arrow"), filepath.Join(pdir, "t.proto"), filepath.Join(pdir, "t.descriptor.pb"), filepath.Join(pdir, "t.descriptor.textproto")} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w := mustNew(t, "t", Config{OutputDir: dir, Arrow: true, Proto: true})
	for _, d := range []string{adir, pdir} {
		entries, err := os.ReadDir(d)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), lockSuffix) {
				names = append(names, e.Name())
			}
		}
		if len(names) != 0 {
			t.Errorf("%s holds %v after the restart; want the empty active file (and its sidecars) removed", d, names)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	// with a drops sidecar: moved aside, sidecar and all
	if err := os.WriteFile(filepath.Join(adir, "t.arrow"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	gap := []byte(`{"before_write":0,"before_row":0,"dropped_writes":2,"dropped_rows":20,"dropped_bytes":100,"reason":"queue full"}` + "\n")
	if err := os.WriteFile(filepath.Join(adir, "t"+dropsSuffix), gap, 0o600); err != nil {
		t.Fatal(err)
	}
	w = mustNew(t, "t", Config{OutputDir: dir, Arrow: true})
	defer w.Close()
	rotated, active := dataFiles(t, adir, "t", ".arrow")
	if len(rotated) != 1 || active != "" {
		t.Fatalf("rotated %v, active %q: want the empty file with drops moved aside", rotated, active)
	}
	gaps, err := ReadDrops(rotated[0])
	if err != nil || len(gaps) != 1 || gaps[0].DroppedRows != 20 {
		t.Errorf("drops of the moved file: %+v, %v; want the gap of 20 rows", gaps, err)
	}
}

// On a full disk the drops sidecar cannot be written either: the file
// holds what was written before, no sidecar records the loss, and Stats
// (and the metrics) are the record: every lost write is counted as
// dropped, with the failures (docs/debug-files.md says so).
func TestDiskFullLossesCountedWithoutSidecar(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	tel, reader := newTestTelemetry()
	ffs := &faultFS{}
	w := mustNew(t, table, Config{OutputDir: dir, Arrow: true, Proto: true, MaxFilesRetained: -1},
		WithClock(newFakeClock()), WithFileSystem(ffs), WithTelemetry(tel))
	writeRows(t, w, memory.DefaultAllocator, 0, 10)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	ffs.failWrites.Store(true)
	ffs.failCreate.Store(true) // no file, sidecar included, can be created
	writeRows(t, w, memory.DefaultAllocator, 10, 10)
	_ = w.Flush()
	writeRows(t, w, memory.DefaultAllocator, 20, 10)
	writeRows(t, w, memory.DefaultAllocator, 30, 5)
	_ = w.Flush()
	a, p := w.Stats()
	_ = w.Close()
	for _, st := range []Stats{a, p} {
		if st.DroppedWrites != 3 || st.DroppedRows != 25 || st.Failures == 0 {
			t.Errorf("stats %+v; want the 3 lost writes (25 rows) dropped and failures counted", st)
		}
	}
	if got := counter(t, reader, "zerobus.debug.dropped"); got != 6 {
		t.Errorf("zerobus.debug.dropped = %d, want 6 (3 writes per kind)", got)
	}
	for _, kd := range [][2]string{{"arrow", ".arrow"}, {"proto", ".proto"}} {
		d := filepath.Join(dir, "zerobus", kd[0])
		_, active := dataFiles(t, d, table, kd[1])
		if gaps, err := ReadDrops(active); err != nil || len(gaps) != 0 {
			t.Errorf("%s: drops %+v, %v; want no sidecar (it could not be written)", kd[0], gaps, err)
		}
	}
	_, active := dataFiles(t, filepath.Join(dir, "zerobus", "proto"), table, ".proto")
	if got := readProtoIDs(t, []string{active}, "Row"); len(got) != 10 || got[9] != 9 {
		t.Errorf("proto file ids %v, want 0..9", got)
	}
}
