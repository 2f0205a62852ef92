package core_test

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A client id and secret with characters that HTTP Basic authentication
// form-urlencodes (RFC 6749 §2.3.1) still authenticate against the local
// server, on both transports, and the rows are stored.
func TestCredentialsWithSpecialCharactersAuthenticate(t *testing.T) {
	ctx := context.Background()
	srv, err := zerobuslocal.Start(ctx, zerobuslocal.Options{ClientID: "svc client+1", ClientSecret: "p${HOME}q/a=b {x} 100%:;"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	for _, tr := range []string{"protobuf", "arrow_flight"} {
		t.Run(tr, func(t *testing.T) {
			cfg := core.DefaultConfig()
			cfg.Endpoint, cfg.UnityCatalogURL = srv.Endpoint(), srv.WorkspaceURL()
			cfg.ClientID, cfg.ClientSecret = srv.ClientID(), srv.ClientSecret()
			cfg.TableName = "main.default.secret_chars_" + tr
			cfg.Transport = tr
			w, err := core.New(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close(ctx)
			rec := convert.ReferenceBatch(memory.DefaultAllocator, 50)
			defer rec.Release()
			res, err := w.SendBatch(ctx, rec)
			if err != nil || res.SuccessfulCount != 50 {
				t.Fatalf("SendBatch = %+v, %v", res, err)
			}
			if got := len(srv.Rows(cfg.TableName)); got != 50 {
				t.Fatalf("server stored %d rows, want 50", got)
			}
		})
	}
}
