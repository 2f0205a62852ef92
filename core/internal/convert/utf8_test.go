package convert

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// stringsOf builds a column of type dt from values; nil is a null.
func stringsOf(t *testing.T, mem memory.Allocator, dt arrow.DataType, values []*string) arrow.Array {
	t.Helper()
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for _, v := range values {
		if v == nil {
			b.AppendNull()
			continue
		}
		switch b := b.(type) {
		case *array.StringBuilder:
			b.Append(*v)
		case *array.LargeStringBuilder:
			b.Append(*v)
		case *array.StringViewBuilder:
			b.Append(*v)
		case *array.BinaryBuilder:
			b.Append([]byte(*v))
		case *array.BinaryDictionaryBuilder:
			if err := b.AppendString(*v); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("no builder case for %T", b)
		}
	}
	return b.NewArray()
}

func strs(vs ...string) []*string {
	out := make([]*string, len(vs))
	for i, v := range vs {
		if v != "<null>" {
			out[i] = &vs[i]
		}
	}
	return out
}

// TestInvalidUTF8RowErrors: a string value that is not UTF-8 fails its row
// (naming row and column, ErrInvalidUTF8); the other rows encode to their
// exact values; binary columns keep any bytes.
func TestInvalidUTF8RowErrors(t *testing.T) {
	dict := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	for _, tc := range []struct {
		name    string
		dt      arrow.DataType
		values  []*string
		badRows []int
	}{
		{"utf8", arrow.BinaryTypes.String, strs("ok", "bad\xff", "é日🎉", "<null>", "\xc3\x28"), []int{1, 4}},
		{"large_utf8", arrow.BinaryTypes.LargeString, strs("\xed\xa0\x80", "fine"), []int{0}}, // a surrogate
		{"string_view", arrow.BinaryTypes.StringView, strs("short", "\xff", "a long value over twelve bytes \xfe", "long but valid, é and 日"), []int{1, 2}},
		{"dictionary", dict, strs("x", "bad\x80", "x", "bad\x80"), []int{1, 3}},
		// "\xc3" then "\xa9": the data buffer reads "é", each value alone is invalid.
		{"character split across values", arrow.BinaryTypes.String, strs("a\xc3", "\xa9b", "ok"), []int{0, 1}},
		{"truncated at the end", arrow.BinaryTypes.String, strs("ok", "日"[:2]), []int{1}},
		{"all valid", arrow.BinaryTypes.String, strs("a", "", "é"), nil},
		{"binary keeps any bytes", arrow.BinaryTypes.Binary, strs("\xff\xfe", "ok"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			arr := stringsOf(t, mem, tc.dt, tc.values)
			defer arr.Release()
			rec := oneColumn(arr, true)
			defer rec.Release()
			p, err := NewPlan(rec.Schema(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			b := encodeOK(t, p, rec)
			var bad []int
			for _, e := range b.Errors {
				bad = append(bad, e.Row)
				if e.Column != "v" || !errors.Is(e, ErrInvalidUTF8) || !strings.Contains(e.Error(), "not valid UTF-8") {
					t.Errorf("row %d: error %v (column %q), want ErrInvalidUTF8 on column v", e.Row, e, e.Column)
				}
			}
			if fmt.Sprint(bad) != fmt.Sprint(tc.badRows) {
				t.Errorf("failed rows %v, want %v", bad, tc.badRows)
			}
			for k, row := range b.Rows {
				m := decode(t, p.MessageDescriptor(), b.Records[k])
				fd := p.MessageDescriptor().Fields().ByName("v")
				want := tc.values[row]
				if want == nil {
					if m.Has(fd) {
						t.Errorf("row %d: null stored as %v", row, m.Get(fd))
					}
					continue
				}
				var got string
				if fd.Kind() == protoreflect.BytesKind {
					got = string(m.Get(fd).Bytes())
				} else {
					got = m.Get(fd).String()
				}
				if got != *want {
					t.Errorf("row %d: stored %q, want %q", row, got, *want)
				}
			}
		})
	}
}

// TestInvalidUTF8Nested: invalid values inside lists, maps and structs fail
// their row with the path of the value.
func TestInvalidUTF8Nested(t *testing.T) {
	mem := checkedMem(t)
	s := arrow.BinaryTypes.String
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "tags", Type: arrow.ListOf(s), Nullable: true},
		{Name: "attrs", Type: arrow.MapOf(s, s), Nullable: true},
		{Name: "addr", Type: arrow.StructOf(arrow.Field{Name: "zip", Type: s, Nullable: true}), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	tags := b.Field(0).(*array.ListBuilder)
	attrs := b.Field(1).(*array.MapBuilder)
	addr := b.Field(2).(*array.StructBuilder)
	row := func(tag, key, val, zip string) {
		tags.Append(true)
		tags.ValueBuilder().(*array.StringBuilder).AppendValues([]string{"first", tag}, nil)
		attrs.Append(true)
		attrs.KeyBuilder().(*array.StringBuilder).Append(key)
		attrs.ItemBuilder().(*array.StringBuilder).Append(val)
		addr.Append(true)
		addr.FieldBuilder(0).(*array.StringBuilder).Append(zip)
	}
	row("ok", "k", "v", "94105")
	row("ba\xffd", "k", "v", "94105")
	row("ok", "k\xfe", "v", "94105")
	row("ok", "k", "\xc0", "94105")
	row("ok", "k", "v", "9\x80")
	rec := b.NewRecordBatch()
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	batch := encodeOK(t, p, rec)
	for _, e := range batch.Errors {
		if !errors.Is(e, ErrInvalidUTF8) {
			t.Errorf("row %d: %v, want ErrInvalidUTF8", e.Row, e)
		}
		got[e.Row] = e.Column
	}
	want := map[int]string{1: "tags[1]", 2: "attrs[0].key", 3: "attrs[0].value", 4: "addr.zip"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("failed rows and columns %v, want %v", got, want)
	}
	if fmt.Sprint(batch.Rows) != "[0]" {
		t.Errorf("encoded rows %v, want [0]", batch.Rows)
	}
}

// TestInvalidUTF8Random: random byte strings (some valid, some not, some
// null, in sliced arrays so offsets do not start at 0) fail exactly the rows
// whose value is not UTF-8, and the others store their bytes unchanged.
func TestInvalidUTF8Random(t *testing.T) {
	mem := checkedMem(t)
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 99))
		n := 1 + rng.IntN(40)
		values := make([]*string, n)
		for i := range values {
			if rng.IntN(6) == 0 {
				continue
			}
			var sb strings.Builder
			for range rng.IntN(12) {
				switch rng.IntN(5) {
				case 0:
					sb.WriteByte(byte(rng.Uint32())) // any byte
				case 1:
					const chars = "é日🎉" // 9 bytes: a random slice may cut a character
					i := rng.IntN(len(chars))
					sb.WriteString(chars[i:min(len(chars), i+1+rng.IntN(3))])
				default:
					sb.WriteByte('a' + byte(rng.IntN(26)))
				}
			}
			v := sb.String()
			values[i] = &v
		}
		dt := []arrow.DataType{arrow.BinaryTypes.String, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.StringView}[seed%3]
		arr := stringsOf(t, mem, dt, values)
		lo := rng.IntN(n)
		sliced := array.NewSlice(arr, int64(lo), int64(n))
		arr.Release()
		rec := oneColumn(sliced, true)
		sliced.Release()
		p, err := NewPlan(rec.Schema(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		b := encodeOK(t, p, rec)
		failed := map[int]bool{}
		for _, e := range b.Errors {
			failed[e.Row] = true
		}
		fd := p.MessageDescriptor().Fields().ByName("v")
		for i, v := range values[lo:] {
			if want := v != nil && !utf8.ValidString(*v); failed[i] != want {
				t.Fatalf("seed %d (%s), row %d %q: failed %v, want %v", seed, dt, i, *v, failed[i], want)
			}
		}
		for k, row := range b.Rows {
			m := decode(t, p.MessageDescriptor(), b.Records[k])
			if v := values[lo+row]; v != nil && m.Get(fd).String() != *v {
				t.Fatalf("seed %d, row %d: stored %q, want %q", seed, row, m.Get(fd).String(), *v)
			}
		}
		rec.Release()
	}
}
