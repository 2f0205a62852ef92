package core_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// Failed rows come in two states: not written (certainly not stored, safe
// to send again) and unknown (sent without an acknowledgement: the server
// may have stored them). Here the server stores every message but never
// acknowledges, and row 1 cannot be converted.
func ExampleTransmissionResult_ExtractNotWrittenBatch() {
	ctx := context.Background()
	const table = "main.default.example_states"
	cfg, srv := exampleConfig(ctx, table)
	defer srv.Close()
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	cfg.AckTimeout = 100 * time.Millisecond
	cfg.RetryMaxAttempts = 1
	w, err := core.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(ctx)

	rec := people(memory.DefaultAllocator)
	defer rec.Release()
	res, _ := w.SendBatch(ctx, rec)
	fmt.Println("durable:", res.SuccessfulRowIndices(), "not written:", res.NotWrittenRowIndices(), "unknown:", res.UnknownRowIndices())

	// Safe to fix and send again: these rows are certainly not in the table.
	retry, err := res.ExtractNotWrittenBatch(rec)
	if err != nil {
		log.Fatal(err)
	}
	defer retry.Release()
	fmt.Println("not written ids:", retry.Column(0).(*array.Int64).Int64Values())

	// Send these again only into a table that deduplicates (an id and a
	// MERGE): the server may already hold them, as it does here.
	unknown, err := res.ExtractUnknownBatch(rec)
	if err != nil {
		log.Fatal(err)
	}
	defer unknown.Release()
	fmt.Println("unknown ids:", unknown.Column(0).(*array.Int64).Int64Values(), "stored anyway:", srv.RecordCount(table) > 0)
	// Output:
	// durable: [] not written: [1] unknown: [0 2]
	// not written ids: [2]
	// unknown ids: [1 3] stored anyway: true
}
