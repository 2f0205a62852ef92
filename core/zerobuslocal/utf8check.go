package zerobuslocal

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// A table's string columns hold UTF-8 text. Go's protobuf runtime does not
// check proto2 strings, so the server walks the wire format of every PROTO
// record for the string fields (also inside nested messages and map
// entries) and rejects the request naming the record and field, as the
// service does. Tables without string fields skip the walk.

type utf8Plan struct {
	fields map[protowire.Number]utf8Field
}

type utf8Field struct {
	name string
	str  bool      // a string field
	msg  *utf8Plan // a message field (or map entry) with strings inside
}

// newUTF8Plan returns nil when md has no string field at any depth.
func newUTF8Plan(md protoreflect.MessageDescriptor) *utf8Plan {
	return buildUTF8Plan(md, map[protoreflect.FullName]*utf8Plan{}, 0)
}

func buildUTF8Plan(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]*utf8Plan, depth int) *utf8Plan {
	if p, ok := seen[md.FullName()]; ok || depth > 64 {
		return p // recursion: the outer call fills it
	}
	p := &utf8Plan{fields: map[protowire.Number]utf8Field{}}
	seen[md.FullName()] = p
	fds := md.Fields()
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		switch {
		case fd.Kind() == protoreflect.StringKind:
			p.fields[fd.Number()] = utf8Field{name: string(fd.Name()), str: true}
		case fd.Message() != nil:
			if sub := buildUTF8Plan(fd.Message(), seen, depth+1); sub != nil {
				p.fields[fd.Number()] = utf8Field{name: string(fd.Name()), msg: sub}
			}
		}
	}
	if len(p.fields) == 0 {
		seen[md.FullName()] = nil
		return nil
	}
	return p
}

// check returns an error naming the first string field that is not UTF-8.
// rec was validated already; malformed input just ends the walk.
func (p *utf8Plan) check(rec []byte, depth int) error {
	if depth > 100 {
		return nil
	}
	return eachBytes(rec, p.fields, func(f utf8Field, v []byte) error {
		if f.str && !utf8.Valid(v) {
			return fmt.Errorf("field %q: string is not valid UTF-8", f.name)
		}
		if f.msg != nil {
			if err := f.msg.check(v, depth+1); err != nil {
				return fmt.Errorf("field %q: %w", f.name, err)
			}
		}
		return nil
	})
}
