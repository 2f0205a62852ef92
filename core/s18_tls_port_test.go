package core_test

import (
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18TLSEmptyPort: "http://127.0.0.1:" (an unset ${PORT}) passed
// Validate and meant the default port (tlsreal L5). endpoint,
// unity_catalog_url and proxy_url with an empty port are now refused,
// naming the key.
func TestS18TLSEmptyPort(t *testing.T) {
	base := core.DefaultConfig()
	base.Endpoint = "https://1234.zerobus.us-west-2.cloud.databricks.com"
	base.UnityCatalogURL = "https://w.cloud.databricks.com"
	base.TableName = "a.b.c"
	base.ClientID, base.ClientSecret = "id", "secret"
	if err := base.Validate(); err != nil {
		t.Fatalf("base config: %v", err)
	}
	for key, mutate := range map[string]func(*core.Config){
		"endpoint":          func(c *core.Config) { c.Endpoint = "https://h.example.com:" },
		"unity_catalog_url": func(c *core.Config) { c.UnityCatalogURL = "https://w.example.com:" },
		"proxy_url":         func(c *core.Config) { c.ProxyURL = "http://127.0.0.1:" },
	} {
		cfg := base
		mutate(&cfg)
		err := cfg.Validate()
		if err == nil {
			t.Errorf("%s with an empty port: Validate passed", key)
			continue
		}
		checkText(t, err.Error(), []string{"has an empty port"}, nil)
		if d := core.DetailsOf(err); len(d.Keys) != 1 || d.Keys[0] != key {
			t.Errorf("%s: keys %v, want [%s]", key, d.Keys, key)
		}
	}
}
