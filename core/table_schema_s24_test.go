package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TableSchema gives nil (no error) for a table the catalog does not know
// yet (the first stream creates it) and with the writer disabled, and
// ErrClosed after Close.
func TestTableSchemaUnknownTableDisabledClosed(t *testing.T) {
	ctx := context.Background()
	cfg, srv := exampleConfig(ctx, "main.default.no_such_table")
	defer srv.Close()
	w, err := core.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := w.TableSchema(ctx)
	if s != nil || err != nil {
		t.Errorf("unknown table: %v, %v; want nil, nil", s, err)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.TableSchema(ctx); !errors.Is(err, core.ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}

	cfg.WriterDisabled = true
	wd, err := core.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer wd.Close(ctx)
	if s, err := wd.TableSchema(ctx); s != nil || err != nil {
		t.Errorf("writer disabled: %v, %v; want nil, nil", s, err)
	}
}
