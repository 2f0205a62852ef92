package pybind

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// parseConfig builds a core.Config from a JSON object of configuration keys
// to values with core.ConfigFromSettings (the one settings table; errors
// name the keys, which are the Python keywords). The result is not
// validated.
func parseConfig(configJSON string) (core.Config, error) {
	m, err := decodeSettings(configJSON)
	if err != nil {
		return core.Config{}, err
	}
	return core.ConfigFromSettings(m)
}

// decodeSettings decodes a JSON object of configuration keys to values,
// keeping numbers as json.Number for core's settings loader.
// null is no keys.
func decodeSettings(configJSON string) (map[string]any, error) {
	return decodeObject(configJSON, true, func(err error) error {
		return &core.ConfigurationError{Err: fmt.Errorf("the settings are not a JSON object: %w", err)}
	})
}

// ValidateConfig parses configJSON (see parseConfig) and applies
// core.Config.Validate with core.ValidateSettings, which reports every
// problem at once, named by key: the values the loading refuses and
// Validate's problems in the others.
func ValidateConfig(configJSON string) error {
	m, err := decodeSettings(configJSON)
	if err != nil {
		return wrapErr(err)
	}
	return wrapErr(core.ValidateSettings(m))
}

// ValidateConfigKeys is ValidateConfig reporting only the problems of the
// keys listed in keysJSON (a JSON list of keys); nil when they have none.
// WrapperConfiguration's construction checks debug_output_dir this way, as
// the original API did, and leaves every other problem to validate().
func ValidateConfigKeys(configJSON, keysJSON string) error {
	var keys []string
	if err := json.Unmarshal([]byte(keysJSON), &keys); err != nil {
		return errorOf(core.KindConfiguration, "zerobus: the keys are not a JSON list of strings: %v", err)
	}
	m, err := decodeSettings(configJSON)
	if err != nil {
		return wrapErr(err)
	}
	// One round of the values' and the combinations' problems
	// (ValidateSettings), of those keys only.
	var ce *core.ConfigurationError
	if err := core.ValidateSettings(m); err == nil || !errors.As(err, &ce) || len(ce.Problems) == 0 {
		return wrapErr(err)
	}
	only := *ce
	only.Problems = slices.DeleteFunc(slices.Clone(ce.Problems), func(p core.ConfigProblem) bool {
		return !slices.Contains(keys, p.YAMLKey)
	})
	if len(only.Problems) == 0 {
		return nil
	}
	return wrapErr(core.ByKeyError(&only))
}

// DebugKinds parses configJSON (see parseConfig) and returns
// core.Config.DebugKinds as a JSON list: the kinds of debug files written.
func DebugKinds(configJSON string) (string, error) {
	cfg, err := parseConfig(configJSON)
	if err != nil {
		return "", wrapErr(err)
	}
	return toJSON(cfg.DebugKinds())
}

// IgnoredExportSettings decodes configJSON (see decodeSettings) and returns
// core.IgnoredExportSettingsOf as a JSON list: the export settings given
// (valid or not) that observability_enabled=false leaves unused, which
// Python warns about and drops before validating.
func IgnoredExportSettings(configJSON string) (string, error) {
	m, err := decodeSettings(configJSON)
	if err != nil {
		return "", wrapErr(err)
	}
	return toJSON(core.IgnoredExportSettingsOf(m))
}

// ExpandEnv returns value with its ${NAME} references replaced from the
// environment envJSON (see envLookup), by core.ExpandEnv; its refusal is a
// configuration error whose message says what is wrong with the value.
func ExpandEnv(value, envJSON string) (string, error) {
	lookup, err := envLookup(envJSON)
	if err != nil {
		return "", wrapErr(err)
	}
	out, err := core.ExpandEnv(value, lookup)
	if err != nil {
		return "", errorOf(core.KindConfiguration, "%v", err)
	}
	return out, nil
}

