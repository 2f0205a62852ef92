package zerobuslocal

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Error texts for records the validator refused. Go's decoder reads a field
// whose wire type does not fit its declared type as an unknown field, so the
// validator reports "field numbers not in the descriptor" for an INT column
// sent as a string, which names neither the field nor the actual problem;
// protojson names fields by their JSON names ("nInt" for column "n_int") and
// varies the spacing of its "proto:" prefix from build to build. The
// functions here turn both into messages that name the column as the table
// does.

// wireProblem describes the first field of rec (a record of md) whose
// number md does not declare or whose wire type does not fit its declared
// type, looking inside STRUCTs, ARRAY elements and MAP STRUCT values; "" when the
// wire format has no such field (the validator's error is then kept).
func wireProblem(md protoreflect.MessageDescriptor, rec []byte, path string, depth int) string {
	for len(rec) > 0 && depth <= 64 {
		num, typ, n := protowire.ConsumeTag(rec)
		if n < 0 {
			return ""
		}
		rec = rec[n:]
		m := protowire.ConsumeFieldValue(num, typ, rec)
		if m < 0 {
			return ""
		}
		val := rec[:m]
		rec = rec[m:]
		fd := md.Fields().ByNumber(num)
		if fd == nil {
			if path == "" {
				return fmt.Sprintf("field number %d is not in the stream's descriptor %s", num, md.FullName())
			}
			return fmt.Sprintf("field %q: field number %d is not in the stream's descriptor %s", path, num, md.FullName())
		}
		name := joinColumn(path, string(fd.Name()))
		want := kindWireType(fd.Kind())
		packed := fd.IsList() && typ == protowire.BytesType && want != protowire.BytesType && want != protowire.StartGroupType
		if typ != want && !packed {
			return fmt.Sprintf("field %q (number %d) is %s, which is sent with wire type %d (%s), not wire type %d (%s)",
				name, num, fd.Kind(), want, wireTypeName(want), typ, wireTypeName(typ))
		}
		if typ != protowire.BytesType || fd.Message() == nil {
			continue
		}
		content, k := protowire.ConsumeBytes(val)
		if k < 0 {
			return ""
		}
		if fd.IsMap() {
			// Protobuf parsers skip what a map entry holds besides a key and
			// a value of the declared wire types (Go's and Java's alike), so
			// only a STRUCT value is looked into.
			if p := entryProblem(fd, content, name, depth+1); p != "" {
				return p
			}
		} else if p := wireProblem(fd.Message(), content, name, depth+1); p != "" {
			return p
		}
	}
	return ""
}

// entryProblem is wireProblem for the STRUCT value of a map entry.
func entryProblem(fd protoreflect.FieldDescriptor, entry []byte, name string, depth int) string {
	vmd := fd.MapValue().Message()
	if vmd == nil {
		return ""
	}
	for w := (wireFields{entry}); ; {
		num, typ, v, ok := w.next()
		if !ok {
			return ""
		}
		if num == 2 && typ == protowire.BytesType {
			if p := wireProblem(vmd, v, name+".value", depth); p != "" {
				return p
			}
		}
	}
}

func kindWireType(k protoreflect.Kind) protowire.Type {
	switch k {
	case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		return protowire.Fixed32Type
	case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		return protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		return protowire.BytesType
	case protoreflect.GroupKind:
		return protowire.StartGroupType
	default: // integers, bool, enum
		return protowire.VarintType
	}
}

func wireTypeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "32-bit"
	case protowire.Fixed64Type:
		return "64-bit"
	case protowire.BytesType:
		return "length-delimited"
	case protowire.StartGroupType, protowire.EndGroupType:
		return "group"
	default:
		return "unknown"
	}
}

// jsonError rewrites a protojson decoding error for md: without the
// "proto:" prefix (whose spacing protojson varies on purpose) and with
// fields named by their column names rather than their JSON names.
func jsonError(err error, md protoreflect.MessageDescriptor) string {
	s := err.Error()
	if rest, ok := strings.CutPrefix(s, "proto:"); ok {
		s = strings.TrimLeft(rest, " \u00a0")
	}
	renames, names := map[string]string{}, map[string]bool{}
	collectJSONNames(md, renames, names, 0)
	for jsonName, name := range renames {
		if names[jsonName] {
			continue // also a field's own name: ambiguous, left as protojson wrote it
		}
		s = strings.ReplaceAll(s, " field "+jsonName+":", fmt.Sprintf(" field %q:", name))
	}
	return s
}

// collectJSONNames maps the JSON names of md's fields (at every depth) that
// differ from their names to those names, and collects every name.
func collectJSONNames(md protoreflect.MessageDescriptor, out map[string]string, names map[string]bool, depth int) {
	if depth > 64 {
		return
	}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		names[string(fd.Name())] = true
		if fd.JSONName() != string(fd.Name()) {
			out[fd.JSONName()] = string(fd.Name())
		}
		if fd.Message() != nil {
			collectJSONNames(fd.Message(), out, names, depth+1)
		}
	}
}
