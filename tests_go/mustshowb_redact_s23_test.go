package tests_go

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestS23MoreExportedTypesNeverPrintSecrets (issue 16 hardening, "every
// exported type that holds a Config must redact under every fmt verb"):
// TestNothingHoldingAConfigPrintsSecrets prints Config and *Wrapper; the
// values a user also gets from a wrapper made with secrets — a *SendFuture,
// its result and error, a *Telemetry, the *ConfigurationError of a refused
// Config — must not show the client secret or the proxy password either.
func TestS23MoreExportedTypesNeverPrintSecrets(t *testing.T) {
	const secret, proxyPW = "s23-Client-SECRET-value", "s23-proxy-PW-value"
	srv := startServer(t, zerobuslocal.Options{AllowAnyToken: true})
	cfg := serverConfig(srv, "main.default.s23_redact")
	cfg.ClientSecret = secret
	cfg.ProxyURL = "http://puser:" + proxyPW + "@127.0.0.1:1" // unreachable: the send fails, with an error to print
	cfg.RetryMaxAttempts = 1
	w := newWrapper(t, cfg)
	rec := eventBatch(memory.DefaultAllocator, 0, 3)
	defer rec.Release()
	fut := w.SendBatchAsync(testCtx(t), rec)
	res, sendErr := fut.Wait(testCtx(t))
	if sendErr == nil && (res == nil || res.FailedCount == 0) {
		t.Fatalf("the send through an unreachable proxy did not fail: %+v", res)
	}

	tel, err := core.SetupTelemetry(testCtx(t), cfg)
	if err != nil {
		t.Fatalf("SetupTelemetry: %v", err)
	}
	defer func() { _ = tel.Shutdown(testCtx(t)) }()

	bad := cfg
	bad.TableName = ""
	bad.RetryMaxAttempts = -1
	_, cfgErr := core.New(testCtx(t), bad)
	var ce *core.ConfigurationError
	if !errors.As(cfgErr, &ce) {
		t.Fatalf("core.New of a bad config: %T %v, want *ConfigurationError", cfgErr, cfgErr)
	}

	values := map[string]any{
		"*SendFuture":         fut,
		"*TransmissionResult": res,
		"send error":          sendErr,
		"*Telemetry":          tel,
		"*ConfigurationError": ce,
		"struct of them": struct {
			F *core.SendFuture
			T *core.Telemetry
			E error
		}{fut, tel, ce},
	}
	for name, v := range values {
		if v == nil {
			continue
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
			out := fmt.Sprintf(verb, v)
			for _, s := range []string{secret, proxyPW} {
				if strings.Contains(out, s) || strings.Contains(out, fmt.Sprintf("%x", s)) || strings.Contains(out, fmt.Sprintf("%X", s)) {
					t.Errorf("%s printed with %s shows %q: %.300s", name, verb, s, out)
				}
			}
		}
	}
	if sendErr != nil {
		if msg := sendErr.Error(); strings.Contains(msg, proxyPW) || !strings.Contains(msg, "127.0.0.1:1") && !strings.Contains(msg, "proxy") {
			t.Errorf("send error %q: want the proxy named, its password not", msg)
		}
	}
}
