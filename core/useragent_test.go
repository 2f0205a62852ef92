package core_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestUserAgent: every stream identifies itself to the server as
// "zerobus-wrapper-go/<Version>" (grpc-go appends its own token), and
// Version is a release version.
func TestUserAgent(t *testing.T) {
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(core.Version) {
		t.Errorf("core.Version = %q, want MAJOR.MINOR.PATCH", core.Version)
	}
	ns, endpoint := startNullServer(t, 0)
	const table = "main.default.ua"
	cfg := core.DefaultConfig()
	cfg.Endpoint = endpoint
	cfg.TableName = table
	w, err := core.New(context.Background(), cfg, core.WithHeadersProvider(staticHeaders(table)))
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	defer closeWrapper(t, w)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := telBatch(mem, 10)
	defer rec.Release()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := w.SendBatch(ctx, rec); err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	if got := ns.records.Load(); got != 10 {
		t.Errorf("server received %d records, want 10", got)
	}
	agents := ns.agents()
	if len(agents) == 0 {
		t.Fatal("the server saw no stream")
	}
	want := "zerobus-wrapper-go/" + core.Version + " grpc-go/"
	for i, ua := range agents {
		if !strings.HasPrefix(ua, want) {
			t.Errorf("stream %d user-agent = %q, want %q...", i, ua, want)
		}
	}
}
