package protoarrow

import (
	"fmt"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"
)

// Validator checks encoded records against one message descriptor by walking
// the protobuf wire format, without building messages. It accepts exactly
// the records Unmarshal accepts (required fields present, no field numbers
// unknown to the descriptor, wire types matching the field kinds, packed and
// unpacked repeated scalars, maps and nested messages checked recursively,
// strings checked for UTF-8 only where the descriptor's syntax demands it,
// which proto2 does not).
//
// The wire walk is a fast path that only ever says "valid": whenever it sees
// something it cannot judge with certainty (a malformed or unknown field,
// a missing required field, a singular message field repeated so that its
// occurrences merge, two members of one oneof, group fields) Validate falls
// back to Unmarshal, so the outcome and the error text are Unmarshal's.
//
// A Validator is immutable and safe for concurrent use.
type Validator struct {
	md     protoreflect.MessageDescriptor
	root   *msgPlan
	nplans int
}

// NewValidator precompiles a validator for records of md. It never fails;
// descriptors it cannot walk (too many tracked fields in one message) make
// Validate use Unmarshal for every record.
func NewValidator(md protoreflect.MessageDescriptor) *Validator {
	c := &planCompiler{plans: map[protoreflect.FullName]*msgPlan{}}
	return &Validator{md: md, root: c.message(md), nplans: len(c.plans)}
}

// Descriptor returns the message descriptor the validator checks against.
func (v *Validator) Descriptor() protoreflect.MessageDescriptor { return v.md }

// Validate returns nil if Unmarshal(v.Descriptor(), rec) would succeed and
// otherwise Unmarshal's error. A valid record costs no allocation.
func (v *Validator) Validate(rec []byte) error {
	if v.root.valid(rec, 0) {
		return nil
	}
	_, err := Unmarshal(v.md, rec)
	return err
}

// Decode decodes a record that Validate accepted into a dynamic message of
// the validator's descriptor, without repeating the checks Validate made
// (required fields, unknown fields), which makes it about a third cheaper
// than Unmarshal. For any other input the result is unspecified but Decode
// neither panics nor reads out of bounds.
func (v *Validator) Decode(rec []byte) (_ *dynamicpb.Message, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot decode as %s: malformed record (%v)", v.md.FullName(), p)
		}
	}()
	m := dynamicpb.NewMessage(v.md)
	if err := (proto.UnmarshalOptions{AllowPartial: true}).Unmarshal(rec, m); err != nil {
		return nil, fmt.Errorf("cannot decode as %s: %w", v.md.FullName(), err)
	}
	return m, nil
}

// fastValid reports whether the wire walk alone accepts rec (tests use it to
// check that it never accepts what Unmarshal rejects).
func (v *Validator) fastValid(rec []byte) bool { return v.root.valid(rec, 0) }

// wireKind is how a field's values are encoded.
type wireKind uint8

const (
	kVarint wireKind = iota
	kFixed32
	kFixed64
	kBytes   // bytes, or a string without UTF-8 enforcement
	kUTF8    // a string whose syntax enforces UTF-8
	kMessage // a length-delimited nested message
	kUnsupported
)

func (k wireKind) wireType() protowire.Type {
	switch k {
	case kVarint:
		return protowire.VarintType
	case kFixed32:
		return protowire.Fixed32Type
	case kFixed64:
		return protowire.Fixed64Type
	case kBytes, kUTF8, kMessage:
		return protowire.BytesType
	default:
		return -1 // matches no wire type
	}
}

func (k wireKind) packable() bool { return k <= kFixed64 }

// maxTracked bounds the fields of one message that need a presence bit
// (required fields, singular message fields, oneof members).
const maxTracked = 256

type bitset [maxTracked / 64]uint64

func (b *bitset) set(i int16)      { b[i>>6] |= 1 << (i & 63) }
func (b *bitset) has(i int16) bool { return b[i>>6]&(1<<(i&63)) != 0 }

func (b *bitset) intersects(o *bitset) bool {
	for i := range b {
		if b[i]&o[i] != 0 {
			return true
		}
	}
	return false
}

func (b *bitset) containsAll(o *bitset) bool {
	for i := range b {
		if b[i]&o[i] != o[i] {
			return false
		}
	}
	return true
}

