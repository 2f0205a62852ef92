package core_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// s18PasswordSeparators are characters that are not valid in the user
// information of a URL. Each password is two marked halves around one:
// no half may appear in any message.
var s18PasswordSeparators = []string{"/", "#", "?", "%zz", " ", "/%zz#"}

const s18PwA, s18PwB = "SEKRETa1", "SEKRETb2"

// s18URLKeys are the URL settings, with their YAML key, environment
// variable and Config field.
var s18URLKeys = []struct {
	key, env string
	set      func(*core.Config, string)
}{
	{"endpoint", "ZEROBUS_ENDPOINT", func(c *core.Config, s string) { c.Endpoint = s }},
	{"unity_catalog_url", "UNITY_CATALOG_URL", func(c *core.Config, s string) { c.UnityCatalogURL = s }},
	{"proxy_url", "ZEROBUS_PROXY_URL", func(c *core.Config, s string) { c.ProxyURL = s }},
	{"otlp_endpoint", "OTLP_ENDPOINT", func(c *core.Config, s string) { c.OTLPEndpoint = s }},
}

// s18BadURLs are URLs whose user information holds a password with sep:
// with a good host and port, and with a bad port after the host too.
func s18BadURLs(sep string) []string {
	pw := s18PwA + sep + s18PwB
	return []string{
		"http://bob:" + pw + "@127.0.0.1:3128",
		"https://bob:" + pw + "@127.0.0.1:99999",
		"http://" + pw + "@127.0.0.1:3128",
		"bob:" + pw + "@127.0.0.1:3128",
	}
}

func s18AssertNoPassword(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, "SEKRET") {
		t.Errorf("%s shows the password: %s", what, text)
	}
}

// TestS18URLErrorsNeverShowThePassword: url.Parse's reason quotes the text it
// choked on, and a password holding "/", "?" or "#" ends the host early, so
// Validate printed `invalid port ":hunter2" after host` (s18 review-config
// H1). Every URL key, through Validate, the YAML loader and the environment,
// now refuses such a URL without any part of the password.
func TestS18URLErrorsNeverShowThePassword(t *testing.T) {
	dir := t.TempDir()
	for _, k := range s18URLKeys {
		for _, sep := range s18PasswordSeparators {
			for i, u := range s18BadURLs(sep) {
				t.Run(fmt.Sprintf("%s/%q/%d", k.key, sep, i), func(t *testing.T) {
					cfg := core.DefaultConfig()
					cfg.TableName = "main.default.t"
					cfg.Endpoint = "http://127.0.0.1:1"
					k.set(&cfg, u)
					err := cfg.Validate()
					var ce *core.ConfigurationError
					if !errors.As(err, &ce) {
						t.Fatalf("Validate(%s=%q) = %v, want a *ConfigurationError", k.key, u, err)
					}
					if !strings.Contains(err.Error(), k.key) && !strings.Contains(err.Error(), k.env) {
						t.Errorf("error does not name %s: %v", k.key, err)
					}
					s18AssertNoPassword(t, "Validate's error", err.Error())
					s18AssertNoPassword(t, "Validate's error %+v", fmt.Sprintf("%+v %#v", err, err))
					s18AssertNoPassword(t, "the error by key", core.ByKeyError(err).Error())
					for _, p := range ce.Problems {
						s18AssertNoPassword(t, "a problem", p.Message)
					}

					// the same URL from a YAML file (quoted: "#" starts a YAML comment)
					path := filepath.Join(dir, "c.yaml")
					yaml := fmt.Sprintf("table_name: main.default.t\nendpoint: http://127.0.0.1:1\n%s: %q\n", k.key, u)
					if k.key == "endpoint" {
						yaml = fmt.Sprintf("table_name: main.default.t\nendpoint: %q\n", u)
					}
					if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
						t.Fatal(err)
					}
					c2, err := core.LoadConfigYAML(path)
					if err == nil {
						err = c2.Validate()
					}
					if err == nil {
						t.Fatalf("%s=%q from YAML accepted", k.key, u)
					}
					s18AssertNoPassword(t, "the YAML error", err.Error())

					// and from the environment
					env := map[string]string{"ZEROBUS_TABLE_NAME": "main.default.t", "ZEROBUS_ENDPOINT": "http://127.0.0.1:1", k.env: u}
					c3 := core.DefaultConfig()
					err = c3.ApplyEnv(func(n string) (string, bool) { v, ok := env[n]; return v, ok })
					if err == nil {
						err = c3.Validate()
					}
					if err == nil {
						t.Fatalf("%s=%q from the environment accepted", k.env, u)
					}
					s18AssertNoPassword(t, "the environment error", err.Error())
				})
			}
		}
	}
}

// TestS18URLUserInfoEncodedIsAccepted: the rule refuses only user
// information that is not valid URL syntax; the same password
// percent-encoded is a valid proxy_url, and a bad port after a valid user
// information is still named.
func TestS18URLUserInfoEncodedIsAccepted(t *testing.T) {
	cfg := core.DefaultConfig()
	cfg.TableName = "main.default.t"
	cfg.Endpoint = "http://127.0.0.1:1"
	cfg.ProxyURL = "http://bob:" + s18PwA + "%2F%23%3F%25zz%20" + s18PwB + "@127.0.0.1:3128"
	if err := cfg.Validate(); err != nil {
		t.Fatalf("percent-encoded password refused: %v", err)
	}
	cfg.ProxyURL = "http://bob:" + s18PwA + "@127.0.0.1:3x"
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), `invalid port ":3x" after host`) {
		t.Fatalf("bad port after valid user information: %v, want url.Parse's reason", err)
	}
	s18AssertNoPassword(t, "the bad-port error", err.Error())
	cfg.ProxyURL = "http://bob:" + s18PwA + "/" + s18PwB + "@127.0.0.1:3128"
	err = cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "percent-encoded") || !strings.Contains(err.Error(), "%2F") {
		t.Fatalf("password with /: %v, want the percent-encoding advice", err)
	}
}
