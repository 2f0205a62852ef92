package tests_go

import (
	"encoding/json"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestConfigEncodersRedact: json.Marshal and yaml.Marshal of a Config (by
// value, by pointer, nested, and Wrapper.Config()) write the redacted view
// (client secret "<redacted>", no proxy user or password) with the other
// settings as values; log libraries that encode by reflection use these.
func TestConfigEncodersRedact(t *testing.T) {
	const proxyPW = "proxy-Pa55word-marshal"
	cfg := validConfig()
	cfg.Endpoint, cfg.UnityCatalogURL = "http://127.0.0.1:1", "http://127.0.0.1:2"
	cfg.ProxyURL = "http://proxy-user:" + proxyPW + "@127.0.0.1:3"
	w, err := core.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(t.Context())
	encoders := map[string]func(any) ([]byte, error){"json": json.Marshal, "yaml": yaml.Marshal}
	values := map[string]any{
		"Config":           cfg,
		"*Config":          &cfg,
		"Wrapper.Config()": w.Config(),
		"struct{Config}":   struct{ C core.Config }{cfg},
		"map":              map[string]any{"cfg": cfg},
	}
	for ename, enc := range encoders {
		for vname, v := range values {
			out, err := enc(v)
			if err != nil {
				t.Fatalf("%s %s: %v", ename, vname, err)
			}
			for _, secret := range []string{testSecret, proxyPW, "proxy-user"} {
				if strings.Contains(string(out), secret) {
					t.Errorf("%s of %s contains %q:\n%s", ename, vname, secret, out)
				}
			}
		}
	}
	// The encoded values are the settings, by key.
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v:\n%s", err, b)
	}
	want := map[string]any{
		"table_name":       cfg.TableName,
		"client_id":        cfg.ClientID,
		"client_secret":    "<redacted>",
		"proxy_url":        "http://<redacted>@127.0.0.1:3",
		"endpoint":         "http://127.0.0.1:1",
		"retry_base_delay": cfg.RetryBaseDelay.String(),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("json %s = %#v, want %#v", k, got[k], v)
		}
	}
	var ygot map[string]any
	yb, _ := yaml.Marshal(cfg)
	if err := yaml.Unmarshal(yb, &ygot); err != nil {
		t.Fatalf("%v:\n%s", err, yb)
	}
	for k, v := range want {
		if ygot[k] != v {
			t.Errorf("yaml %s = %#v, want %#v", k, ygot[k], v)
		}
	}
}