type fieldPlan struct {
	fd    protoreflect.FieldDescriptor
	idx   int // index in the containing message's fields
	kind  wireKind
	list  bool
	bit   int16 // presence bit, -1 for none
	oneof int16 // index into msgPlan.oneofs, -1 for none
	sub   *msgPlan
	// Maps: the entry's key and value.
	key, val *fieldPlan
}

type msgPlan struct {
	id     int          // dense id, for per-plan scratch space
	fields []*fieldPlan // in declaration order
	dense  []*fieldPlan // by field number
	sparse map[protowire.Number]*fieldPlan
	req    bitset
	oneofs []bitset // members of each oneof
	slow   bool     // cannot be walked: always defer to Unmarshal
}

func (p *msgPlan) field(num protowire.Number) *fieldPlan {
	if int(num) < len(p.dense) {
		return p.dense[num]
	}
	return p.sparse[num]
}

type planCompiler struct {
	plans map[protoreflect.FullName]*msgPlan
}

// denseLimit is the highest field number looked up by slice index.
const denseLimit = 1024

func (c *planCompiler) message(md protoreflect.MessageDescriptor) *msgPlan {
	if p, ok := c.plans[md.FullName()]; ok {
		return p
	}
	p := &msgPlan{id: len(c.plans)}
	c.plans[md.FullName()] = p
	fds := md.Fields()
	maxNum := 0
	for i := 0; i < fds.Len(); i++ {
		if n := int(fds.Get(i).Number()); n > maxNum && n < denseLimit {
			maxNum = n
		}
	}
	p.dense = make([]*fieldPlan, maxNum+1)
	oneofIdx := map[protoreflect.FullName]int16{}
	var tracked int16
	for i := 0; i < fds.Len(); i++ {
		fd := fds.Get(i)
		f := c.field(fd)
		f.idx = i
		p.fields = append(p.fields, f)
		needsBit := fd.Cardinality() == protoreflect.Required ||
			(f.kind == kMessage && !f.list && !fd.IsMap()) || fd.ContainingOneof() != nil
		if needsBit {
			if tracked >= maxTracked {
				p.slow = true
			} else {
				f.bit = tracked
				tracked++
				if fd.Cardinality() == protoreflect.Required {
					p.req.set(f.bit)
				}
				if od := fd.ContainingOneof(); od != nil {
					idx, ok := oneofIdx[od.FullName()]
					if !ok {
						idx = int16(len(p.oneofs))
						oneofIdx[od.FullName()] = idx
						p.oneofs = append(p.oneofs, bitset{})
					}
					f.oneof = idx
					p.oneofs[idx].set(f.bit)
				}
			}
		}
		if n := fd.Number(); int(n) < len(p.dense) {
			p.dense[n] = f
		} else {
			if p.sparse == nil {
				p.sparse = map[protowire.Number]*fieldPlan{}
			}
			p.sparse[n] = f
		}
	}
	return p
}

func (c *planCompiler) field(fd protoreflect.FieldDescriptor) *fieldPlan {
	f := &fieldPlan{fd: fd, bit: -1, oneof: -1, list: fd.IsList()}
	if fd.IsMap() {
		f.kind = kMessage // the entry
		f.key = c.field(fd.MapKey())
		f.val = c.field(fd.MapValue())
		f.key.list, f.val.list = false, false
		return f
	}
	f.kind = kindOf(fd)
	if f.kind == kMessage {
		f.sub = c.message(fd.Message())
	}
	return f
}

func kindOf(fd protoreflect.FieldDescriptor) wireKind {
	switch fd.Kind() {
	case protoreflect.BoolKind, protoreflect.EnumKind,
		protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Uint32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Uint64Kind:
		return kVarint
	case protoreflect.Sfixed32Kind, protoreflect.Fixed32Kind, protoreflect.FloatKind:
		return kFixed32
	case protoreflect.Sfixed64Kind, protoreflect.Fixed64Kind, protoreflect.DoubleKind:
		return kFixed64
	case protoreflect.StringKind:
		if enforceUTF8(fd) {
			return kUTF8
		}
		return kBytes
	case protoreflect.BytesKind:
		return kBytes
	case protoreflect.MessageKind:
		return kMessage
	default: // groups: left to Unmarshal
		return kUnsupported
	}
}

