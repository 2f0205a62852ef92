package debugfile

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
)

// rotatedCopy writes data to a rotated file name beside the debug file p
// (and copies a protobuf file's descriptor sidecar) and returns its path.
func rotatedCopy(t testing.TB, p string, data []byte) string {
	t.Helper()
	ext := filepath.Ext(p)
	base := strings.TrimSuffix(filepath.Base(p), ext)
	stem := filepath.Join(filepath.Dir(p), rotatedStem(base, time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC), 0))
	if ext == ProtoExt {
		side, err := os.ReadFile(SidecarPath(p))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(SidecarPath(stem+ext), side, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(stem+ext, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return stem + ext
}

func TestActiveName(t *testing.T) {
	for name, want := range map[string]bool{
		"/d/zerobus/arrow/main.default.events.arrow":                           true,
		"/d/zerobus/arrow/main.default.events-20261206T170000.000Z-0000.arrow": false,
		"/d/zerobus/proto/t-20261206T170000.000Z-12345.proto":                  false,
		"/d/zerobus/proto/t.1234-5678.proto":                                   true, // not a stamp
		"/d/x-y-0000.arrow":                                                    true,
		"/d/x-20261206T170000.000Z-00a0.arrow":                                 true,
		// a second writer's files (extraStem, rotatedStem with a writer id)
		"/d/zerobus/arrow/main.default.events-4242_1.arrow":                           true,
		"/d/zerobus/arrow/main.default.events-20261206T170000.000Z-0003-4242_1.arrow": false,
	} {
		if got := activeName(name); got != want {
			t.Errorf("activeName(%s) = %v, want %v", name, got, want)
		}
	}
}

// arrowIDs returns the ids of the batches read, in order.
func readIDs(t *testing.T, p string) ([]int64, Tail, error) {
	t.Helper()
	recs, tail, err := ReadArrowFileTail(p, nil)
	var ids []int64
	for _, r := range recs {
		ids = append(ids, r.Column(0).(*array.Int64).Int64Values()...)
		r.Release()
	}
	return ids, tail, err
}

// The active Arrow file cut at every byte (the writer is mid-write) reads
// as its complete batches, still being written, never an error; empty (no
// schema yet) it is zero batches, still being written. A rotated file cut
// inside a message is an error.
func TestReadArrowFileCutAnywhere(t *testing.T) {
	for _, codec := range []Compression{CompressionNone, CompressionZstd, CompressionLZ4} {
		name := string(codec)
		if name == "" {
			name = "none"
		}
		t.Run(name, func(t *testing.T) { testReadArrowFileCutAnywhere(t, codec) })
	}
}

func testReadArrowFileCutAnywhere(t *testing.T, codec Compression) {
	p := writeArrowDebugFile(t, codec)
	debuglock.Hold(t, p) // its writer is still writing it
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	msgs := arrowMessages(t, good)
	eos := msgs[len(msgs)-1][3] // the end-of-stream marker starts here
	for n := 0; n <= eos; n++ {
		if err := os.WriteFile(p, good[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		complete, boundary := 0, n == 0
		for k, m := range msgs {
			if m[3] <= n && k > 0 {
				complete++
			}
			boundary = boundary || m[3] == n
		}
		ids, tail, err := readIDs(t, p)
		if err != nil {
			t.Fatalf("active file cut at %d of %d bytes: %v", n, len(good), err)
		}
		if !slices.Equal(ids, seq(0, 4*complete)) {
			t.Fatalf("active file cut at %d: ids %v, want %v", n, ids, seq(0, 4*complete))
		}
		if tail.StillWriting == boundary && n > 0 {
			t.Fatalf("active file cut at %d (a message boundary: %v): %+v", n, boundary, tail)
		}
		if n == 0 && (!tail.StillWriting || !strings.Contains(tail.String(), "nothing written yet")) {
			t.Fatalf("empty active file: %+v (%s)", tail, tail)
		}
		if tail.StillWriting && tail.Offset+tail.Bytes != int64(n) {
			t.Fatalf("cut at %d: tail %+v does not end there", n, tail)
		}
		if !boundary {
			r := rotatedCopy(t, p, good[:n])
			if ids, _, err := readIDs(t, r); err == nil || !strings.Contains(err.Error(), r) {
				t.Fatalf("rotated file cut at %d: %d ids, error %v; want an error naming it", n, len(ids), err)
			}
			os.Remove(r)
		}
	}
}

// Damage in the middle of an active file that is still being written (no
// end-of-stream marker) stays an error, also a length that runs past the
// end, when whole messages follow it.
func TestReadArrowFileActiveDamagedMiddle(t *testing.T) {
	p := writeArrowDebugFile(t, CompressionNone)
	debuglock.Hold(t, p) // its writer is still writing it
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	msgs := arrowMessages(t, good)
	live := good[:msgs[len(msgs)-1][3]] // no end-of-stream marker
	b1 := msgs[2]
	for name, damage := range map[string]func(d []byte){
		"metadata length":   func(d []byte) { binary.LittleEndian.PutUint32(d[b1[0]+4:], 0x7FFFFFF0) },
		"body length":       func(d []byte) { binary.LittleEndian.PutUint64(d[b1[1]+bodyField(d[b1[1]:b1[2]]):], 1<<40) },
		"garbage metadata":  func(d []byte) { copy(d[b1[1]:b1[2]], bytes.Repeat([]byte{0x5a}, b1[2]-b1[1])) },
		"continuation gone": func(d []byte) { copy(d[b1[0]:], "garbage!") },
	} {
		d := bytes.Clone(live)
		damage(d)
		if err := os.WriteFile(p, d, 0o600); err != nil {
			t.Fatal(err)
		}
		ids, tail, err := readIDs(t, p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "batch 1") || tail.StillWriting {
			t.Errorf("%s: ids %v, %+v, error %v; want an error naming the file and batch 1", name, ids, tail, err)
		}
		if !slices.Equal(ids, seq(0, 4)) {
			t.Errorf("%s: ids %v, want batch 0's", name, ids)
		}
	}
}

// An active Arrow file read while a goroutine appends whole messages to it
// (one write each, as the review's repro did) reads without an error, and
// no read sees fewer batches than the one before; the first reads may find
// it empty (no schema yet). Without the size snapshot, bytes appended
// during a read made it fail ("only -8 bytes of the stream are left").
func TestReadArrowFileGrowing(t *testing.T) {
	p := writeArrowDebugFile(t, CompressionNone)
	debuglock.Hold(t, p) // its writer is still writing it
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	msgs := arrowMessages(t, good)
	schema, batch := good[:msgs[0][3]], good[msgs[1][0]:msgs[1][3]] // batch 0: ids 0..3
	f, err := os.OpenFile(p, os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const maxBatches = 4000 // bounds the file (about 1.3 MB)
	stop := make(chan struct{})
	written := make(chan int, 1)
	go func() {
		n := 0
		defer func() { written <- n }()
		if _, err := f.Write(schema); err != nil {
			t.Error(err)
			return
		}
		for ; n < maxBatches; n++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f.Write(batch); err != nil {
				t.Error(err)
				return
			}
			if n%8 == 0 {
				time.Sleep(50 * time.Microsecond)
			}
		}
	}()
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
			<-written
		}
	}()
	last := 0
	for reads := 0; reads < 300; reads++ {
		recs, _, err := ReadArrowFileTail(p, nil)
		n := len(recs)
		for _, r := range recs {
			r.Release()
		}
		if err != nil {
			t.Fatalf("read %d (after %d batches): %v", reads, last, err)
		}
		if n < last {
			t.Fatalf("read %d: %d batches after %d", reads, n, last)
		}
		last = n
	}
	close(stop)
	stopped = true
	total := <-written
	recs, tail, err := ReadArrowFileTail(p, nil)
	for _, r := range recs {
		r.Release()
	}
	if err != nil || len(recs) != total || tail.StillWriting {
		t.Fatalf("after the writer: %d batches, %+v, %v; want %d, complete", len(recs), tail, err, total)
	}
	t.Logf("%d batches written, %d seen by the last concurrent read", total, last)
}

// The active protobuf file cut at every byte reads as its complete
// records, still being written, never an error; a rotated one cut inside a
// record is an error. Damage in the middle (a length running past the end
// over further records) stays an error also in the active file.
func TestReadProtoFileCutAnywhere(t *testing.T) {
	p := writeProtoFile(t, makeRecords(0, 4))
	debuglock.Hold(t, p) // its writer is still writing it
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var ends []int // where each record ends
	for off := 0; off < len(good); {
		n, l := protowire.ConsumeVarint(good[off:])
		off += l + int(n)
		ends = append(ends, off)
	}
	for n := 0; n <= len(good); n++ {
		if err := os.WriteFile(p, good[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		complete, start := 0, 0
		for _, e := range ends {
			if e <= n {
				complete, start = complete+1, e
			}
		}
		_, recs, tail, err := ReadProtoFileTail(p)
		if err != nil || len(recs) != complete || tail.StillWriting != (start != n) || (tail.StillWriting && (tail.Offset != int64(start) || tail.Bytes != int64(n-start))) {
			t.Fatalf("active file cut at %d: %d records, %+v, %v; want %d, still writing from %d", n, len(recs), tail, err, complete, start)
		}
		for i, r := range recs {
			if got := recordID(t, r); got != int64(i) {
				t.Fatalf("cut at %d: record %d has id %d", n, i, got)
			}
		}
		if start != n {
			r := rotatedCopy(t, p, good[:n])
			if _, recs, _, err := ReadProtoFileTail(r); err == nil || len(recs) != complete || !strings.Contains(err.Error(), r) {
				t.Fatalf("rotated file cut at %d: %d records, %v; want %d and an error naming it", n, len(recs), err, complete)
			}
		}
	}
	// Record 1's length grown past the end, records 2 and 3 after it.
	d := protowire.AppendVarint(bytes.Clone(good[:ends[0]]), 1<<20)
	d = append(d, good[ends[0]+1:]...) // record 1's one-byte length replaced
	if good[ends[0]] >= 0x80 {
		t.Fatal("record 1's length is not one byte")
	}
	if err := os.WriteFile(p, d, 0o600); err != nil {
		t.Fatal(err)
	}
	_, recs, tail, err := ReadProtoFileTail(p)
	if err == nil || len(recs) != 1 || tail.StillWriting || !strings.Contains(err.Error(), "record 1 at byte offset") {
		t.Fatalf("damaged length in the middle: %d records, %+v, %v; want 1 and an error naming record 1", len(recs), tail, err)
	}
}