// envLookup decodes envJSON (a JSON object of name to value, Python's
// os.environ) into a lookup function; "" means an empty environment. The
// process environment is never read or changed.
func envLookup(envJSON string) (func(string) (string, bool), error) {
	env := map[string]string{}
	if envJSON != "" {
		if err := json.Unmarshal([]byte(envJSON), &env); err != nil {
			return nil, errorOf(core.KindConfiguration, "zerobus: the environment is not a JSON object of strings: %v", err)
		}
	}
	return func(name string) (string, bool) { v, ok := env[name]; return v, ok }, nil
}

// LoadConfigYAML reads a YAML config file with core.LoadConfigYAMLSettings,
// with "${VAR}" resolved against envJSON (see envLookup), and returns the
// settings the file sets as a JSON object keyed by key (problems named by
// key, as Python's keywords, not by Go field). The client secret
// and the proxy URL are included: the Python side keeps them in its
// configuration object and never prints them.
func LoadConfigYAML(path, envJSON string) (string, error) {
	lookup, err := envLookup(envJSON)
	if err != nil {
		return "", err
	}
	m, err := core.LoadConfigYAMLSettings(path, lookup)
	if err != nil {
		return "", wrapErr(core.ByKeyError(err))
	}
	return toJSON(m)
}

// ParseSettings parses configJSON (see parseConfig: values as text or in
// the key's unit, "${" taken literally) and returns the settings it sets as
// LoadConfigYAML does, each in its key's unit (core.SettingsOf), keys given
// null left out. Problems are named by key, with no file or line: the Spark
// data source's options come this way.
func ParseSettings(configJSON string) (string, error) {
	m, err := decodeSettings(configJSON)
	if err != nil {
		return "", wrapErr(err)
	}
	cfg, err := core.ConfigFromSettings(m)
	if err != nil {
		return "", wrapErr(err)
	}
	all := core.SettingsOf(cfg)
	out := make(map[string]any, len(m))
	for k := range m {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return toJSON(out)
}

// ConfigFromEnv returns the settings the environment envJSON (see
// envLookup) sets, with core.EnvSettings, as LoadConfigYAML does.
func ConfigFromEnv(envJSON string) (string, error) {
	lookup, err := envLookup(envJSON)
	if err != nil {
		return "", err
	}
	m, err := core.EnvSettings(lookup)
	if err != nil {
		return "", wrapErr(core.ByKeyError(err))
	}
	return toJSON(m)
}

// Nearest returns core.Nearest(s, candidates), the one "did you mean" rule,
// for candidatesJSON (a JSON list of strings): "" when none is close.
func Nearest(s, candidatesJSON string) (string, error) {
	var candidates []string
	if err := json.Unmarshal([]byte(candidatesJSON), &candidates); err != nil {
		return "", errorOf(core.KindUnknown, "zerobus: the candidates are not a JSON list of strings: %v", err)
	}
	return core.Nearest(s, candidates), nil
}

// DidYouMean returns core.DidYouMean(s, candidates), the whole "did you
// mean" phrase (`did you mean "x"?`), for candidatesJSON (a JSON list of
// strings): "" when none is close.
func DidYouMean(s, candidatesJSON string) (string, error) {
	var candidates []string
	if err := json.Unmarshal([]byte(candidatesJSON), &candidates); err != nil {
		return "", errorOf(core.KindUnknown, "zerobus: the candidates are not a JSON list of strings: %v", err)
	}
	return core.DidYouMean(s, candidates), nil
}

// RedactURL returns core.RedactURL(s): the URL-ish string s with any user
// information (user:password@) shown as <redacted>, as Go prints URLs.
func RedactURL(s string) string { return core.RedactURL(s) }

// SettingsTable returns core.Settings() as JSON: every key with its type,
// unit, default, secret flag, environment variables and doc line.
func SettingsTable() (string, error) { return toJSON(core.Settings()) }

// ErrorKinds returns core.ErrorKinds() as JSON: every error kind with its
// retryable and fatal flags.
func ErrorKinds() (string, error) { return toJSON(core.ErrorKinds()) }

func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", errorOf(core.KindUnknown, "zerobus: encoding JSON: %v", err)
	}
	return string(b), nil
}
