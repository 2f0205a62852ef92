package core_test

import (
	"context"
	"fmt"
	"log"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A table's own column types, read from Unity Catalog before anything is
// sent: a caller with untyped data (CSV text) reads each column as its
// table type.
func ExampleWrapper_TableSchema() {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.example_table_schema")
	defer srv.Close()
	cols, err := zerobuslocal.ParseColumns("zip STRING NOT NULL, qty BIGINT, price DECIMAL(10,2), day DATE, at TIMESTAMP")
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.CreateTableColumns(cfg.TableName, cols); err != nil {
		log.Fatal(err)
	}
	w, err := core.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(ctx)

	schema, err := w.TableSchema(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range schema.Fields() {
		if ps, ok := f.Metadata.GetValue(core.DecimalMetadataKey); ok {
			fmt.Println(f.Name, f.Type, f.Nullable, "DECIMAL("+ps+")")
			continue
		}
		fmt.Println(f.Name, f.Type, f.Nullable)
	}
	// Output:
	// zip large_utf8 false
	// qty int64 true
	// price large_utf8 true DECIMAL(10,2)
	// day date32 true
	// at timestamp[us, tz=UTC] true
}
