package convert

import (
	"bytes"
	"math"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestAppendVarintMatchesProtowire: every length class, at both ends, with
// and without spare capacity.
func TestAppendVarintMatchesProtowire(t *testing.T) {
	vals := []uint64{0, 1, 0x7f, 0x80, math.MaxUint64, math.MaxInt64, 1<<63 + 1}
	for k := 1; k < 10; k++ {
		vals = append(vals, 1<<(7*k)-1, 1<<(7*k))
	}
	for _, v := range vals {
		for _, prefix := range [][]byte{nil, {1, 2, 3}, make([]byte, 5, 64)} {
			want := protowire.AppendVarint(append([]byte(nil), prefix...), v)
			got := appendVarint(append(prefix[:len(prefix):len(prefix)], nil...), v)
			if !bytes.Equal(got, want) {
				t.Fatalf("appendVarint(%d) = %x, want %x", v, got, want)
			}
			if got := appendVarint(prefix, v); !bytes.Equal(got, want) {
				t.Fatalf("appendVarint(%d) with spare capacity = %x, want %x", v, got, want)
			}
		}
	}
}
