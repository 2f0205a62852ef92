package convert

import (
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestIsUTCZone(t *testing.T) {
	for tz, want := range map[string]bool{
		"UTC": true, "utc": true, "Etc/UTC": true, "etc/utc": true, "Z": true, "Zulu": true, "UCT": true,
		"Etc/GMT": true, "GMT": true, "Etc/GMT+0": true, "+00:00": true, "-00:00": true, "+0000": true, "+00": true,
		"": false, "America/New_York": false, "Europe/London": false, "+05:30": false, "-01:00": false,
		"+00:30": false, "Etc/GMT+1": false, "+": false, "00:00": false,
	} {
		if got := IsUTCZone(tz); got != want {
			t.Errorf("IsUTCZone(%q) = %v, want %v", tz, got, want)
		}
	}
}

// The protobuf plan, given the table's types (as read from the catalog),
// takes a UTC-zoned timestamp into TIMESTAMP_NTZ as its UTC wall clock and
// refuses another zone there naming the path, at the top level and in a
// STRUCT field, ARRAY elements and MAP values; a naive timestamp into
// TIMESTAMP and a zoned one into TIMESTAMP are taken.
func TestPlanZonedTimestampIntoNTZ(t *testing.T) {
	ntz := &arrow.TimestampType{Unit: arrow.Microsecond}
	utc := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	table := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: utc, Nullable: true},
		{Name: "b", Type: ntz, Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "t", Type: ntz, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(ntz), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, ntz), Nullable: true},
	}, nil)
	batch := func(az, bz, sz, lz, mz string) *arrow.Schema {
		ts := func(tz string) *arrow.TimestampType { return &arrow.TimestampType{Unit: arrow.Second, TimeZone: tz} }
		return arrow.NewSchema([]arrow.Field{
			{Name: "a", Type: ts(az), Nullable: true},
			{Name: "b", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: ts(bz)}, Nullable: true},
			{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "t", Type: ts(sz), Nullable: true}), Nullable: true},
			{Name: "l", Type: arrow.ListOf(ts(lz)), Nullable: true},
			{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, ts(mz)), Nullable: true},
		}, nil)
	}
	opts := Options{TableType: TableTypes(table), TableFields: TableLevels(table), TableNullable: TableNullability(table)}
	for _, s := range []*arrow.Schema{
		batch("", "UTC", "Etc/UTC", "+00:00", "Z"),
		batch("Asia/Tokyo", "", "", "", ""),
	} {
		if _, err := NewPlan(s, opts); err != nil {
			t.Errorf("NewPlan(%s): %v", s, err)
		}
	}
	ny := "America/New_York"
	_, err := NewPlan(batch(ny, ny, ny, ny, "+05:30"), opts)
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("NewPlan: %v, want a *SchemaError", err)
	}
	want := []string{"b", "s.t", "l[]", "m.value"} // not a: a zone into TIMESTAMP is the instant
	if len(se.Problems) != len(want) {
		t.Fatalf("problems %v, want one each for %v", se.Problems, want)
	}
	for i, p := range se.Problems {
		zone := ny
		if i == 3 {
			zone = "+05:30"
		}
		if p.Column != want[i] || p.Code != ZonedIntoNTZ || !strings.Contains(p.Reason, `time zone "`+zone+`"`) || !strings.Contains(p.Reason, "TIMESTAMP_NTZ") {
			t.Errorf("problem %d: %+v, want column %q naming zone %s and TIMESTAMP_NTZ", i, p, want[i], zone)
		}
	}
	// Without the table's types (no catalog) the plan takes the instant.
	if _, err := NewPlan(batch(ny, ny, ny, ny, ny), Options{}); err != nil {
		t.Errorf("NewPlan without table types: %v", err)
	}
}

// TestZonedIntoNTZAnywhere: a zone other than UTC for a TIMESTAMP_NTZ is
// found at the top level and inside a STRUCT field, ARRAY element and MAP
// key or value; UTC, a naive timestamp and other types are not.
func TestZonedIntoNTZAnywhere(t *testing.T) {
	ntz := &arrow.TimestampType{Unit: arrow.Microsecond}
	ny := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "America/New_York"}
	utc := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	st := func(tt arrow.DataType) arrow.DataType {
		return arrow.StructOf(arrow.Field{Name: "t", Type: tt, Nullable: true})
	}
	for _, c := range []struct {
		from, to arrow.DataType
		want     bool
	}{
		{ny, ntz, true},
		{utc, ntz, false},
		{ntz, ntz, false},
		{ny, utc, false},
		{st(ny), st(ntz), true},
		{st(utc), st(ntz), false},
		{arrow.ListOf(ny), arrow.ListOf(ntz), true},
		{arrow.LargeListOf(ny), arrow.ListOf(ntz), true},
		{arrow.MapOf(arrow.BinaryTypes.String, ny), arrow.MapOf(arrow.BinaryTypes.String, ntz), true},
		{arrow.MapOf(ny, arrow.BinaryTypes.String), arrow.MapOf(ntz, arrow.BinaryTypes.String), true},
		{arrow.MapOf(arrow.BinaryTypes.String, utc), arrow.MapOf(arrow.BinaryTypes.String, ntz), false},
		{arrow.PrimitiveTypes.Int64, ntz, false},
		{st(ny), arrow.ListOf(ntz), false},
	} {
		if got := ZonedIntoNTZAnywhere(c.from, c.to); got != c.want {
			t.Errorf("ZonedIntoNTZAnywhere(%s, %s) = %v, want %v", c.from, c.to, got, c.want)
		}
	}
}
