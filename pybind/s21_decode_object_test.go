package pybind

import (
	"encoding/json"
	"log/slog"
	"testing"
)

// TestDecodeObjectMessages pins what the settings (decodeSettings) and the
// log attributes (logAttrs) say about text that is not a JSON object: one
// decoder (decodeObject) with each caller's words. Settings may be null
// (no keys); log attributes may not. Numbers stay exact (json.Number).
func TestDecodeObjectMessages(t *testing.T) {
	const notObject = "json: cannot unmarshal array into Go value of type map[string]interface {}"
	for _, tc := range []struct {
		text, settings, attrs string
	}{
		{`[1]`, "zerobus: invalid configuration: the settings are not a JSON object: " + notObject,
			`{"kind":"configuration","message":"zerobus: log attributes: want a JSON object of names and scalar values (` + notObject + `)","retryable":false,"fatal":true,"grpc_code":"","row":-1}`},
		{`{`, "zerobus: invalid configuration: the settings are not a JSON object: unexpected EOF",
			`{"kind":"configuration","message":"zerobus: log attributes: want a JSON object of names and scalar values (unexpected EOF)","retryable":false,"fatal":true,"grpc_code":"","row":-1}`},
		{``, "zerobus: invalid configuration: the settings are not a JSON object: EOF",
			`{"kind":"configuration","message":"zerobus: log attributes: want a JSON object of names and scalar values (EOF)","retryable":false,"fatal":true,"grpc_code":"","row":-1}`},
		{`null`, "",
			`{"kind":"configuration","message":"zerobus: log attributes: want a JSON object of names and scalar values (got null)","retryable":false,"fatal":true,"grpc_code":"","row":-1}`},
	} {
		_, err := decodeSettings(tc.text)
		if got := errText(err); got != tc.settings {
			t.Errorf("decodeSettings(%q): %q, want %q", tc.text, got, tc.settings)
		}
		_, err = logAttrs(tc.text)
		if got := errText(err); got != tc.attrs {
			t.Errorf("logAttrs(%q): %q, want %q", tc.text, got, tc.attrs)
		}
	}
	m, err := decodeSettings(`{"retry_max_attempts": 9007199254740993}`)
	if n, ok := m["retry_max_attempts"].(json.Number); err != nil || !ok || n.String() != "9007199254740993" {
		t.Errorf("decodeSettings: %#v, %v; want the json.Number 9007199254740993", m["retry_max_attempts"], err)
	}
	attrs, err := logAttrs(`{"n": 9007199254740993}`)
	if a, ok := attrOf(attrs); err != nil || !ok || a.Key != "n" || a.Value.Kind() != slog.KindInt64 || a.Value.Int64() != 9007199254740993 {
		t.Errorf("logAttrs: %v, %v; want n=9007199254740993", attrs, err)
	}
}

// attrOf is the one slog.Attr of attrs.
func attrOf(attrs []any) (slog.Attr, bool) {
	if len(attrs) != 1 {
		return slog.Attr{}, false
	}
	a, ok := attrs[0].(slog.Attr)
	return a, ok
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
