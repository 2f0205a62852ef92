package convert

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

// MapKeys gives the first entry holding a key again, pairwise for small
// maps and hashed past smallMapKeys, and forgets everything on Reset (a
// huge map's table included).
func TestMapKeysAdd(t *testing.T) {
	var s MapKeys
	for _, n := range []int{2, smallMapKeys, smallMapKeys + 1, 100, 5000, 3} {
		for dupAt := 1; dupAt < n; dupAt += max(1, n/7) {
			s.Reset(n)
			want := dupAt / 2
			var buf []byte
			for j := range n {
				k := fmt.Sprintf("key%d", j)
				if j == dupAt {
					k = fmt.Sprintf("key%d", want)
				}
				at := len(buf)
				buf = append(buf, k...)
				got := s.Add(buf, at, len(buf))
				switch {
				case j == dupAt && got != want:
					t.Fatalf("n=%d: entry %d gave %d, want %d", n, j, got, want)
				case j != dupAt && got != -1:
					t.Fatalf("n=%d dup at %d: entry %d (%s) gave %d, want -1", n, dupAt, j, k, got)
				}
				if j == dupAt {
					break
				}
			}
		}
	}
	// empty keys; a key that moved (Moved) is found where it went
	for _, n := range []int{3, 20} {
		s.Reset(n)
		buf := []byte("abxx")
		if got := s.Add(buf, 2, 2); got != -1 {
			t.Fatalf("empty key in a new map: %d", got)
		}
		if got := s.Add(buf, 1, 1); got != 0 {
			t.Fatalf("empty key again: %d, want 0", got)
		}
		if got := s.Add(buf, 2, 4); got != -1 {
			t.Fatalf("xx: %d", got)
		}
		buf = []byte("ab-xx") // the last key, "xx", moved one byte on
		s.Moved(1)
		buf = append(buf, "xx"...)
		if got := s.Add(buf, 5, 7); got != 1 {
			t.Fatalf("n=%d: xx again: %d, want 1", n, got)
		}
	}
}

// The Flight path's keys (Arrow values of the table's type) compare by
// value: 0.0 and -0.0 are one key, NaNs are one key, a float is not the
// integer of the same bits.
func TestMapKeysDuplicateArrowKeys(t *testing.T) {
	mem := checkedMem(t)
	for _, tc := range []struct {
		dt        arrow.DataType
		js        string
		dup, prev int
		text      string
	}{
		{arrow.PrimitiveTypes.Float64, `[1.5, 0.0, 2, "-0"]`, 3, 1, "-0"},
		{arrow.PrimitiveTypes.Float32, `[1.5, "NaN", 2, "NaN"]`, 3, 1, "NaN"},
		{arrow.PrimitiveTypes.Float64, `[1.5, 2, 3]`, -1, -1, ""},
		{arrow.PrimitiveTypes.Int64, `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 5]`, 12, 4, "5"},
		{arrow.PrimitiveTypes.Int8, `[1, 2, -1]`, -1, -1, ""},
		{arrow.FixedWidthTypes.Boolean, `[true, false, true]`, 2, 0, "true"},
		{arrow.BinaryTypes.LargeString, `["a", "ab", "b", "ab"]`, 3, 1, `"ab"`},
		{arrow.BinaryTypes.StringView, `["a", "", "b", ""]`, 3, 1, `""`},
		{arrow.FixedWidthTypes.Date32, `["2024-01-01", "2024-01-02", "2024-01-01"]`, 2, 0, "2024-01-01"},
		{&arrow.Decimal128Type{Precision: 5, Scale: 2}, `["1.00", "-1.00", "1.00"]`, 2, 0, "1"},
	} {
		a := fromJSON(t, mem, tc.dt, tc.js)
		// one map of all but the first value: positions relative to start
		var s MapKeys
		dup, prev := s.KeysDuplicate(a, 0, a.Len())
		if dup != tc.dup || prev != tc.prev {
			t.Errorf("%s %s: (%d, %d), want (%d, %d)", tc.dt, tc.js, dup, prev, tc.dup, tc.prev)
		}
		if dup >= 0 && MapKeyText(a, dup) != tc.text {
			t.Errorf("%s: key text %q, want %q", tc.dt, MapKeyText(a, dup), tc.text)
		}
		if d, p := s.KeysDuplicate(a, 1, a.Len()); tc.dup > 0 && tc.prev > 0 && (d != tc.dup-1 || p != tc.prev-1) {
			t.Errorf("%s from 1: (%d, %d)", tc.dt, d, p)
		}
		a.Release()
	}
}

