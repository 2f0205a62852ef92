package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// s17 L7: an Arrow IPC stream named .proto was reported as a truncated
// protobuf record, and a descriptor of another table gave "message Row
// carries field numbers not in the descriptor" (json, table) or the same
// with protoarrow's prefix (arrow), naming no descriptor.
func TestS17DebugReadWrongKindAndForeignDescriptor(t *testing.T) {
	dir := t.TempDir()
	arrowPath := writeArrowFixture(t, dir, 1, 2)
	wrong := filepath.Join(dir, "wrong.proto")
	data, err := os.ReadFile(arrowPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrong, data, 0o600); err != nil {
		t.Fatal(err)
	}
	writeProtoFixture(t, dir, 2)
	desc, err := os.ReadFile(filepath.Join(dir, "t-20260102T030405.000Z-0000.descriptor.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wrong.descriptor.pb"), desc, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "table", "arrow"} {
		_, err := runDebugCmd(t, "read", "-format", format, "-o", filepath.Join(dir, "out-"+format), wrong)
		if err == nil || !strings.Contains(err.Error(), "holds an Arrow IPC stream") || !strings.Contains(err.Error(), "read it as an .arrow file") {
			t.Errorf("%s: wrong kind: %v", format, err)
		}
	}

	// The records of writeProtoFixture with the descriptor of another table
	// (field 3 is not in it).
	p := writeProtoFixture(t, t.TempDir(), 2)
	other, err := proto.Marshal(&descriptorpb.DescriptorProto{
		Name: proto.String("Other"),
		Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("id"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	sidecar := strings.TrimSuffix(p, ".proto") + ".descriptor.pb"
	if err := os.WriteFile(sidecar, other, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"json", "table", "arrow"} {
		_, err := runDebugCmd(t, "read", "-format", format, "-o", filepath.Join(filepath.Dir(p), "out-"+format), p)
		if err == nil {
			t.Fatalf("%s: foreign descriptor: no error", format)
		}
		msg := err.Error()
		if !strings.Contains(msg, "the descriptor "+filepath.Base(sidecar)+" beside the file") || strings.Contains(msg, "protoarrow:") ||
			!strings.Contains(msg, `"`+p+`": record 0: message Other carries field numbers not in the descriptor`) {
			t.Errorf("%s: foreign descriptor: %s", format, msg)
		}
	}
}
