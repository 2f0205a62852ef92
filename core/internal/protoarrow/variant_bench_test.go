package protoarrow

import (
	"testing"

	"github.com/apache/arrow-go/v18/parquet/variant"
)

// BenchmarkCheckVariant checks a small event object, the per-value cost the
// Flight client pays for a VARIANT column given already encoded.
func BenchmarkCheckVariant(b *testing.B) {
	v, err := variant.ParseJSON(`{"user":12345,"kind":"click","tags":["a","bc"],"score":42.5,"ok":true}`, false)
	if err != nil {
		b.Fatal(err)
	}
	meta, val := v.Metadata().Bytes(), v.Bytes()
	b.ReportAllocs()
	for range b.N {
		if err := CheckVariant(meta, val); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVariantJSON decodes the same value to JSON text, as the local
// server does for every VARIANT it stores.
func BenchmarkVariantJSON(b *testing.B) {
	v, err := variant.ParseJSON(`{"user":12345,"kind":"click","tags":["a","bc"],"score":42.5,"ok":true}`, false)
	if err != nil {
		b.Fatal(err)
	}
	meta, val := v.Metadata().Bytes(), v.Bytes()
	b.ReportAllocs()
	for range b.N {
		if _, err := VariantJSON(meta, val); err != nil {
			b.Fatal(err)
		}
	}
}
