package core

import (
	"strings"
	"testing"
)

// s18 tlsreal H1: the token request sends client_id:client_secret to
// unity_catalog_url; a plaintext http:// URL without a port (a remote
// workspace, not a local server) is refused as the endpoint is, naming the
// key, so the secret never goes out unencrypted. http://host:port (a local
// server) is still taken.
func TestPlaintextWorkspaceURLNeedsPort(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://my-workspace.cloud.databricks.com", "plaintext http:// without a port"},
		{"http://my-workspace.cloud.databricks.com/", "plaintext http:// without a port"},
		{"http://127.0.0.1:8080", ""},
		{"http://localhost:8080/", ""},
		{"https://my-workspace.cloud.databricks.com", ""},
	} {
		if got := checkWorkspaceURL(c.in); c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("checkWorkspaceURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	cfg := Config{Endpoint: "https://1.zerobus.us-west-2.cloud.databricks.com", TableName: "a.b.c",
		UnityCatalogURL: "http://my-workspace.cloud.databricks.com", ClientID: "id", ClientSecret: "s3cr3t-value"}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate accepted a plaintext unity_catalog_url without a port")
	}
	if msg := err.Error(); !strings.Contains(msg, "unity_catalog_url") || !strings.Contains(msg, "client_secret over it unencrypted") || strings.Contains(msg, "s3cr3t") {
		t.Fatalf("Validate: %v", err)
	}
}
