package convert

import (
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/testing/protocmp"
)

// typeCase is one Arrow type converted as the single column "v". want holds
// the expected record per row as prototext ("" = empty record); errs maps a
// failing row to the column path its RowError must name.
type typeCase struct {
	name     string
	dt       arrow.DataType
	nullable bool
	json     string
	want     []string
	errs     map[int]string
}

func typeCases() []typeCase {
	ts := func(u arrow.TimeUnit, tz string) arrow.DataType { return &arrow.TimestampType{Unit: u, TimeZone: tz} }
	i32, utf8 := arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String
	st := arrow.StructOf(
		arrow.Field{Name: "a", Type: i32, Nullable: true},
		arrow.Field{Name: "b", Type: utf8},
	)
	return []typeCase{
		{name: "int8", dt: arrow.PrimitiveTypes.Int8, nullable: true, json: `[-128, 0, 127, null]`,
			want: []string{"v: -128", "v: 0", "v: 127", ""}},
		{name: "int16", dt: arrow.PrimitiveTypes.Int16, json: `[-32768, 32767]`, want: []string{"v: -32768", "v: 32767"}},
		{name: "int32", dt: i32, json: `[-2147483648, 2147483647, 0]`, want: []string{"v: -2147483648", "v: 2147483647", "v: 0"}},
		{name: "int64", dt: arrow.PrimitiveTypes.Int64, json: `[-9223372036854775808, 9223372036854775807, -1]`,
			want: []string{"v: -9223372036854775808", "v: 9223372036854775807", "v: -1"}},
		{name: "uint8", dt: arrow.PrimitiveTypes.Uint8, json: `[0, 255]`, want: []string{"v: 0", "v: 255"}},
		{name: "uint16", dt: arrow.PrimitiveTypes.Uint16, json: `[65535]`, want: []string{"v: 65535"}},
		{name: "uint32", dt: arrow.PrimitiveTypes.Uint32, json: `[4294967295, 1]`, want: []string{"v: 4294967295", "v: 1"}},
		{name: "uint64", dt: arrow.PrimitiveTypes.Uint64, nullable: true,
			json: `[0, 9223372036854775807, 9223372036854775808, 18446744073709551615, null]`,
			want: []string{"v: 0", "v: 9223372036854775807", "", "", ""}, errs: map[int]string{2: "v", 3: "v"}},
		{name: "float16", dt: arrow.FixedWidthTypes.Float16, nullable: true, json: `[1.5, -0.25, null, 65504]`,
			want: []string{"v: 1.5", "v: -0.25", "", "v: 65504"}},
		{name: "float32", dt: arrow.PrimitiveTypes.Float32, json: `[1.5, 3.4028235e38, -0]`,
			want: []string{"v: 1.5", "v: 3.4028235e38", "v: -0"}},
		{name: "float64", dt: arrow.PrimitiveTypes.Float64, json: `[1e300, -2.5, 0.1]`,
			want: []string{"v: 1e300", "v: -2.5", "v: 0.1"}},
		{name: "bool", dt: arrow.FixedWidthTypes.Boolean, nullable: true, json: `[true, false, null, true]`,
			want: []string{"v: true", "v: false", "", "v: true"}},
		{name: "utf8 unicode and empty", dt: utf8, nullable: true, json: `["", "héllo", "日本語 🎉", null, "x"]`,
			want: []string{`v: ""`, `v: "héllo"`, `v: "日本語 🎉"`, "", `v: "x"`}},
		{name: "large_utf8", dt: arrow.BinaryTypes.LargeString, json: `["a", "", "ü"]`,
			want: []string{`v: "a"`, `v: ""`, `v: "ü"`}},
		{name: "string_view inline and out of line", dt: arrow.BinaryTypes.StringView, nullable: true,
			json: `["short", "a string longer than twelve bytes", null, ""]`,
			want: []string{`v: "short"`, `v: "a string longer than twelve bytes"`, "", `v: ""`}},
		{name: "binary", dt: arrow.BinaryTypes.Binary, nullable: true, json: `["aGk=", "", null, "AP8="]`,
			want: []string{`v: "hi"`, `v: ""`, "", `v: "\x00\xff"`}},
		{name: "large_binary", dt: arrow.BinaryTypes.LargeBinary, json: `["aGk="]`, want: []string{`v: "hi"`}},
		{name: "binary_view", dt: arrow.BinaryTypes.BinaryView, json: `["aGk=", "MDEyMzQ1Njc4OWFiY2RlZg=="]`,
			want: []string{`v: "hi"`, `v: "0123456789abcdef"`}},
		{name: "fixed_size_binary", dt: &arrow.FixedSizeBinaryType{ByteWidth: 3}, nullable: true, json: `["YWJj", null]`,
			want: []string{`v: "abc"`, ""}},
		{name: "date32", dt: arrow.FixedWidthTypes.Date32, json: `[0, -1, 19000]`, want: []string{"v: 0", "v: -1", "v: 19000"}},
		{name: "date64 floors to days", dt: arrow.FixedWidthTypes.Date64,
			json: `[86400000, -1, -86400000, 0, 9223372036854775807]`,
			want: []string{"v: 1", "v: -1", "v: -1", "v: 0", ""}, errs: map[int]string{4: "v"}},
		{name: "timestamp s", dt: ts(arrow.Second, ""), nullable: true, json: `[1, -1, null, 9223372036854775807]`,
			want: []string{"v: 1000000", "v: -1000000", "", ""}, errs: map[int]string{3: "v"}},
		{name: "timestamp ms with zone", dt: ts(arrow.Millisecond, "America/New_York"), json: `[1500, -9223372036854775808]`,
			want: []string{"v: 1500000", ""}, errs: map[int]string{1: "v"}},
		{name: "timestamp us", dt: ts(arrow.Microsecond, "UTC"), json: `[1700000000000001, -5]`,
			want: []string{"v: 1700000000000001", "v: -5"}},
		{name: "timestamp ns floors", dt: ts(arrow.Nanosecond, ""), json: `[1999, -1, 9223372036854775807]`,
			want: []string{"v: 1", "v: -1", "v: 9223372036854775"}},
		{name: "time32 s", dt: arrow.FixedWidthTypes.Time32s, json: `[3600, 0]`, want: []string{"v: 3600000000", "v: 0"}},
		{name: "time32 ms", dt: arrow.FixedWidthTypes.Time32ms, json: `[1500]`, want: []string{"v: 1500000"}},
		{name: "time64 us", dt: arrow.FixedWidthTypes.Time64us, json: `[5]`, want: []string{"v: 5"}},
		{name: "time64 ns", dt: arrow.FixedWidthTypes.Time64ns, json: `[1999, 86399999999999]`, want: []string{"v: 1", "v: 86399999999"}},
		{name: "duration s", dt: arrow.FixedWidthTypes.Duration_s, json: `[-2, 9223372036854775807]`,
			want: []string{"v: -2000000", ""}, errs: map[int]string{1: "v"}},
		{name: "duration ms", dt: arrow.FixedWidthTypes.Duration_ms, json: `[7]`, want: []string{"v: 7000"}},
		{name: "duration us", dt: arrow.FixedWidthTypes.Duration_us, json: `[-7]`, want: []string{"v: -7"}},
		{name: "duration ns floors", dt: arrow.FixedWidthTypes.Duration_ns, json: `[-1, 1001]`, want: []string{"v: -1", "v: 1"}},
		{name: "decimal128", dt: &arrow.Decimal128Type{Precision: 10, Scale: 3}, nullable: true,
			json: `["-12.340", "0.005", "-0.005", "0", "1234567.891", null]`,
			want: []string{`v: "-12.340"`, `v: "0.005"`, `v: "-0.005"`, `v: "0.000"`, `v: "1234567.891"`, ""}},
		{name: "decimal128 38 digits", dt: &arrow.Decimal128Type{Precision: 38, Scale: 2},
			json: `["-999999999999999999999999999999999999.99", "1.00"]`,
			want: []string{`v: "-999999999999999999999999999999999999.99"`, `v: "1.00"`}},
		{name: "decimal128 scale 0", dt: &arrow.Decimal128Type{Precision: 5, Scale: 0}, json: `["-42"]`, want: []string{`v: "-42"`}},
		{name: "decimal256 76 digits", dt: &arrow.Decimal256Type{Precision: 76, Scale: 10},
			json: `["123456789012345678901234567890123456789012345678901234567890123456.7890123456", "-0.0000000001"]`,
			want: []string{`v: "123456789012345678901234567890123456789012345678901234567890123456.7890123456"`, `v: "-0.0000000001"`}},
		{name: "decimal32", dt: &arrow.Decimal32Type{Precision: 5, Scale: 2}, json: `["123.45", "-0.01"]`,
			want: []string{`v: "123.45"`, `v: "-0.01"`}},
		{name: "decimal64", dt: &arrow.Decimal64Type{Precision: 18, Scale: 4}, json: `["-12345678901234.5678"]`,
			want: []string{`v: "-12345678901234.5678"`}},
		{name: "dictionary of strings", dt: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: utf8}, nullable: true,
			json: `["a", "b", "a", null, "ü"]`, want: []string{`v: "a"`, `v: "b"`, `v: "a"`, "", `v: "ü"`}},
		{name: "dictionary of int64 uint32 index", dt: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint32, ValueType: arrow.PrimitiveTypes.Int64},
			json: `[5, 5, -1]`, want: []string{"v: 5", "v: 5", "v: -1"}},
		{name: "run-end encoded", dt: arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, utf8), nullable: true,
			json: `["x", "x", "y", null, null, "z"]`, want: []string{`v: "x"`, `v: "x"`, `v: "y"`, "", "", `v: "z"`}},
		{name: "run-end encoded int16 ends", dt: arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int64),
			json: `[1, 1, 1, 2]`, want: []string{"v: 1", "v: 1", "v: 1", "v: 2"}},
		{name: "extension uuid as storage", dt: extensions.NewUUIDType(), json: `["00010203-0405-0607-0809-0a0b0c0d0e0f"]`,
			want: []string{`v: "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f"`}},
		{name: "list", dt: arrow.ListOf(i32), nullable: true, json: `[[1, 2], [], null, [3], [4, null]]`,
			want: []string{"v: 1 v: 2", "", "", "v: 3", ""}, errs: map[int]string{4: "v[1]"}},
		{name: "large_list", dt: arrow.LargeListOf(utf8), json: `[["a", ""], []]`, want: []string{`v: "a" v: ""`, ""}},
		{name: "fixed_size_list", dt: arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Float64), nullable: true,
			json: `[[1, 2], null, [3, 4]]`, want: []string{"v: 1 v: 2", "", "v: 3 v: 4"}},
		{name: "list_view", dt: arrow.ListViewOf(arrow.PrimitiveTypes.Int64), json: `[[1], [2, 3], []]`,
			want: []string{"v: 1", "v: 2 v: 3", ""}},
		{name: "large_list_view", dt: arrow.LargeListViewOf(arrow.FixedWidthTypes.Boolean), json: `[[true, false]]`,
			want: []string{"v: true v: false"}},
		{name: "list of dictionary", dt: arrow.ListOf(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: utf8}),
			json: `[["p", "q", "p"]]`, want: []string{`v: "p" v: "q" v: "p"`}},
		{name: "list of struct", dt: arrow.ListOf(st), json: `[[{"a": 1, "b": "x"}, {"a": null, "b": ""}], [{"a": 2, "b": "y"}, null], [{"a": 3, "b": null}]]`,
			want: []string{`v: {a: 1 b: "x"} v: {b: ""}`, "", ""}, errs: map[int]string{1: "v[1]", 2: "v[0].b"}},
		{name: "struct", dt: st, nullable: true, json: `[{"a": 1, "b": "x"}, {"a": null, "b": "y"}, null, {"a": 2, "b": null}]`,
			want: []string{`v: {a: 1 b: "x"}`, `v: {b: "y"}`, "", ""}, errs: map[int]string{3: "v.b"}},
		{name: "nested struct", dt: arrow.StructOf(arrow.Field{Name: "inner", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true}),
			json: `[{"inner": {"x": 5}}, {"inner": null}, {"inner": {"x": null}}]`,
			want: []string{"v: {inner: {x: 5}}", "v: {}", "v: {inner: {}}"}},
		{name: "empty struct", dt: arrow.StructOf(), json: `[{}, {}]`, want: []string{"v: {}", "v: {}"}},
		{name: "map", dt: arrow.MapOf(utf8, arrow.PrimitiveTypes.Int64), nullable: true,
			json: `[[{"key": "a", "value": 1}, {"key": "b", "value": 2}], [], null, [{"key": "c", "value": null}]]`,
			want: []string{`v: {key: "a" value: 1} v: {key: "b" value: 2}`, "", "", ""}, errs: map[int]string{3: "v[0].value"}},
		{name: "map of structs", dt: arrow.MapOf(i32, st),
			json: `[[{"key": 7, "value": {"a": 1, "b": "q"}}]]`, want: []string{`v: {key: 7 value: {a: 1 b: "q"}}`}},
	}
}

