package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// writeListMapFixture writes a .proto debug file whose records have a
// repeated int64, a map<string,int64> and a nested message: record 0 holds
// lst [1,2], m {b:2, a:1}, s {x:7}; record 1 an empty list and map and no s.
func writeListMapFixture(t *testing.T, dir string) string {
	t.Helper()
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	rep := descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum()
	i64 := descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()
	str := descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
	msg := descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum()
	desc := &descriptorpb.DescriptorProto{
		Name: proto.String("Row"),
		Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("id"), Number: proto.Int32(1), Label: opt, Type: i64},
			{Name: proto.String("lst"), Number: proto.Int32(2), Label: rep, Type: i64},
			{Name: proto.String("m"), Number: proto.Int32(3), Label: rep, Type: msg, TypeName: proto.String(".Row.MEntry")},
			{Name: proto.String("s"), Number: proto.Int32(4), Label: opt, Type: msg, TypeName: proto.String(".Row.S")},
		},
		NestedType: []*descriptorpb.DescriptorProto{
			{
				Name: proto.String("MEntry"),
				Field: []*descriptorpb.FieldDescriptorProto{
					{Name: proto.String("key"), Number: proto.Int32(1), Label: opt, Type: str},
					{Name: proto.String("value"), Number: proto.Int32(2), Label: opt, Type: i64},
				},
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
			},
			{
				Name: proto.String("S"),
				Field: []*descriptorpb.FieldDescriptorProto{
					{Name: proto.String("x"), Number: proto.Int32(1), Label: opt, Type: i64},
					{Name: proto.String("tags"), Number: proto.Int32(2), Label: rep, Type: str},
				},
			},
		},
	}
	b, err := proto.Marshal(desc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lm.descriptor.pb"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	entry := func(k string, v int64) []byte {
		var e []byte
		e = protowire.AppendTag(e, 1, protowire.BytesType)
		e = protowire.AppendString(e, k)
		e = protowire.AppendTag(e, 2, protowire.VarintType)
		return protowire.AppendVarint(e, uint64(v))
	}
	var r0 []byte
	r0 = protowire.AppendTag(r0, 1, protowire.VarintType)
	r0 = protowire.AppendVarint(r0, 1)
	for _, v := range []uint64{1, 2} {
		r0 = protowire.AppendTag(r0, 2, protowire.VarintType)
		r0 = protowire.AppendVarint(r0, v)
	}
	r0 = protowire.AppendTag(r0, 3, protowire.BytesType)
	r0 = protowire.AppendBytes(r0, entry("b", 2))
	r0 = protowire.AppendTag(r0, 3, protowire.BytesType)
	r0 = protowire.AppendBytes(r0, entry("a", 1))
	var s []byte
	s = protowire.AppendTag(s, 1, protowire.VarintType)
	s = protowire.AppendVarint(s, 7)
	s = protowire.AppendTag(s, 2, protowire.BytesType)
	s = protowire.AppendString(s, "p q")
	r0 = protowire.AppendTag(r0, 4, protowire.BytesType)
	r0 = protowire.AppendBytes(r0, s)
	var r1 []byte
	r1 = protowire.AppendTag(r1, 1, protowire.VarintType)
	r1 = protowire.AppendVarint(r1, 2)
	var data []byte
	for _, r := range [][]byte{r0, r1} {
		data = protowire.AppendVarint(data, uint64(len(r)))
		data = append(data, r...)
	}
	p := filepath.Join(dir, "lm.proto")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// H1 (s17): -format table of a .proto record with an empty list or map
// panicked (Set of a read-only empty value), and a list of two elements
// printed as "1  lst:2".
func TestS17DebugReadProtoTableListsAndMaps(t *testing.T) {
	p := writeListMapFixture(t, t.TempDir())
	out, err := runDebugCmd(t, "read", "-format", "table", p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	want := []string{
		`id  lst     m                 s`,
		`1   [1, 2]  {"a": 1, "b": 2}  {"x":"7","tags":["p q"]}`,
		`2   []      {}                null`,
	}
	if len(lines) != len(want) {
		t.Fatalf("table output:\n%s", out)
	}
	for i := range want {
		if strings.TrimRight(lines[i], " ") != want[i] {
			t.Errorf("line %d:\n got %q\nwant %q", i, lines[i], want[i])
		}
	}
}
