package convert

import (
	"math"
	"slices"
	"sync"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

// batchWithFailures is the reference batch plus a uint64 column "big" that
// overflows int64 on every 1000th row, sliced by one row so that offsets
// are non-zero.
func batchWithFailures(t *testing.T, mem memory.Allocator, rows int) arrow.RecordBatch {
	t.Helper()
	ref := ReferenceBatch(mem, rows+1)
	defer ref.Release()
	bb := array.NewUint64Builder(mem)
	defer bb.Release()
	for i := range rows + 1 {
		if i%1000 == 1 {
			bb.Append(math.MaxUint64)
		} else {
			bb.Append(uint64(i))
		}
	}
	big := bb.NewArray()
	defer big.Release()
	fields := append(append([]arrow.Field(nil), ref.Schema().Fields()...), arrow.Field{Name: "big", Type: arrow.PrimitiveTypes.Uint64})
	cols := append(append([]arrow.Array(nil), ref.Columns()...), big)
	full := array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, int64(rows+1))
	defer full.Release()
	return full.NewSlice(1, int64(rows+1))
}

type batchSummary struct {
	Records []string
	Rows    []int
	Errors  []string
	Bytes   int
}

func summarize(b *Batch) batchSummary {
	// Rows is copied: a Batch's slices are valid only while it is reachable.
	s := batchSummary{Rows: slices.Clone(b.Rows), Bytes: b.Bytes}
	for _, r := range b.Records {
		s.Records = append(s.Records, string(r))
	}
	for _, e := range b.Errors {
		s.Errors = append(s.Errors, e.Error())
	}
	return s
}

func TestParallelEncodeMatchesSequential(t *testing.T) {
	mem := checkedMem(t)
	rows := 3*parallelMinRows + 17
	rec := batchWithFailures(t, mem, rows)
	defer rec.Release()
	seq, err := NewPlan(rec.Schema(), Options{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	par, err := NewPlan(rec.Schema(), Options{Parallelism: 4})
	if err != nil {
		t.Fatal(err)
	}
	if n := chunkCount(rows, 4); n != 3 {
		t.Fatalf("chunkCount(%d, 4) = %d, want 3 chunks so the parallel path runs", rows, n)
	}
	want := summarize(encodeOK(t, seq, rec))
	if len(want.Errors) != rows/1000+1 || len(want.Records) != rows-len(want.Errors) {
		t.Fatalf("sequential: %d records, %d errors", len(want.Records), len(want.Errors))
	}
	got := summarize(encodeOK(t, par, rec))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parallel result differs from sequential (-seq +par):\n%.2000s", diff)
	}
	// Records follow each other in their chunk's buffer, each after its
	// framing, with no spare capacity.
	b := encodeOK(t, par, rec)
	for i := 1; i < len(b.Records); i++ {
		prev, cur := b.Records[i-1], b.Records[i]
		if cap(prev) != len(prev) {
			t.Fatalf("record %d has spare capacity %d; appending to it would clobber the next", i-1, cap(prev)-len(prev))
		}
		gap := uintptr(unsafe.Pointer(unsafe.SliceData(cur))) - uintptr(unsafe.Pointer(unsafe.SliceData(prev))) - uintptr(len(prev))
		if slices.ContainsFunc(b.chunks, func(c batchChunk) bool { return c.first == i }) {
			continue // the first record of a chunk
		}
		if want := uintptr(framedSize(len(cur)) - len(cur)); gap != want && len(prev) > 0 && len(cur) > 0 {
			t.Fatalf("record %d starts %d bytes after record %d, want %d (its framing)", i, gap, i-1, want)
		}
	}
}

func TestConcurrentEncode(t *testing.T) {
	mem := checkedMem(t)
	rec := batchWithFailures(t, mem, 2500)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := summarize(encodeOK(t, p, rec))
	var wg sync.WaitGroup
	results := make([]batchSummary, 4)
	for g := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := p.Encode(rec)
			if err != nil {
				t.Error(err)
				return
			}
			results[g] = summarize(b)
		}()
	}
	wg.Wait()
	for g, got := range results {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("goroutine %d result differs (-want +got):\n%.1000s", g, diff)
		}
	}
}

// TestParallelSlicedNullCounts encodes a sliced batch whose columns (and
// nested children) have nulls and so a lazily computed null count: the
// workers must not race computing it (run with -race).
func TestParallelSlicedNullCounts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	const rows = 20_000
	st := arrow.StructOf(arrow.Field{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "s", Type: st, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	ab := b.Field(0).(*array.Int64Builder)
	lb := b.Field(1).(*array.ListBuilder)
	lvb := lb.ValueBuilder().(*array.Int64Builder)
	sb := b.Field(2).(*array.StructBuilder)
	svb := sb.FieldBuilder(0).(*array.Int64Builder)
	for i := range rows + 2 {
		if i%7 == 0 {
			ab.AppendNull()
			lb.AppendNull()
		} else {
			ab.Append(int64(i))
			lb.Append(true)
			lvb.Append(int64(i))
		}
		sb.Append(true)
		if i%5 == 0 {
			svb.AppendNull()
		} else {
			svb.Append(int64(i))
		}
	}
	full := b.NewRecordBatch()
	defer full.Release()
	sliced := full.NewSlice(1, rows+1)
	defer sliced.Release()

	plan, err := NewPlan(schema, Options{Parallelism: 4})
	if err != nil {
		t.Fatal(err)
	}
	out, err := plan.Encode(sliced)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != rows || len(out.Errors) != 0 {
		t.Fatalf("encoded %d records with %d errors, want %d and 0", len(out.Records), len(out.Errors), rows)
	}
}
