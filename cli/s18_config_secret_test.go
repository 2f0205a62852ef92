package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestS18URLErrorsNeverShowThePasswordCLI: a URL whose password holds "/",
// "#", "?", "%zz" or a space made send (and local, for OTLP_ENDPOINT) print
// url.Parse's reason, which quoted part of the password (s18 review-config
// H1). Through the environment, the -config file and the flags, every URL
// setting is refused with exit 2 and no part of the password on stdout or
// stderr.
func TestS18URLErrorsNeverShowThePasswordCLI(t *testing.T) {
	const pwA, pwB = "SEKRETa1", "SEKRETb2"
	dir := t.TempDir()
	csv := filepath.Join(dir, "d.csv")
	if err := os.WriteFile(csv, []byte("a\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := []struct{ key, env, flag string }{
		{"endpoint", "ZEROBUS_ENDPOINT", "-endpoint"},
		{"unity_catalog_url", "UNITY_CATALOG_URL", "-workspace-url"},
		{"proxy_url", "ZEROBUS_PROXY_URL", ""},
		{"otlp_endpoint", "OTLP_ENDPOINT", ""},
	}
	run := func(t *testing.T, args []string, env map[string]string) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := RunEnv(t.Context(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
			LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
		if code != ExitUsage {
			t.Errorf("%v with %v: exit %d, want %d\nstderr: %s", args, env, code, ExitUsage, errOut.String())
		}
		if s := out.String() + errOut.String(); strings.Contains(s, "SEKRET") {
			t.Errorf("%v: output shows the password:\n%s", args, s)
		}
		if !strings.Contains(errOut.String(), "is not a valid URL") {
			t.Errorf("%v: stderr lacks the URL problem:\n%s", args, errOut.String())
		}
	}
	for _, k := range keys {
		for _, sep := range []string{"/", "#", "?", "%zz", " "} {
			u := "http://bob:" + pwA + sep + pwB + "@127.0.0.1:3128"
			t.Run(fmt.Sprintf("%s/%q", k.key, sep), func(t *testing.T) {
				base := map[string]string{"ZEROBUS_TABLE_NAME": "main.default.t", "ZEROBUS_ENDPOINT": "http://127.0.0.1:1",
					"UNITY_CATALOG_URL": "http://127.0.0.1:2", "ZEROBUS_CLIENT_ID": "id", "ZEROBUS_CLIENT_SECRET": "s"}
				base[k.env] = u
				run(t, []string{"send", "-quiet", csv}, base)

				yaml := fmt.Sprintf("table_name: main.default.t\nendpoint: http://127.0.0.1:1\n%s: %q\n", k.key, u)
				if k.key == "endpoint" {
					yaml = fmt.Sprintf("table_name: main.default.t\nendpoint: %q\n", u)
				}
				path := filepath.Join(t.TempDir(), "c.yaml")
				if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
					t.Fatal(err)
				}
				run(t, []string{"send", "-quiet", "-config", path, csv}, nil)

				if k.flag != "" {
					run(t, []string{"send", "-quiet", "-table", "main.default.t", "-endpoint", "http://127.0.0.1:1", k.flag, u, csv}, nil)
				}
				if k.key == "otlp_endpoint" {
					run(t, []string{"local"}, map[string]string{"OTLP_ENDPOINT": u, "OTLP_ENABLED": "true"})
				}
			})
		}
	}
}
