package tests_go

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// With transport protobuf a derived descriptor takes each column's
// optionality from the table's columns in Unity Catalog (read once per
// Wrapper): the service wants it to match the table's, whatever the Arrow
// nullability says.

// nullableSchema is eventSchema's columns, every one nullable (pandas,
// Parquet).
var nullableSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// nullableBatch has ids first..first+n-1 (nullable schema), the id of the
// rows in nullIDs null.
func nullableBatch(first int64, n int, nullIDs ...int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, nullableSchema)
	defer b.Release()
	ids := b.Field(0).(*array.Int64Builder)
	for i := range n {
		if containsInt(nullIDs, i) {
			ids.AppendNull()
		} else {
			ids.Append(first + int64(i))
		}
		b.Field(1).(*array.StringBuilder).Append("n")
		b.Field(2).(*array.Float64Builder).Append(float64(i))
	}
	return b.NewRecordBatch()
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// catalogFront serves srv's workspace, counting the Unity Catalog table
// lookups; lookup, when set, answers them instead of srv.
func catalogFront(t *testing.T, srv *zerobuslocal.Server, lookup http.HandlerFunc) (string, *atomic.Int32) {
	t.Helper()
	ws, err := url.Parse(srv.WorkspaceURL())
	if err != nil {
		t.Fatal(err)
	}
	var lookups atomic.Int32
	fwd := httputil.NewSingleHostReverseProxy(ws)
	front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, zerobuslocal.UnityCatalogTablesPath) {
			lookups.Add(1)
			if lookup != nil {
				lookup(rw, r)
				return
			}
		}
		fwd.ServeHTTP(rw, r)
	}))
	t.Cleanup(front.Close)
	return front.URL, &lookups
}

// schemaRefused asserts err is the server's refusal of the stream's
// descriptor (SCHEMA_VALIDATION_FAILED) naming column.
func schemaRefused(t *testing.T, err error, column string) {
	t.Helper()
	var te *core.TransmissionError
	if !errors.As(err, &te) || core.DetailsOf(err).Reason != zerobuslocal.ReasonSchemaValidationFailed || !strings.Contains(err.Error(), `"`+column+`"`) {
		t.Fatalf("error %v (%T), want the server's schema validation naming %q", err, err, column)
	}
}

