package zerobuslocal

import "google.golang.org/protobuf/encoding/protowire"

// wireFields walks the fields of a protobuf record's wire format, for the
// checks that look at a few fields of validated records (UTF-8, NOT NULL
// inside STRUCTs) without decoding them.
type wireFields struct{ rest []byte }

// next returns the next field: its number, wire type and, for a
// length-delimited field, its content. ok is false at the end, and at
// malformed input (the records were validated already: the walk just ends).
func (w *wireFields) next() (num protowire.Number, typ protowire.Type, content []byte, ok bool) {
	if len(w.rest) == 0 {
		return 0, 0, nil, false
	}
	num, typ, n := protowire.ConsumeTag(w.rest)
	if n < 0 {
		return 0, 0, nil, false
	}
	w.rest = w.rest[n:]
	if typ == protowire.BytesType {
		v, m := protowire.ConsumeBytes(w.rest)
		if m < 0 {
			return 0, 0, nil, false
		}
		w.rest = w.rest[m:]
		return num, typ, v, true
	}
	m := protowire.ConsumeFieldValue(num, typ, w.rest)
	if m < 0 {
		return 0, 0, nil, false
	}
	w.rest = w.rest[m:]
	return num, typ, nil, true
}
