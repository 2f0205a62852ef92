package pybind

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestParseSettings: text values are parsed as the YAML loader parses them
// and come back in the key's unit, only for the keys given; "${" is
// literal; a bad value is named by key with the value as given and no line.
func TestParseSettings(t *testing.T) {
	text, err := ParseSettings(`{"retry_max_attempts": "7", "table_name": "a.b.${c}", "debug_enabled": "true", "proxy_url": null}`)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"retry_max_attempts": 7.0, "table_name": "a.b.${c}", "debug_enabled": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseSettings = %v, want %v", got, want)
	}
	_, err = ParseSettings(`{"retry_max_attempts": "line 7: 5"}`)
	if err == nil || !strings.Contains(err.Error(), `\"line 7: 5\" is not an integer`) || !strings.Contains(err.Error(), `"keys":["retry_max_attempts"]`) {
		t.Errorf("ParseSettings(bad) = %v; want the value as given, named by key", err)
	}
}
