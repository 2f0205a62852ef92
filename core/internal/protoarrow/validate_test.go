package protoarrow_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// strictDesc has required fields at several levels, a map with message
// values, packed and unpacked repeated scalars, a oneof holding a message
// and a field number above the dense lookup range.
func strictDesc() *descriptorpb.DescriptorProto {
	typ := func(t descriptorpb.FieldDescriptorProto_Type) descriptorpb.FieldDescriptorProto_Type { return t }
	packed := func(f *fdp) *fdp {
		f.Options = &descriptorpb.FieldOptions{Packed: proto.Bool(true)}
		return f
	}
	inOneof := func(f *fdp) *fdp {
		f.OneofIndex = proto.Int32(0)
		return f
	}
	return &descriptorpb.DescriptorProto{
		Name: proto.String("Strict"),
		Field: []*fdp{
			field("id", 1, required, typ(descriptorpb.FieldDescriptorProto_TYPE_INT64), ""),
			field("inner", 2, optional, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".Strict.Inner"),
			field("by_id", 3, repeated, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".Strict.ByIdEntry"),
			packed(field("pi", 4, repeated, descriptorpb.FieldDescriptorProto_TYPE_INT64, "")),
			packed(field("pf", 5, repeated, descriptorpb.FieldDescriptorProto_TYPE_FIXED32, "")),
			field("ds", 6, repeated, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, ""),
			inOneof(field("a", 7, optional, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".Strict.Inner")),
			inOneof(field("b", 8, optional, descriptorpb.FieldDescriptorProto_TYPE_INT32, "")),
			inOneof(field("c", 9, optional, descriptorpb.FieldDescriptorProto_TYPE_STRING, "")),
			field("must", 10, required, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".Strict.Inner"),
			field("raw", 11, optional, descriptorpb.FieldDescriptorProto_TYPE_BYTES, ""),
			field("z", 12, optional, descriptorpb.FieldDescriptorProto_TYPE_SINT64, ""),
			field("big", 5000, optional, descriptorpb.FieldDescriptorProto_TYPE_FIXED64, ""),
		},
		OneofDecl: []*descriptorpb.OneofDescriptorProto{{Name: proto.String("choice")}},
		NestedType: []*descriptorpb.DescriptorProto{
			{
				Name: proto.String("Inner"),
				Field: []*fdp{
					field("name", 1, required, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
					field("v", 2, optional, descriptorpb.FieldDescriptorProto_TYPE_INT32, ""),
					field("leaves", 3, repeated, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".Strict.Leaf"),
				},
			},
			{
				Name:  proto.String("Leaf"),
				Field: []*fdp{field("ok", 1, required, descriptorpb.FieldDescriptorProto_TYPE_BOOL, "")},
			},
			{
				Name:    proto.String("ByIdEntry"),
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
				Field: []*fdp{
					field("key", 1, optional, descriptorpb.FieldDescriptorProto_TYPE_INT32, ""),
					field("value", 2, optional, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".Strict.Inner"),
				},
			},
		},
	}
}

// proto3MD is a proto3 message, whose strings must be UTF-8 and whose
// repeated scalars are packed by default.
func proto3MD(t testing.TB) protoreflect.MessageDescriptor {
	t.Helper()
	fdesc := &descriptorpb.FileDescriptorProto{
		Name:   proto.String("p3.proto"),
		Syntax: proto.String("proto3"),
		MessageType: []*descriptorpb.DescriptorProto{{
			Name: proto.String("P3"),
			Field: []*fdp{
				field("s", 1, optional, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
				field("ss", 2, repeated, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
				field("m", 3, repeated, descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, ".P3.MEntry"),
				field("ns", 4, repeated, descriptorpb.FieldDescriptorProto_TYPE_INT32, ""),
				field("by", 5, optional, descriptorpb.FieldDescriptorProto_TYPE_BYTES, ""),
			},
			NestedType: []*descriptorpb.DescriptorProto{{
				Name:    proto.String("MEntry"),
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
				Field: []*fdp{
					field("key", 1, optional, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
					field("value", 2, optional, descriptorpb.FieldDescriptorProto_TYPE_STRING, ""),
				},
			}},
		}},
	}
	fd, err := protodesc.NewFile(fdesc, new(protoregistry.Files))
	if err != nil {
		t.Fatal(err)
	}
	return fd.Messages().Get(0)
}

type validateCase struct {
	name string
	md   protoreflect.MessageDescriptor
}

func validateCases(t testing.TB) []validateCase {
	t.Helper()
	var out []validateCase
	for _, d := range []*descriptorpb.DescriptorProto{allTypes(""), strictDesc()} {
		md, err := protoarrow.MessageDescriptor(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, validateCase{d.GetName(), md})
	}
	return append(out, validateCase{"P3", proto3MD(t)})
}

// randomMessage fills a valid message: every required field set, others at
// random, one oneof member at most.
func randomMessage(rnd *rand.Rand, md protoreflect.MessageDescriptor, depth int) *dynamicpb.Message {
	m := dynamicpb.NewMessage(md)
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		if fd.Cardinality() != protoreflect.Required && (depth > 3 || rnd.IntN(3) == 0) {
			continue
		}
		if od := fd.ContainingOneof(); od != nil && m.WhichOneof(od) != nil {
			continue
		}
		switch {
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for n := rnd.IntN(4); n > 0; n-- {
				k := randomValue(rnd, fd.MapKey(), depth).MapKey()
				mp.Set(k, randomValue(rnd, fd.MapValue(), depth))
			}
		case fd.IsList():
			l := m.Mutable(fd).List()
			for n := rnd.IntN(4); n > 0; n-- {
				l.Append(randomValue(rnd, fd, depth))
			}
		default:
			m.Set(fd, randomValue(rnd, fd, depth))
		}
	}
	return m
}

func randomValue(rnd *rand.Rand, fd protoreflect.FieldDescriptor, depth int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(rnd.IntN(2) == 1)
	case protoreflect.EnumKind:
		return protoreflect.ValueOfEnum(protoreflect.EnumNumber(rnd.IntN(9)))
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(rnd.Uint32()) >> rnd.IntN(32))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(int64(rnd.Uint64()) >> rnd.IntN(64))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(rnd.Uint32() >> rnd.IntN(32))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(rnd.Uint64() >> rnd.IntN(64))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(rnd.Float32())
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64(rnd.NormFloat64())
	case protoreflect.StringKind:
		return protoreflect.ValueOfString([]string{"", "a", "héllo", "日本", "some longer text"}[rnd.IntN(5)])
	case protoreflect.BytesKind:
		b := make([]byte, rnd.IntN(6))
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return protoreflect.ValueOfBytes(b)
	default:
		return protoreflect.ValueOfMessage(randomMessage(rnd, fd.Message(), depth+1))
	}
}

// mutate applies one random edit that often keeps the record parseable:
// byte flips, truncation, insertion and deletion, appended fields (which
// merge) and self-concatenation.
func mutate(rnd *rand.Rand, rec []byte, other []byte) []byte {
	out := append([]byte(nil), rec...)
	switch op := rnd.IntN(8); {
	case op == 0 && len(out) > 0:
		out[rnd.IntN(len(out))] ^= byte(1 << rnd.IntN(8))
	case op == 1 && len(out) > 0:
		out[rnd.IntN(len(out))] = byte(rnd.Uint32())
	case op == 2 && len(out) > 0:
		out = out[:rnd.IntN(len(out))]
	case op == 3:
		i := rnd.IntN(len(out) + 1)
		ins := make([]byte, 1+rnd.IntN(3))
		for j := range ins {
			ins[j] = byte(rnd.Uint32())
		}
		out = append(out[:i], append(ins, out[i:]...)...)
	case op == 4 && len(out) > 1:
		i := rnd.IntN(len(out))
		j := i + 1 + rnd.IntN(min(4, len(out)-i))
		out = append(out[:i], out[min(j, len(out)):]...)
	case op == 5:
		out = append(out, other...)
	case op == 6:
		// A random field: tag for a small number and any wire type, then a
		// plausible value.
		num := protowire.Number(1 + rnd.IntN(13))
		switch wt := protowire.Type(rnd.IntN(6)); wt {
		case protowire.VarintType:
			out = protowire.AppendVarint(protowire.AppendTag(out, num, wt), rnd.Uint64()>>rnd.IntN(64))
		case protowire.Fixed32Type:
			out = protowire.AppendFixed32(protowire.AppendTag(out, num, wt), rnd.Uint32())
		case protowire.Fixed64Type:
			out = protowire.AppendFixed64(protowire.AppendTag(out, num, wt), rnd.Uint64())
		case protowire.BytesType:
			v := other
			if len(v) > 8 && rnd.IntN(2) == 0 {
				v = v[:rnd.IntN(len(v))]
			}
			out = protowire.AppendBytes(protowire.AppendTag(out, num, wt), v)
		default:
			out = protowire.AppendTag(out, num, wt)
		}
	default:
		out = append(out, out...)
	}
	return out
}

func checkAgrees(t *testing.T, v *protoarrow.Validator, rec []byte) (fast bool) {
	t.Helper()
	want, wantErr := protoarrow.Unmarshal(v.Descriptor(), rec)
	gotErr := v.Validate(rec)
	if wantErr == nil {
		got, err := v.Decode(rec)
		if err != nil || !proto.Equal(want, got) {
			t.Fatalf("record %x: Decode = %v, %v; Unmarshal = %v", rec, got, err, want)
		}
	}
	fast = protoarrow.FastValid(v, rec)
	switch {
	case (gotErr == nil) != (wantErr == nil):
		t.Fatalf("record %x: Validate = %v, Unmarshal = %v", rec, gotErr, wantErr)
	case gotErr != nil && gotErr.Error() != wantErr.Error():
		t.Fatalf("record %x: Validate error %q, Unmarshal error %q", rec, gotErr, wantErr)
	case fast && wantErr != nil:
		t.Fatalf("record %x: the wire walk accepts it, Unmarshal rejects it: %v", rec, wantErr)
	}
	return fast
}

// TestValidateDifferential checks Validate against Unmarshal on valid
// records and on random mutations of them.
func TestValidateDifferential(t *testing.T) {
	for _, tc := range validateCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(1, uint64(len(tc.name))))
			v := protoarrow.NewValidator(tc.md)
			var seeds [][]byte
			for range 200 {
				rec, err := proto.Marshal(randomMessage(rnd, tc.md, 0))
				if err != nil {
					t.Fatal(err)
				}
				seeds = append(seeds, rec)
			}
			// Every valid record must be accepted by the wire walk itself
			// (none of them repeats a message field or switches a oneof).
			for _, rec := range seeds {
				if !checkAgrees(t, v, rec) {
					t.Fatalf("valid record %x not accepted by the wire walk", rec)
				}
			}
			n := 2000
			if testing.Short() {
				n = 500
			}
			var valid, fast int
			for i := 0; i < n; i++ {
				rec := seeds[rnd.IntN(len(seeds))]
				for k := 1 + rnd.IntN(3); k > 0; k-- {
					rec = mutate(rnd, rec, seeds[rnd.IntN(len(seeds))])
				}
				if checkAgrees(t, v, rec) {
					fast++
				}
				if v.Validate(rec) == nil {
					valid++
				}
			}
			t.Logf("%d mutations: %d valid, %d of them accepted by the wire walk", n, valid, fast)
			if valid == 0 || valid == n {
				t.Errorf("mutations gave %d valid records of %d: the test does not exercise both outcomes", valid, n)
			}
		})
	}
}

