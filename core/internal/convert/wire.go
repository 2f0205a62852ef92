package convert

import (
	"encoding/binary"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/descriptorpb"
)

// beginLen reserves one byte for a length prefix and returns its position.
// endLen fills it in once the body is written, moving the body when the
// length needs more than one varint byte. This avoids a sizing pass.
func beginLen(b []byte) ([]byte, int) {
	return append(b, 0), len(b)
}

func endLen(b []byte, pos int) []byte {
	n := len(b) - pos - 1
	if n < 0x80 {
		b[pos] = byte(n)
		return b
	}
	k := protowire.SizeVarint(uint64(n))
	b = append(b, make([]byte, k-1)...)
	copy(b[pos+k:], b[pos+1:pos+1+n])
	protowire.AppendVarint(b[pos:pos], uint64(n))
	return b
}

// appendVarint is protowire.AppendVarint with the one-byte case inlined;
// tags and most lengths take one byte.
func appendVarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return appendVarintLong(b, v)
}

// appendVarintLong appends a varint of two bytes or more with one capacity
// check (protowire's append of each length is a call the hot loops pay for
// every value).
func appendVarintLong(b []byte, v uint64) []byte {
	n := len(b)
	if cap(b)-n < binary.MaxVarintLen64 {
		b = slices.Grow(b, binary.MaxVarintLen64)
	}
	b = b[:n+binary.MaxVarintLen64]
	for v >= 0x80 {
		b[n] = byte(v) | 0x80
		v >>= 7
		n++
	}
	b[n] = byte(v)
	return b[:n+1]
}

// appendBytesField appends tag, length and v.
func appendBytesField(b []byte, tag uint64, v []byte) []byte {
	b = appendVarint(b, tag)
	b = appendVarint(b, uint64(len(v)))
	return append(b, v...)
}

// intOut is the protobuf integer encoding an integer-like value is written
// with; each has a range the value must fit.
type intOut uint8

const (
	outInt64 intOut = iota
	outInt32
	outUint32
	outUint64
	outSint32
	outSint64
	outFixed32
	outFixed64
	outSfixed32
	outSfixed64
)

// intOutFor returns the integer encoding for a protobuf field type.
func intOutFor(t descriptorpb.FieldDescriptorProto_Type) intOut {
	switch t {
	case descriptorpb.FieldDescriptorProto_TYPE_INT32, descriptorpb.FieldDescriptorProto_TYPE_ENUM:
		return outInt32
	case descriptorpb.FieldDescriptorProto_TYPE_UINT32:
		return outUint32
	case descriptorpb.FieldDescriptorProto_TYPE_UINT64:
		return outUint64
	case descriptorpb.FieldDescriptorProto_TYPE_SINT32:
		return outSint32
	case descriptorpb.FieldDescriptorProto_TYPE_SINT64:
		return outSint64
	case descriptorpb.FieldDescriptorProto_TYPE_FIXED32:
		return outFixed32
	case descriptorpb.FieldDescriptorProto_TYPE_FIXED64:
		return outFixed64
	case descriptorpb.FieldDescriptorProto_TYPE_SFIXED32:
		return outSfixed32
	case descriptorpb.FieldDescriptorProto_TYPE_SFIXED64:
		return outSfixed64
	default:
		return outInt64
	}
}

// fits reports whether v is in the range of the encoding.
func (o intOut) fits(v int64) bool {
	switch o {
	case outInt32, outSint32, outSfixed32:
		return v >= math.MinInt32 && v <= math.MaxInt32
	case outUint32, outFixed32:
		return v >= 0 && v <= math.MaxUint32
	case outUint64, outFixed64:
		return v >= 0
	default:
		return true
	}
}

// unsigned64 reports whether the encoding holds all uint64 values.
func (o intOut) unsigned64() bool { return o == outUint64 || o == outFixed64 }

// put appends v, which must fit.
func (o intOut) put(b []byte, v int64) []byte {
	switch o {
	case outInt64, outInt32, outUint32, outUint64:
		// int32 negatives are sign-extended to 10 bytes, as protobuf requires.
		return appendVarint(b, uint64(v))
	case outSint32, outSint64:
		return appendVarint(b, protowire.EncodeZigZag(v))
	case outFixed32, outSfixed32:
		return protowire.AppendFixed32(b, uint32(v))
	default:
		return protowire.AppendFixed64(b, uint64(v))
	}
}

// putUint appends a uint64 value to an unsigned 64-bit encoding.
func (o intOut) putUint(b []byte, v uint64) []byte {
	if o == outFixed64 {
		return protowire.AppendFixed64(b, v)
	}
	return protowire.AppendVarint(b, v)
}

// String names the protobuf type, for error messages.
func (o intOut) String() string {
	return [...]string{"int64", "int32", "uint32", "uint64", "sint32", "sint64", "fixed32", "fixed64", "sfixed32", "sfixed64"}[o]
}
