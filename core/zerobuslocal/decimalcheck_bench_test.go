package zerobuslocal

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// BenchmarkDecimalFix: the DECIMAL walk of one record of a table
// "id BIGINT, a DECIMAL(18,4), b DECIMAL(10,2), c STRING", with text already
// in the stored form (stored as received) and with one more fraction digit
// (rounded: the record is rewritten).
func BenchmarkDecimalFix(b *testing.B) {
	cols, err := ParseColumns("id BIGINT, a DECIMAL(18,4), b DECIMAL(10,2), c STRING")
	if err != nil {
		b.Fatal(err)
	}
	desc, err := descriptorFromColumns("T", cols)
	if err != nil {
		b.Fatal(err)
	}
	md, err := protoarrow.MessageDescriptor(desc)
	if err != nil {
		b.Fatal(err)
	}
	p := newDecimalPlan(cols, md)
	rec := func(a, bv string) []byte {
		r := protowire.AppendTag(nil, 1, protowire.VarintType)
		r = protowire.AppendVarint(r, 42)
		r = protowire.AppendTag(r, 2, protowire.BytesType)
		r = protowire.AppendString(r, a)
		r = protowire.AppendTag(r, 3, protowire.BytesType)
		r = protowire.AppendString(r, bv)
		r = protowire.AppendTag(r, 4, protowire.BytesType)
		return protowire.AppendString(r, "some text of the row")
	}
	for _, c := range []struct {
		name string
		rec  []byte
	}{
		{"stored-form", rec("12345678.1234", "-123456.78")},
		{"rounded", rec("12345678.12345", "-123456.785")},
	} {
		b.Run(c.name, func(b *testing.B) {
			var scratch []byte
			b.ReportAllocs()
			for range b.N {
				if _, err := p.fix(c.rec, 0, &scratch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