// TestValidateCases pins hand-made records around the tricky rules.
func TestValidateCases(t *testing.T) {
	md, err := protoarrow.MessageDescriptor(strictDesc())
	if err != nil {
		t.Fatal(err)
	}
	v := protoarrow.NewValidator(md)
	tag := protowire.AppendTag
	inner := func(name string) []byte {
		return protowire.AppendString(tag(nil, 1, protowire.BytesType), name)
	}
	msg := func(num protowire.Number, b []byte) []byte {
		return protowire.AppendBytes(tag(nil, num, protowire.BytesType), b)
	}
	base := append(protowire.AppendVarint(tag(nil, 1, protowire.VarintType), 7), msg(10, inner("m"))...)
	cat := func(parts ...[]byte) []byte {
		out := append([]byte(nil), base...)
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name  string
		rec   []byte
		valid bool
	}{
		{"minimal", base, true},
		{"missing required id", msg(10, inner("m")), false},
		{"missing required message", protowire.AppendVarint(tag(nil, 1, protowire.VarintType), 7), false},
		{"required inside optional message", cat(msg(2, protowire.AppendVarint(tag(nil, 2, protowire.VarintType), 1))), false},
		{"message fields merge", cat(msg(2, protowire.AppendVarint(tag(nil, 2, protowire.VarintType), 1)), msg(2, inner("x"))), true},
		{"oneof switch clears a bad member", cat(msg(7, nil), protowire.AppendVarint(tag(nil, 8, protowire.VarintType), 3)), true},
		{"oneof switch to a bad member", cat(protowire.AppendVarint(tag(nil, 8, protowire.VarintType), 3), msg(7, nil)), false},
		{"unknown field", cat(protowire.AppendVarint(tag(nil, 99, protowire.VarintType), 1)), false},
		{"wrong wire type", cat(protowire.AppendFixed32(tag(nil, 12, protowire.Fixed32Type), 1)), false},
		{"packed", cat(msg(4, []byte{1, 2, 0x80, 1}), msg(5, make([]byte, 8))), true},
		{"unpacked into packed field", cat(protowire.AppendVarint(tag(nil, 4, protowire.VarintType), 5)), true},
		{"packed fixed32 with a partial element", cat(msg(5, make([]byte, 6))), false},
		{"packed into unpacked field", cat(msg(6, make([]byte, 16))), true},
		{"map entry with an unknown field", cat(msg(3, append(protowire.AppendVarint(tag(nil, 9, protowire.VarintType), 1), msg(2, inner("v"))...))), true},
		{"map entry without value", cat(msg(3, protowire.AppendVarint(tag(nil, 1, protowire.VarintType), 1))), false},
		{"map value missing required", cat(msg(3, msg(2, nil))), false},
		{"proto2 string not UTF-8", cat(msg(9, []byte{0xff, 0xfe})), true},
		{"field number 0", cat([]byte{0x00, 0x01}), false},
		{"sparse field number", cat(protowire.AppendFixed64(tag(nil, 5000, protowire.Fixed64Type), 1)), true},
		{"truncated", base[:len(base)-1], false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkAgrees(t, v, tc.rec)
			if got := v.Validate(tc.rec) == nil; got != tc.valid {
				t.Errorf("Validate(%x) valid = %v, want %v", tc.rec, got, tc.valid)
			}
		})
	}
}

