package core

import (
	"strings"
	"testing"
)

// The DATABRICKS_HOST fallback: a host name without a scheme (the form the
// Databricks CLI and SDK accept) is taken as https, as for endpoint, and is
// what the token and catalog requests use; a word that is no host name is
// still refused. EnvVarOf names the variable that gave the value (for
// problems Validate finds in it), not the primary one.
func TestDatabricksHostWithoutScheme(t *testing.T) {
	env := map[string]string{
		"DATABRICKS_HOST":       "adb-123.azuredatabricks.net",
		"ZEROBUS_ENDPOINT":      "1.zerobus.us-west-2.cloud.databricks.com",
		"ZEROBUS_TABLE_NAME":    "a.b.c",
		"DATABRICKS_CLIENT_ID":  "id",
		"ZEROBUS_CLIENT_SECRET": "secret",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	cfg, err := ConfigFromSettings(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.ApplyEnv(lookup); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if got := cfg.workspaceURL(); got != "https://adb-123.azuredatabricks.net" {
		t.Errorf("workspaceURL = %q, want https://adb-123.azuredatabricks.net", got)
	}
	for _, c := range []struct{ in, want string }{
		{"https://adb-1.azuredatabricks.net/", ""},
		{"adb-1.azuredatabricks.net", ""},
		{"localhost:8080", ""},
		{"adb", "has no scheme and is not a host name"},
		{"ftp://adb-1.azuredatabricks.net", "must start with https://"},
	} {
		if got := checkWorkspaceURL(c.in); c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("checkWorkspaceURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	for field, want := range map[string]string{"UnityCatalogURL": "DATABRICKS_HOST", "ClientID": "DATABRICKS_CLIENT_ID",
		"ClientSecret": "ZEROBUS_CLIENT_SECRET", "TableName": "ZEROBUS_TABLE_NAME", "ProxyURL": ""} {
		if got := EnvVarOf(field, lookup); got != want {
			t.Errorf("EnvVarOf(%s) = %q, want %q", field, got, want)
		}
	}
}