func TestTypesRoundTrip(t *testing.T) {
	for _, tc := range typeCases() {
		t.Run(tc.name, func(t *testing.T) {
			if len(tc.want) == 0 {
				t.Fatal("test case has no rows")
			}
			// Every case also runs on the batch sliced by one row at each end
			// (when it has at least 3 rows), so non-zero offsets are covered.
			for _, sliced := range []bool{false, true} {
				if sliced && len(tc.want) < 3 {
					continue
				}
				t.Run(fmt.Sprintf("sliced=%v", sliced), func(t *testing.T) {
					mem := checkedMem(t)
					arr := fromJSON(t, mem, tc.dt, tc.json)
					rec := oneColumn(arr, tc.nullable)
					arr.Release()
					defer rec.Release()
					first := 0
					if sliced {
						s := rec.NewSlice(1, rec.NumRows()-1)
						defer s.Release()
						rec, first = s, 1
					}
					checkRoundTrip(t, rec, tc.want[first:first+int(rec.NumRows())], shiftErrs(tc.errs, first, int(rec.NumRows())))
				})
			}
		})
	}
}

// shiftErrs re-indexes expected errors for a batch sliced from first.
func shiftErrs(errs map[int]string, first, n int) map[int]string {
	out := map[int]string{}
	for r, c := range errs {
		if r >= first && r < first+n {
			out[r-first] = c
		}
	}
	return out
}

