package core

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// DecimalMetadataKey is the Arrow field metadata key that marks, in a schema
// TableSchema returns, a column (or STRUCT field, ARRAY element, MAP key or
// value) of Unity Catalog type DECIMAL(p,s): its value is "p,s" (e.g.
// "10,2") and the field's Arrow type is large_utf8, the decimal's text, as
// Arrow Flight sends it. A batch may give such a column as decimal128 or
// decimal256 with scale s (or as decimal text, integers or floats).
const DecimalMetadataKey = convert.DecimalMetaKey

// TableSchema returns the Arrow schema the target table expects, as Unity
// Catalog describes its columns (GET /api/2.1/unity-catalog/tables/{name}),
// mapped to Arrow types as both transports map them (the Flight mapping of
// the protocol notes §9: STRING and DECIMAL large_utf8, BIGINT int64, INT
// int32, SMALLINT int16, TINYINT int8, DOUBLE float64, FLOAT float32,
// BOOLEAN bool, BINARY large_binary, DATE date32, TIMESTAMP timestamp[us,
// UTC], TIMESTAMP_NTZ timestamp[us], VARIANT struct{metadata, value}, STRUCT
// struct, ARRAY list, MAP map; a DECIMAL carries DecimalMetadataKey). Fields
// are in the table's column order and spelling, Nullable as the columns are.
// A caller that builds batches from untyped data (CSV text) can read each
// column as its table type; column names match case-insensitively, as
// Unity Catalog names do.
//
// It returns nil and no error when the table's columns cannot be read and a
// send would go on without them: no workspace (Unity Catalog) URL, the
// catalog refusing the lookup (401/403) or not knowing the table (404: the
// first stream creates it from the batch's columns), or the writer disabled
// (nothing is contacted). Errors: a table the catalog describes with a
// column type that has no Arrow mapping, the catalog or token endpoint
// unreachable or too slow (create_timeout_ms; IsRetryable: call again), a
// credential error, ctx ended. It reads the catalog once and keeps the
// answer, which sends use too (a send reads it again when a batch does not
// match it). It sends nothing and opens no stream. Safe for concurrent use;
// after Close it returns ErrClosed, with a nil ctx ErrNilContext.
func (w *Wrapper) TableSchema(ctx context.Context) (*arrow.Schema, error) {
	if res := w.refused(ctx, w.allFailed(0)); res != nil {
		return nil, res.Err
	}
	if !w.enter() {
		return nil, ErrClosed
	}
	defer w.active.Done()
	s, _, err := w.tableSchema(ctx, time.Time{})
	return s, err
}
