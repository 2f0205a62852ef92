package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// otelEnvSecret stands for a collector's API key or password.
const otelEnvSecret = "S3cr3t-XYZZY-123"

// TestOTelEnvSecretsHelper is run by TestOTelEnvValuesNotPrinted in a child
// process (OpenTelemetry's internal logger and the environment are
// process-wide): a Setup with network export whose logger writes JSON to
// stdout.
func TestOTelEnvSecretsHelper(t *testing.T) {
	if os.Getenv("ZB_OTEL_ENV_HELPER") != "1" {
		t.Skip("run by TestOTelEnvValuesNotPrinted")
	}
	p, err := Setup(context.Background(), ExportConfig{
		Enabled: true, LogLevel: "debug", Interval: time.Hour,
		LogHandler: slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: slog.LevelDebug}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_ = p.Shutdown(ctx)
}

// TestOTelEnvValuesNotPrinted: OTEL_EXPORTER_OTLP_HEADERS and _ENDPOINT
// values the SDK cannot parse, holding a secret, are reported in the
// Setup's logger as "zerobus: OpenTelemetry: ..." records without the
// secret, and never printed to stderr (the SDK's default logger printed
// them raw).
func TestOTelEnvValuesNotPrinted(t *testing.T) {
	cases := []struct {
		name, env, value, msg string
	}{
		{"header without =", "OTEL_EXPORTER_OTLP_HEADERS", "api-key " + otelEnvSecret, "parse headers"},
		{"header with a colon", "OTEL_EXPORTER_OTLP_HEADERS", "Authorization: Bearer " + otelEnvSecret + "=x", "parse headers"},
		{"bad escape", "OTEL_EXPORTER_OTLP_HEADERS", "api-key=" + otelEnvSecret + "%zz", "escape header value"},
		{"endpoint with userinfo", "OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:" + otelEnvSecret + "@[otel.example", "parse url"},
		{"traces endpoint", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://u:" + otelEnvSecret + "@[x", "parse url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestOTelEnvSecretsHelper$", "-test.count=1")
			cmd.Env = append(os.Environ(), "ZB_OTEL_ENV_HELPER=1", tc.env+"="+tc.value)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("helper: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
			}
			for name, out := range map[string]string{"stderr": stderr.String(), "logs": stdout.String()} {
				if strings.Contains(out, otelEnvSecret) {
					t.Errorf("%s holds the secret:\n%s", name, out)
				}
			}
			if strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("the SDK's record went to stderr:\n%s", stderr.String())
			}
			found := false
			for _, line := range strings.Split(stdout.String(), "\n") {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "zerobus: OpenTelemetry: "+tc.msg {
					found = rec["level"] == "ERROR"
				}
			}
			if !found {
				t.Errorf("no ERROR record %q in the logs:\n%s", "zerobus: OpenTelemetry: "+tc.msg, stdout.String())
			}
		})
	}
}
