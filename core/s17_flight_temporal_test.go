package core_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// temporalArray is an array of type dt holding vals (nil: a null), each
// converted to dt's physical type.
func temporalArray(t *testing.T, mem memory.Allocator, dt arrow.DataType, vals []*int64) arrow.Array {
	t.Helper()
	b := array.NewBuilder(mem, dt)
	defer b.Release()
	for _, p := range vals {
		if p == nil {
			b.AppendNull()
			continue
		}
		v := *p
		switch bb := b.(type) {
		case *array.Int8Builder:
			bb.Append(int8(v))
		case *array.Int16Builder:
			bb.Append(int16(v))
		case *array.Int32Builder:
			bb.Append(int32(v))
		case *array.Int64Builder:
			bb.Append(v)
		case *array.Uint8Builder:
			bb.Append(uint8(v))
		case *array.Uint16Builder:
			bb.Append(uint16(v))
		case *array.Uint32Builder:
			bb.Append(uint32(v))
		case *array.Uint64Builder:
			bb.Append(uint64(v))
		case *array.Date32Builder:
			bb.Append(arrow.Date32(v))
		case *array.Date64Builder:
			bb.Append(arrow.Date64(v))
		case *array.TimestampBuilder:
			bb.Append(arrow.Timestamp(v))
		case *array.Time32Builder:
			bb.Append(arrow.Time32(v))
		case *array.Time64Builder:
			bb.Append(arrow.Time64(v))
		case *array.DurationBuilder:
			bb.Append(arrow.Duration(v))
		default:
			t.Fatalf("no builder for %s", dt)
		}
	}
	return b.NewArray()
}

func iv(v int64) *int64 { return &v }

