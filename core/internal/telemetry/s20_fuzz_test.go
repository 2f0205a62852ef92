package telemetry

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// Fuzz target (session 20) for the telemetry settings parsers. The files
// the file exporter writes (metrics.jsonl, traces.jsonl, logs.jsonl) are
// read back only by a test helper (otlptest.ReadMetricsFile and
// ReadTracesFile) and the Python example demo.py: neither the CLI nor the
// Python package reads them. So the product's parsers of untrusted text
// here are those of the settings: ParseLogLevel (ExportConfig.LogLevel)
// and parseEndpoint (ExportConfig.Endpoint). The seeds run as ordinary
// tests.

// FuzzTelemetrySettings: any text as LogLevel is one of the four levels or
// a *FieldError naming LogLevel and the value; as Endpoint it is an http
// or https host (a base path without a trailing "/") or a *FieldError
// naming Endpoint that holds none of the URL's password, query or fragment.
func FuzzTelemetrySettings(f *testing.F) {
	for _, s := range []string{
		"http://127.0.0.1:4317", "https://collector.example:4318/otlp/", "127.0.0.1:4317", "localhost:4317?api-key=s3cret",
		"http://user:s3cret@host:4318", "https://host/p?token=s3cret#frag", "ftp://host", "http://", "http://[::1]:4317//",
		"http://host:99999", "%zz://x", "debug", " WARNING ", "Error", "", "trace",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkLogLevel(t, s)
		checkEndpoint(t, s)
	})
}

func checkLogLevel(t *testing.T, s string) {
	t.Helper()
	lv, err := ParseLogLevel(s)
	if err != nil {
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "LogLevel" || !strings.Contains(fe.Message, fmt.Sprintf("%q", s)) {
			t.Fatalf("ParseLogLevel(%q): %v, want a LogLevel error quoting it", s, err)
		}
		return
	}
	want := map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "warning": slog.LevelWarn, "error": slog.LevelError}
	if w, ok := want[strings.ToLower(strings.TrimSpace(s))]; !ok || w != lv {
		t.Fatalf("ParseLogLevel(%q) = %v", s, lv)
	}
}

func checkEndpoint(t *testing.T, s string) {
	t.Helper()
	ep, err := parseEndpoint(s)
	u, uerr := url.Parse(s)
	if err != nil {
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "Endpoint" || fe.Message == "" {
			t.Fatalf("parseEndpoint(%q): %v, want an Endpoint error", s, err)
		}
		if uerr == nil {
			// What may hold credentials, as written after its separator.
			var hidden []string
			if pw, ok := u.User.Password(); ok && pw != "" {
				hidden = append(hidden, ":"+pw+"@")
			}
			if i := strings.IndexByte(s, '?'); i >= 0 && len(s) > i+1 {
				hidden = append(hidden, s[i:])
			}
			if i := strings.IndexByte(s, '#'); i >= 0 && len(s) > i+1 {
				hidden = append(hidden, s[i:])
			}
			for _, h := range hidden {
				if strings.Contains(err.Error(), h) || strings.Contains(err.Error(), fmt.Sprintf("%q", h)[1:len(fmt.Sprintf("%q", h))-1]) {
					t.Fatalf("parseEndpoint(%q): %v shows %q", s, err, h)
				}
			}
		}
		return
	}
	if uerr != nil {
		t.Fatalf("parseEndpoint(%q) = %+v, but it is not a URL: %v", s, ep, uerr)
	}
	if ep.host == "" || ep.host != u.Host || ep.insecure != (u.Scheme == "http") || (u.Scheme != "http" && u.Scheme != "https") ||
		strings.HasSuffix(ep.path, "/") || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		t.Fatalf("parseEndpoint(%q) = %+v", s, ep)
	}
}

// TestEndpointWithoutSchemeHidesQuery: an Endpoint without a scheme whose
// query or fragment holds a credential is refused without showing them;
// before, the error echoed the whole value three times
// ("localhost:4317?api-key=…" gave "write http://localhost:4317?api-key=…").
func TestEndpointWithoutSchemeHidesQuery(t *testing.T) {
	for _, s := range []string{"localhost:4317?api-key=s3cret", "collector:4318/v1#s3cret", "h?a#s3cret"} {
		_, err := parseEndpoint(s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "Endpoint" || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "no scheme") {
			t.Errorf("parseEndpoint(%q): %v, want a no-scheme error without the secret", s, err)
		}
	}
	_, err := parseEndpoint("localhost:4317")
	if err == nil || !strings.Contains(err.Error(), `"localhost:4317" has no scheme; write http://localhost:4317 for plaintext or https://localhost:4317 for TLS`) {
		t.Errorf("parseEndpoint(localhost:4317): %v", err)
	}
}

// An endpoint without a host name ("http://:4317") or with a port no TCP
// socket has (0, 65536, 99999) is refused when the settings are read, not
// at the first export (fuzzgaps leftover).
func TestEndpointNeedsHostAndTCPPort(t *testing.T) {
	for s, want := range map[string]string{
		"http://:4317":            "is not a URL like http://127.0.0.1:4317",
		"http://127.0.0.1:65536":  "port 65536 is not a TCP port (1-65535)",
		"https://collector:99999": "port 99999 is not a TCP port",
		"http://127.0.0.1:0":      "port 0 is not a TCP port",
	} {
		_, err := parseEndpoint(s)
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "Endpoint" || !strings.Contains(err.Error(), want) {
			t.Errorf("parseEndpoint(%q): %v, want an Endpoint error with %q", s, err, want)
		}
	}
	// user:password@host without a scheme parses as scheme "user": the
	// rest is never shown (s20 review diffa L2).
	if _, err := parseEndpoint("user:s3cret@collector:4317"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("parseEndpoint(user:s3cret@collector:4317): %v, want an error without the password", err)
	}
	for _, s := range []string{"http://127.0.0.1:4317", "https://collector:65535/v1", "https://collector"} {
		if _, err := parseEndpoint(s); err != nil {
			t.Errorf("parseEndpoint(%q): %v", s, err)
		}
	}
}
