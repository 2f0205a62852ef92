package debugfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
)

// protoResult is what a reader of a protobuf debug file gave: its rows,
// the rows of each batch, its tail and its damage or error.
type protoResult struct {
	ids     []int64
	names   []string
	sizes   []int64
	tail    Tail
	damage  string // a *RecordDamageError's text, with the rows before it
	openErr string // any other error: no rows
}

func (r protoResult) String() string {
	return fmt.Sprintf("%d rows (batches %v), tail %+v, damage %q, error %q", len(r.ids), r.sizes, r.tail, r.damage, r.openErr)
}

func (r protoResult) equal(o protoResult) bool {
	return slices.Equal(r.ids, o.ids) && slices.Equal(r.names, o.names) && r.tail == o.tail && r.damage == o.damage && r.openErr == o.openErr
}

// protoStreamRead reads p with a ProtoStream; every allocation is freed
// once it is closed.
func protoStreamRead(t testing.TB, p string) protoResult {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := OpenProtoStream(p, mem)
	if err != nil {
		return protoResult{openErr: err.Error()}
	}
	defer s.Close()
	var r protoResult
	for s.Next() {
		b := s.RecordBatch()
		if !b.Schema().Equal(s.Schema()) {
			t.Fatalf("%s: batch schema %v, stream's %v", p, b.Schema(), s.Schema())
		}
		r.ids = append(r.ids, b.Column(0).(*array.Int64).Int64Values()...)
		for i := range int(b.NumRows()) {
			r.names = append(r.names, b.Column(1).(*array.String).Value(i))
		}
		r.sizes = append(r.sizes, b.NumRows())
	}
	if s.Records() != len(r.ids) {
		t.Fatalf("%s: Records() = %d after %d rows", p, s.Records(), len(r.ids))
	}
	if s.Next() || s.RecordBatch() != nil {
		t.Fatalf("%s: Next after the end gave a batch", p)
	}
	r.tail = s.Tail()
	if err := s.Err(); err != nil {
		var damage *RecordDamageError
		if !errors.As(err, &damage) {
			// a record further on that does not decode: the whole-file
			// reader's error, with no rows
			return protoResult{openErr: err.Error()}
		}
		r.damage = err.Error()
	}
	return r
}

// protoWholeRead reads p with ReadProtoFileArrowTail, as protoStreamRead
// reports it.
func protoWholeRead(t testing.TB, p string) protoResult {
	t.Helper()
	rec, tail, err := ReadProtoFileArrowTail(p, nil)
	var r protoResult
	if rec != nil {
		r.ids = append(r.ids, rec.Column(0).(*array.Int64).Int64Values()...)
		for i := range int(rec.NumRows()) {
			r.names = append(r.names, rec.Column(1).(*array.String).Value(i))
		}
		rec.Release()
	}
	r.tail = tail
	if err != nil {
		var damage *RecordDamageError
		if !errors.As(err, &damage) {
			return protoResult{openErr: err.Error()}
		}
		r.damage = err.Error()
	}
	return r
}

// sameProtoRead fails unless a ProtoStream reads p as ReadProtoFileArrowTail
// does.
func sameProtoRead(t testing.TB, what, p string) protoResult {
	t.Helper()
	got, want := protoStreamRead(t, p), protoWholeRead(t, p)
	if !got.equal(want) {
		t.Fatalf("%s: stream read %v; ReadProtoFileArrowTail %v", what, got, want)
	}
	sameProtoRecords(t, what, p)
	return got
}