// The temporal ↔ integer type pairs the protobuf path accepts are accepted
// on arrow_flight with the same meaning (microseconds or days since the
// epoch, values as µs for a TIMESTAMP, days for a DATE), each value checked
// as on protobuf: for every pair, the same batch sent on both transports to
// tables of the same Unity Catalog columns stores the same values and
// gives the same per-row results (a value out of range fails its row
// alone, not written, a ConversionError naming the column). arrow_flight
// refused every one of these pairs up front ("no safe cast").
func TestS17TemporalIntegerPairsSameOnBothTransports(t *testing.T) {
	srv := localServer(t)
	ctx := context.Background()
	u64max := int64(-1) // as uint64: 18446744073709551615
	cases := []struct {
		from  arrow.DataType
		table string
		vals  []*int64
		want  []string // per row: the stored value (ValueStr) or "fail"
	}{
		{arrow.PrimitiveTypes.Int8, "DATE", []*int64{iv(1), iv(-3), nil}, []string{"1970-01-02", "1969-12-29", "(null)"}},
		{arrow.PrimitiveTypes.Int16, "DATE", []*int64{iv(19000), nil}, []string{"2022-01-08", "(null)"}},
		{arrow.PrimitiveTypes.Int32, "DATE", []*int64{iv(1), iv(math.MaxInt32)}, nil},
		{arrow.PrimitiveTypes.Uint8, "DATE", []*int64{iv(1), iv(255)}, []string{"1970-01-02", "1970-09-13"}},
		{arrow.PrimitiveTypes.Uint16, "DATE", []*int64{iv(65535)}, nil},
		{arrow.PrimitiveTypes.Int64, "TIMESTAMP", []*int64{iv(1), iv(-1), iv(math.MaxInt64), nil},
			[]string{"1970-01-01T00:00:00.000001Z", "1969-12-31T23:59:59.999999Z", "", "(null)"}},
		{arrow.PrimitiveTypes.Int64, "TIMESTAMP_NTZ", []*int64{iv(1_000_000)}, []string{"1970-01-01T00:00:01Z"}},
		{arrow.PrimitiveTypes.Uint32, "TIMESTAMP", []*int64{iv(4_000_000_000)}, nil},
		{arrow.PrimitiveTypes.Uint64, "TIMESTAMP", []*int64{iv(1), iv(u64max), iv(2)},
			[]string{"1970-01-01T00:00:00.000001Z", "fail", "1970-01-01T00:00:00.000002Z"}},
		{arrow.PrimitiveTypes.Uint64, "TIMESTAMP_NTZ", []*int64{iv(u64max), iv(5)}, []string{"fail", "1970-01-01T00:00:00.000005Z"}},
		{arrow.FixedWidthTypes.Date32, "INT", []*int64{iv(1), iv(-1), nil}, []string{"1", "-1", "(null)"}},
		{arrow.FixedWidthTypes.Date32, "SMALLINT", []*int64{iv(19000)}, []string{"19000"}},
		{arrow.FixedWidthTypes.Date32, "TINYINT", []*int64{iv(1), iv(-5), iv(300)}, []string{"1", "-5", "fail"}},
		{arrow.FixedWidthTypes.Date32, "SMALLINT", []*int64{iv(-40000), iv(7)}, []string{"fail", "7"}},
		{arrow.FixedWidthTypes.Date64, "TINYINT", []*int64{iv(200 * 86_400_000), iv(-86_400_000)}, []string{"fail", "-1"}},
		{arrow.FixedWidthTypes.Date64, "INT", []*int64{iv(86_400_000), iv(-1), iv(math.MaxInt64)}, []string{"1", "-1", "fail"}},
		{arrow.FixedWidthTypes.Date64, "TINYINT", []*int64{iv(0), iv(2 * 86_400_000)}, []string{"0", "2"}},
		{&arrow.TimestampType{Unit: arrow.Second, TimeZone: "UTC"}, "BIGINT", []*int64{iv(1), iv(math.MaxInt64 / 10), nil}, []string{"1000000", "fail", "(null)"}},
		{&arrow.TimestampType{Unit: arrow.Millisecond}, "BIGINT", []*int64{iv(-1), iv(1500)}, []string{"-1000", "1500000"}},
		{&arrow.TimestampType{Unit: arrow.Nanosecond}, "BIGINT", []*int64{iv(1), iv(-1), iv(2500)}, []string{"0", "-1", "2"}},
		{&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "America/New_York"}, "BIGINT", []*int64{iv(7)}, []string{"7"}},
		{arrow.FixedWidthTypes.Time32ms, "TIMESTAMP", []*int64{iv(1)}, []string{"1970-01-01T00:00:00.001Z"}},
		{arrow.FixedWidthTypes.Time32s, "TIMESTAMP_NTZ", []*int64{iv(2)}, []string{"1970-01-01T00:00:02Z"}},
		{arrow.FixedWidthTypes.Time64ns, "TIMESTAMP", []*int64{iv(3000)}, []string{"1970-01-01T00:00:00.000003Z"}},
		{arrow.FixedWidthTypes.Duration_ms, "TIMESTAMP", []*int64{iv(5), nil}, []string{"1970-01-01T00:00:00.005Z", "(null)"}},
		{arrow.FixedWidthTypes.Duration_s, "TIMESTAMP_NTZ", []*int64{iv(1), iv(math.MaxInt64 / 100)}, []string{"1970-01-01T00:00:01Z", "fail"}},
		{arrow.FixedWidthTypes.Duration_us, "TIMESTAMP", []*int64{iv(-2)}, nil},
	}
	for k, tc := range cases {
		name := fmt.Sprintf("%s_to_%s", tc.from, tc.table)
		t.Run(name, func(t *testing.T) {
			var got [2][]string
			var outs [2][]string
			for i, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
				table := fmt.Sprintf("main.default.s17_temporal_%d_%s", k, tr)
				cols, err := zerobuslocal.ParseColumns("id INT NOT NULL, c " + tc.table)
				if err != nil {
					t.Fatal(err)
				}
				if err := srv.CreateTableColumns(table, cols); err != nil {
					t.Fatal(err)
				}
				w := newWrapper(t, srv, table, func(c *core.Config) { c.Transport = tr })
				ib := array.NewInt32Builder(memory.DefaultAllocator)
				for r := range tc.vals {
					ib.Append(int32(r))
				}
				ids := ib.NewArray()
				ib.Release()
				c := temporalArray(t, memory.DefaultAllocator, tc.from, tc.vals)
				schema := arrow.NewSchema([]arrow.Field{
					{Name: "id", Type: arrow.PrimitiveTypes.Int32},
					{Name: "c", Type: tc.from, Nullable: true},
				}, nil)
				rec := array.NewRecordBatch(schema, []arrow.Array{ids, c}, int64(len(tc.vals)))
				ids.Release()
				c.Release()
				res, err := w.SendBatch(ctx, rec)
				rec.Release()
				if res == nil || res.FailedAsWhole() {
					t.Fatalf("%s: SendBatch = %v; want the pair accepted", tr, err)
				}
				outs[i] = rowOutcomes(res)
				ab, err := srv.ArrowBatch(table, nil)
				if err != nil {
					t.Fatal(err)
				}
				vals := make([]string, len(tc.vals))
				for r := range vals {
					vals[r] = "fail"
				}
				for r := range int(ab.NumRows()) {
					vals[ab.Column(0).(*array.Int32).Value(r)] = ab.Column(1).ValueStr(r)
				}
				ab.Release()
				for r, o := range outs[i] {
					if (o == "ok") == (vals[r] == "fail") {
						t.Errorf("%s: row %d result %s but stored %q", tr, r, o, vals[r])
					}
					if o != "ok" && o != "not_written/conversion/c" {
						t.Errorf("%s: row %d failed as %s; want not_written/conversion/c", tr, r, o)
					}
				}
				got[i] = vals
			}
			if !slices.Equal(got[0], got[1]) || !slices.Equal(outs[0], outs[1]) {
				t.Errorf("stored values differ:\n protobuf     %q %q\n arrow_flight %q %q", got[0], outs[0], got[1], outs[1])
			}
			if tc.want != nil {
				for r, w := range tc.want {
					if w != "" && got[1][r] != w {
						t.Errorf("row %d stored as %q on arrow_flight; want %q", r, got[1][r], w)
					}
				}
			}
		})
	}
}

