package protoarrow

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
)

// MessageDescriptor resolves a lone DescriptorProto (nested types inside it,
// no imports) into a usable message descriptor. The proto is wrapped in a
// synthetic proto2 file; the package is inferred from fully-qualified type
// names that refer into the message. desc is not modified.
//
// It fails with a message naming the field when a type reference cannot be
// resolved (for example a well-known type or a sibling top-level message).
func MessageDescriptor(desc *descriptorpb.DescriptorProto) (protoreflect.MessageDescriptor, error) {
	if desc == nil {
		return nil, fmt.Errorf("protoarrow: nil descriptor")
	}
	if desc.GetName() == "" {
		return nil, fmt.Errorf("protoarrow: descriptor has no message name")
	}
	desc = withoutProto3Optional(desc)
	pkg := inferPackage(desc)
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("zerobus_local_" + strings.ReplaceAll(pkg, ".", "_") + "_" + desc.GetName() + ".proto"),
		Syntax:      proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{desc},
	}
	if pkg != "" {
		fdp.Package = proto.String(pkg)
	}
	// An empty registry: the message may refer only to itself.
	fd, err := protodesc.NewFile(fdp, new(protoregistry.Files))
	if err != nil {
		return nil, fmt.Errorf("protoarrow: invalid descriptor for message %q: %w", desc.GetName(), err)
	}
	return fd.Messages().Get(0), nil
}

// withoutProto3Optional returns desc, or a copy of it with every
// proto3_optional flag cleared (nested messages too) and each synthetic
// oneof (the single-member oneof protoc declares for a proto3 optional
// field) removed, its field a plain optional field. The message is loaded
// as proto2, where every singular field already has presence, so the flag
// says nothing more there, but protodesc refuses it outside proto3 syntax.
// Descriptors built from Unity Catalog columns (the official Rust SDK's
// descriptor_from_uc_columns) set it on every nullable column. A real
// oneof (more than one member, or a member without the flag) is kept.
func withoutProto3Optional(desc *descriptorpb.DescriptorProto) *descriptorpb.DescriptorProto {
	if !hasProto3Optional(desc) {
		return desc
	}
	desc = proto.Clone(desc).(*descriptorpb.DescriptorProto)
	clearProto3Optional(desc)
	return desc
}

func hasProto3Optional(d *descriptorpb.DescriptorProto) bool {
	for _, f := range d.GetField() {
		if f.Proto3Optional != nil {
			return true
		}
	}
	for _, n := range d.GetNestedType() {
		if hasProto3Optional(n) {
			return true
		}
	}
	return false
}

func clearProto3Optional(d *descriptorpb.DescriptorProto) {
	// A oneof is synthetic when all its members carry proto3_optional and
	// it has exactly one member.
	members := make([]int, len(d.GetOneofDecl()))
	flagged := make([]int, len(d.GetOneofDecl()))
	for _, f := range d.GetField() {
		if f.OneofIndex == nil {
			continue
		}
		if i := int(f.GetOneofIndex()); i >= 0 && i < len(members) {
			members[i]++
			if f.GetProto3Optional() {
				flagged[i]++
			}
		}
	}
	synthetic := make([]bool, len(members))
	renumber := make([]int32, len(members))
	var kept []*descriptorpb.OneofDescriptorProto
	for i, od := range d.GetOneofDecl() {
		synthetic[i] = members[i] == 1 && flagged[i] == 1
		if !synthetic[i] {
			renumber[i] = int32(len(kept))
			kept = append(kept, od)
		}
	}
	if len(kept) != len(d.GetOneofDecl()) {
		d.OneofDecl = kept
	}
	for _, f := range d.GetField() {
		if f.OneofIndex != nil {
			if i := int(f.GetOneofIndex()); i >= 0 && i < len(members) {
				if synthetic[i] {
					f.OneofIndex = nil
				} else {
					f.OneofIndex = proto.Int32(renumber[i])
				}
			}
		}
		f.Proto3Optional = nil
	}
	for _, n := range d.GetNestedType() {
		clearProto3Optional(n)
	}
}

// inferPackage finds the package implied by a fully-qualified type name that
// points into desc: ".a.b.Msg.Inner" with desc named "Msg" gives "a.b".
func inferPackage(desc *descriptorpb.DescriptorProto) string {
	name := desc.GetName()
	var found string
	var walk func(d *descriptorpb.DescriptorProto) bool
	walk = func(d *descriptorpb.DescriptorProto) bool {
		for _, f := range d.GetField() {
			tn := f.GetTypeName()
			if !strings.HasPrefix(tn, ".") {
				continue
			}
			parts := strings.Split(tn[1:], ".")
			for i, p := range parts {
				if p == name {
					found = strings.Join(parts[:i], ".")
					return true
				}
			}
		}
		for _, n := range d.GetNestedType() {
			if walk(n) {
				return true
			}
		}
		return false
	}
	walk(desc)
	return found
}
