package core_test

import (
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestS18SecretOfTheWrongTypeSaysWhy: ConfigFromSettings said only
// "invalid value" for a secret of the wrong type, overwriting settingText's
// message, which holds no value (s18 review-config L4).
func TestS18SecretOfTheWrongTypeSaysWhy(t *testing.T) {
	for key, v := range map[string]any{"client_secret": 31337, "proxy_url": true} {
		_, err := core.ConfigFromSettings(map[string]any{key: v})
		if err == nil {
			t.Fatalf("%s=%v accepted", key, v)
		}
		if !strings.Contains(err.Error(), "): expected a string, got a value of type ") {
			t.Errorf("%s: %v, want the type named", key, err)
		}
		if strings.Contains(err.Error(), "31337") || strings.Contains(err.Error(), "true") {
			t.Errorf("%s: the value is shown: %v", key, err)
		}
	}
}
