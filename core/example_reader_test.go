package core_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// Many batches, one result: SendReader reads any array.RecordReader (here
// three batches in memory; a Parquet file's pqarrow reader, an IPC stream
// or a Flight stream work the same way) as its in-flight window allows and
// returns one TransmissionResult whose row indices count across the
// batches. WithTotalRows gives Progress its total; WithProgress is called
// as parts of the input resolve, with Rows increasing.
func ExampleWrapper_SendReader() {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.example_reader")
	defer srv.Close()
	w, err := core.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(ctx)

	batches := []arrow.RecordBatch{exampleIDs(1, 2, 3), exampleIDs(4, 5), exampleIDs(6, 7, 8, 9)}
	rdr, err := array.NewRecordReader(batches[0].Schema(), batches)
	if err != nil {
		log.Fatal(err)
	}
	defer rdr.Release()
	for _, b := range batches {
		b.Release() // the reader holds its own references
	}

	var last core.Progress
	res, err := w.SendReader(ctx, rdr,
		core.WithTotalRows(9),
		core.WithProgress(func(p core.Progress) { last = p }), // called one at a time
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("progress: %d of %d rows resolved, %d failed\n", last.Rows, last.TotalRows, last.Failed)
	fmt.Printf("result: %d/%d rows acknowledged, success=%v\n", res.SuccessfulCount, res.TotalRows, res.Success)
	fmt.Println("stored:", srv.RecordCount("main.default.example_reader"))
	// Output:
	// progress: 9 of 9 rows resolved, 0 failed
	// result: 9/9 rows acknowledged, success=true
	// stored: 9
}

// Settings from the environment: ConfigFromEnv starts from DefaultConfig and
// applies the variables the Settings table lists (ZEROBUS_TABLE_NAME,
// ZEROBUS_ENDPOINT, UNITY_CATALOG_URL or DATABRICKS_HOST, ZEROBUS_CLIENT_ID,
// ZEROBUS_CLIENT_SECRET, RETRY_MAX_ATTEMPTS, ...); a bad value is a *ConfigurationError naming
// the variable. Validate (or New) then checks the whole Config.
func ExampleConfigFromEnv() {
	for k, v := range map[string]string{
		"ZEROBUS_TABLE_NAME": "main.default.events",
		"ZEROBUS_ENDPOINT":   "https://1234567890.zerobus.us-west-2.cloud.databricks.com",
		"RETRY_MAX_ATTEMPTS": "8",
	} {
		if old, ok := os.LookupEnv(k); ok { // a developer's own setting comes back afterwards
			defer os.Setenv(k, old)
		} else {
			defer os.Unsetenv(k)
		}
		os.Setenv(k, v)
	}
	cfg, err := core.ConfigFromEnv()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.TableName, cfg.RetryMaxAttempts)

	os.Setenv("RETRY_MAX_ATTEMPTS", "eight")
	_, err = core.ConfigFromEnv()
	fmt.Println(err)
	// Output:
	// main.default.events 8
	// zerobus: invalid configuration in environment: RetryMaxAttempts (yaml retry_max_attempts, env RETRY_MAX_ATTEMPTS): "eight" is not an integer
}

// TestExampleConfigFromEnvRestores: the example puts back the variables it
// sets (a developer's exported ZEROBUS_ENDPOINT, say), not just unsets them.
func TestExampleConfigFromEnvRestores(t *testing.T) {
	t.Setenv("ZEROBUS_ENDPOINT", "http://127.0.0.1:1")
	t.Setenv("RETRY_MAX_ATTEMPTS", "3")
	stdout := os.Stdout
	tableBefore, tableWasSet := os.LookupEnv("ZEROBUS_TABLE_NAME")
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	os.Stdout = devnull // the example's output
	ExampleConfigFromEnv()
	os.Stdout = stdout
	table, tableSet := os.LookupEnv("ZEROBUS_TABLE_NAME")
	if ep, n := os.Getenv("ZEROBUS_ENDPOINT"), os.Getenv("RETRY_MAX_ATTEMPTS"); ep != "http://127.0.0.1:1" || n != "3" ||
		table != tableBefore || tableSet != tableWasSet {
		t.Errorf("after the example: ZEROBUS_ENDPOINT=%q RETRY_MAX_ATTEMPTS=%q ZEROBUS_TABLE_NAME=%q (set %v), want them as before",
			ep, n, table, tableSet)
	}
}
