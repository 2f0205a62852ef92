package protoarrow_test

import (
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// viaMessages is the reference: decode each record, then FromMessages.
func viaMessages(t *testing.T, mem memory.Allocator, md protoreflect.MessageDescriptor, recs [][]byte) arrow.RecordBatch {
	t.Helper()
	msgs := make([]protoreflect.Message, len(recs))
	for i, rec := range recs {
		m, err := protoarrow.Unmarshal(md, rec)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		msgs[i] = m
	}
	rb, err := protoarrow.FromMessages(mem, md, msgs)
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

func viaWire(t *testing.T, mem memory.Allocator, md protoreflect.MessageDescriptor, recs [][]byte) arrow.RecordBatch {
	t.Helper()
	b, err := protoarrow.NewBuilder(mem, md)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	for i, rec := range recs {
		if err := b.AppendRecord(rec); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	return b.NewRecordBatch()
}

// TestBuilderMatchesMessages compares the wire builder with decoding to
// messages and FromMessages, on random valid records and on valid
// mutations of them (merged messages, packed/unpacked mixes, duplicate map
// keys, oneof switches), record by record.
func TestBuilderMatchesMessages(t *testing.T) {
	for _, tc := range validateCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rnd := rand.New(rand.NewPCG(11, uint64(len(tc.name))))
			v := protoarrow.NewValidator(tc.md)
			var recs [][]byte
			for range 150 {
				rec, err := proto.Marshal(randomMessage(rnd, tc.md, 0))
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, rec)
			}
			for i := 0; len(recs) < 400 && i < 20_000; i++ {
				rec := mutate(rnd, recs[rnd.IntN(150)], recs[rnd.IntN(150)])
				if v.Validate(rec) == nil {
					recs = append(recs, rec)
				}
			}
			fast := 0
			for _, rec := range recs {
				if protoarrow.FastValid(v, rec) {
					fast++
				}
			}
			t.Logf("%d of %d records take the wire path", fast, len(recs))
			if fast == 0 || (tc.name == "Strict" && fast == len(recs)) {
				t.Errorf("%d of %d records take the wire path: want both paths exercised", fast, len(recs))
			}
			want := viaMessages(t, mem, tc.md, recs)
			defer want.Release()
			got := viaWire(t, mem, tc.md, recs)
			defer got.Release()
			if sameRecords(want, got) {
				return
			}
			for i, rec := range recs {
				w := viaMessages(t, mem, tc.md, recs[i:i+1])
				g := viaWire(t, mem, tc.md, recs[i:i+1])
				equal := sameRecords(w, g)
				if !equal {
					wj, _ := w.MarshalJSON()
					gj, _ := g.MarshalJSON()
					t.Errorf("record %d (%x, wire path %v):\nwant %s\n got %s", i, rec, protoarrow.FastValid(v, rec), wj, gj)
				}
				w.Release()
				g.Release()
				if !equal {
					return
				}
			}
			t.Fatal("batches differ but no single record does")
		})
	}
}

func TestBuilderRejects(t *testing.T) {
	md, err := protoarrow.MessageDescriptor(strictDesc())
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b, err := protoarrow.NewBuilder(mem, md)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if err := b.AppendRecord([]byte{0x08}); err == nil {
		t.Error("AppendRecord of a truncated record: got nil error")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if rec.NumRows() != 0 {
		t.Errorf("rows after a rejected record: got %d, want 0", rec.NumRows())
	}
}

func BenchmarkBuilder(b *testing.B) {
	md, recs, size := benchRecords(b)
	b.Run("path=wire", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			bl, err := protoarrow.NewBuilder(nil, md)
			if err != nil {
				b.Fatal(err)
			}
			for _, rec := range recs {
				if err := bl.AppendRecord(rec); err != nil {
					b.Fatal(err)
				}
			}
			bl.NewRecordBatch().Release()
			bl.Release()
		}
	})
	b.Run("path=messages", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		msgs := make([]protoreflect.Message, len(recs))
		for i := 0; i < b.N; i++ {
			for j, rec := range recs {
				m, err := protoarrow.Unmarshal(md, rec)
				if err != nil {
					b.Fatal(err)
				}
				msgs[j] = m
			}
			rb, err := protoarrow.FromMessages(nil, md, msgs)
			if err != nil {
				b.Fatal(err)
			}
			rb.Release()
		}
	})
}

// sameRecords compares exactly, except that NaN equals NaN (random doubles
// and floats decoded from mutated records can be NaN).
func sameRecords(a, b arrow.RecordBatch) bool {
	return array.RecordApproxEqual(a, b, array.WithNaNsEqual(true), array.WithAbsTolerance(0))
}
