package tests_go

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// VARIANT text at the edges of the encoding, on both transports, by Spark's
// parse_json rule: numbers with more significant digits than DECIMAL(38)
// holds (arrow-go's parser panicked on some: the row failed with "index out
// of range") are stored as DOUBLEs, and so are numbers with an exponent;
// numbers outside the DOUBLE range are the DOUBLE ±Infinity (they failed
// their row), which the local server's reader writes as Spark's to_json
// does ("Infinity"); 1000 objects and arrays open at once are stored
// (refused past 100 before), 1001 fail their row alone, naming the depth and
// the limit; a \u escape of a lone UTF-16 surrogate fails its row alone
// (it was stored as the text over protobuf and as U+FFFD over Flight), a
// full pair is the character. The same rows fail with the same reasons on
// both transports, and the other rows are stored with the same values: the
// protobuf path stores the text as sent (which the service parses), Flight
// the text the local server reads from the encoded value, as to_json writes
// it; both decode to the values sent (see variantValue).
func TestVariantNumbersAndDepthOnBothTransports(t *testing.T) {
	nest := func(n int, inner string) string { return strings.Repeat("[", n) + inner + strings.Repeat("]", n) }
	docs := []string{
		`123456789012345678901234567890123456789`,
		`{"p": 0.123456789012345678901234567890123456789, "q": -1234567890123456789012345678901234567890.5}`,
		`[1e-05, 2.5E+3, 12345678901234567890123456789012345678]`,
		nest(1000, "7"),
		nest(1001, "7"),
		`{"big": 1e400}`,
		`{"ok": 1.50}`,
		`["\ud83d\ude00", {"\uD83D\uDE00": "\u00e9"}]`,
		`{"a": "\ud800"}`,
		`{"\udc00x": 1}`,
		`[-1E+400, 1` + strings.Repeat("0", 400) + `, 1e-400]`,
		nest(999, `{"k": "v"}`),
		nest(1000, `[]`),
	}
	bad := map[int]string{
		4:  "VARIANT value: JSON nested 1001 levels deep (objects and arrays inside each other), over the limit of 1000; flatten it",
		8:  `VARIANT value: the string escape \ud800 is a lone high surrogate`,
		9:  `VARIANT value: the string escape \udc00 is a lone low surrogate`,
		12: "VARIANT value: JSON nested 1001 levels deep (objects and arrays inside each other), over the limit of 1000; flatten it",
	}
	// What the local server shows for a row sent over Flight, where Go's
	// JSON cannot read the text sent (numbers past float64).
	flightText := map[int]string{
		5:  `{"big":"Infinity"}`,
		7:  `["😀",{"😀":"é"}]`,
		10: `["-Infinity","Infinity",0]`,
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
				t.Fatalf("result %v, want rows %v alone not written", res, bad)
			}
			stored := map[int64]string{}
			for _, r := range srv.Rows(table) {
				id, _ := field(r.Message, "id")
				v, _ := field(r.Message, "doc")
				stored[id.Int()] = v.String()
			}
			for i, d := range docs {
				got, ok := stored[int64(i)]
				switch {
				case bad[i] != "":
					if ok {
						t.Errorf("row %d stored, want it not written", i)
					}
					continue
				case !ok:
					t.Errorf("row %d not stored", i)
					continue
				case transport == core.TransportProtobuf:
					if got != d { // the PROTO record carries the text, stored as received
						t.Errorf("row %d stored %.200q, want the text sent %.200q", i, got, d)
					}
				case flightText[i] != "":
					if got != flightText[i] {
						t.Errorf("row %d stored %q, want %q", i, got, flightText[i])
					}
				}
				if x, want := variantValue(t, got), variantValue(t, d); !reflect.DeepEqual(x, want) {
					t.Errorf("row %d stored %.200v, want %.200v", i, x, want)
				}
			}
		})
	}
}

// variantValue decodes VARIANT JSON text as Go's JSON does, but with
// numbers as the float64 nearest them, ±Inf past the range (the DOUBLE a
// long number is stored as is the float64 nearest it; one past the range
// is ±Infinity), and the strings "Infinity" and "-Infinity", which to_json
// writes for a DOUBLE ±Infinity, as ±Inf too.
func variantValue(t *testing.T, text string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		t.Fatalf("%.200q is not JSON: %v", text, err)
	}
	var norm func(x any) any
	norm = func(x any) any {
		switch v := x.(type) {
		case json.Number:
			f, _ := strconv.ParseFloat(string(v), 64) // ±Inf past the range
			return f
		case string:
			switch v {
			case "Infinity":
				return math.Inf(1)
			case "-Infinity":
				return math.Inf(-1)
			}
		case []any:
			for i := range v {
				v[i] = norm(v[i])
			}
		case map[string]any:
			for k := range v {
				v[k] = norm(v[k])
			}
		}
		return x
	}
	return norm(x)
}
