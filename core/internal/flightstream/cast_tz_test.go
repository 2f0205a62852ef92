package flightstream

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A UTC-zoned timestamp goes to a TIMESTAMP_NTZ column as its UTC wall
// clock (the instant's microseconds, finer units rounded down), at the top
// level and inside a STRUCT, an ARRAY and a MAP: the protobuf plan's rule
// (convert.TimestampIntoTable). Before, the cast refused any zone there.
func TestUTCZonedTimestampCastToNTZ(t *testing.T) {
	ntz := &arrow.TimestampType{Unit: arrow.Microsecond}
	ts := func(u arrow.TimeUnit, tz string) *arrow.TimestampType {
		return &arrow.TimestampType{Unit: u, TimeZone: tz}
	}
	callerS := arrow.StructOf(arrow.Field{Name: "t", Type: ts(arrow.Millisecond, "Etc/UTC"), Nullable: true})
	caller := []arrow.Field{
		{Name: "b", Type: ts(arrow.Second, "UTC"), Nullable: true},
		{Name: "s", Type: callerS, Nullable: true},
		{Name: "l", Type: arrow.ListOf(ts(arrow.Nanosecond, "+00:00")), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, ts(arrow.Microsecond, "Z")), Nullable: true},
	}
	table := arrow.NewSchema([]arrow.Field{
		{Name: "b", Type: ntz, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "t", Type: ntz, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(ntz), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, ntz), Nullable: true},
	}, nil)
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, arrow.NewSchema(caller, nil), strings.NewReader(`[
		{"b": 1700000000, "s": {"t": -1}, "l": [-1500, 123456789000], "m": [{"key": "k", "value": 5}]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	out, bad, _ := applyCast(t, rec, table)
	defer out.Release()
	if len(bad) != 0 {
		t.Fatalf("rows left out: %v", bad)
	}
	for i, want := range []string{
		"[1700000000000000]",
		`{[-1000]}`,
		"[[-2 123456789]]",
		`[{["k"] [5]}]`,
	} {
		got := out.Column(i).String()
		if i == 0 || i == 2 { // timestamps print as times; compare the microseconds
			got = rawMicros(t, out.Column(i))
		}
		if got != want {
			t.Errorf("column %s = %s, want %s", table.Field(i).Name, got, want)
		}
	}
}

// rawMicros prints a timestamp column's values (or a list's elements) as
// integers.
func rawMicros(t *testing.T, a arrow.Array) string {
	t.Helper()
	if l, ok := a.(*array.List); ok {
		return "[" + rawMicros(t, l.ListValues()) + "]"
	}
	ts := a.(*array.Timestamp)
	var b strings.Builder
	b.WriteString("[")
	for i := range ts.Len() {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strconv.FormatInt(int64(ts.Value(i)), 10))
	}
	b.WriteString("]")
	return b.String()
}

// Another zone into TIMESTAMP_NTZ is a mismatch naming the zone, also
// inside a STRUCT, an ARRAY and a MAP.
func TestOtherZoneCastToNTZRefused(t *testing.T) {
	ntz := &arrow.TimestampType{Unit: arrow.Microsecond}
	ny := &arrow.TimestampType{Unit: arrow.Second, TimeZone: "America/New_York"}
	caller := arrow.NewSchema([]arrow.Field{
		{Name: "b", Type: ny, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "t", Type: ny, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(ny), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, ny), Nullable: true},
		{Name: "a", Type: ny, Nullable: true}, // into TIMESTAMP: the instant
	}, nil)
	table := arrow.NewSchema([]arrow.Field{
		{Name: "b", Type: ntz, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "t", Type: ntz, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(ntz), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, ntz), Nullable: true},
		{Name: "a", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	}, nil)
	_, err := PlanCast("t", caller, table)
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("PlanCast: %v, want a *MismatchError", err)
	}
	cols := []string{"b", "s", "l", "m"}
	if len(me.Columns) != len(cols) {
		t.Fatalf("mismatches %+v, want %v", me.Columns, cols)
	}
	for i, c := range me.Columns {
		if c.Column != cols[i] || !strings.Contains(c.Reason, `time zone "America/New_York"`) || !strings.Contains(c.Reason, "TIMESTAMP_NTZ") {
			t.Errorf("mismatch %d: %+v, want column %s refused naming the zone", i, c, cols[i])
		}
	}
}
