//go:build cgo

package pybind

import (
	"encoding/json"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// tableSchemaOf runs TableSchemaAsync on a Wrapper of configJSON and
// imports what ExportSchema exports, as Python does: the schema, or nil and
// the call's error, which ExportSchema returns then (exporting nothing).
func tableSchemaOf(t *testing.T, configJSON string) (*arrow.Schema, error) {
	t.Helper()
	w, err := NewWrapper(configJSON)
	if err != nil {
		t.Fatal(err)
	}
	defer w.w.Close(t.Context())
	op := w.TableSchemaAsync(10_000)
	if !op.Wait(0) {
		t.Fatal("Wait(0) returned before the call did")
	}
	cs := new(cdata.CArrowArrayStream)
	if err := op.ExportSchema(int64(uintptr(unsafe.Pointer(cs)))); err != nil {
		if err != op.Err() { //nolint:errorlint // the very error
			t.Fatalf("ExportSchema: %v; Err: %v", err, op.Err())
		}
		if *cs != (cdata.CArrowArrayStream{}) {
			t.Error("ExportSchema failed and exported a stream")
		}
		return nil, err
	}
	imported, err := cdata.ImportCRecordReader(cs, nil)
	if err != nil {
		t.Fatal(err)
	}
	rdr := imported.(array.RecordReader)
	defer rdr.Release()
	if rdr.Next() {
		t.Error("the exported stream has a batch; want none")
	}
	return rdr.Schema(), nil
}

// TableSchemaAsync exports the table's schema, as Unity Catalog describes
// it, through the Arrow C stream interface: every Unity Catalog type of
// the table with its Arrow type, NOT NULL columns not nullable, a
// DECIMAL(10,2) marked with its precision and scale, nested types with
// their fields' nullability.
func TestTableSchemaAsyncExports(t *testing.T) {
	s := startLocal(t)
	const table = "main.default.pybind_table_schema"
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, name STRING, price DECIMAL(10,2) NOT NULL, " +
		"at TIMESTAMP, ntz TIMESTAMP_NTZ, day DATE, ok BOOLEAN, i INT, small SMALLINT, tiny TINYINT, f FLOAT, " +
		"d DOUBLE, raw BINARY, tags ARRAY<STRING>, attrs MAP<STRING,BIGINT>, loc STRUCT<lat:DOUBLE,lon:DOUBLE>")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	got, err := tableSchemaOf(t, localConfig(s, table))
	if err != nil {
		t.Fatal(err)
	}
	dec := arrow.NewMetadata([]string{core.DecimalMetadataKey}, []string{"10,2"})
	want := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "price", Type: arrow.BinaryTypes.LargeString, Metadata: dec},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "ntz", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "i", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "small", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "tiny", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "d", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "raw", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
		{Name: "tags", Type: arrow.ListOfField(arrow.Field{Name: "element", Type: arrow.BinaryTypes.LargeString, Nullable: true}), Nullable: true},
		{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.LargeString, arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "loc", Type: arrow.StructOf(
			arrow.Field{Name: "lat", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
			arrow.Field{Name: "lon", Type: arrow.PrimitiveTypes.Float64, Nullable: true}), Nullable: true},
	}, nil)
	if !got.Equal(want) {
		t.Errorf("schema:\n%v\nwant:\n%v", got, want)
	}
	for i, f := range want.Fields() {
		if g := got.Field(i); !g.Metadata.Equal(f.Metadata) {
			t.Errorf("column %s metadata = %v, want %v", f.Name, g.Metadata, f.Metadata)
		}
	}
}

// A table Unity Catalog does not know, and a wrapper with the writer
// disabled, export nothing: the error is core's ErrNoTableSchema, a
// configuration error naming the setting to check (Python raises it as a
// ConfigurationError with that key); a wrong secret is the credential
// error, without the secret.
func TestTableSchemaAsyncNone(t *testing.T) {
	s := startLocal(t)
	wantKey := func(what string, got *arrow.Schema, err error, key string) {
		t.Helper()
		if got != nil || err == nil || !strings.HasPrefix(err.Error(), `{"kind":"configuration"`) ||
			!strings.Contains(err.Error(), `"keys":["`+key+`"]`) || !strings.Contains(err.Error(), "main.default.pybind_no_such_table") {
			t.Errorf("%s: schema %v, err %v; want a configuration error naming the table, keys [%s]", what, got, err, key)
		}
	}
	got, err := tableSchemaOf(t, localConfig(s, "main.default.pybind_no_such_table"))
	wantKey("missing table", got, err, "table_name")
	var disabled map[string]any
	if err := json.Unmarshal([]byte(localConfig(s, "main.default.pybind_no_such_table")), &disabled); err != nil {
		t.Fatal(err)
	}
	disabled["zerobus_writer_disabled"] = true
	b, _ := json.Marshal(disabled)
	got, err = tableSchemaOf(t, string(b))
	wantKey("writer disabled", got, err, "zerobus_writer_disabled")

	const secret = "not-the-secret-4f9a2c"
	bad := map[string]any{"endpoint": s.Endpoint(), "table_name": "main.default.x", "unity_catalog_url": s.WorkspaceURL(),
		"client_id": s.ClientID(), "client_secret": secret}
	b, _ = json.Marshal(bad)
	got, err = tableSchemaOf(t, string(b))
	if got != nil || err == nil {
		t.Fatalf("wrong secret: schema %v, err %v; want an error", got, err)
	}
	if !strings.HasPrefix(err.Error(), `{"kind":"authentication"`) || strings.Contains(err.Error(), secret) {
		t.Errorf("wrong secret: err = %v; want kind authentication, without the secret", err)
	}
}
