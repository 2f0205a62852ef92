package convert

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// NewPlanForDescriptor builds a plan that encodes Arrow batches as the
// caller's message desc. Columns are matched to fields by exact name; every
// column needs a field, every required field a column, and each column's
// type must be compatible with its field (see the package documentation).
// All mismatches are reported together in a *SchemaError.
//
// desc is not modified: the plan keeps a normalized copy (Plan.Descriptor)
// in which type names are fully qualified from the message itself
// (".Name.Nested"), whatever package they had, proto3 "optional" is written
// as plain proto2 optional, and nested extensions are dropped. Every message
// and enum a field refers to must be nested inside desc. Field labels decide
// null handling: a null in a required field fails the row, in an optional
// field it is omitted. opts.MessageName and opts.AllOptional are ignored.
func NewPlanForDescriptor(schema *arrow.Schema, desc *descriptorpb.DescriptorProto, opts Options) (*Plan, error) {
	if schema == nil {
		return nil, errors.New("convert: NewPlanForDescriptor: schema is nil")
	}
	if desc == nil {
		return nil, errors.New("convert: NewPlanForDescriptor: descriptor is nil")
	}
	opts = opts.withDefaults()
	d := proto.Clone(desc).(*descriptorpb.DescriptorProto)
	var probs problems
	if d.GetName() == "" {
		probs.add("", "", "the descriptor has no message name")
	}
	normalizeDescriptor(d, &probs)
	if err := probs.err(); err != nil {
		return nil, err
	}
	md, err := buildMessageDescriptor(d)
	if err != nil {
		probs.add("", "", "the descriptor is not a valid proto2 message: %v", err)
		return nil, probs.err()
	}
	if n := schema.NumFields(); n > MaxColumns {
		probs.add("", "", "the schema has %d columns, over the Zerobus limit of %d", n, MaxColumns)
	}
	m := &matcher{probs: &probs}
	cols := m.message(schema.Fields(), md, "", 0)
	probs.addCaseClashes(schema)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return newPlan(schema, d, md, cols, opts), nil
}

// NewPlanForMessage is NewPlanForDescriptor for the descriptor of a
// generated Go message, e.g. NewPlanForMessage(schema, &mypb.Event{}, opts).
// Only m's type is used, not its contents.
func NewPlanForMessage(schema *arrow.Schema, m proto.Message, opts Options) (*Plan, error) {
	if m == nil {
		return nil, errors.New("convert: NewPlanForMessage: message is nil")
	}
	return NewPlanForDescriptor(schema, protodesc.ToDescriptorProto(m.ProtoReflect().Descriptor()), opts)
}

// normalizeDescriptor rewrites d in place so that it stands alone: type
// names resolved within d and fully qualified from its root, proto3 optional
// turned into proto2 optional, extensions dropped.
func normalizeDescriptor(d *descriptorpb.DescriptorProto, probs *problems) {
	known := map[string]bool{}
	var index func(m *descriptorpb.DescriptorProto, prefix string)
	index = func(m *descriptorpb.DescriptorProto, prefix string) {
		p := prefix + m.GetName()
		known[p] = true
		for _, e := range m.GetEnumType() {
			known[p+"."+e.GetName()] = true
		}
		for _, n := range m.GetNestedType() {
			index(n, p+".")
		}
	}
	index(d, "")
	var fix func(m *descriptorpb.DescriptorProto, scope string)
	fix = func(m *descriptorpb.DescriptorProto, scope string) {
		scope = joinPath(scope, m.GetName())
		synthetic := map[int32]bool{}
		for _, fd := range m.GetField() {
			if fd.GetProto3Optional() {
				synthetic[fd.GetOneofIndex()] = true
				fd.Proto3Optional, fd.OneofIndex = nil, nil
			}
			if fd.GetType() == descriptorpb.FieldDescriptorProto_TYPE_GROUP {
				probs.add(scope+"."+fd.GetName(), "", "field %q is a proto2 group, which Zerobus does not support; use a nested message", fd.GetName())
				continue
			}
			if fd.TypeName == nil {
				continue
			}
			full, ok := resolveTypeName(fd.GetTypeName(), scope, known)
			if !ok {
				probs.add(scope+"."+fd.GetName(), "", "field %q refers to type %q, which is not nested inside message %q; Zerobus needs one self-contained message: nest the type inside it",
					fd.GetName(), fd.GetTypeName(), d.GetName())
				continue
			}
			fd.TypeName = proto.String("." + full)
		}
		if len(synthetic) > 0 {
			remap := map[int32]int32{}
			var kept []*descriptorpb.OneofDescriptorProto
			for i, o := range m.GetOneofDecl() {
				if !synthetic[int32(i)] {
					remap[int32(i)] = int32(len(kept))
					kept = append(kept, o)
				}
			}
			m.OneofDecl = kept
			for _, fd := range m.GetField() {
				if fd.OneofIndex != nil {
					fd.OneofIndex = proto.Int32(remap[fd.GetOneofIndex()])
				}
			}
		}
		m.Extension = nil
		for _, n := range m.GetNestedType() {
			fix(n, scope)
		}
	}
	fix(d, "")
}