// A map giving a key twice fails its row alone (ErrDuplicateMapKey), the
// path naming the second entry, for small and hashed maps and entries over
// 127 bytes (whose length prefix moves the key once written); the rows
// around it are encoded, and the same key in another row is fine.
func TestEncodeDuplicateMapKeyFailsTheRow(t *testing.T) {
	mem := checkedMem(t)
	long := func(c string) string { return strings.Repeat(c, 200) }
	keys := func(n, dupAt, of int) string {
		var s []string
		for j := range n {
			k := j
			if j == dupAt {
				k = of
			}
			s = append(s, fmt.Sprintf(`{"key": "k%d", "value": 1}`, k))
		}
		return "[" + strings.Join(s, ",") + "]"
	}
	mt := arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)
	a := fromJSON(t, mem, mt, `[
		`+keys(20, -1, 0)+`,
		`+keys(20, 15, 3)+`,
		[{"key": "k1", "value": 1}, {"key": "k2", "value": 2}],
		[{"key": "k1", "value": 1}, {"key": "k1", "value": 2}],
		[{"key": "`+long("a")+`", "value": 1}, {"key": "`+long("b")+`", "value": 2}, {"key": "`+long("a")+`", "value": 3}],
		[{"key": "`+long("a")+`", "value": 1}, {"key": "`+long("b")+`", "value": 2}],
		null,
		[]
	]`)
	defer a.Release()
	rec := oneColumn(a, true)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := encodeOK(t, p, rec)
	defer out.Release()
	got := map[int]string{}
	for _, re := range out.Errors {
		if !errors.Is(re, ErrDuplicateMapKey) {
			t.Errorf("row %d: %v is not ErrDuplicateMapKey", re.Row, re)
		}
		got[re.Row] = re.Column + ": " + re.Reason
	}
	want := map[int]string{
		1: `v[15].key: duplicate MAP key "k3" (the same key as entry 3)`,
		3: `v[1].key: duplicate MAP key "k1" (the same key as entry 0)`,
		4: `v[2].key: duplicate MAP key "` + long("a")[:64] + `"… (the same key as entry 0)`,
	}
	if len(got) != len(want) {
		t.Fatalf("failed rows %v, want %v", got, want)
	}
	for r, w := range want {
		if !strings.HasPrefix(got[r], w) {
			t.Errorf("row %d: %q, want %q…", r, got[r], w)
		}
	}
	if fmt.Sprint(out.Rows) != "[0 2 5 6 7]" {
		t.Fatalf("records of rows %v, want [0 2 5 6 7]", out.Rows)
	}
	md := p.MessageDescriptor()
	for i, n := range []int{20, 2, 2, 0, 0} {
		m := decode(t, md, out.Records[i])
		if got := m.Get(md.Fields().ByName("v")).Map().Len(); got != n {
			t.Errorf("row %d: %d entries decoded, want %d", out.Rows[i], got, n)
		}
	}
}

// BenchmarkMapKeys times MapKeys.Add alone, pairwise and hashed, to choose
// smallMapKeys.
//
//	go test -run '^$' -bench MapKeys -cpu 1 ./core/internal/convert/
func BenchmarkMapKeys(b *testing.B) {
	var buf []byte
	var spans []int
	for i := range 64 {
		spans = append(spans, len(buf))
		buf = fmt.Appendf(buf, "attribute_%d", i)
		spans = append(spans, len(buf))
	}
	for _, n := range []int{2, 3, 4, 6, 8, 12, 16, 64} {
		for _, hashed := range []bool{false, true} {
			b.Run(fmt.Sprintf("n=%d/hashed=%v", n, hashed), func(b *testing.B) {
				var s MapKeys
				for range b.N {
					s.reset(n, hashed)
					for j := range n {
						if s.Add(buf, spans[2*j], spans[2*j+1]) >= 0 {
							b.Fatal("dup")
						}
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/key")
			})
		}
	}
}

// Keys compared in the output buffer (an integer key, not a string's Arrow
// bytes) are found after an entry over 127 bytes moved them (its length
// prefix took two bytes): {1: long, 2: long, 1: x} fails at entry 2.
func TestEncodeDuplicateIntMapKeyAfterLongEntries(t *testing.T) {
	mem := checkedMem(t)
	long := strings.Repeat("v", 300)
	a := fromJSON(t, mem, arrow.MapOf(arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String), `[
		[{"key": 1, "value": "`+long+`"}, {"key": 2, "value": "`+long+`"}, {"key": 1, "value": "x"}],
		[{"key": 1, "value": "`+long+`"}, {"key": 2, "value": "`+long+`"}, {"key": 3, "value": "x"}],
		[{"key": 1, "value": "`+long+`"}, {"key": 2, "value": "`+long+`"}, {"key": 3, "value": "x"}, {"key": 4, "value": "x"},
		 {"key": 5, "value": "x"}, {"key": 6, "value": "x"}, {"key": 7, "value": "x"}, {"key": 8, "value": "x"},
		 {"key": 9, "value": "x"}, {"key": 2, "value": "x"}]
	]`)
	defer a.Release()
	rec := oneColumn(a, true)
	defer rec.Release()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := encodeOK(t, p, rec)
	defer out.Release()
	got := map[int]string{}
	for _, re := range out.Errors {
		got[re.Row] = re.Column + ": " + re.Reason
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "v[2].key: duplicate MAP key 1 (the same key as entry 0)") ||
		!strings.HasPrefix(got[2], "v[9].key: duplicate MAP key 2 (the same key as entry 1)") {
		t.Fatalf("row errors %v", got)
	}
}
