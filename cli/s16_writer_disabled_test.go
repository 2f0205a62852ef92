package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSendWriterDisabledFromEnvOrFileIsADryRun: zerobus_writer_disabled set
// by the environment or the -config file made the Wrapper send nothing, yet
// the summary said "rows sent: 24 of 24" and "dry_run": false, exit 0
// (s16 review-settings H1). It is a dry run whatever set it: the summary
// says nothing was sent and stderr names what set it.
func TestSendWriterDisabledFromEnvOrFileIsADryRun(t *testing.T) {
	path := writeMixedArrow(t, "d.arrow", 4)
	dir := filepath.Dir(path)

	r := sendCLIEnv(t, map[string]string{"ZEROBUS_WRITER_DISABLED": "true", "ZEROBUS_TABLE_NAME": "a.b.c"},
		"-progress", "never", "-json", path)
	if r.err != nil {
		t.Fatalf("send: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, `"dry_run":true`) { // rows_sent then counts the rows converted, as for -dry-run
		t.Errorf("summary of a send with ZEROBUS_WRITER_DISABLED=true claims the rows were sent: %s", r.stdout)
	}
	if want := "zerobus_writer_disabled is true (env ZEROBUS_WRITER_DISABLED)"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not name what disabled the writer (%q)", r.stderr, want)
	}

	yml := filepath.Join(dir, "off.yaml")
	if err := os.WriteFile(yml, []byte("table_name: a.b.c\nzerobus_writer_disabled: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = sendCLIEnv(t, nil, "-config", yml, "-progress", "never", path)
	if r.err != nil {
		t.Fatalf("send -config: %v\n%s", r.err, r.stderr)
	}
	// a sending summary's label ("  rows sent:    4 of 4"); a dry run's is "converted:"
	if strings.Contains(r.stdout, "rows sent:") || !strings.Contains(r.stdout, "nothing sent") {
		t.Errorf("summary of a send with zerobus_writer_disabled in -config claims the rows were sent: %s", r.stdout)
	}
	if want := "zerobus_writer_disabled is true (file " + yml + ")"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not name the file (%q)", r.stderr, want)
	}
}

// TestSendLocalRefusesWhatItWouldOverride: -local sends to an embedded
// server, so it silently overrode zerobus_writer_disabled from the
// environment (the summary said 24 rows sent, the server held 0) and the
// -endpoint, -workspace-url, -client-id and -client-secret flags (s16
// review-settings H1, L1). Each is now refused, naming both.
func TestSendLocalRefusesWhatItWouldOverride(t *testing.T) {
	path := writeMixedArrow(t, "d.arrow", 2)

	r := sendCLIEnv(t, map[string]string{"ZEROBUS_WRITER_DISABLED": "true"}, "-local", "-progress", "never", path)
	if r.err == nil || !strings.Contains(r.err.Error(), "-local") ||
		!strings.Contains(r.err.Error(), "zerobus_writer_disabled is true (env ZEROBUS_WRITER_DISABLED)") {
		t.Errorf("-local with ZEROBUS_WRITER_DISABLED=true: err %v, want a refusal naming both", r.err)
	}
	for _, fl := range []string{"-endpoint", "-workspace-url", "-client-id", "-client-secret"} {
		r := sendCLIEnv(t, nil, "-local", fl, "http://127.0.0.1:1", "-progress", "never", path)
		if r.err == nil || !strings.Contains(r.err.Error(), "-local and "+fl) {
			t.Errorf("-local %s: err %v, want a refusal naming both", fl, r.err)
		}
	}
}

// TestSendLocalNamesTheConnectionItReplaces: -local refuses the connection
// flags, but replaced a connection from the -config file or the environment
// (the variables `zerobus local` tells users to export) without a word (s16
// review diffa F7). The send still goes to the embedded server; stderr names
// what it does not use (never a value).
func TestSendLocalNamesTheConnectionItReplaces(t *testing.T) {
	path := writeMixedArrow(t, "d.arrow", 2)
	const secret = "not-the-local-secret"

	// The proxy and CA file too: the local server is plaintext on loopback
	// (a dead proxy failed every row; a missing CA file failed New).
	r := sendCLIEnv(t, map[string]string{"ZEROBUS_ENDPOINT": "http://127.0.0.1:9", "DATABRICKS_HOST": "http://127.0.0.1:9",
		"ZEROBUS_CLIENT_ID": "someone", "ZEROBUS_CLIENT_SECRET": secret, "ZEROBUS_TABLE_NAME": "main.default.envconn",
		"ZEROBUS_PROXY_URL": "http://u:" + secret + "@127.0.0.1:9", "ZEROBUS_TLS_CA_FILE": filepath.Join(t.TempDir(), "missing.pem")},
		"-local", "-progress", "never", path)
	if r.err != nil {
		t.Fatalf("send -local: %v\n%s", r.err, r.stderr)
	}
	want := "zerobus send: -local: not using ZEROBUS_ENDPOINT, DATABRICKS_HOST, ZEROBUS_CLIENT_ID, ZEROBUS_CLIENT_SECRET, " +
		"ZEROBUS_PROXY_URL, ZEROBUS_TLS_CA_FILE from the environment"
	if !strings.Contains(r.stderr, want) || strings.Contains(r.stderr+r.stdout, secret) {
		t.Errorf("stderr %q: want %q, and no secret", r.stderr, want)
	}
	if !strings.Contains(r.stdout, "table main.default.envconn holds 2 rows") {
		t.Errorf("-local did not send to its own server:\n%s", r.stdout)
	}

	yml := filepath.Join(filepath.Dir(path), "conn.yaml")
	if err := os.WriteFile(yml, []byte("endpoint: http://127.0.0.1:9\nclient_secret: "+secret+
		"\ntable_name: main.default.fileconn\nproxy_url: http://127.0.0.1:9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = sendCLIEnv(t, nil, "-local", "-config", yml, "-progress", "never", path)
	if r.err != nil {
		t.Fatalf("send -local -config: %v\n%s", r.err, r.stderr)
	}
	if want := "zerobus send: -local: not using endpoint, client_secret, proxy_url from file " + yml; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q: want %q", r.stderr, want)
	}

	r = sendCLIEnv(t, map[string]string{"ZEROBUS_TABLE_NAME": "main.default.noconn"}, "-local", "-progress", "never", path)
	if r.err != nil || strings.Contains(r.stderr, "not using") {
		t.Errorf("-local with no connection set: err %v, stderr %q; want no notice", r.err, r.stderr)
	}
}