// (1) Spark: a NOT NULL Arrow id into a table whose id is nullable is
// stored (the descriptor's id is optional, as the table's), with
// all_fields_optional or not; CheckSchema agrees; one catalog read serves
// every schema of the Wrapper; the debug descriptor is the one sent.
func TestProtobufTakesNullableFromTheTable(t *testing.T) {
	for _, allOptional := range []bool{false, true} {
		srv := startServer(t, zerobuslocal.Options{})
		const table = "main.default.pb_nullable_id"
		createTable(t, srv, table, "id BIGINT, name STRING, score DOUBLE")
		cfg := serverConfig(srv, table)
		cfg.AllFieldsOptional = allOptional
		var lookups *atomic.Int32
		cfg.UnityCatalogURL, lookups = catalogFront(t, srv, nil)
		dir := t.TempDir()
		cfg.DebugProtobufEnabled, cfg.DebugOutputDir = true, dir
		w := newWrapper(t, cfg)
		if err := w.CheckSchema(testCtx(t), eventSchema); err != nil {
			t.Fatalf("all optional %v: CheckSchema: %v", allOptional, err)
		}
		rec := eventBatch(memory.DefaultAllocator, 0, 20) // id NOT NULL in Arrow
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		if err != nil || res.SuccessfulCount != 20 {
			t.Fatalf("all optional %v: SendBatch: %v %v", allOptional, res, err)
		}
		// A second schema (all nullable) of the same Wrapper: no new lookup.
		rec = nullableBatch(100, 5)
		res, err = w.SendBatch(testCtx(t), rec)
		rec.Release()
		if err != nil || res.SuccessfulCount != 5 {
			t.Fatalf("all optional %v: nullable batch: %v %v", allOptional, res, err)
		}
		ids := storedIDs(t, srv, table)
		if len(ids) != 25 || ids[0] != 1 || ids[19] != 1 || ids[104] != 1 {
			t.Fatalf("all optional %v: stored ids %v, want 0..19 and 100..104 once", allOptional, ids)
		}
		if n := lookups.Load(); n != 1 {
			t.Fatalf("all optional %v: %d catalog lookups, want 1 per Wrapper", allOptional, n)
		}
		if err := w.Close(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		desc, recs, err := core.ReadDebugProtoFile(filepath.Join(dir, "zerobus", "proto", table+".proto"))
		if err != nil || len(recs) == 0 {
			t.Fatalf("debug file: %d records, %v", len(recs), err)
		}
		if f := desc.GetField()[0]; f.GetName() != "id" || f.GetLabel() != descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL {
			t.Fatalf("all optional %v: debug descriptor's first field %v, want id optional", allOptional, f)
		}
	}
}

// (2) pandas: an all-nullable batch into a table with a NOT NULL id is
// stored (the descriptor's id is required, as the table's, even with
// all_fields_optional), and a row whose id is null fails alone, naming the
// column; the other rows are stored.
func TestProtobufTakesNotNullFromTheTable(t *testing.T) {
	for _, allOptional := range []bool{false, true} {
		srv := startServer(t, zerobuslocal.Options{})
		const table = "main.default.pb_not_null_id"
		createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, score DOUBLE")
		cfg := serverConfig(srv, table)
		cfg.AllFieldsOptional = allOptional
		w := newWrapper(t, cfg)
		if err := w.CheckSchema(testCtx(t), nullableSchema); err != nil {
			t.Fatalf("all optional %v: CheckSchema: %v", allOptional, err)
		}
		rec := nullableBatch(0, 10, 4)
		res, err := w.SendBatch(testCtx(t), rec)
		rec.Release()
		checkInvariant(t, res, 10)
		if res.SuccessfulCount != 9 || res.NotWrittenCount != 1 || len(res.FailedRows) != 1 {
			t.Fatalf("all optional %v: %v (%v), want 9 stored and row 4 not written", allOptional, res, err)
		}
		fr := res.FailedRows[0]
		var ce *core.ConversionError
		if fr.Index != 4 || fr.State != core.RowNotWritten || !errors.As(fr.Err, &ce) || ce.Column != "id" || !strings.Contains(fr.Err.Error(), "NOT NULL") {
			t.Fatalf("all optional %v: failed row %+v, want row 4 not written, a ConversionError naming id and NOT NULL", allOptional, fr)
		}
		ids := storedIDs(t, srv, table)
		if len(ids) != 9 || ids[4] != 0 || ids[0] != 1 || ids[9] != 1 {
			t.Fatalf("all optional %v: stored ids %v, want 0..9 but 4", allOptional, ids)
		}
	}
}

// (3) When the catalog cannot be read (no workspace URL, the lookup
// refused, the catalog failing), the descriptor follows the batch's schema
// as it always did: a NOT NULL Arrow id into a nullable table column is
// refused by the server naming it, a batch that matches is stored, and no
// send fails for the catalog. While the catalog fails in a way that may
// pass (502), the refusal is no verdict on the batch: the error is the
// catalog's, retryable, naming what the server refused, and the schema's
// next use reads the catalog again (s14 review-faults 2).
func TestProtobufWithoutTheCatalogKeepsTheBatchNullability(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int // the catalog's answer; 0: no workspace URL
		want   int32
	}{
		{"no workspace URL", 0, 0},
		{"refused", http.StatusForbidden, 1},
		{"not found", http.StatusNotFound, 2},     // asked again for each new schema (the table may appear)
		{"unavailable", http.StatusBadGateway, 3}, // a transient failure: asked again after the refusal, and for the next schema
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, zerobuslocal.Options{})
			const table = "main.default.pb_no_catalog"
			createTable(t, srv, table, "id BIGINT, name STRING, score DOUBLE")
			cfg := serverConfig(srv, table)
			var opts []core.Option
			lookups := &atomic.Int32{}
			if tc.status == 0 {
				cfg.UnityCatalogURL, cfg.ClientID, cfg.ClientSecret = "", "", ""
				opts = append(opts, core.WithHeadersProvider(func(context.Context) (map[string]string, error) {
					return map[string]string{"authorization": "Bearer " + srv.IssueToken(table, time.Hour)}, nil
				}))
			} else {
				cfg.UnityCatalogURL, lookups = catalogFront(t, srv, func(rw http.ResponseWriter, _ *http.Request) {
					http.Error(rw, `{"error_code":"NOPE","message":"no"}`, tc.status)
				})
			}
			w := newWrapper(t, cfg, opts...)
			rec := eventBatch(memory.DefaultAllocator, 0, 5) // id NOT NULL in Arrow
			res, err := w.SendBatch(testCtx(t), rec)
			rec.Release()
			refused := func(err error) {
				t.Helper()
				if tc.status != http.StatusBadGateway {
					schemaRefused(t, err, "id")
					return
				}
				if core.KindOf(err) != core.KindConnection || !core.IsRetryable(err) || !strings.Contains(err.Error(), `rejected the stream (INVALID_ARGUMENT)`) || !strings.Contains(err.Error(), `"id"`) {
					t.Fatalf("error %v (%T), want the catalog's retryable error naming the refusal of %q", err, err, "id")
				}
			}
			refused(err)
			checkInvariant(t, res, 5)
			refused(w.CheckSchema(testCtx(t), eventSchema))
			rec = nullableBatch(100, 5)
			res, err = w.SendBatch(testCtx(t), rec)
			rec.Release()
			if err != nil || res.SuccessfulCount != 5 {
				t.Fatalf("matching batch: %v %v", res, err)
			}
			if ids := storedIDs(t, srv, table); len(ids) != 5 || ids[100] != 1 || ids[104] != 1 {
				t.Fatalf("stored ids %v, want 100..104", ids)
			}
			if n := lookups.Load(); n != tc.want {
				t.Fatalf("%d catalog lookups, want %d", n, tc.want)
			}
		})
	}
}

