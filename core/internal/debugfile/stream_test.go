package debugfile

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
)

// streamRead reads p with an ArrowStream: the ids of its batches, its tail
// and its error ("" for none), and an error of OpenArrowStream.
func streamRead(t *testing.T, p string, mem memory.Allocator) (ids []int64, tail Tail, damage string, openErr error) {
	t.Helper()
	s, err := OpenArrowStream(p, mem)
	if err != nil {
		return nil, Tail{}, "", err
	}
	defer s.Close()
	n := 0
	for s.Next() {
		ids = append(ids, s.RecordBatch().Column(0).(*array.Int64).Int64Values()...)
		n++
	}
	if s.Batches() != n {
		t.Fatalf("%s: Batches() = %d after %d batches", p, s.Batches(), n)
	}
	if s.Next() || s.RecordBatch() != nil {
		t.Fatalf("%s: Next after the end gave a batch", p)
	}
	if err := s.Err(); err != nil {
		damage = err.Error()
		if damageSchemaOf(err) == nil {
			t.Fatalf("%s: the stream's damage %v carries no schema", p, err)
		}
	}
	return ids, s.Tail(), damage, nil
}

// damageSchemaOf is core.DebugDamageSchema (core imports this package).
func damageSchemaOf(err error) any {
	if de, ok := err.(*BatchDamageError); ok {
		return de.Schema
	}
	return nil
}

// wholeRead reads p with ReadArrowFileTail, as streamRead reports it.
func wholeRead(t *testing.T, p string) (ids []int64, tail Tail, damage string, openErr error) {
	t.Helper()
	recs, tail, err := ReadArrowFileTail(p, nil)
	for _, r := range recs {
		ids = append(ids, r.Column(0).(*array.Int64).Int64Values()...)
		r.Release()
	}
	if err != nil {
		if _, ok := err.(*BatchDamageError); !ok {
			return nil, Tail{}, "", err
		}
		damage = err.Error()
	}
	return ids, tail, damage, nil
}

// sameRead fails unless an ArrowStream reads p as ReadArrowFileTail does:
// the same batches, tail (and schema), damage text or error; the stream's
// allocations are all freed once it is closed.
func sameRead(t *testing.T, what, p string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	ids, tail, damage, openErr := streamRead(t, p, mem)
	wIDs, wTail, wDamage, wErr := wholeRead(t, p)
	if fmt.Sprint(openErr) != fmt.Sprint(wErr) {
		t.Fatalf("%s: stream opened with %v, the whole-file reader failed with %v", what, openErr, wErr)
	}
	if i := strings.Index(damage, ": compressed buffer "); i > 0 && len(wDamage) > i && strings.Contains(damage[i:], "): ") {
		// the zstd decoder's text for a damaged buffer varies between
		// calls (its pooled state): compare up to the buffer named
		j := i + strings.Index(damage[i:], "): ")
		damage, wDamage = damage[:j], wDamage[:min(j, len(wDamage))]
	}
	if !slices.Equal(ids, wIDs) || damage != wDamage {
		t.Fatalf("%s: stream read ids %v, damage %q; the whole-file reader %v, %q", what, ids, damage, wIDs, wDamage)
	}
	if tail.StillWriting != wTail.StillWriting || tail.Offset != wTail.Offset || tail.Bytes != wTail.Bytes ||
		(tail.Schema == nil) != (wTail.Schema == nil) || (tail.Schema != nil && !tail.Schema.Equal(wTail.Schema)) {
		t.Fatalf("%s: stream tail %+v, the whole-file reader's %+v", what, tail, wTail)
	}
	if openErr == nil && damage == "" {
		mem.AssertSize(t, 0)
	}
}

// An ArrowStream reads every file as ReadArrowFileTail does: sound, cut at
// every byte (active, being written, and rotated), with a byte changed
// anywhere, of no byte.
func TestArrowStreamReadsAsReadArrowFileTail(t *testing.T) {
	for _, codec := range []Compression{CompressionNone, CompressionZstd} {
		p := writeArrowDebugFile(t, codec)
		good, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if ids, _, damage, err := streamRead(t, p, nil); err != nil || damage != "" || !slices.Equal(ids, seq(0, 12)) {
			t.Fatalf("sound file (%q): ids %v, damage %q, error %v; want 0..11", codec, ids, damage, err)
		}
		sameRead(t, "sound", p)
		for n := 0; n < len(good); n++ {
			r := rotatedCopy(t, p, good[:n])
			sameRead(t, fmt.Sprintf("rotated cut at %d", n), r)
			os.Remove(r)
		}
		for at := 0; at < len(good); at++ {
			bad := slices.Clone(good)
			bad[at] ^= 0x5a
			r := rotatedCopy(t, p, bad)
			sameRead(t, fmt.Sprintf("byte %d changed", at), r)
			os.Remove(r)
		}
		debuglock.Hold(t, p) // its writer is still writing it
		for n := 0; n < len(good); n++ {
			if err := os.WriteFile(p, good[:n], 0o600); err != nil {
				t.Fatal(err)
			}
			sameRead(t, fmt.Sprintf("active cut at %d", n), p)
		}
	}
	empty := filepath.Join(t.TempDir(), "t-20261206T170000.000Z-0000.arrow")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sameRead(t, "no byte", empty)
	s, err := OpenArrowStream(empty, nil)
	if err != nil || s.Schema() != nil || s.Next() || s.Tail().StillWriting {
		t.Fatalf("file of no byte: %v, schema %v, tail %+v", err, s.Schema(), s.Tail())
	}
}

