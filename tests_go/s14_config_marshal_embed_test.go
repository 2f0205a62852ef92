package tests_go

import (
	"encoding/json"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// A Config held as a named field of a user's struct (what MarshalJSON and
// MarshalYAML advise) is encoded as the redacted view under its key, beside
// the struct's own fields; embedded anonymously, the promoted methods encode
// the whole struct as the config view alone (pinned, as the docs say so: s14
// review-diff 5).
func TestConfigAsANamedFieldKeepsTheOuterFields(t *testing.T) {
	cfg := validConfig()
	secret := cfg.ClientSecret
	if secret == "" {
		t.Fatal("validConfig has no secret")
	}
	type named struct {
		Zerobus core.Config `json:"zerobus" yaml:"zerobus"`
		Workers int         `json:"workers" yaml:"workers"`
	}
	type embedded struct {
		core.Config
		Workers int `json:"workers" yaml:"workers"`
	}

	out, err := json.Marshal(named{Zerobus: cfg, Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Zerobus map[string]any `json:"zerobus"`
		Workers int            `json:"workers"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Workers != 8 || got.Zerobus["table_name"] != cfg.TableName || got.Zerobus["client_secret"] != "<redacted>" || strings.Contains(string(out), secret) {
		t.Errorf("json of the named field: %s; want workers 8 and the redacted config under zerobus", out)
	}

	yout, err := yaml.Marshal(named{Zerobus: cfg, Workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	var ygot struct {
		Zerobus map[string]any `yaml:"zerobus"`
		Workers int            `yaml:"workers"`
	}
	if err := yaml.Unmarshal(yout, &ygot); err != nil {
		t.Fatalf("%v: %s", err, yout)
	}
	if ygot.Workers != 8 || ygot.Zerobus["table_name"] != cfg.TableName || ygot.Zerobus["client_secret"] != "<redacted>" || strings.Contains(string(yout), secret) {
		t.Errorf("yaml of the named field: %s; want workers 8 and the redacted config under zerobus", yout)
	}

	// Anonymously embedded: the config view alone, still redacted.
	for name, enc := range map[string]func(any) ([]byte, error){"json": json.Marshal, "yaml": yaml.Marshal} {
		out, err := enc(embedded{Config: cfg, Workers: 8})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(out), "workers") || !strings.Contains(string(out), "table_name") || strings.Contains(string(out), secret) {
			t.Errorf("%s of an embedded Config: %s; want the redacted config view alone (as documented)", name, out)
		}
	}
}
