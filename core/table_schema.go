package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/flightstream"
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
// When the table's columns cannot be read but a send would go on without
// them, the error is ErrNoTableSchema (errors.Is; KindConfiguration) and
// says why, naming the setting to check: the catalog not knowing the table
// (404: table_name), refusing the lookup (401/403: client_id), or the
// writer disabled (zerobus_writer_disabled: nothing is contacted). Other
// errors: a table the catalog describes with a column type that has no
// Arrow mapping, the catalog or token endpoint unreachable or too slow
// (create_timeout_ms; IsRetryable: call again), a
// credential error, ctx ended. It reads the catalog once and keeps the
// answer, which sends use too (a send reads it again when a batch does not
// match it; a 404 is not kept: the next call asks again). It sends nothing
// and opens no stream. Safe for concurrent use; after Close it returns
// ErrClosed, with a nil ctx ErrNilContext.
func (w *Wrapper) TableSchema(ctx context.Context) (*arrow.Schema, error) {
	if res := w.refused(ctx, w.allFailed(0)); res != nil {
		return nil, res.Err
	}
	if !w.enter() {
		return nil, ErrClosed
	}
	defer w.active.Done()
	s, _, why, err := w.readTableSchema(ctx, time.Time{})
	if s == nil && err == nil {
		err = w.noTableSchema(why)
	}
	return s, err
}

// TableTypeName is the Unity Catalog type of f, a field of TableSchema's
// schema, as the catalog's type_text spells it ("BIGINT", "DECIMAL(10,2)",
// "ARRAY<STRING>", "STRUCT<a: INT NOT NULL>", "VARIANT"): the words the
// engine's messages use for the table's types.
func TableTypeName(f arrow.Field) string { return flightstream.TableSQLType(f) }

// ErrNoTableSchema is the error TableSchema returns (errors.Is) when Unity
// Catalog gives no columns for the table and a send would go on without
// them; its text says why and the setting to check.
var ErrNoTableSchema = errors.New("zerobus: Unity Catalog gives no columns for the table")

// noTableSchemaError is ErrNoTableSchema for one table: why, and the
// setting to check (DetailsOf's Keys).
type noTableSchemaError struct {
	table, key, why string
}

func (e *noTableSchemaError) Error() string {
	return fmt.Sprintf("zerobus: the columns of table %s cannot be read from Unity Catalog: %s", e.table, e.why)
}

func (e *noTableSchemaError) Is(target error) bool { return target == ErrNoTableSchema }

// Kind returns KindConfiguration: the table or the credentials to check.
func (e *noTableSchemaError) Kind() ErrorKind { return KindConfiguration }

// KeyProblems names the setting to check (DetailsOf).
func (e *noTableSchemaError) KeyProblems() (keys, msgs []string) {
	return []string{e.key}, []string{e.why}
}

// noTableSchema is TableSchema's error when readTableSchema gave no schema
// and no error, why the catalog gave none (nil: the writer is disabled).
func (w *Wrapper) noTableSchema(why *catalogUnread) error {
	e := &noTableSchemaError{table: w.cfg.TableName, key: "zerobus_writer_disabled",
		why: "zerobus_writer_disabled is set, so nothing is contacted; read them with a Wrapper without it"}
	if w.client == nil {
		return e
	}
	var ce *flightstream.CatalogError
	if why != nil && errors.As(why.err, &ce) && ce.Status == http.StatusNotFound {
		e.key, e.why = "table_name", "no such table (HTTP 404): check table_name, or create the table"
	} else {
		status := ""
		if ce != nil && ce.Status != 0 {
			status = fmt.Sprintf(" (HTTP %d)", ce.Status)
		}
		e.key, e.why = "client_id", "the catalog refused the lookup"+status+
			": check unity_catalog_url and that the service principal (client_id) may read the table"
	}
	return e
}
