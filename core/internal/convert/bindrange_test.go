package convert

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// A chunk of a batch (a slice) binds only the part of a list's or map's
// child that its rows use: the whole child was bound, so every chunk
// checked every string of the batch's lists for UTF-8 again (a 1.6M-row
// list<string> batch took 1.8-2.0 s against 0.15 s for plain strings;
// linear now). Here the only invalid string lies outside the slice's
// range, so it must not send the strings to the per-row check, and the
// slice still encodes its rows right.
func TestBindUsesOnlyTheSlicesChildRange(t *testing.T) {
	mem := checkedMem(t)
	for _, dt := range []arrow.DataType{arrow.ListOf(arrow.BinaryTypes.String), arrow.LargeListOf(arrow.BinaryTypes.String),
		arrow.MapOf(arrow.BinaryTypes.String, arrow.BinaryTypes.String)} {
		t.Run(dt.String(), func(t *testing.T) {
			var js string
			if dt.ID() == arrow.MAP {
				js = `[[{"key": "\u00ff", "value": "a"}], [{"key": "b", "value": "c"}, {"key": "d", "value": "e"}], [{"key": "f", "value": "g"}]]`
			} else {
				js = `[["\u00ff"], ["b", "c"], ["d"]]`
			}
			arr := fromJSON(t, mem, dt, js)
			// Make the first value invalid UTF-8 (ÿ is 0xc3 0xbf; cut it to 0xc3 0xc3).
			bad := invalidateFirstString(arr)
			rec := oneColumn(arr, true)
			arr.Release()
			defer rec.Release()
			s := rec.NewSlice(1, 3)
			defer s.Release()
			p, err := NewPlan(s.Schema(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			var bd binder
			defer bd.release()
			e, err := bd.bind(p.cols[0], s.Column(0))
			if err != nil {
				t.Fatal(err)
			}
			var strs []encoder
			switch e := e.(type) {
			case *listEnc[int32]:
				strs = append(strs, e.elem)
			case *listEnc[int64]:
				strs = append(strs, e.elem)
			case *mapEnc:
				strs = append(strs, e.key, e.val)
			}
			for _, x := range strs {
				switch x.(type) {
				case *offStringCheckEnc[int32], *offStringCheckEnc[int64]:
					t.Errorf("the strings of the slice were bound with the value %q outside it", bad)
				}
			}
			want := []string{`v: "b" v: "c"`, `v: "d"`}
			if dt.ID() == arrow.MAP {
				want = []string{`v: {key: "b" value: "c"} v: {key: "d" value: "e"}`, `v: {key: "f" value: "g"}`}
			}
			checkRoundTrip(t, s, want, map[int]string{})
		})
	}
}

// invalidateFirstString turns the 2-byte first string value under arr (a
// list of strings, or a map's first key) into invalid UTF-8 in place and
// returns it.
func invalidateFirstString(arr arrow.Array) []byte {
	var strs *array.String
	switch a := arr.(type) {
	case *array.Map:
		strs = a.Keys().(*array.String)
	case array.ListLike:
		strs = a.ListValues().(*array.String)
	}
	data := strs.Data().Buffers()[2].Bytes()
	data[1] = data[0]
	return data[:2]
}

// The values of a dictionary larger than the rows that index it are checked
// one by one as rows use them, not all of them for each chunk (a 1M-entry
// dictionary made every chunk check 22 MB: x4-7 the time of plain strings);
// a small dictionary is still checked at once.
func TestBindDictionaryChecksValuesAsUsed(t *testing.T) {
	mem := checkedMem(t)
	dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}
	for _, c := range []struct {
		idx, vals string
		each      bool
	}{
		{`[0, 1]`, `["a", "b", "c", "d"]`, true},
		{`[0, 1, 1, 0, 3]`, `["a", "b", "c", "d"]`, false},
	} {
		i, v := fromJSON(t, mem, arrow.PrimitiveTypes.Int8, c.idx), fromJSON(t, mem, arrow.BinaryTypes.String, c.vals)
		d := array.NewDictionaryArray(dt, i, v)
		i.Release()
		v.Release()
		rec := oneColumn(d, true)
		d.Release()
		e, bd := bindColumn(t, rec)
		_, each := e.(*dictEnc[int8]).vals.(*offStringCheckEnc[int32])
		if each != c.each {
			t.Errorf("%d rows over %s: values checked one by one = %v, want %v", rec.NumRows(), c.vals, each, c.each)
		}
		if bd.checkEach {
			t.Error("checkEach still set after the dictionary")
		}
		bd.release()
		rec.Release()
	}
}

// A chunk of a run-end encoded column has every run's value (the slice
// keeps them all): they are checked one by one as rows use them, not all
// of them for each chunk (25× plain strings on 400k one-row runs); the
// whole column, whose runs are at most its rows, is checked at once.
func TestBindRunEndEncodedChecksValuesAsUsed(t *testing.T) {
	mem := checkedMem(t)
	ends := fromJSON(t, mem, arrow.PrimitiveTypes.Int32, `[1, 2, 3, 4]`)
	vals := fromJSON(t, mem, arrow.BinaryTypes.String, `["a", "b", "c", "d"]`)
	ree := array.NewRunEndEncodedArray(ends, vals, 4, 0)
	ends.Release()
	vals.Release()
	defer ree.Release()
	for _, c := range []struct {
		lo, hi int64
		each   bool
	}{{0, 4, false}, {1, 3, true}} {
		part := array.NewSlice(ree, c.lo, c.hi)
		rec := oneColumn(part, true)
		part.Release()
		e, bd := bindColumn(t, rec)
		_, each := e.(*reeEnc[int32]).vals.(*offStringCheckEnc[int32])
		if each != c.each {
			t.Errorf("rows [%d, %d) of 4 one-row runs: values checked one by one = %v, want %v", c.lo, c.hi, each, c.each)
		}
		if bd.checkEach {
			t.Error("checkEach still set after the run-end encoded column")
		}
		bd.release()
		rec.Release()
	}
}

// bindColumn binds the encoder of rec's only column, as a chunk's
// conversion does; the caller releases the binder.
func bindColumn(t *testing.T, rec arrow.RecordBatch) (encoder, *binder) {
	t.Helper()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	bd := &binder{}
	e, err := bd.bind(p.cols[0], rec.Column(0))
	if err != nil {
		t.Fatal(err)
	}
	return e, bd
}
