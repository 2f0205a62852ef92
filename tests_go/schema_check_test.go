package tests_go

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// badSchema has a null-type column (Spark's NullType: a bare lit(None)) and
// an interval (Spark's CalendarIntervalType) next to a good one.
var badSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "gap", Type: arrow.Null, Nullable: true},
	{Name: "every", Type: arrow.FixedWidthTypes.MonthDayNanoInterval, Nullable: true},
}, nil)

func TestCheckSchemaNamesEachColumnWithoutSending(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.check_proto"
	w := newWrapper(t, serverConfig(srv, table))
	err := w.CheckSchema(testCtx(t), badSchema)
	var ce *core.ConversionError
	if !errors.As(err, &ce) || ce.Row != -1 || core.KindOf(err) != core.KindConversion {
		t.Fatalf("CheckSchema: %v, want a whole-batch *ConversionError", err)
	}
	for _, s := range []string{`column "gap" (null)`, "cast it to the table's type", `column "every" (month_day_nano_interval)`, "interval types"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	if strings.Contains(err.Error(), `"id"`) {
		t.Errorf("error %q names the good column", err)
	}
	// The same error SendBatch gives a batch of that schema with rows.
	rec := array.NewRecordBatch(badSchema, []arrow.Array{
		array.NewInt64Builder(memory.DefaultAllocator).NewArray(),
		array.NewNull(0),
		array.NewMonthDayNanoIntervalBuilder(memory.DefaultAllocator).NewArray(),
	}, 0)
	defer rec.Release()
	// An empty batch stays a success whatever its schema (the original's
	// rule); the check is the explicit call.
	if res, err := w.SendBatch(testCtx(t), rec); err != nil || !res.Success || res.TotalRows != 0 {
		t.Fatalf("empty batch: %v %v", res, err)
	}
	if err := w.CheckSchema(testCtx(t), eventSchema); err != nil {
		t.Fatalf("CheckSchema(eventSchema): %v", err)
	}
	wide := make([]arrow.Field, core.MaxColumns+1)
	for i := range wide {
		wide[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: arrow.PrimitiveTypes.Int32}
	}
	if err := w.CheckSchema(testCtx(t), arrow.NewSchema(wide, nil)); err == nil || !strings.Contains(err.Error(), "at most 2000") {
		t.Fatalf("CheckSchema of %d columns: %v", len(wide), err)
	}
	// The good schema's stream was opened (the server checked its descriptor
	// against the table); no record was sent. The send then uses it.
	if st := srv.Stats(); st.StreamsCreated != 1 || st.RecordsStored != 0 {
		t.Fatalf("the check: %+v, want one stream and no record", st)
	}
	good := eventBatch(memory.DefaultAllocator, 0, 50)
	defer good.Release()
	if _, err := w.SendBatch(testCtx(t), good); err != nil {
		t.Fatal(err)
	}
	if got := storedIDs(t, srv, table); len(got) != 50 {
		t.Fatalf("stored %d ids, want 50", len(got))
	}
	if st := srv.Stats(); st.StreamsCreated != 1 {
		t.Fatalf("streams created %d, want the check's one, reused", st.StreamsCreated)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := w.CheckSchema(testCtx(t), eventSchema); !errors.Is(err, core.ErrClosed) {
		t.Fatalf("CheckSchema after Close: %v", err)
	}
}

// Over protobuf, with the table's columns read from Unity Catalog, the check
// names a column the table lacks before any stream opens, as over Flight
// (a *SchemaMismatchError); with the catalog unread, the server checks the
// stream's descriptor and its refusal is the error.
func TestCheckSchemaProtobufTheServerChecksTheTable(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.check_proto_table"
	createTable(t, srv, table, "id BIGINT NOT NULL, name STRING")
	err := newWrapper(t, serverConfig(srv, table)).CheckSchema(testCtx(t), eventSchema) // score is not a column of the table
	var sm *core.SchemaMismatchError
	if !errors.As(err, &sm) || core.KindOf(err) != core.KindConversion || !reflect.DeepEqual(core.DetailsOf(err).Columns, []string{"score"}) {
		t.Fatalf("CheckSchema with the catalog read: %v, want a *SchemaMismatchError naming score", err)
	}
	if st := srv.Stats(); st.StreamsCreated+st.StreamsRejected != 0 {
		t.Fatalf("the check with the catalog read asked for a stream: %+v", st)
	}
	front, _ := catalogFront(t, srv, func(rw http.ResponseWriter, _ *http.Request) {
		http.Error(rw, "catalog unavailable in this test", http.StatusForbidden)
	})
	unread := serverConfig(srv, table)
	unread.UnityCatalogURL = front
	w := newWrapper(t, unread)
	err = w.CheckSchema(testCtx(t), eventSchema)
	var te *core.TransmissionError
	if !errors.As(err, &te) || core.IsRetryable(err) {
		t.Fatalf("CheckSchema: %v, want a non-retryable *TransmissionError", err)
	}
	d := core.DetailsOf(err)
	if d.Reason != zerobuslocal.ReasonSchemaValidationFailed || !strings.Contains(err.Error(), `"score"`) {
		t.Fatalf("CheckSchema: %v (details %+v), want the server's schema validation naming score", err, d)
	}
	if st := srv.Stats(); st.RecordsStored != 0 || st.StreamsCreated != 0 {
		t.Fatalf("the check: %+v", st)
	}
	// With the writer disabled the check is local (no stream, no credentials).
	cfg := serverConfig(srv, table)
	cfg.WriterDisabled, cfg.DebugArrowEnabled, cfg.DebugOutputDir = true, true, t.TempDir()
	if err := newWrapper(t, cfg).CheckSchema(testCtx(t), eventSchema); err != nil {
		t.Fatalf("CheckSchema with the writer disabled: %v", err)
	}
}

func TestCheckSchemaFlightNamesColumnsTheTableLacks(t *testing.T) {
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.check_flight"
	createTable(t, srv, table, "id BIGINT NOT NULL, name STRING, score DOUBLE")
	w := newWrapper(t, flightConfig(srv, table))
	extra := arrow.NewSchema(append(eventSchema.Fields(), arrow.Field{Name: "region", Type: arrow.BinaryTypes.String, Nullable: true}), nil)
	err := w.CheckSchema(testCtx(t), extra)
	var sm *core.SchemaMismatchError
	if !errors.As(err, &sm) || core.KindOf(err) != core.KindConversion {
		t.Fatalf("CheckSchema: %v, want a *SchemaMismatchError", err)
	}
	if len(sm.Columns) != 1 || sm.Columns[0].Column != "region" || sm.Columns[0].BatchType != "utf8" {
		t.Fatalf("mismatches %+v, want region (utf8) alone", sm.Columns)
	}
	if err := w.CheckSchema(testCtx(t), eventSchema); err != nil {
		t.Fatalf("CheckSchema(eventSchema): %v", err)
	}
	if st := srv.Stats(); st.StreamsCreated != 0 || st.MessagesReceived != 0 {
		t.Fatalf("the check sent something: %+v", st)
	}
	good := eventBatch(memory.DefaultAllocator, 0, 20)
	defer good.Release()
	if _, err := w.SendBatch(testCtx(t), good); err != nil {
		t.Fatal(err)
	}
	if got := storedIDs(t, srv, table); len(got) != 20 {
		t.Fatalf("stored %d ids, want 20", len(got))
	}
}
