package protoarrow

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// maxDepth bounds message nesting (and rejects recursive messages).
const maxDepth = 64

// maxFields bounds the fields of a schema, a nested message's counted at
// each field of its type. A message type is declared once and used by name
// any number of times, so a descriptor of a few kilobytes (message A1 with
// two fields of A0, A2 with two of A1, …) stands for exponentially many
// fields: building the schema took seconds at 16 levels and would take
// hours, and the memory, at 30 (a create_stream hung the local server).
// The bound is far above any valid table (2000 columns, the client's limit,
// each a STRUCT of 50 fields is 102,000) and stops the exponential case
// at 15 levels (under a second).
const maxFields = MaxColumnTypes

// MaxColumnTypes is the one bound of the column types a schema may stand
// for (columns, STRUCT fields, ARRAY elements, MAP values), a type used by
// name counted at each use: maxFields here, the local server's Avro writer
// schemas and the client's reading of a Unity Catalog table use it.
const MaxColumnTypes = 200000

// SchemaFromDescriptor returns the Arrow schema for records encoded with
// desc (see the package doc for the type mapping). It is pure and safe for
// concurrent use.
func SchemaFromDescriptor(desc *descriptorpb.DescriptorProto) (*arrow.Schema, error) {
	md, err := MessageDescriptor(desc)
	if err != nil {
		return nil, err
	}
	return SchemaFromMessage(md)
}

// SchemaFromMessage is SchemaFromDescriptor for an already resolved message
// descriptor.
func SchemaFromMessage(md protoreflect.MessageDescriptor) (*arrow.Schema, error) {
	budget := maxFields
	fields, err := messageFields(md, 0, &budget)
	if err != nil {
		return nil, err
	}
	return arrow.NewSchema(fields, nil), nil
}

// messageFields maps md's fields; each takes one from *budget, and none
// left is an error.
func messageFields(md protoreflect.MessageDescriptor, depth int, budget *int) ([]arrow.Field, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("protoarrow: message %s nests deeper than %d levels (recursive message?)", md.FullName(), maxDepth)
	}
	fds := md.Fields()
	if *budget -= fds.Len(); *budget < 0 {
		return nil, fmt.Errorf("protoarrow: message %s has more than %d fields, those of a nested message counted at each field of its type", md.FullName(), maxFields)
	}
	out := make([]arrow.Field, 0, fds.Len())
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		t, err := fieldType(fd, depth, budget)
		if err != nil {
			return nil, err
		}
		out = append(out, arrow.Field{Name: string(fd.Name()), Type: t, Nullable: fieldNullable(fd)})
	}
	return out, nil
}

// fieldNullable: only singular fields with presence that are not required
// can be absent.
func fieldNullable(fd protoreflect.FieldDescriptor) bool {
	if fd.IsList() || fd.IsMap() || fd.Cardinality() == protoreflect.Required {
		return false
	}
	return fd.HasPresence()
}

func fieldType(fd protoreflect.FieldDescriptor, depth int, budget *int) (arrow.DataType, error) {
	switch {
	case fd.IsMap():
		kt, err := scalarType(fd.MapKey(), depth, budget)
		if err != nil {
			return nil, err
		}
		vt, err := scalarType(fd.MapValue(), depth, budget)
		if err != nil {
			return nil, err
		}
		return arrow.MapOf(kt, vt), nil
	case fd.IsList():
		et, err := scalarType(fd, depth, budget)
		if err != nil {
			return nil, err
		}
		return arrow.ListOf(et), nil
	default:
		return scalarType(fd, depth, budget)
	}
}

// scalarType maps the element type of fd (ignoring its cardinality).
func scalarType(fd protoreflect.FieldDescriptor, depth int, budget *int) (arrow.DataType, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return arrow.FixedWidthTypes.Boolean, nil
	case protoreflect.EnumKind, protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return arrow.PrimitiveTypes.Int32, nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return arrow.PrimitiveTypes.Int64, nil
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return arrow.PrimitiveTypes.Uint32, nil
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return arrow.PrimitiveTypes.Uint64, nil
	case protoreflect.FloatKind:
		return arrow.PrimitiveTypes.Float32, nil
	case protoreflect.DoubleKind:
		return arrow.PrimitiveTypes.Float64, nil
	case protoreflect.StringKind:
		return arrow.BinaryTypes.String, nil
	case protoreflect.BytesKind:
		return arrow.BinaryTypes.Binary, nil
	case protoreflect.MessageKind, protoreflect.GroupKind:
		fields, err := messageFields(fd.Message(), depth+1, budget)
		if err != nil {
			return nil, err
		}
		return arrow.StructOf(fields...), nil
	default:
		return nil, fmt.Errorf("protoarrow: field %s has unsupported kind %v", fd.FullName(), fd.Kind())
	}
}
