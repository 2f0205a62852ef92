package convert

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/extensions"
)

// s24 uuidmap: a UUID MAP key that cannot be text (no table, or a table key
// other than STRING) was refused with the storage's "fixed_size_binary[16]:
// ... cast the key column", which is no step for UUIDs.
func TestS24UUIDKeyRefusalNamesUUIDs(t *testing.T) {
	for name, key := range map[string]arrow.Field{
		"metadata":   {Name: "key", Type: s22FSB16, Metadata: s22UUIDMeta},
		"registered": {Name: "key", Type: extensions.NewUUIDType()},
	} {
		batch := arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.MapOfWithMetadata(key.Type, key.Metadata, arrow.BinaryTypes.String, arrow.Metadata{}), Nullable: true}}, nil)
		for tname, table := range map[string]*arrow.Schema{
			"no table":   nil,
			"bigint key": arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.MapOf(arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.LargeString), Nullable: true}}, nil),
		} {
			opts := Options{}
			if table != nil {
				opts.TableType = TableTypes(table)
			}
			_, err := NewPlan(batch, opts)
			if err == nil || !strings.Contains(err.Error(), `"m.key" (arrow.uuid (fixed_size_binary[16])): `+UUIDKeyReason) {
				t.Errorf("%s, %s: %v, want the UUID key reason", name, tname, err)
			}
		}
		table := arrow.NewSchema([]arrow.Field{{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, arrow.BinaryTypes.LargeString), Nullable: true}}, nil)
		if _, err := NewPlan(batch, Options{TableType: TableTypes(table)}); err != nil {
			t.Errorf("%s into a STRING key: %v", name, err)
		}
	}
}
