package tests_go

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A timestamp with a time zone into a TIMESTAMP_NTZ column of the table
// (its types read from Unity Catalog) follows one rule on both transports:
// a UTC zone ("UTC", "Etc/UTC", "+00:00", "Z") is stored as the instant's
// UTC wall clock, also in a STRUCT field, ARRAY elements and MAP values;
// any other zone fails the whole batch naming the column, the zone and
// TIMESTAMP_NTZ, and nothing is stored. (Before, the protobuf path stored a
// New York time as its UTC wall clock and Arrow Flight refused even UTC.)

const ntzZoneDDL = "id BIGINT NOT NULL, a TIMESTAMP, b TIMESTAMP_NTZ, s STRUCT<t: TIMESTAMP_NTZ>, " +
	"l ARRAY<TIMESTAMP_NTZ>, m MAP<STRING, TIMESTAMP_NTZ>"

func tsOf(unit arrow.TimeUnit, tz string) *arrow.TimestampType {
	return &arrow.TimestampType{Unit: unit, TimeZone: tz}
}

// ntzBatch is two rows: a naive a (into TIMESTAMP), and b, s.t, l's
// elements and m's values in the zones given.
func ntzBatch(t *testing.T, mem memory.Allocator, bz, sz, lz, mz string) arrow.RecordBatch {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "a", Type: tsOf(arrow.Second, ""), Nullable: true},
		{Name: "b", Type: tsOf(arrow.Second, bz), Nullable: true},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "t", Type: tsOf(arrow.Millisecond, sz), Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(tsOf(arrow.Nanosecond, lz)), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, tsOf(arrow.Microsecond, mz)), Nullable: true},
	}, nil)
	rec, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(`[
		{"id": 1, "a": 1700000000, "b": 1700000000, "s": {"t": 1700000000123}, "l": [123456789000, -1500], "m": [{"key": "k", "value": 5}]},
		{"id": 2, "a": -1, "b": -1, "s": {"t": -1}, "l": [], "m": [{"key": "k", "value": -7}]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func TestUTCZonedTimestampIntoNTZStoredAsUTCWallClock(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			const table = "main.default.ntz_utc"
			createTable(t, srv, table, ntzZoneDDL)
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			rec := ntzBatch(t, mem, "UTC", "Etc/UTC", "+00:00", "Z")
			if err := w.CheckSchema(testCtx(t), rec.Schema()); err != nil {
				t.Errorf("CheckSchema: %v", err)
			}
			res, err := w.SendBatch(testCtx(t), rec)
			rec.Release()
			if err != nil {
				t.Fatalf("SendBatch: %v", err)
			}
			checkInvariant(t, res, 2)
			if res.SuccessfulCount != 2 {
				t.Fatalf("result %+v, failed %v; want both rows durable", res, res.FailedRows)
			}
			// Microseconds since 1970-01-01 00:00 of the UTC wall clock
			// (protojson: int64 as text); finer units rounded down.
			want := map[string]map[string]any{
				"1": {"id": "1", "a": "1700000000000000", "b": "1700000000000000", "s": map[string]any{"t": "1700000000123000"},
					"l": []any{"123456789", "-2"}, "m": map[string]any{"k": "5"}},
				"2": {"id": "2", "a": "-1000000", "b": "-1000000", "s": map[string]any{"t": "-1000"},
					"m": map[string]any{"k": "-7"}},
			}
			if diff := cmp.Diff(want, storedNested(t, srv, table)); diff != "" {
				t.Errorf("stored rows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOtherZoneIntoNTZRefusedAsAWhole(t *testing.T) {
	const ny = "America/New_York"
	cases := []struct {
		name           string
		bz, sz, lz, mz string
		column         string // as the error names it
	}{
		{"column", ny, "", "", "", `"b"`},
		{"struct field", "", ny, "", "", "s"},
		{"array element", "", "", ny, "", "l"},
		{"map value", "", "", "", "+05:30", "m"},
	}
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			const table = "main.default.ntz_ny"
			createTable(t, srv, table, ntzZoneDDL)
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			for _, c := range cases {
				rec := ntzBatch(t, mem, c.bz, c.sz, c.lz, c.mz)
				res, err := w.SendBatch(testCtx(t), rec)
				cerr := w.CheckSchema(testCtx(t), rec.Schema())
				rec.Release()
				zone := ny
				if c.mz != "" {
					zone = c.mz
				}
				t.Logf("%s: %v", c.name, err)
				for what, e := range map[string]error{"SendBatch": err, "CheckSchema": cerr} {
					if e == nil || core.KindOf(e) != core.KindConversion {
						t.Errorf("%s: %s = %v; want a ConversionError", c.name, what, e)
						continue
					}
					for _, s := range []string{c.column, `time zone "` + zone + `"`, "TIMESTAMP_NTZ", "tz_localize(None)", "replace_time_zone(None)", "local_timestamp", "make the column TIMESTAMP"} {
						if !strings.Contains(e.Error(), s) {
							t.Errorf("%s: %s error %q lacks %q", c.name, what, e, s)
						}
					}
				}
				if res == nil || !res.FailedAsWhole() || res.FailedCount != 2 {
					t.Errorf("%s: result %+v; want both rows failed as a whole", c.name, res)
				}
			}
			if n := len(srv.Rows(table)); n != 0 {
				t.Errorf("%d rows stored, want none", n)
			}
		})
	}
}
