package core

import "testing"

// TestNearest: the one "did you mean" rule (commands, flags, setting keys).
func TestNearest(t *testing.T) {
	names := []string{"debug", "local", "send", "version", "table_name", "endpoint"}
	for in, want := range map[string]string{"send": "send", "snd": "send", "sendd": "send", "ver": "version", "x": "", "deploy": "", "lo": "local",
		"table_nme": "table_name", "tabel_name": "table_name", "endpont": "endpoint", "nothing_like_it": ""} {
		if got := Nearest(in, names); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}
