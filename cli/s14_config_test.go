package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestSendExportSettingsWithoutObservability: OTLP_OUTPUT_DIR (or
// OTLP_ENDPOINT) without OTLP_ENABLED was accepted and nothing was
// exported, silently (s14 review-config 4). send warns, naming both, and
// sends; it does not refuse them, as an environment set for other programs
// may hold them (s14 review-diff2 1). With OTLP_ENABLED it exports.
func TestSendExportSettingsWithoutObservability(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 5)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	srv := startServer(t)
	const table = "main.default.s14_export_off"
	args := append(connFlags(srv, table), "-progress", "never", path)
	otel := filepath.Join(dir, "otel")
	r := sendCLIEnv(t, map[string]string{"OTLP_OUTPUT_DIR": otel, "OTLP_ENDPOINT": "http://127.0.0.1:9"}, args...)
	if r.err != nil {
		t.Fatalf("send with OTLP_OUTPUT_DIR and no OTLP_ENABLED: %v\n%s", r.err, r.stderr)
	}
	want := "observability_enabled is false, so otlp_endpoint and observability_output_dir export nothing"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q lacks the warning %q", r.stderr, want)
	}
	if n := srv.RecordCount(table); n != 5 {
		t.Errorf("%d rows stored, want 5", n)
	}
	if _, err := os.Stat(otel); !os.IsNotExist(err) {
		t.Errorf("observability_output_dir written while observability is off: %v", err)
	}
	// with OTLP_ENABLED=true the same environment exports, without the warning
	r = sendCLIEnv(t, map[string]string{"OTLP_ENABLED": "true", "OTLP_OUTPUT_DIR": otel}, args...)
	if r.err != nil {
		t.Fatalf("send with OTLP_ENABLED: %v\n%s", r.err, r.stderr)
	}
	if strings.Contains(r.stderr, "export nothing") {
		t.Errorf("warning with OTLP_ENABLED: %q", r.stderr)
	}
	if _, err := os.Stat(otel); err != nil {
		t.Errorf("observability_output_dir with OTLP_ENABLED: %v", err)
	}
}

// TestSendConfigFileErrorsDoNotPointAtTheEnvironment: with -config the
// environment is not read, yet a missing credential was reported with its
// variable and the hint "set the connection with ... the ZEROBUS_*
// environment variables", also when those were set (s14 review-config 6).
func TestSendConfigFileErrorsDoNotPointAtTheEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 2)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	yml := filepath.Join(dir, "nocreds.yaml")
	if err := os.WriteFile(yml, []byte("endpoint: https://1234.zerobus.us-west-2.cloud.databricks.com\n"+
		"table_name: main.default.t\nunity_catalog_url: https://ws.cloud.databricks.com\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ZEROBUS_CLIENT_ID": "abc", "ZEROBUS_CLIENT_SECRET": "xyz"}
	var errOut bytes.Buffer
	code := RunEnv(t.Context(), []string{"send", "-config", yml, path}, Env{
		Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &errOut,
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	msg := errOut.String()
	if code != ExitUsage {
		t.Fatalf("exit %d, want %d:\n%s", code, ExitUsage, msg)
	}
	for _, want := range []string{"client_id (flag -client-id or file " + yml + "): is required", "set the connection in " + yml + " or with -endpoint"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	for _, line := range strings.Split(msg, "\n") {
		// (the notice that the set variables are not read names them: TestSendConfigWarnsOfUnreadEnvironment)
		if strings.Contains(line, "ZEROBUS_") && !strings.Contains(line, "the environment is not read") {
			t.Errorf("error points at the environment, which -config does not read:\n%s", msg)
		}
	}
	// without -config the settings come from the environment: named as read
	errOut.Reset()
	RunEnv(t.Context(), []string{"send", "-local", path}, Env{
		Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &errOut,
		LookupEnv: func(k string) (string, bool) {
			return map[string]string{"ZEROBUS_MAX_INFLIGHT_REQUESTS": "-3"}[k], k == "ZEROBUS_MAX_INFLIGHT_REQUESTS"
		},
	})
	if want := "max_inflight_requests (env ZEROBUS_MAX_INFLIGHT_REQUESTS): is -3"; !strings.Contains(errOut.String(), want) {
		t.Errorf("error lacks %q:\n%s", want, errOut.String())
	}
}

// TestSendConfigWarnsOfUnreadEnvironment: with -config, ZEROBUS_LOG_FILE,
// OTLP_ENABLED and the other settings' variables were ignored without a word
// (s14 review-config 7); send names those that are set, not those the
// file's ${NAME} references read, and still sends.
func TestSendConfigWarnsOfUnreadEnvironment(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 3)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	yml := filepath.Join(dir, "min.yaml")
	if err := os.WriteFile(yml, []byte("table_name: main.default.s14_cfg\nclient_id: ${ZEROBUS_CLIENT_ID}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"ZEROBUS_LOG_FILE": filepath.Join(dir, "z.log"), "OTLP_ENABLED": "true",
		"ZEROBUS_CLIENT_ID": "me", "RETRY_MAX_ATTEMPTS": "", "UNRELATED": "x"}
	r := sendCLIEnv(t, env, "-config", yml, "-local", "-quiet", path)
	if r.err != nil {
		t.Fatalf("send: %v\n%s", r.err, r.stderr)
	}
	want := "zerobus send: -config " + yml + ": the environment is not read, so OTLP_ENABLED, ZEROBUS_LOG_FILE are ignored " +
		"(set them in the file, or send without -config)\n"
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr lacks\n%s\ngot:\n%s", want, r.stderr)
	}
	if _, err := os.Stat(env["ZEROBUS_LOG_FILE"]); err == nil {
		t.Error("ZEROBUS_LOG_FILE was written although -config does not read it")
	}
	// nothing set: no warning
	r = sendCLIEnv(t, map[string]string{"ZEROBUS_CLIENT_ID": "me"}, "-config", yml, "-local", "-quiet", path)
	if r.err != nil || strings.Contains(r.stderr, "not read") {
		t.Errorf("send: %v, stderr %q; want no warning", r.err, r.stderr)
	}
}
