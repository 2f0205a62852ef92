package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// A problem of the schema as a whole (no columns) is printed without a
// `column "":` prefix naming an empty column, on both transports.
func TestSchemaLevelProblemNamesNoColumn(t *testing.T) {
	srv := localServer(t)
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			table := "main.default.schema_level_" + tr
			if err := srv.CreateTableFromArrow(table, arrow.NewSchema([]arrow.Field{
				{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			}, nil)); err != nil {
				t.Fatal(err)
			}
			w := newWrapper(t, srv, table, func(c *core.Config) { c.Transport = tr })
			empty := arrow.NewSchema(nil, nil)
			rec := array.NewRecordBatch(empty, nil, 1)
			defer rec.Release()
			const want = "zerobus: conversion failed: the Arrow schema cannot be sent to Zerobus (1 problem): " +
				"the schema has no columns; Zerobus needs at least one"
			_, err := w.SendBatch(context.Background(), rec)
			cerr := w.CheckSchema(context.Background(), empty)
			for what, e := range map[string]error{"SendBatch": err, "CheckSchema": cerr} {
				if e == nil || e.Error() != want {
					t.Errorf("%s = %v; want %q", what, e, want)
				}
				if ce := (*core.ConversionError)(nil); errors.As(e, &ce) && ce.Column != "" {
					t.Errorf("%s: ConversionError.Column = %q, want none", what, ce.Column)
				}
			}
		})
	}
}
