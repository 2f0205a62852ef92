package tests_go

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// VARIANT text at the edges of the encoding, on both transports: numbers
// with more significant digits than DECIMAL(38) holds (arrow-go's parser
// panicked on some: the row failed with "index out of range") are stored as
// DOUBLEs, as Spark's parse_json stores them, and so are numbers with an
// exponent; JSON nested deeper than the readers' 100 levels fails its row
// alone, naming the depth and the limit (it was encoded over Flight, where
// the local server then refused the whole batch, and stored over
// protobuf); a number outside the DOUBLE range fails its row naming it.
// The same rows fail with the same reasons on both transports, and the
// other rows are stored with the same values.
func TestVariantNumbersAndDepthOnBothTransports(t *testing.T) {
	nest := func(n int) string { return strings.Repeat("[", n) + "7" + strings.Repeat("]", n) }
	docs := []string{
		`123456789012345678901234567890123456789`,
		`{"p": 0.123456789012345678901234567890123456789, "q": -1234567890123456789012345678901234567890.5}`,
		`[1e-05, 2.5E+3, 12345678901234567890123456789012345678]`,
		nest(100),
		nest(101),
		`{"big": 1e400}`,
		`{"ok": 1.50}`,
	}
	bad := map[int]string{
		4: "VARIANT value: JSON nested 101 levels deep (objects and arrays inside each other), over the limit of 100; flatten it",
		5: "VARIANT value: the number 1e400 is outside the range of a DOUBLE",
	}
	reasons := map[string]map[int]string{}
	t.Cleanup(func() {
		if pb, fl := reasons[core.TransportProtobuf], reasons[core.TransportArrowFlight]; !t.Failed() && !reflect.DeepEqual(pb, fl) {
			t.Errorf("failed rows over protobuf %q, over Flight %q: want the same rows and reasons", pb, fl)
		}
	})
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(transport, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			table := "main.default.variant_edges_" + transport
			createTable(t, srv, table, "id BIGINT NOT NULL, doc VARIANT")
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			schema := arrow.NewSchema([]arrow.Field{
				{Name: "id", Type: arrow.PrimitiveTypes.Int64},
				{Name: "doc", Type: arrow.BinaryTypes.String, Nullable: true},
			}, nil)
			b := array.NewRecordBuilder(mem, schema)
			defer b.Release()
			for i, d := range docs {
				b.Field(0).(*array.Int64Builder).Append(int64(i))
				b.Field(1).(*array.StringBuilder).Append(d)
			}
			rec := b.NewRecordBatch()
			defer rec.Release()
			cfg := serverConfig(srv, table)
			cfg.Transport = transport
			w := newWrapper(t, cfg)
			res, _ := w.SendBatch(testCtx(t), rec)
			checkInvariant(t, res, len(docs))
			reasons[transport] = map[int]string{}
			for _, fr := range res.FailedRows {
				var ce *core.ConversionError
				if bad[fr.Index] == "" || fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) || ce.Row != fr.Index ||
					ce.Column != "doc" || !strings.HasPrefix(ce.Reason, bad[fr.Index]) {
					t.Fatalf("row %d: %v (%v), want a not-written ConversionError naming column doc and %q", fr.Index, fr.Err, fr.State, bad[fr.Index])
				}
				reasons[transport][fr.Index] = ce.Reason
			}
			if res.SuccessfulCount != len(docs)-len(bad) || len(res.FailedRows) != len(bad) {
				t.Fatalf("result %v, want rows 4 and 5 alone not written", res)
			}
			stored := map[int64]any{}
			for _, r := range srv.Rows(table) {
				id, _ := field(r.Message, "id")
				v, _ := field(r.Message, "doc")
				var x any
				if err := json.Unmarshal([]byte(v.String()), &x); err != nil {
					t.Fatalf("row %d stored %q, not JSON: %v", id.Int(), v.String(), err)
				}
				stored[id.Int()] = x
			}
			for i, d := range docs {
				got, ok := stored[int64(i)]
				if bad[i] != "" {
					if ok {
						t.Errorf("row %d stored, want it not written", i)
					}
					continue
				}
				// Compared as JSON decodes them (numbers as float64): the
				// DOUBLE a long number is stored as is the float64 nearest it.
				var want any
				if err := json.Unmarshal([]byte(d), &want); err != nil {
					t.Fatal(err)
				}
				if !ok || !reflect.DeepEqual(got, want) {
					t.Errorf("row %d stored %.200v, want %.200v", i, got, want)
				}
			}
		})
	}
}