// enforceUTF8 mirrors the rule proto.Unmarshal applies to string fields:
// proto3 strings must be UTF-8, proto2 strings need not be, editions decide
// per field.
func enforceUTF8(fd protoreflect.FieldDescriptor) bool {
	if fd.Syntax() == protoreflect.Editions {
		if e, ok := fd.(interface{ EnforceUTF8() bool }); ok {
			return e.EnforceUTF8()
		}
	}
	return fd.Syntax() == protoreflect.Proto3
}

// valid walks one message; false means "not certainly valid".
func (p *msgPlan) valid(b []byte, depth int) bool {
	if p.slow || depth > maxDepth+1 {
		return false
	}
	var seen bitset
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return false
		}
		b = b[n:]
		f := p.field(num)
		if f == nil {
			return false
		}
		switch {
		case f.key != nil: // map entry
			if wt != protowire.BytesType {
				return false
			}
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || !f.validEntry(v, depth) {
				return false
			}
			b = b[n:]
			continue
		case f.list && wt == protowire.BytesType && f.kind.packable():
			v, n := protowire.ConsumeBytes(b)
			if n < 0 || !validPacked(f.kind, v) {
				return false
			}
			b = b[n:]
			continue
		}
		if wt != f.kind.wireType() {
			return false
		}
		n = f.consume(b, depth)
		if n < 0 {
			return false
		}
		b = b[n:]
		if f.bit >= 0 {
			if f.oneof >= 0 {
				others := p.oneofs[f.oneof]
				others[f.bit>>6] &^= 1 << (f.bit & 63)
				if seen.intersects(&others) {
					return false // a oneof switch clears a member: leave it to Unmarshal
				}
			}
			if f.kind == kMessage && seen.has(f.bit) {
				return false // occurrences merge: leave it to Unmarshal
			}
			seen.set(f.bit)
		}
	}
	return seen.containsAll(&p.req)
}

// consume validates one value of f's kind (wire type already checked) and
// returns its length, or -1.
func (f *fieldPlan) consume(b []byte, depth int) int {
	switch f.kind {
	case kVarint:
		_, n := protowire.ConsumeVarint(b)
		return n
	case kFixed32:
		_, n := protowire.ConsumeFixed32(b)
		return n
	case kFixed64:
		_, n := protowire.ConsumeFixed64(b)
		return n
	case kBytes:
		_, n := protowire.ConsumeBytes(b)
		return n
	case kUTF8:
		v, n := protowire.ConsumeBytes(b)
		if n < 0 || !utf8.Valid(v) {
			return -1
		}
		return n
	case kMessage:
		v, n := protowire.ConsumeBytes(b)
		if n < 0 || !f.sub.valid(v, depth+1) {
			return -1
		}
		return n
	default:
		return -1
	}
}

func validPacked(k wireKind, b []byte) bool {
	switch k {
	case kFixed32:
		return len(b)%4 == 0
	case kFixed64:
		return len(b)%8 == 0
	}
	for len(b) > 0 {
		_, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return false
		}
		b = b[n:]
	}
	return true
}

// validEntry mirrors proto.Unmarshal on a map entry: key (1) and value (2)
// with the expected wire type are parsed, anything else is skipped, a
// missing key or scalar value takes the default and a missing message value
// is an empty message.
func (f *fieldPlan) validEntry(b []byte, depth int) bool {
	haveVal := false
	for len(b) > 0 {
		num, wt, n := protowire.ConsumeTag(b)
		if n < 0 || num > protowire.MaxValidNumber {
			return false
		}
		b = b[n:]
		var fp *fieldPlan
		switch num {
		case 1:
			fp = f.key
		case 2:
			fp = f.val
		}
		if fp != nil && (fp.kind == kUnsupported || (num == 1 && wt != fp.kind.wireType())) {
			// A key with another wire type after a valid key makes
			// proto.Unmarshal panic; Unmarshal turns that into an error.
			return false
		}
		if fp != nil && wt == fp.kind.wireType() {
			n = fp.consume(b, depth)
			if num == 2 && fp.kind == kMessage {
				if haveVal {
					return false // value occurrences merge
				}
				haveVal = true
			}
		} else {
			n = protowire.ConsumeFieldValue(num, wt, b)
		}
		if n < 0 {
			return false
		}
		b = b[n:]
	}
	if f.val.kind == kMessage && !haveVal {
		return f.val.sub.valid(nil, depth+1)
	}
	return true
}