// With two nested messages at fault, Unmarshal (and so Validate) names the
// first in field order, a list's in order, a map's by key, every time: it
// named one at random (dynamicpb ranges over a Go map), which FuzzValidate
// found as Validate and Unmarshal disagreeing on the same record.
func TestUnmarshalErrorIsDeterministic(t *testing.T) {
	md, err := protoarrow.MessageDescriptor(strictDesc())
	if err != nil {
		t.Fatal(err)
	}
	v := protoarrow.NewValidator(md)
	tag := protowire.AppendTag
	msg := func(num protowire.Number, parts ...[]byte) []byte {
		return protowire.AppendBytes(tag(nil, num, protowire.BytesType), bytes.Join(parts, nil))
	}
	str := func(num protowire.Number, s string) []byte {
		return protowire.AppendString(tag(nil, num, protowire.BytesType), s)
	}
	varint := func(num protowire.Number, x uint64) []byte {
		return protowire.AppendVarint(tag(nil, num, protowire.VarintType), x)
	}
	entry := func(key uint64, inner ...[]byte) []byte { return msg(3, varint(1, key), msg(2, inner...)) }
	base := bytes.Join([][]byte{varint(1, 7), msg(10, str(1, "m"))}, nil)
	for _, tc := range []struct {
		name string
		rec  []byte
		want string
	}{
		{"map values by key", bytes.Join([][]byte{base, entry(5, str(1, "a"), msg(3)), entry(2, varint(2, 1))}, nil),
			"cannot decode as Strict: proto: required field Strict.Inner.name not set"},
		{"map values by key, the other first", bytes.Join([][]byte{base, entry(5, varint(2, 1)), entry(2, str(1, "a"), msg(3))}, nil),
			"cannot decode as Strict: proto: required field Strict.Leaf.ok not set"},
		{"fields in order", bytes.Join([][]byte{base, entry(1, str(1, "a"), msg(3)), msg(2, varint(2, 1))}, nil),
			"cannot decode as Strict: proto: required field Strict.Inner.name not set"},
		{"unknown fields by key", bytes.Join([][]byte{base, entry(5, str(1, "a"), msg(3, varint(1, 1), varint(9, 1))), entry(2, str(1, "b"), varint(9, 1))}, nil),
			"message Strict.Inner carries field numbers not in the descriptor"},
		{"unknown fields, the other first", bytes.Join([][]byte{base, entry(5, str(1, "b"), varint(9, 1)), entry(2, str(1, "a"), msg(3, varint(1, 1), varint(9, 1)))}, nil),
			"message Strict.Leaf carries field numbers not in the descriptor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 40 {
				_, uerr := protoarrow.Unmarshal(md, tc.rec)
				verr := v.Validate(tc.rec)
				for _, err := range []error{uerr, verr} {
					if err == nil || strings.ReplaceAll(err.Error(), "\u00a0", " ") != tc.want {
						t.Fatalf("record %x: %v, want %q", tc.rec, err, tc.want)
					}
				}
			}
		})
	}
}

