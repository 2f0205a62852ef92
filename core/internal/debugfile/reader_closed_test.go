package debugfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/internal/debuglock"
)

// An active file's name is not enough to read a cut as "still being
// written": a closed writer leaves its file at the active name. Where
// writers lock their names, only a file whose writer holds the lock is read
// leniently; a damaged length in the middle of a closed one is an error,
// though the bytes after it happen to parse as fields (length 10 is the tag
// of field 1, bytes).
func TestClosedActiveFileDamageIsAnError(t *testing.T) {
	if !lockSupported {
		t.Skip("writers do not lock their names here: the name decides")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "t.proto")
	desc := &descriptorpb.DescriptorProto{
		Name: proto.String("Row"),
		Field: []*descriptorpb.FieldDescriptorProto{{
			Name: proto.String("id"), Number: proto.Int32(1),
			Type:  descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(),
			Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(),
		}},
	}
	raw, err := proto.Marshal(desc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(SidecarPath(path), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	var data []byte
	for i := range 50 {
		rec := protowire.AppendTag(nil, 1, protowire.BytesType)
		rec = protowire.AppendString(rec, "id-00000")
		data = protowire.AppendVarint(data, uint64(len(rec)))
		if i == 40 {
			data[len(data)-1] = 0x7f // the length 10 damaged to 127
		}
		data = append(data, rec...)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	_, recs, tail, err := ReadProtoFileTail(path)
	if err == nil || !strings.Contains(err.Error(), "record 40") || tail.StillWriting || len(recs) != 40 {
		t.Fatalf("closed file: %d records, %+v, %v; want the 40 records before the damage and an error naming record 40", len(recs), tail, err)
	}
	// Its writer still holding the lock, the same bytes read as a file
	// being written (the one case a reader cannot tell from damage).
	debuglock.Hold(t, path)
	if _, recs, tail, err = ReadProtoFileTail(path); err != nil || !tail.StillWriting || len(recs) != 40 {
		t.Fatalf("file being written: %d records, %+v, %v; want 40 records, still being written", len(recs), tail, err)
	}
}

// A closed Arrow file left at the active name and cut inside a message is
// damage, not a file being written.
func TestClosedActiveArrowFileCutIsAnError(t *testing.T) {
	if !lockSupported {
		t.Skip("writers do not lock their names here: the name decides")
	}
	p := writeArrowDebugFile(t, CompressionNone)
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	msgs := arrowMessages(t, good)
	if err := os.WriteFile(p, good[:msgs[2][1]+5], 0o600); err != nil { // inside batch 1's metadata
		t.Fatal(err)
	}
	if ids, tail, err := readIDs(t, p); err == nil || tail.StillWriting || len(ids) != 4 {
		t.Fatalf("closed file cut in batch 1: ids %v, %+v, %v; want batch 0 and an error", ids, tail, err)
	}
}