// resolveTypeName finds the type a field refers to among known (paths from
// the root message). A fully qualified name (".pkg.Root.Nested") matches by
// its longest known suffix, so any package prefix is accepted; a relative
// name is looked up from the innermost scope outwards as protoc does.
func resolveTypeName(name, scope string, known map[string]bool) (string, bool) {
	if !strings.HasPrefix(name, ".") {
		for s := scope; ; {
			if c := joinPath(s, name); known[c] {
				return c, true
			}
			if s == "" {
				break
			}
			if i := strings.LastIndexByte(s, '.'); i >= 0 {
				s = s[:i]
			} else {
				s = ""
			}
		}
	}
	n := strings.TrimPrefix(name, ".")
	if known[n] {
		return n, true
	}
	best := ""
	for p := range known {
		if strings.HasSuffix(n, "."+p) && len(p) > len(best) {
			best = p
		}
	}
	return best, best != ""
}

// matcher compiles nodes by matching Arrow fields against a resolved
// message descriptor, collecting every mismatch.
type matcher struct {
	probs *problems
}

func (m *matcher) message(fs []arrow.Field, md protoreflect.MessageDescriptor, prefix string, depth int) []*node {
	nodes := make([]*node, len(fs))
	seen := map[string]bool{}
	for i, f := range fs {
		path := joinPath(prefix, f.Name)
		if seen[f.Name] {
			m.probs.add(path, f.Type.String(), "duplicate column name %q; rename one", f.Name)
			continue
		}
		seen[f.Name] = true
		fd := md.Fields().ByName(protoreflect.Name(f.Name))
		if fd == nil {
			m.probs.add(path, f.Type.String(), "message %s has no field named %q%s; rename or drop the column", md.FullName(), f.Name, suggest(md, f.Name))
			continue
		}
		n := m.field(f.Type, fd, path, depth)
		if n == nil {
			continue
		}
		null := nullOmit
		if fd.Cardinality() == protoreflect.Required {
			null = nullRequired
		}
		finish(n, f.Name, int32(fd.Number()), null)
		nodes[i] = n
	}
	for i := range md.Fields().Len() {
		fd := md.Fields().Get(i)
		if fd.Cardinality() == protoreflect.Required && !seen[string(fd.Name())] {
			m.probs.add(joinPath(prefix, string(fd.Name())), "", "message %s requires field %q but there is no such column; add the column or make the field optional", md.FullName(), fd.Name())
		}
	}
	return nodes
}

// suggest names a field that differs from name only by case.
func suggest(md protoreflect.MessageDescriptor, name string) string {
	for i := range md.Fields().Len() {
		if n := string(md.Fields().Get(i).Name()); strings.EqualFold(n, name) {
			return fmt.Sprintf(" (did you mean %q? names are case-sensitive)", n)
		}
	}
	return ""
}

// field matches an Arrow field type against a field, repeated or not.
func (m *matcher) field(dt arrow.DataType, fd protoreflect.FieldDescriptor, path string, depth int) *node {
	if depth > MaxNestingDepth {
		m.probs.add(path, dt.String(), "nesting is deeper than %d levels; flatten the type", MaxNestingDepth)
		return nil
	}
	if inner := wrapped(dt); inner != nil {
		n := m.field(inner, fd, path, depth)
		if n == nil {
			return nil
		}
		return &node{dt: dt, ptype: n.ptype, inner: n}
	}
	info, _ := classify(dt)
	switch info.class {
	case classList:
		if !fd.IsList() {
			m.probs.add(path, dt.String(), "the column is a list but field %q is not repeated (%s); make the field repeated or change the column", fd.Name(), describeField(fd))
			return nil
		}
		elem := m.value(listElem(dt).Type, fd, path+"[]", depth+1)
		if elem == nil {
			return nil
		}
		return &node{dt: dt, ptype: elem.ptype, elem: elem}
	case classMap:
		if !fd.IsMap() {
			m.probs.add(path, dt.String(), "the column is a map but field %q is not a map (%s)", fd.Name(), describeField(fd))
			return nil
		}
		mt := dt.(*arrow.MapType)
		key := m.value(mt.KeyType(), fd.MapKey(), path+".key", depth+1)
		val := m.value(mt.ItemType(), fd.MapValue(), path+".value", depth+1)
		if key == nil || val == nil {
			return nil
		}
		finish(key, "key", 1, nullRequired)
		finish(val, "value", 2, nullMapValue)
		return &node{dt: dt, ptype: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, key: key, val: val}
	}
	if fd.IsList() || fd.IsMap() {
		m.probs.add(path, dt.String(), "field %q is %s but the column is not a list or map; change the column or the field", fd.Name(), describeField(fd))
		return nil
	}
	return m.value(dt, fd, path, depth)
}

