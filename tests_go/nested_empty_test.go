package tests_go

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// An empty (not null) ARRAY or MAP in a NOT NULL field inside a STRUCT is a
// value: protobuf cannot tell it from a missing repeated field, so the local
// server must not refuse it as a missing NOT NULL field; both transports
// store both rows.
func TestEmptyListInNestedNotNullFieldIsStored(t *testing.T) {
	for _, transport := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		srv := startServer(t, zerobuslocal.Options{})
		const table = "main.default.empty_nested"
		createTable(t, srv, table, "id BIGINT NOT NULL, s STRUCT<tags: ARRAY<STRING> NOT NULL, kv: MAP<STRING,INT> NOT NULL>")
		cfg := serverConfig(srv, table)
		cfg.Transport = transport
		w := newWrapper(t, cfg)
		str := arrow.BinaryTypes.String
		schema := arrow.NewSchema([]arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64},
			{Name: "s", Type: arrow.StructOf(
				arrow.Field{Name: "tags", Type: arrow.ListOf(str), Nullable: true},
				arrow.Field{Name: "kv", Type: arrow.MapOf(str, arrow.PrimitiveTypes.Int32), Nullable: true}), Nullable: true},
		}, nil)
		rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(
			`[{"id": 1, "s": {"tags": ["a"], "kv": [{"key":"k","value":1}]}}, {"id": 2, "s": {"tags": [], "kv": []}}]`))
		if err != nil {
			t.Fatal(err)
		}
		res, err := w.SendBatch(testCtx(t), rec)
		if err != nil || res.SuccessfulCount != 2 {
			t.Fatalf("%s: %d of 2 rows succeeded (err %v, failed %v)", transport, res.SuccessfulCount, err, res.FailedRows)
		}
		if len(srv.Rows(table)) != 2 {
			t.Errorf("%s: %d rows stored, want 2", transport, len(srv.Rows(table)))
		}
		w.Close(testCtx(t))
	}
}
