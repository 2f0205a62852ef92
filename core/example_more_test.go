package core_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// exampleIDs builds a batch of one int64 column "id" holding ids.
func exampleIDs(ids ...int64) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues(ids, nil)
	return b.NewRecordBatch()
}

// Several batches in flight at once: SendBatchAsync returns at once with a
// future, the Wrapper pipelines the batches on one stream, and each future's
// Wait gives what SendBatch would have returned.
func ExampleWrapper_SendBatchAsync() {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.example_async")
	defer srv.Close()
	w, err := core.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(ctx)

	var futures []*core.SendFuture
	for b := int64(0); b < 3; b++ {
		rec := exampleIDs(10*b+1, 10*b+2)
		futures = append(futures, w.SendBatchAsync(ctx, rec))
		rec.Release() // the Wrapper holds its own reference until the send is resolved
	}
	for i, f := range futures {
		res, err := f.Wait(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("batch %d: %d/%d rows acknowledged\n", i+1, res.SuccessfulCount, res.TotalRows)
	}
	fmt.Println("stored:", srv.RecordCount("main.default.example_async"))
	// Output:
	// batch 1: 2/2 rows acknowledged
	// batch 2: 2/2 rows acknowledged
	// batch 3: 2/2 rows acknowledged
	// stored: 6
}

// A YAML config file: keys mirror the Config fields in snake_case, keys not
// given keep their defaults, and ${NAME} is replaced by the environment
// variable so secrets stay out of the file.
func ExampleLoadConfigYAML() {
	dir, err := os.MkdirTemp("", "zerobus-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "zerobus.yaml")
	yaml := `endpoint: https://1234567890.zerobus.us-west-2.cloud.databricks.com
unity_catalog_url: https://my-workspace.cloud.databricks.com
table_name: main.default.events
client_id: my-service-principal
client_secret: ${EXAMPLE_ZEROBUS_SECRET}
retry_max_attempts: 8
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		log.Fatal(err)
	}
	os.Setenv("EXAMPLE_ZEROBUS_SECRET", "s3cr3t-from-the-environment")
	defer os.Unsetenv("EXAMPLE_ZEROBUS_SECRET")

	cfg, err := core.LoadConfigYAML(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.TableName, cfg.RetryMaxAttempts, cfg.MaxInflightRequests)
	fmt.Println("secret from the environment:", cfg.ClientSecret == "s3cr3t-from-the-environment")
	fmt.Println("secret in the string form:", strings.Contains(fmt.Sprint(cfg), "s3cr3t"))
	fmt.Println("valid:", cfg.Validate() == nil)
	// Output:
	// main.default.events 8 1000
	// secret from the environment: true
	// secret in the string form: false
	// valid: true
}

// Errors carry typed details: errors.As finds the *ConversionError of a row
// that cannot be encoded (its row and column), and the *ConfigurationError
// listing every problem of a Config at once.
func ExampleConversionError() {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.example_errors_as")
	defer srv.Close()
	w, err := core.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(ctx)

	rec := people(memory.DefaultAllocator) // row 1 has a null in the non-nullable "name"
	defer rec.Release()
	res, _ := w.SendBatch(ctx, rec)
	for _, fr := range res.FailedRows {
		var ce *core.ConversionError
		if errors.As(fr.Err, &ce) {
			fmt.Printf("row %d: column %q cannot be converted\n", ce.Row, ce.Column)
		}
	}
	var anyConversion *core.ConversionError
	fmt.Println("the result's error is a conversion error:", errors.As(res.Err, &anyConversion))

	_, err = core.New(ctx, core.DefaultConfig()) // no endpoint, table or credentials
	var ce *core.ConfigurationError
	if errors.As(err, &ce) {
		fmt.Println("configuration problems in", fieldsOf(ce.Problems))
	}
	// Output:
	// row 1: column "name" cannot be converted
	// the result's error is a conversion error: true
	// configuration problems in [ClientID ClientSecret Endpoint TableName UnityCatalogURL]
}

// fieldsOf returns the sorted, distinct Field names of problems.
func fieldsOf(problems []core.ConfigProblem) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range problems {
		if !seen[p.Field] {
			seen[p.Field] = true
			out = append(out, p.Field)
		}
	}
	slices.Sort(out)
	return out
}

// Telemetry: pass your OpenTelemetry MeterProvider (here one with a manual
// reader) and read the zerobus.* metrics the sends recorded.
func ExampleWithMeterProvider() {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.example_metrics")
	defer srv.Close()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)
	w, err := core.New(ctx, cfg, core.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(ctx)

	rec := people(memory.DefaultAllocator) // 3 rows, one of which fails conversion
	defer rec.Release()
	w.SendBatch(ctx, rec)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && (m.Name == "zerobus.rows.sent" || m.Name == "zerobus.rows.failed") {
				total := int64(0)
				for _, p := range sum.DataPoints {
					total += p.Value
				}
				fmt.Println(m.Name, total)
			}
		}
	}
	// Unordered output:
	// zerobus.rows.sent 2
	// zerobus.rows.failed 1
}

// Many batches: read a Parquet file (the README's sample data) 10 rows at a
// time and send each batch, adding up the results. For batches in flight at
// once, see SendBatchAsync.
func Example_batchesFromAParquetFile() {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.example_parquet")
	defer srv.Close()
	w, err := core.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(ctx)

	pf, err := file.OpenParquetFile(filepath.Join("..", "examples", "data", "events.parquet"), false)
	if err != nil {
		log.Fatal(err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 10}, memory.DefaultAllocator)
	if err != nil {
		log.Fatal(err)
	}
	rr, err := fr.GetRecordReader(ctx, nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer rr.Release()

	batches, acked := 0, 0
	for rr.Next() {
		res, err := w.SendBatch(ctx, rr.RecordBatch()) // the reader owns the batch until Next
		if err != nil {
			log.Fatal(err)
		}
		batches++
		acked += res.SuccessfulCount
		fmt.Printf("batch %d: %d rows\n", batches, res.TotalRows)
	}
	if err := rr.Err(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("acknowledged:", acked, "stored:", srv.RecordCount("main.default.example_parquet"))
	// Output:
	// batch 1: 10 rows
	// batch 2: 10 rows
	// batch 3: 4 rows
	// acknowledged: 24 stored: 24
}

// Telemetry for an application without an OpenTelemetry SDK of its own:
// SetupTelemetry exports over OTLP, or (as here) writes OTLP JSON lines to
// files; pass its Options to New and Shut it down before exiting.
func ExampleSetupTelemetry() {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.example_telemetry")
	defer srv.Close()
	dir, err := os.MkdirTemp("", "zerobus-telemetry-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cfg.ObservabilityEnabled = true
	cfg.ObservabilityOutputDir = dir // metrics.jsonl, traces.jsonl, logs.jsonl

	tel, err := core.SetupTelemetry(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	w, err := core.New(ctx, cfg, tel.Options()...)
	if err != nil {
		log.Fatal(err)
	}
	rec := exampleIDs(1, 2, 3)
	defer rec.Release()
	if _, err := w.SendBatch(ctx, rec); err != nil {
		log.Fatal(err)
	}
	w.Close(ctx)
	if err := tel.Shutdown(ctx); err != nil { // exports what is left
		log.Fatal(err)
	}

	traces, _ := os.ReadFile(filepath.Join(dir, "traces.jsonl"))
	metrics, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	fmt.Println("span zerobus.SendBatch exported:", strings.Contains(string(traces), `"zerobus.SendBatch"`))
	fmt.Println("metric zerobus.rows.sent exported:", strings.Contains(string(metrics), `"zerobus.rows.sent"`))
	// Output:
	// span zerobus.SendBatch exported: true
	// metric zerobus.rows.sent exported: true
}
