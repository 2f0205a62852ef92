package core_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestSentinelKinds: KindOf(ErrNilContext) was "unknown" (the kind of
// errors that did not come from this package), so a nil-ctx refusal printed
// "unknown=N; N not written" (s17 review goapi M1). Every sentinel error of
// this package, bare or wrapped, now has a kind of its own, and DetailsOf
// agrees.
func TestSentinelKinds(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want core.ErrorKind
	}{
		{"ErrClosed", core.ErrClosed, core.KindClosed},
		{"ErrNilContext", core.ErrNilContext, core.KindConfiguration},
		{"ErrNilBatch", core.ErrNilBatch, core.KindConversion},
		{"ErrArrowData", core.ErrArrowData, core.KindConversion},
		{"ErrIPCMetadata", core.ErrIPCMetadata, core.KindConversion},
		{"ErrValidatorFailure", core.ErrValidatorFailure, core.KindConversion},
	} {
		for _, err := range []error{tc.err, fmt.Errorf("wrapped: %w", tc.err)} {
			if got := core.KindOf(err); got != tc.want {
				t.Errorf("KindOf(%s %q) = %q, want %q", tc.name, err, got, tc.want)
			}
			if got := core.DetailsOf(err).Kind; got != tc.want {
				t.Errorf("DetailsOf(%s).Kind = %q, want %q", tc.name, got, tc.want)
			}
			if core.IsRetryable(err) {
				t.Errorf("IsRetryable(%s) = true", tc.name)
			}
		}
	}
}

// TestNilContextResultKind: a result refused for a nil ctx counts its rows
// under the configuration kind, not "unknown".
func TestNilContextResultKind(t *testing.T) {
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, "main.default.nil_ctx_kind"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(context.Background())
	rec := telBatch(memory.NewGoAllocator(), 3)
	defer rec.Release()
	var nilCtx context.Context
	res, err := w.SendBatch(nilCtx, rec)
	if !errors.Is(err, core.ErrNilContext) || res == nil {
		t.Fatalf("SendBatch(nil ctx) = %v, %v", res, err)
	}
	if got := res.ErrorStatistics().ByKind; got[core.KindConfiguration] != 3 || got[core.KindUnknown] != 0 {
		t.Errorf("ByKind = %v, want configuration: 3", got)
	}
	if s := res.String(); !strings.Contains(s, "configuration=3") || strings.Contains(s, "unknown=") {
		t.Errorf("String() = %s, want configuration=3 and no unknown=", s)
	}
}