// (4) A descriptor given with WithDescriptor is sent as it is: its
// required id is refused by a table whose id is nullable, and the catalog
// is not asked.
func TestProtobufWithDescriptorIsUntouched(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.pb_given_descriptor"
	createTable(t, srv, table, "id BIGINT, name STRING, score DOUBLE")
	cfg := serverConfig(srv, table)
	var lookups *atomic.Int32
	cfg.UnityCatalogURL, lookups = catalogFront(t, srv, nil)
	label := func(l descriptorpb.FieldDescriptorProto_Label) *descriptorpb.FieldDescriptorProto_Label { return &l }
	desc := &descriptorpb.DescriptorProto{
		Name: proto.String("Given"),
		Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("id"), Number: proto.Int32(1), Label: label(descriptorpb.FieldDescriptorProto_LABEL_REQUIRED), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()},
			{Name: proto.String("name"), Number: proto.Int32(2), Label: label(descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
			{Name: proto.String("score"), Number: proto.Int32(3), Label: label(descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL), Type: descriptorpb.FieldDescriptorProto_TYPE_DOUBLE.Enum()},
		},
	}
	w := newWrapper(t, cfg, core.WithDescriptor(desc))
	rec := nullableBatch(0, 5)
	res, err := w.SendBatch(testCtx(t), rec)
	rec.Release()
	schemaRefused(t, err, "id")
	checkInvariant(t, res, 5)
	if n := lookups.Load(); n != 0 || len(srv.Rows(table)) != 0 {
		t.Fatalf("%d catalog lookups, %d rows stored; want none", n, len(srv.Rows(table)))
	}
}

// A schema with a column protobuf cannot take fails as it always did
// (a ConversionError naming it), without asking the catalog.
func TestProtobufUnconvertibleSchemaDoesNotAskTheCatalog(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.pb_unconvertible"
	createTable(t, srv, table, "id BIGINT")
	cfg := serverConfig(srv, table)
	var lookups *atomic.Int32
	cfg.UnityCatalogURL, lookups = catalogFront(t, srv, nil)
	w := newWrapper(t, cfg)
	bad := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "gap", Type: arrow.FixedWidthTypes.MonthInterval, Nullable: true}}, nil) // (a null-type column asks the catalog for its type)
	var ce *core.ConversionError
	if err := w.CheckSchema(testCtx(t), bad); !errors.As(err, &ce) || !strings.Contains(err.Error(), `"gap"`) {
		t.Fatalf("CheckSchema: %v, want a ConversionError naming gap", err)
	}
	if n := lookups.Load(); n != 0 {
		t.Fatalf("%d catalog lookups, want none", n)
	}
}
