package zerobuslocal

import "google.golang.org/protobuf/encoding/protowire"

// wireFields walks the fields of a protobuf record's wire format, for the
// checks that look at a few fields of validated records (UTF-8, NOT NULL
// inside STRUCTs, VARIANT text) without decoding them.
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

// eachBytes calls visit with the plan entry and content of each
// length-delimited field of rec that fields has (by number), until visit
// fails.
func eachBytes[F any](rec []byte, fields map[protowire.Number]F, visit func(F, []byte) error) error {
	for w := (wireFields{rec}); ; {
		num, typ, v, ok := w.next()
		if !ok {
			return nil
		}
		if f, ok := fields[num]; ok && typ == protowire.BytesType {
			if err := visit(f, v); err != nil {
				return err
			}
		}
	}
}

// eachMapValue calls visit with the value (field 2, length-delimited) of
// the map entry entry, until visit fails.
func eachMapValue(entry []byte, visit func([]byte) error) error {
	for w := (wireFields{entry}); ; {
		num, typ, v, ok := w.next()
		if !ok {
			return nil
		}
		if num == 2 && typ == protowire.BytesType {
			if err := visit(v); err != nil {
				return err
			}
		}
	}
}