// sameProtoRecords fails unless ProtoRecords reads p as ReadProtoFileTail
// does (the same descriptor, records, error and tail), also once rewound.
func sameProtoRecords(t testing.TB, what, p string) {
	t.Helper()
	desc, want, wantTail, wantErr := ReadProtoFileTail(p)
	r, err := OpenProtoRecords(p)
	if err != nil {
		if desc != nil || wantErr == nil || err.Error() != wantErr.Error() {
			t.Fatalf("%s: OpenProtoRecords: %v; ReadProtoFileTail: %v", what, err, wantErr)
		}
		return
	}
	defer r.Close()
	if !proto.Equal(r.Descriptor(), desc) {
		t.Fatalf("%s: descriptor %v, ReadProtoFileTail's %v", what, r.Descriptor(), desc)
	}
	for pass := range 2 {
		var got [][]byte
		for r.Next() {
			got = append(got, slices.Clone(r.Record()))
		}
		if r.Next() {
			t.Fatalf("%s: Next after the end gave a record", what)
		}
		if !slices.EqualFunc(got, want, bytes.Equal) || r.Records() != len(want) || r.Tail() != wantTail || fmt.Sprint(r.Err()) != fmt.Sprint(wantErr) {
			t.Fatalf("%s, pass %d: %d records (Records %d), tail %+v, error %v; ReadProtoFileTail: %d records, tail %+v, error %v",
				what, pass, len(got), r.Records(), r.Tail(), r.Err(), len(want), wantTail, wantErr)
		}
		if err := r.Rewind(); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	if r.Next() || r.Rewind() == nil {
		t.Fatalf("%s: a closed ProtoRecords reads", what)
	}
}

// A ProtoStream reads every protobuf debug file as ReadProtoFileArrowTail
// does: sound, cut at every byte (rotated, and active with its writer
// still writing it), with a byte changed anywhere, of no byte, an Arrow
// stream, no descriptor, another table's descriptor.
func TestProtoStreamReadsAsReadProtoFileArrowTail(t *testing.T) {
	p := writeProtoFile(t, makeRecords(0, 24))
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if r := sameProtoRead(t, "sound", p); !slices.Equal(r.ids, seq(0, 24)) || r.names[23] != "row-y" || r.damage != "" {
		t.Fatalf("sound file: %v, names %v", r, r.names)
	}
	cuts, damaged, stillWriting := 0, 0, 0
	for n := 0; n <= len(good); n++ {
		r := rotatedCopy(t, p, good[:n])
		if sameProtoRead(t, fmt.Sprintf("rotated cut at %d", n), r).damage != "" {
			cuts++
		}
		os.Remove(r)
	}
	for at := range good {
		for _, x := range []byte{0x5a, 0x80, 0xff} {
			bad := slices.Clone(good)
			bad[at] ^= x
			r := rotatedCopy(t, p, bad)
			res := sameProtoRead(t, fmt.Sprintf("byte %d ^ %#x", at, x), r)
			if res.damage != "" || res.openErr != "" {
				damaged++
			}
			os.Remove(r)
		}
	}
	debuglock.Hold(t, p) // its writer is still writing it
	for n := 0; n <= len(good); n++ {
		if err := os.WriteFile(p, good[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		if sameProtoRead(t, fmt.Sprintf("active cut at %d", n), p).tail.StillWriting {
			stillWriting++
		}
	}
	if cuts < len(good)-24 || damaged == 0 || stillWriting < len(good)-24 {
		t.Fatalf("%d rotated cuts read as damage, %d changed bytes as damage, %d active cuts as still being written (of %d bytes)", cuts, damaged, stillWriting, len(good))
	}

	dir := t.TempDir()
	side, err := proto.Marshal(testDesc("Row"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"empty":  nil,
		"arrow":  append([]byte{0xff, 0xff, 0xff, 0xff, 0x10, 0x01, 0, 0}, good...),
		"zeros":  make([]byte, 9),
		"length": protowire.AppendVarint(nil, 1<<40),
	} {
		f := filepath.Join(dir, "t-"+name+"-20261206T170000.000Z-0000"+ProtoExt)
		if err := os.WriteFile(SidecarPath(f), side, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, data, 0o600); err != nil {
			t.Fatal(err)
		}
		sameProtoRead(t, name, f)
	}
	if r := protoStreamRead(t, filepath.Join(dir, "t-empty-20261206T170000.000Z-0000"+ProtoExt)); len(r.ids) != 0 || r.damage != "" || r.openErr != "" {
		t.Fatalf("file of no byte: %v", r)
	}
	if r := protoStreamRead(t, filepath.Join(dir, "t-arrow-20261206T170000.000Z-0000"+ProtoExt)); r.openErr == "" {
		t.Fatalf("an Arrow stream: %v", r)
	}
	// no descriptor; another table's descriptor
	nodesc := filepath.Join(dir, "u"+ProtoExt)
	if err := os.WriteFile(nodesc, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := sameProtoRead(t, "no descriptor", nodesc); r.openErr == "" {
		t.Fatalf("no descriptor: %v", r)
	}
	other := testDesc("Other")
	other.Field[1].Type = other.Field[0].Type // name: an int64, its records hold a string
	if side, err = proto.Marshal(other); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(SidecarPath(nodesc), side, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := sameProtoRead(t, "another table's descriptor", nodesc); r.openErr == "" {
		t.Fatalf("another table's descriptor: %v", r)
	}
}

// A file of more records than a batch: batches of ProtoChunkRecords
// records, the same rows, damage and tail as ReadProtoFileArrowTail's when
// it is cut or damaged in a later batch (the damage names the record and
// offset in the file), and a record of a later batch that does not decode
// ends the batches with the whole-file reader's error naming it.
func TestProtoStreamBatches(t *testing.T) {
	n := 2*ProtoChunkRecords + 5
	records := makeRecords(0, n)
	p := writeProtoFile(t, records)
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	r := sameProtoRead(t, "sound", p)
	if !slices.Equal(r.ids, seq(0, n)) || !slices.Equal(r.sizes, []int64{ProtoChunkRecords, ProtoChunkRecords, 5}) {
		t.Fatalf("sound: %v", r)
	}
	// where record ProtoChunkRecords (the first of the second batch) starts
	at := 0
	for _, rec := range records[:ProtoChunkRecords] {
		at += protowire.SizeVarint(uint64(len(rec))) + len(rec)
	}
	for _, cut := range []int{at - 1, at, at + 1, at + 3, len(good) - 1} {
		rot := rotatedCopy(t, p, good[:cut])
		res := sameProtoRead(t, fmt.Sprintf("rotated cut at %d", cut), rot)
		if res.damage == "" && cut != at {
			t.Fatalf("cut at %d: no damage: %v", cut, res)
		}
		os.Remove(rot)
	}
	bad := slices.Concat(good[:at], protowire.AppendVarint(nil, 1<<30), good[at:]) // a length past the end
	rot := rotatedCopy(t, p, bad)
	want := fmt.Sprintf("%q: record %d at byte offset %d: length ", rot, ProtoChunkRecords, at)
	if res := sameProtoRead(t, "a bad length at the second batch", rot); len(res.ids) != ProtoChunkRecords || !strings.HasPrefix(res.damage, want) {
		t.Fatalf("a bad length at the second batch: %v; want the damage to start %q", res, want)
	}
	os.Remove(rot)

	recs := slices.Clone(records)
	recs[ProtoChunkRecords+7] = protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "not an id")
	p = writeProtoFile(t, recs)
	s, err := OpenProtoStream(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for s.Next() {
		rows += int(s.RecordBatch().NumRows())
	}
	s.Close()
	_, _, wantErr := ReadProtoFileArrowTail(p, nil)
	if rows != ProtoChunkRecords || s.Err() == nil || wantErr == nil || s.Err().Error() != wantErr.Error() {
		t.Fatalf("a record of the second batch that does not decode: %d rows, error %v; ReadProtoFileArrowTail's %v", rows, s.Err(), wantErr)
	}
}

// A ProtoStream holds one batch at a time: the batches already read are
// freed.
func TestProtoStreamHoldsOneBatch(t *testing.T) {
	p := writeProtoFile(t, makeRecords(0, 3*ProtoChunkRecords))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s, err := OpenProtoStream(p, mem)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for s.Next() {
		sizes = append(sizes, mem.CurrentAlloc())
	}
	if len(sizes) != 3 || sizes[0] == 0 || slices.Max(sizes) > sizes[0]*5/4 {
		t.Fatalf("bytes held at each of the batches: %v; want 3 batches, each holding about the first's", sizes)
	}
	s.Close()
	mem.AssertSize(t, 0)
}

// FuzzProtoStream: a ProtoStream reads any bytes as ReadProtoFileArrowTail
// does, as a rotated file and as an active one being written.
func FuzzProtoStream(f *testing.F) {
	var sound []byte
	for _, r := range makeRecords(0, 5) {
		sound = protowire.AppendBytes(sound, r)
	}
	f.Add(sound)
	f.Add(sound[:len(sound)-2])
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x10})
	f.Add([]byte{})
	dir := f.TempDir()
	side, err := proto.Marshal(testDesc("Row"))
	if err != nil {
		f.Fatal(err)
	}
	rotated := filepath.Join(dir, "t-20261206T170000.000Z-0000"+ProtoExt)
	active := filepath.Join(dir, "t"+ProtoExt)
	for _, p := range []string{rotated, active} {
		if err := os.WriteFile(SidecarPath(p), side, 0o600); err != nil {
			f.Fatal(err)
		}
	}
	debuglock.Hold(f, active)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range []string{rotated, active} {
			if err := os.WriteFile(p, data, 0o600); err != nil {
				t.Fatal(err)
			}
			sameProtoRead(t, p, p)
		}
	})
}
