package core_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestSendReaderEmptyOfAnySchema: a reader with no batches is sent as one
// empty batch of its schema, so that an unusable schema is reported as
// SendBatch reports it. arrow-go's record builder panics on some schemas a
// reader can declare (a dictionary of large strings, a list view of one);
// that panic ended the Python process. Each schema here gives what SendBatch
// of no rows gives, success with 0 rows, on both transports.
func TestSendReaderEmptyOfAnySchema(t *testing.T) {
	dictLarge := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.LargeString}
	schemas := map[string]arrow.DataType{
		"dict_large_string": dictLarge,
		"list_view_of_dict": arrow.ListViewOf(dictLarge),
		"large_list_view":   arrow.LargeListViewOf(arrow.PrimitiveTypes.Int64),
		"struct_of_dict":    arrow.StructOf(arrow.Field{Name: "s", Type: dictLarge, Nullable: true}),
		"map_of_dict":       arrow.MapOf(arrow.BinaryTypes.String, dictLarge),
		"run_end_encoded":   arrow.RunEndEncodedOf(arrow.PrimitiveTypes.Int32, arrow.BinaryTypes.String),
		"string_view":       arrow.BinaryTypes.StringView,
		"fixed_size_list":   arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Int32),
		"uuid_extension":    extensions.NewUUIDType(),
		"dict_of_list":      &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.ListOf(arrow.BinaryTypes.String)},
		"large_string":      arrow.BinaryTypes.LargeString,
	}
	srv := localServer(t)
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		for name, dt := range schemas {
			t.Run(transport+"/"+name, func(t *testing.T) {
				cfg := localConfig(srv, fmt.Sprintf("main.empty.%s_%s", transport, name))
				cfg.Transport = transport
				w, err := core.New(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer closeWrapper(t, w)
				schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "v", Type: dt, Nullable: true}}, nil)
				rdr, err := array.NewRecordReader(schema, nil)
				if err != nil {
					t.Fatal(err)
				}
				defer rdr.Release()
				res, err := w.SendReader(context.Background(), rdr)
				if res == nil {
					t.Fatalf("SendReader = nil result, %v", err)
				}
				if res.TotalRows != 0 || res.FailedCount != 0 {
					t.Errorf("result = %v; want 0 rows", res)
				}
				if err != nil || !res.Success {
					t.Errorf("SendReader = %v, %v; want success with 0 rows, as SendBatch of no rows", res, err)
				}
			})
		}
	}
}
