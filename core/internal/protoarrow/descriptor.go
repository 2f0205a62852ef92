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
