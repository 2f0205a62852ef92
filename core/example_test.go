package core_test

import (
	"context"
	"fmt"
	"log"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// exampleConfig starts a local Zerobus server and returns a Config for it.
func exampleConfig(ctx context.Context, table string) (core.Config, *zerobuslocal.Server) {
	srv, err := zerobuslocal.Start(ctx, zerobuslocal.Options{})
	if err != nil {
		log.Fatal(err)
	}
	cfg := core.DefaultConfig()
	cfg.Endpoint = srv.Endpoint()            // http://127.0.0.1:PORT
	cfg.UnityCatalogURL = srv.WorkspaceURL() // serves /oidc/v1/token
	cfg.ClientID, cfg.ClientSecret = srv.ClientID(), srv.ClientSecret()
	cfg.TableName = table
	return cfg, srv
}

// people builds a small batch; the name of row 1 is null, which the
// non-nullable "name" column cannot hold.
func people(mem memory.Allocator) arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"ada", "", "grace"}, []bool{true, false, true})
	return b.NewRecordBatch()
}

func ExampleNew() {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.example_new")
	defer srv.Close()

	w, err := core.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(ctx)
	fmt.Println(w.Config().TableName, w.Config().RetryMaxAttempts)
	// Output: main.default.example_new 5
}

func ExampleWrapper_SendBatch() {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.example_send")
	defer srv.Close()
	w, err := core.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(ctx)

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "city", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"Oslo", "Lima"}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()

	res, err := w.SendBatch(ctx, rec) // returns once both rows are durably acknowledged
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Success, res.SuccessfulCount, srv.RecordCount("main.default.example_send"))
	// Output: true 2 2
}

func ExampleTransmissionResult_ExtractFailedBatch() {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.example_quarantine")
	defer srv.Close()
	w, err := core.New(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close(ctx)

	rec := people(memory.DefaultAllocator)
	defer rec.Release()
	res, err := w.SendBatch(ctx, rec)
	fmt.Println("kind:", core.KindOf(err), "failed rows:", res.FailedRowIndices())

	// Quarantine the failed rows as a new Arrow batch (the caller releases it).
	bad, err := res.ExtractFailedBatch(rec)
	if err != nil {
		log.Fatal(err)
	}
	defer bad.Release()
	fmt.Println("quarantined ids:", bad.Column(0).(*array.Int64).Int64Values())
	fmt.Println("stored:", srv.RecordCount("main.default.example_quarantine"))
	// Output:
	// kind: conversion failed rows: [1]
	// quarantined ids: [2]
	// stored: 2
}
