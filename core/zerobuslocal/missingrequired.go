package zerobuslocal

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A NOT NULL column is a required field of the stream's descriptor, so a
// PROTO or JSON record without it fails to decode, and the decoders' error
// reads "proto: required field Msg.col not set" (protobuf-go varies the
// space after "proto:" between a space and U+00A0 from build to build, and
// names the field by its full name). The functions here find that field
// and word the refusal as the Arrow Flight and Avro paths word a null in a
// NOT NULL column: `column "col": null in a NOT NULL column`, or `field
// "loc.x": null in a NOT NULL field` for a required field inside a STRUCT.

// missingRequired names the first required field of md (at any depth of
// singular, repeated or map-valued messages) that the wire-format record
// rec leaves out; "" when none is missing or rec is malformed (the
// decoder's error is then kept).
func missingRequired(md protoreflect.MessageDescriptor, rec []byte, path string, depth int) string {
	if depth > 64 {
		return ""
	}
	present := map[protowire.Number]bool{}
	merged := map[protowire.Number][]byte{} // singular message fields: occurrences merge
	for len(rec) > 0 {
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
		present[num] = true
		fd := md.Fields().ByNumber(num)
		if fd == nil || typ != protowire.BytesType || fd.Message() == nil {
			continue
		}
		content, k := protowire.ConsumeBytes(val)
		if k < 0 {
			return ""
		}
		name := joinColumn(path, string(fd.Name()))
		switch {
		case fd.IsMap():
			if p := missingInEntry(fd, content, name, depth+1); p != "" {
				return p
			}
		case fd.IsList():
			if p := missingRequired(fd.Message(), content, name, depth+1); p != "" {
				return p
			}
		default:
			merged[num] = append(merged[num], content...)
		}
	}
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		name := joinColumn(path, string(fd.Name()))
		if fd.Cardinality() == protoreflect.Required && !present[fd.Number()] {
			if path == "" {
				return fmt.Sprintf("column %q: null in a NOT NULL column", name)
			}
			return fmt.Sprintf("field %q: null in a NOT NULL field", name)
		}
		if body, ok := merged[fd.Number()]; ok {
			if p := missingRequired(fd.Message(), body, name, depth+1); p != "" {
				return p
			}
		}
	}
	return ""
}

// missingInEntry is missingRequired for the message value of a map entry.
func missingInEntry(fd protoreflect.FieldDescriptor, entry []byte, name string, depth int) string {
	vmd := fd.MapValue().Message()
	if vmd == nil {
		return ""
	}
	var value []byte
	for w := (wireFields{entry}); ; {
		num, typ, v, ok := w.next()
		if !ok {
			break
		}
		if num == 2 && typ == protowire.BytesType {
			value = append(value, v...)
		}
	}
	return missingRequired(vmd, value, name+".value", depth)
}

// missingRequiredInMessage is missingRequired for a decoded message (JSON
// records are decoded with AllowPartial, then checked here).
func missingRequiredInMessage(m protoreflect.Message, path string, depth int) string {
	if depth > 64 {
		return ""
	}
	fds := m.Descriptor().Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		name := joinColumn(path, string(fd.Name()))
		if fd.Cardinality() == protoreflect.Required && !m.Has(fd) {
			if path == "" {
				return fmt.Sprintf("column %q: null in a NOT NULL column", name)
			}
			return fmt.Sprintf("field %q: null in a NOT NULL field", name)
		}
		if fd.Message() == nil || !m.Has(fd) {
			continue
		}
		switch {
		case fd.IsMap():
			if fd.MapValue().Message() == nil {
				continue
			}
			var p string
			m.Get(fd).Map().Range(func(_ protoreflect.MapKey, v protoreflect.Value) bool {
				p = missingRequiredInMessage(v.Message(), name+".value", depth+1)
				return p == ""
			})
			if p != "" {
				return p
			}
		case fd.IsList():
			l := m.Get(fd).List()
			for j := 0; j < l.Len(); j++ {
				if p := missingRequiredInMessage(l.Get(j).Message(), name, depth+1); p != "" {
					return p
				}
			}
		default:
			if p := missingRequiredInMessage(m.Get(fd).Message(), name, depth+1); p != "" {
				return p
			}
		}
	}
	return ""
}
