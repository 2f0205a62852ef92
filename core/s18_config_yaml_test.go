package core_test

import (
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18YAMLSecondDocumentRefused: everything after a "---" (or "...")
// was dropped without a word, invalid values and unknown keys included (s18
// review-config M2). A second document with content is refused naming its
// line; a "---" before the only document and an empty document after it
// (they set nothing) stay accepted.
func TestS18YAMLSecondDocumentRefused(t *testing.T) {
	refused := []struct{ name, doc, want string }{
		{"keys after ---", "table_name: main.default.t\n---\nretry_max_attempts: 0\nbogus_key: 1\n", "line 2: a second YAML document"},
		{"keys after ...", "table_name: main.default.t\n...\nretry_max_attempts: 3\n", "line 2"},
		{"after an empty one", "table_name: main.default.t\n---\n---\nretry_max_attempts: 3\n", "line 3: a second YAML document"},
		{"a list after ---", "table_name: main.default.t\n---\n- 1\n", "a second YAML document"},
		{"an empty list after ---", "table_name: main.default.t\n--- []\n", "a second YAML document"},
		{"a mapping after --- {}", "table_name: main.default.t\n--- {}\n---\nretry_max_attempts: 3\n", "line 3: a second YAML document"},
		{"bad YAML after ---", "table_name: main.default.t\n---\n: [\n", "not valid YAML"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			_, err := core.ParseConfigYAML([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseConfigYAML(%q) = %v, want an error with %q", tc.doc, err, tc.want)
			}
		})
	}
	accepted := []struct{ name, doc string }{
		{"leading ---", "---\ntable_name: main.default.t\nretry_max_attempts: 3\n"},
		{"trailing ---", "table_name: main.default.t\nretry_max_attempts: 3\n---\n"},
		{"trailing ...", "table_name: main.default.t\nretry_max_attempts: 3\n...\n"},
		{"trailing --- and a comment", "table_name: main.default.t\nretry_max_attempts: 3\n---\n# end\n"},
		// An empty mapping or a null after the last "---" sets nothing
		// (known leftover since session 18: "--- {}" was refused).
		{"trailing --- {}", "table_name: main.default.t\nretry_max_attempts: 3\n--- {}\n"},
		{"trailing --- ~", "table_name: main.default.t\nretry_max_attempts: 3\n--- ~\n"},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := core.ParseConfigYAML([]byte(tc.doc))
			if err != nil {
				t.Fatalf("ParseConfigYAML(%q): %v", tc.doc, err)
			}
			if cfg.TableName != "main.default.t" || cfg.RetryMaxAttempts != 3 {
				t.Errorf("got table %q, retry_max_attempts %d; want main.default.t, 3", cfg.TableName, cfg.RetryMaxAttempts)
			}
		})
	}
}
