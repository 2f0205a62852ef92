package protoarrow

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/variant"
)

// BenchmarkVariant reads a small event object: check is the per-value cost
// the Flight client pays for a VARIANT column given already encoded
// (checker: two values whose metadata are equal, as in a column), json the
// decoding the local server does for every VARIANT it stores.
func BenchmarkVariant(b *testing.B) {
	v, err := variant.ParseJSON(`{"user":12345,"kind":"click","tags":["a","bc"],"score":42.5,"ok":true}`, false)
	if err != nil {
		b.Fatal(err)
	}
	meta, val := v.Metadata().Bytes(), v.Bytes()
	other := bytes.Clone(meta) // the next row's metadata, equal bytes
	var c VariantChecker
	for name, read := range map[string]func() error{
		"check":   func() error { return CheckVariant(meta, val) },
		"checker": func() error { _ = c.Check(other, val); return c.Check(meta, val) },
		"json":    func() error { _, err := VariantJSON(meta, val); return err },
	} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if err := read(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
