package tests_go

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestNothingHoldingAConfigPrintsSecrets prints every exported type that
// holds a Config (core.Config and *core.Wrapper, alone and nested) under
// every fmt verb: neither the client secret nor the proxy password nor the
// proxy user may appear, and the table name does (so something is printed).
func TestNothingHoldingAConfigPrintsSecrets(t *testing.T) {
	const proxyPW = "proxy-Pa55word-xyz"
	cfg := validConfig()
	cfg.Endpoint, cfg.UnityCatalogURL = "http://127.0.0.1:1", "http://127.0.0.1:2"
	cfg.ProxyURL = "http://proxy-user:" + proxyPW + "@127.0.0.1:3"
	w, err := core.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(t.Context())
	wcfg := w.Config()
	values := map[string]any{
		"Config":                   cfg,
		"*Config":                  &cfg,
		"Wrapper.Config()":         wcfg,
		"*Wrapper":                 w,
		"struct{*Wrapper}":         struct{ W *core.Wrapper }{w},
		"struct{unexported}":       struct{ w *core.Wrapper }{w},
		"[]*Wrapper":               []*core.Wrapper{w},
		"map[string]*core.Wrapper": map[string]*core.Wrapper{"w": w},
		"[]Config":                 []core.Config{cfg},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
			out := fmt.Sprintf(verb, v)
			for _, secret := range []string{testSecret, proxyPW, "proxy-user"} {
				if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) || strings.Contains(out, fmt.Sprintf("%X", secret)) {
					t.Errorf("%s printed with %s shows %q: %s", name, verb, secret, out)
				}
			}
		}
		if out := fmt.Sprintf("%+v", v); !strings.Contains(out, "main.default.events") && name != "struct{unexported}" {
			t.Errorf("%s printed with %%+v does not name the table: %s", name, out)
		}
	}
}