// value matches a single (non-repeated) Arrow value type against the type
// of fd, ignoring fd's label.
func (m *matcher) value(dt arrow.DataType, fd protoreflect.FieldDescriptor, path string, depth int) *node {
	if depth > MaxNestingDepth {
		m.probs.add(path, dt.String(), "nesting is deeper than %d levels; flatten the type", MaxNestingDepth)
		return nil
	}
	if inner := wrapped(dt); inner != nil {
		n := m.value(inner, fd, path, depth)
		if n == nil {
			return nil
		}
		return &node{dt: dt, ptype: n.ptype, inner: n}
	}
	info, reason := classify(dt)
	kind := fd.Kind()
	switch info.class {
	case classUnsupported:
		m.probs.add(path, dt.String(), "%s", reason)
		return nil
	case classList, classMap:
		m.probs.add(path, dt.String(), "a list or map nested directly in a list or map has no protobuf equivalent; wrap it in a struct")
		return nil
	case classStruct:
		if kind != protoreflect.MessageKind || fd.Message().IsMapEntry() {
			m.probs.add(path, dt.String(), "the column is a struct but field %q is %s; use a message field", fd.Name(), describeField(fd))
			return nil
		}
		kids := m.message(dt.(*arrow.StructType).Fields(), fd.Message(), path, depth+1)
		return &node{dt: dt, ptype: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE, fields: kids}
	}
	allowed := compatibleKinds[info.class]
	if !slices.Contains(allowed, kind) {
		names := make([]string, len(allowed))
		for i, k := range allowed {
			names[i] = k.String()
		}
		sort.Strings(names)
		m.probs.add(path, dt.String(), "field %q is %s, which this column cannot be written to; compatible protobuf types: %s",
			fd.Name(), describeField(fd), strings.Join(names, ", "))
		return nil
	}
	return &node{dt: dt, ptype: descriptorpb.FieldDescriptorProto_Type(kind), mul: info.mul, div: info.div, unit: info.unit, scale: info.scale}
}

// compatibleKinds lists the protobuf types each Arrow value class may be
// written to. Integer targets are range-checked per row.
var compatibleKinds = map[valueClass][]protoreflect.Kind{
	classSigned:   integerKinds,
	classUnsigned: integerKinds,
	classFloat:    {protoreflect.FloatKind, protoreflect.DoubleKind},
	classBool:     {protoreflect.BoolKind},
	classString:   {protoreflect.StringKind, protoreflect.BytesKind},
	classBinary:   {protoreflect.BytesKind},
	classDecimal:  {protoreflect.StringKind},
}

var integerKinds = []protoreflect.Kind{
	protoreflect.Int32Kind, protoreflect.Int64Kind, protoreflect.Uint32Kind, protoreflect.Uint64Kind,
	protoreflect.Sint32Kind, protoreflect.Sint64Kind, protoreflect.Fixed32Kind, protoreflect.Fixed64Kind,
	protoreflect.Sfixed32Kind, protoreflect.Sfixed64Kind, protoreflect.EnumKind,
}

// wrapped returns the value type of a dictionary, run-end encoded or
// extension type, or nil.
func wrapped(dt arrow.DataType) arrow.DataType {
	switch t := dt.(type) {
	case *arrow.DictionaryType:
		return t.ValueType
	case *arrow.RunEndEncodedType:
		return t.Encoded()
	case arrow.ExtensionType:
		return t.StorageType()
	}
	return nil
}

// describeField renders a field's shape for messages: "repeated int64",
// "map<string, int32>", "message Foo.Bar".
func describeField(fd protoreflect.FieldDescriptor) string {
	switch {
	case fd.IsMap():
		return fmt.Sprintf("map<%s, %s>", fd.MapKey().Kind(), fd.MapValue().Kind())
	case fd.IsList():
		return "repeated " + kindName(fd)
	}
	return kindName(fd)
}

func kindName(fd protoreflect.FieldDescriptor) string {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind:
		return "message " + string(fd.Message().FullName())
	case protoreflect.EnumKind:
		return "enum " + string(fd.Enum().FullName())
	}
	return fd.Kind().String()
}
