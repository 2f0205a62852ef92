package convert

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// A timestamp with a time zone sent into a TIMESTAMP_NTZ column of the
// table (an Arrow timestamp without a zone in the catalog's schema), at the
// top level or in a STRUCT field, ARRAY element, MAP key or MAP value, follows
// one rule on both transports (the protobuf plan when the catalog gives the
// table's types, Options.TableType, and the Arrow Flight cast): a UTC zone
// (IsUTCZone) is sent as the instant's UTC wall clock, which is exactly the
// naive value; any other zone fails the batch, as storing a New York time as
// its UTC wall clock would silently shift it. A naive timestamp into a
// TIMESTAMP column (UTC) is sent as it is, taken as UTC, on both.

// ZonedIntoNTZ is the Code of a Problem (and of a Flight column mismatch)
// TimestampIntoTable refuses: a timestamp in a zone other than UTC into a
// TIMESTAMP_NTZ column, at the top level or nested. Programs and the Python
// package decide on it (core.ErrorDetails.Reason), never on the text.
const ZonedIntoNTZ = "ZONED_TIMESTAMP_INTO_NTZ"

// utcZones are the zone names, lower-cased, that are UTC: arrow-go's own
// ("UTC", "utc"), the IANA names linked to Etc/UTC and Etc/GMT (no
// daylight saving time), and RFC 3339's "Z".
var utcZones = map[string]bool{
	"utc": true, "etc/utc": true, "uct": true, "etc/uct": true,
	"universal": true, "etc/universal": true, "zulu": true, "etc/zulu": true, "z": true,
	"gmt": true, "etc/gmt": true, "gmt0": true, "etc/gmt0": true, "gmt+0": true, "gmt-0": true,
	"etc/gmt+0": true, "etc/gmt-0": true, "greenwich": true, "etc/greenwich": true,
}

// IsUTCZone reports whether the Arrow time zone tz is UTC: a name of
// utcZones in any case, or a zero offset ("+00:00", "-00:00", "+0000",
// "+00"). The empty zone (a naive timestamp) is not a zone: false.
func IsUTCZone(tz string) bool {
	if utcZones[strings.ToLower(tz)] {
		return true
	}
	if len(tz) < 3 || (tz[0] != '+' && tz[0] != '-') {
		return false
	}
	switch strings.ReplaceAll(tz[1:], ":", "") {
	case "00", "0000":
		return true
	}
	return false
}

// TimestampIntoTable returns "" when values of the batch's Arrow type from
// may go to the table's type to, else why not: a timestamp in a time zone
// other than UTC into a TIMESTAMP_NTZ (to a timestamp without a zone).
// Other types give "" (their own rules decide). Both transports call it.
func TimestampIntoTable(from, to arrow.DataType) string {
	f, ok := UnwrapType(from).(*arrow.TimestampType)
	if !ok {
		return ""
	}
	t, ok := UnwrapType(to).(*arrow.TimestampType)
	if !ok || f.TimeZone == "" || t.TimeZone != "" || IsUTCZone(f.TimeZone) {
		return ""
	}
	return fmt.Sprintf("a timestamp in time zone %q cannot go to the table's TIMESTAMP_NTZ column: "+
		"storing its UTC wall clock would shift it; convert it to naive local time first "+
		"(pandas: s.dt.tz_localize(None), after s.dt.tz_convert(zone) for another zone's local time; "+
		"polars: s.dt.replace_time_zone(None); pyarrow: pc.local_timestamp(arr)), "+
		"give it zone UTC to store its UTC wall clock, or make the column TIMESTAMP", f.TimeZone)
}

// ZonedIntoNTZAnywhere reports whether a value of the batch's Arrow type
// from, or a STRUCT field, ARRAY element, MAP key or MAP value in it, is a
// timestamp TimestampIntoTable refuses for the table's type to: the
// column's Code is then ZonedIntoNTZ (other rules may refuse the column
// too). Struct fields are matched by name as MatchStruct matches them.
func ZonedIntoNTZAnywhere(from, to arrow.DataType) bool {
	from, to = UnwrapType(from), UnwrapType(to)
	if TimestampIntoTable(from, to) != "" {
		return true
	}
	switch t := to.(type) {
	case *arrow.StructType:
		f, ok := from.(*arrow.StructType)
		if !ok {
			return false
		}
		src, _ := MatchStruct(f, t)
		for i, tf := range t.Fields() {
			j := i
			if src != nil {
				j = src[i]
			}
			if j >= 0 && j < f.NumFields() && ZonedIntoNTZAnywhere(f.Field(j).Type, tf.Type) {
				return true
			}
		}
	case arrow.ListLikeType:
		if f, ok := from.(arrow.ListLikeType); ok {
			if fm, ok := from.(*arrow.MapType); ok {
				tm, ok := to.(*arrow.MapType)
				return ok && (ZonedIntoNTZAnywhere(fm.KeyType(), tm.KeyType()) || ZonedIntoNTZAnywhere(fm.ItemType(), tm.ItemType()))
			}
			return ZonedIntoNTZAnywhere(f.Elem(), t.Elem())
		}
	}
	return false
}