// FuzzValidate checks that Validate accepts exactly what Unmarshal accepts,
// and that the wire walk alone never accepts a record Unmarshal rejects.
// The seed corpus (valid records of each test descriptor) runs in go test.
func FuzzValidate(f *testing.F) {
	cases := validateCases(f)
	validators := make([]*protoarrow.Validator, len(cases))
	rnd := rand.New(rand.NewPCG(2, 3))
	for i, tc := range cases {
		validators[i] = protoarrow.NewValidator(tc.md)
		for range 8 {
			rec, err := proto.Marshal(randomMessage(rnd, tc.md, 0))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), rec)
		}
	}
	f.Add(uint8(1), []byte{0x08, 0x01, 0x52, 0x00})
	f.Fuzz(func(t *testing.T, which uint8, rec []byte) {
		checkAgrees(t, validators[int(which)%len(validators)], rec)
	})
}

// benchRecords is the benchmarks' corpus: 1000 random records of every
// type, their descriptor and their total size in bytes.
func benchRecords(b *testing.B) (protoreflect.MessageDescriptor, [][]byte, int) {
	b.Helper()
	md, err := protoarrow.MessageDescriptor(allTypes(""))
	if err != nil {
		b.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(4, 5))
	recs := make([][]byte, 1000)
	size := 0
	for i := range recs {
		recs[i], _ = proto.Marshal(randomMessage(rnd, md, 0))
		size += len(recs[i])
	}
	return md, recs, size
}

func BenchmarkValidate(b *testing.B) {
	md, recs, size := benchRecords(b)
	v := protoarrow.NewValidator(md)
	for _, bc := range []struct {
		name string
		fn   func([]byte) error
	}{
		{"wire", v.Validate},
		{"unmarshal", func(rec []byte) error { _, err := protoarrow.Unmarshal(md, rec); return err }},
	} {
		b.Run(fmt.Sprintf("path=%s", bc.name), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				for _, rec := range recs {
					if err := bc.fn(rec); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
