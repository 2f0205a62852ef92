package core_test

import (
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18YAMLEmptyReferenceSaysSo: table_name: ${EMPTYV} with EMPTYV set but
// empty gave "is required" and retry_max_attempts: ${EMPTYV} gave `"" is
// not an integer`, neither naming the reference (s18 review-config L3).
func TestS18YAMLEmptyReferenceSaysSo(t *testing.T) {
	t.Setenv("S18_EMPTYV", "")
	_, err := core.ParseConfigYAML([]byte("table_name: ${S18_EMPTYV}\nendpoint: http://127.0.0.1:1\nretry_max_attempts: ${S18_EMPTYV}\n"))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`RetryMaxAttempts (yaml retry_max_attempts, env RETRY_MAX_ATTEMPTS when loading from the environment): line 3: "" is not an integer (${S18_EMPTYV} is set but empty)`,
		"TableName (yaml table_name, env ZEROBUS_TABLE_NAME when loading from the environment): line 1 (${S18_EMPTYV} is set but empty): is required",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// TestS18YAMLTagsRefused: client_secret: !!binary czNjcmV0 was taken as the
// literal base64 text (s18 review-config L6). A tag other than the plain
// ones is refused, without the value; !!str 5 stays accepted.
func TestS18YAMLTagsRefused(t *testing.T) {
	_, err := core.ParseConfigYAML([]byte("table_name: main.default.t\nclient_secret: !!binary czNjcmV0\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2: the YAML tag !!binary is not supported") {
		t.Fatalf("!!binary: %v", err)
	}
	if strings.Contains(err.Error(), "czNjcmV0") {
		t.Errorf("the secret's text is shown: %v", err)
	}
	cfg, err := core.ParseConfigYAML([]byte("table_name: !!str main.default.t\nretry_max_attempts: !!int 3\nclient_id: !!str 5\n"))
	if err != nil || cfg.ClientID != "5" || cfg.RetryMaxAttempts != 3 {
		t.Fatalf("plain tags: %v %v", cfg, err)
	}
}
