package convert

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// TestFramesAreRequestBodies: any run of records, taken as Frames, is byte
// for byte what proto.Marshal writes for a ProtoEncodedRecordBatch holding
// them, and decodes back to the same records; across chunk boundaries too.
func TestFramesAreRequestBodies(t *testing.T) {
	mem := checkedMem(t)
	rows := 3*parallelMinRows + 17
	rec := batchWithFailures(t, mem, rows)
	defer rec.Release()
	for _, par := range []int{1, 3} {
		p, err := NewPlan(rec.Schema(), Options{Parallelism: par})
		if err != nil {
			t.Fatal(err)
		}
		b := encodeOK(t, p, rec)
		if len(b.chunks) != par {
			t.Fatalf("parallelism %d: %d chunks", par, len(b.chunks))
		}
		rng := rand.New(rand.NewPCG(1, uint64(par)))
		spans := [][2]int{{0, len(b.Records)}, {0, 1}, {len(b.Records) - 1, len(b.Records)}}
		for range 50 {
			i := rng.IntN(len(b.Records))
			spans = append(spans, [2]int{i, i + 1 + rng.IntN(len(b.Records)-i)})
		}
		for _, sp := range spans {
			i, j := sp[0], sp[1]
			got := bytes.Join(b.Frames(i, j), nil)
			want, err := proto.Marshal(&zerobuspb.ProtoEncodedRecordBatch{Records: b.Records[i:j]})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("parallelism %d: Frames(%d, %d) is not the marshaled ProtoEncodedRecordBatch (%d vs %d bytes)", par, i, j, len(got), len(want))
			}
			if n := b.FramedSize(i, j); n != len(want) {
				t.Fatalf("FramedSize(%d, %d) = %d, want %d", i, j, n, len(want))
			}
			var back zerobuspb.ProtoEncodedRecordBatch
			if err := proto.Unmarshal(got, &back); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(&back, &zerobuspb.ProtoEncodedRecordBatch{Records: b.Records[i:j]}) {
				t.Fatalf("Frames(%d, %d) decodes to other records", i, j)
			}
		}
		if n := len(b.Frames(0, len(b.Records))); n != par {
			t.Fatalf("Frames of the whole batch are %d slices, want one per chunk (%d)", n, par)
		}
		b.Release()
	}
}

// TestRecordLengthPrefixGuess: records whose length needs 1, 2 and 3
// varint bytes, in every order, are framed correctly (the guessed room for
// the length is wrong at each change and the record moves).
func TestRecordLengthPrefixGuess(t *testing.T) {
	for _, sizes := range [][]int{{10, 200, 20000, 5, 20000, 300, 1}, {20000, 1, 127, 128, 16383, 16384, 0}} {
		var raw [][]byte
		for _, n := range sizes {
			raw = append(raw, bytes.Repeat([]byte{'x'}, n))
		}
		rec := binaryBatch(t, raw)
		p, err := NewPlan(rec.Schema(), Options{Parallelism: 1})
		if err != nil {
			t.Fatal(err)
		}
		b := encodeOK(t, p, rec)
		rec.Release()
		var back zerobuspb.ProtoEncodedRecordBatch
		if err := proto.Unmarshal(bytes.Join(b.Frames(0, len(b.Records)), nil), &back); err != nil {
			t.Fatal(err)
		}
		for i, r := range back.Records {
			m := decode(t, p.MessageDescriptor(), r)
			got := m.Get(p.MessageDescriptor().Fields().Get(0)).Bytes()
			if !bytes.Equal(got, raw[i]) || !bytes.Equal(r, b.Records[i]) {
				t.Fatalf("sizes %v: record %d is %d bytes after framing, want %d", sizes, i, len(got), len(raw[i]))
			}
		}
		b.Release()
	}
}

// TestReleasedBuffersAreReusedNotShared: a released Batch's buffer serves
// the next Encode, and a Batch still retained is never written to.
func TestReleasedBuffersAreReusedNotShared(t *testing.T) {
	mem := checkedMem(t)
	rec := ReferenceBatch(mem, 3000)
	defer rec.Release()
	other := ReferenceBatch(mem, 3000)
	defer other.Release()
	p, err := NewPlan(rec.Schema(), Options{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	a := encodeOK(t, p, rec)
	snapshot := summarize(a)
	a.Retain()
	a.Release() // still held once
	for range 5 {
		b := encodeOK(t, p, other)
		b.Release()
	}
	if got := summarize(a); !cmp.Equal(got, snapshot) {
		t.Fatal("a retained Batch changed while other batches were encoded and released")
	}
	a.Release()
	// sync.Pool may drop an item (the race detector drops some on purpose):
	// a few rounds find the released buffer in a later Encode.
	reused := false
	for range 50 {
		a := encodeOK(t, p, rec)
		buf := a.chunks[0].buf[:1]
		a.Release()
		var held []*Batch
		for range 3 { // the pool hands out other free buffers first
			b := encodeOK(t, p, other)
			reused = reused || &b.chunks[0].buf[:1][0] == &buf[0]
			held = append(held, b)
		}
		for _, b := range held {
			b.Release()
		}
		if reused {
			break
		}
	}
	if !reused {
		t.Error("the released buffer was never reused")
	}
}

// binaryBatch is a one-column (binary, not null) batch holding vals.
func binaryBatch(t *testing.T, vals [][]byte) arrow.RecordBatch {
	t.Helper()
	bb := array.NewBinaryBuilder(memory.NewGoAllocator(), arrow.BinaryTypes.Binary)
	defer bb.Release()
	for _, v := range vals {
		bb.Append(v)
	}
	col := bb.NewArray()
	defer col.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "b", Type: arrow.BinaryTypes.Binary}}, nil)
	return array.NewRecordBatch(schema, []arrow.Array{col}, int64(len(vals)))
}