// Zeros where a message starts (a damaged disk block) read as an
// end-of-stream marker: arrow-go ends the stream there without an error.
// An ArrowStream reports the damage, naming the batch, with the batches
// before it; a sound file read to its end-of-stream marker has none.
func TestArrowStreamDataAfterEndOfStreamIsDamage(t *testing.T) {
	p := writeArrowDebugFile(t, CompressionNone)
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	msgs := arrowMessages(t, good)
	for batch := range 3 {
		for _, zeros := range []int{4, 8} { // the legacy marker, and the continued one
			bad := slices.Clone(good)
			at := msgs[1+batch][0]
			copy(bad[at:at+zeros], make([]byte, zeros))
			r := rotatedCopy(t, p, bad)
			ids, _, damage, err := streamRead(t, r, nil)
			// arrow-go reads the first 4 zero bytes as the (legacy) marker
			want := fmt.Sprintf("%q: batch %d: an end-of-stream marker ends the stream %d bytes into the file, but %d more bytes follow it", r, batch, at+4, len(bad)-at-4)
			if err != nil || !slices.Equal(ids, seq(0, 4*batch)) || !strings.HasPrefix(damage, want) {
				t.Fatalf("zeros (%d) at batch %d: ids %v, damage %q, error %v; want ids 0..%d and %q", zeros, batch, ids, damage, err, 4*batch-1, want)
			}
			os.Remove(r)
		}
	}
	if ids, _, damage, err := streamRead(t, p, nil); err != nil || damage != "" || len(ids) != 12 {
		t.Fatalf("sound file: ids %v, damage %q, error %v", ids, damage, err)
	}
}

// An ArrowStream holds one batch at a time: the batches already read are
// freed (the point of reading a large file through it).
func TestArrowStreamHoldsOneBatch(t *testing.T) {
	p := writeArrowDebugFile(t, CompressionNone)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s, err := OpenArrowStream(p, mem)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for s.Next() {
		sizes = append(sizes, mem.CurrentAlloc())
	}
	if len(sizes) != 3 || sizes[0] == 0 || slices.Max(sizes) != sizes[0] {
		t.Fatalf("bytes held at each of the batches: %v; want 3 batches, each holding no more than the first", sizes)
	}
	s.Close()
	mem.AssertSize(t, 0)
}

// protoRead reads p with ReadProtoFileArrowBatches: the ids and names of
// its rows, the number of rows of each batch, its tail and error text.
func protoRead(t *testing.T, p string, whole bool) (ids []int64, names []string, sizes []int64, tail Tail, errText string) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	var recs []arrow.RecordBatch
	var err error
	if whole {
		var rec arrow.RecordBatch
		rec, tail, err = ReadProtoFileArrowTail(p, mem)
		if rec != nil {
			recs = append(recs, rec)
		}
	} else {
		recs, tail, err = ReadProtoFileArrowBatches(p, mem)
	}
	for _, r := range recs {
		ids = append(ids, r.Column(0).(*array.Int64).Int64Values()...)
		for i := range int(r.NumRows()) {
			names = append(names, r.Column(1).(*array.String).Value(i))
		}
		sizes = append(sizes, r.NumRows())
		r.Release()
	}
	if err != nil {
		errText = err.Error()
	}
	return ids, names, sizes, tail, errText
}

// ReadProtoFileArrowBatches reads what ReadProtoFileArrowTail reads, in
// batches of at most ProtoChunkRecords records: sound, cut short (the
// intact records and the damage), cut inside the first record (one batch of
// no rows), and a record that does not decode (the error names its index in
// the file, not in its batch).
func TestReadProtoFileArrowBatchesAsReadProtoFileArrowTail(t *testing.T) {
	n := 2*ProtoChunkRecords + 5
	records := makeRecords(0, n)
	p := writeProtoFile(t, records)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, wantSizes []int64) {
		t.Helper()
		ids, names, sizes, tail, errText := protoRead(t, p, false)
		wIDs, wNames, _, wTail, wErr := protoRead(t, p, true)
		if !slices.Equal(ids, wIDs) || !slices.Equal(names, wNames) || errText != wErr || tail.StillWriting != wTail.StillWriting || tail.Offset != wTail.Offset {
			t.Fatalf("%s: %d rows, error %q, tail %+v; ReadProtoFileArrowTail's %d rows, %q, %+v", what, len(ids), errText, tail, len(wIDs), wErr, wTail)
		}
		if !slices.Equal(sizes, wantSizes) {
			t.Fatalf("%s: batches of %v rows, want %v", what, sizes, wantSizes)
		}
	}
	check("sound", []int64{ProtoChunkRecords, ProtoChunkRecords, 5})
	if ids, _, _, _, _ := protoRead(t, p, false); !slices.Equal(ids, seq(0, n)) {
		t.Fatalf("sound: %d ids, want 0..%d", len(ids), n-1)
	}
	if err := os.WriteFile(p, data[:len(data)-3], 0o600); err != nil {
		t.Fatal(err)
	}
	check("cut short", []int64{ProtoChunkRecords, ProtoChunkRecords, 4})
	if err := os.WriteFile(p, data[:3], 0o600); err != nil {
		t.Fatal(err)
	}
	check("cut in the first record", []int64{0})

	bad := slices.Clone(records)
	bad[ProtoChunkRecords+7] = protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "not an id")
	p = writeProtoFile(t, bad)
	check("a record that does not decode", nil)
	if _, _, _, _, errText := protoRead(t, p, false); !strings.Contains(errText, fmt.Sprint(ProtoChunkRecords+7)) {
		t.Fatalf("error %q does not name record %d", errText, ProtoChunkRecords+7)
	}
}