// checkRoundTrip encodes rec (single column "v"), decodes every record with
// dynamicpb from the plan's descriptor and compares it with the expected
// text, the failing rows with errs, and everything with the reference
// encoder.
func checkRoundTrip(t *testing.T, rec arrow.RecordBatch, want []string, errs map[int]string) {
	t.Helper()
	p, err := NewPlan(rec.Schema(), Options{})
	if err != nil {
		t.Fatalf("NewPlan: %v", err)
	}
	md := p.MessageDescriptor()
	b := encodeOK(t, p, rec)
	gotErrs := map[int]string{}
	for _, e := range b.Errors {
		gotErrs[e.Row] = e.Column
	}
	if diff := cmp.Diff(errs, gotErrs); diff != "" {
		t.Errorf("failed rows -> column (-want +got):\n%s\nerrors: %v", diff, b.Errors)
	}
	if got, wantN := len(b.Records)+len(b.Errors), int(rec.NumRows()); got != wantN {
		t.Fatalf("records+errors = %d, want %d rows", got, wantN)
	}
	total := 0
	ref := (&refEncoder{md: md}).encode(rec, false)
	for k, r := range b.Records {
		row := b.Rows[k]
		total += len(r)
		got := decode(t, md, r)
		if diff := cmp.Diff(parseText(t, md, want[row]), got, protocmp.Transform()); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", row, diff)
		}
		if ref[row].err != nil {
			t.Errorf("row %d: reference encoder failed (%v) but Encode succeeded", row, ref[row].err)
		} else if diff := cmp.Diff(ref[row].msg, got, protocmp.Transform()); diff != "" {
			t.Errorf("row %d differs from the reference encoder (-ref +got):\n%s", row, diff)
		}
	}
	for _, e := range b.Errors {
		if ref[e.Row].err == nil {
			t.Errorf("row %d: Encode failed (%v) but the reference encoder succeeded", e.Row, e)
		}
	}
	if b.Bytes != total {
		t.Errorf("Batch.Bytes = %d, want sum of record lengths %d", b.Bytes, total)
	}
}