// The pairs neither transport accepts are refused up front on
// arrow_flight with a reason that says what to do.
func TestS17TemporalIntegerRefusalsSayWhatToDo(t *testing.T) {
	srv := localServer(t)
	ctx := context.Background()
	for k, tc := range []struct {
		from  arrow.DataType
		table string
		want  string
	}{
		{arrow.PrimitiveTypes.Int64, "DATE", "days since the epoch"},
		{arrow.PrimitiveTypes.Int32, "TIMESTAMP", "microseconds since the epoch"},
		{arrow.FixedWidthTypes.Date32, "BIGINT", "days"},
		{&arrow.TimestampType{Unit: arrow.Second}, "INT", "BIGINT"},
		{arrow.FixedWidthTypes.Time32ms, "DATE", ""},
	} {
		table := fmt.Sprintf("main.default.s17_refused_%d", k)
		cols, _ := zerobuslocal.ParseColumns("c " + tc.table)
		if err := srv.CreateTableColumns(table, cols); err != nil {
			t.Fatal(err)
		}
		w := newWrapper(t, srv, table, func(c *core.Config) { c.Transport = core.TransportArrowFlight })
		c := temporalArray(t, memory.DefaultAllocator, tc.from, []*int64{iv(1)})
		rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "c", Type: tc.from, Nullable: true}}, nil), []arrow.Array{c}, 1)
		c.Release()
		_, err := w.SendBatch(ctx, rec)
		rec.Release()
		var sme *core.SchemaMismatchError
		if !errors.As(err, &sme) || len(sme.Columns) != 1 || !strings.Contains(sme.Columns[0].Reason, tc.want) || sme.Columns[0].Reason == "no safe cast" {
			t.Errorf("%s -> %s: SendBatch = %v; want a SchemaMismatchError whose reason says %q", tc.from, tc.table, err, tc.want)
		}
	}
}
