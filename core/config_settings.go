package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ConfigFromSettings returns DefaultConfig overridden by settings, a map of
// configuration keys (Settings; the YAML keys, which are also the keywords
// of Python's WrapperConfiguration, the observability ones folded into its
// observability_config) to values: strings, bools, or numbers (int, int64, float64 with
// no fraction, json.Number) in the key's unit. A nil value keeps the
// default. Strings are taken literally ("${" is not expanded as in YAML
// files) and parsed as YAML and environment values are. Unknown keys, wrong
// types and bad values are reported together as a *ConfigurationError whose
// problems are named by key (ByKey). The result is not validated: call
// Validate or let New do it; but when some values are refused, the
// problems Validate finds in the other settings the map gives are reported
// with them (ValidateSettings reports all of Validate's problems).
func ConfigFromSettings(settingsMap map[string]any) (Config, error) {
	cfg, ps := configFromSettings(settingsMap)
	if len(ps) > 0 {
		given := map[string]givenAt{}
		for _, s := range settings {
			if v, ok := settingsMap[s.key]; ok && v != nil {
				given[s.field] = givenAt{}
			}
		}
		return Config{}, &ConfigurationError{Problems: withRestChecked(cfg, ps, given), ByKey: true}
	}
	return cfg, nil
}

// configFromSettings is ConfigFromSettings returning the problems of the
// values it refuses, and the config with those keys left at their
// defaults.
func configFromSettings(settingsMap map[string]any) (Config, []ConfigProblem) {
	cfg := DefaultConfig()
	byKey := make(map[string]*setting, len(settings))
	for i := range settings {
		byKey[settings[i].key] = &settings[i]
	}
	keys := make([]string, 0, len(settingsMap))
	for k := range settingsMap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ps []ConfigProblem
	for _, k := range keys {
		v := settingsMap[k]
		s, ok := byKey[k]
		if !ok {
			ps = append(ps, ConfigProblem{Field: k, YAMLKey: k, Message: "unknown setting" + suggest(k)})
			continue
		}
		if v == nil {
			continue
		}
		prev := cfg
		text, err := settingText(s, v) // its message never holds a secret's value
		if err == nil {
			if err = s.set(&cfg, text); err != nil && s.secret {
				err = errors.New("invalid value") // the parser's message may quote the value
			}
		}
		if err != nil {
			cfg = prev
			ps = append(ps, ConfigProblem{Field: s.field, YAMLKey: s.key, EnvVar: s.env[0], Message: err.Error()})
		}
	}
	return cfg, ps
}

// settingText turns one settings-map value into the text the table's
// parsers read, checking its type against the setting's.
func settingText(s *setting, v any) (string, error) {
	want := map[string]string{"string": "a string", "bool": "a boolean"}[s.acc.typ]
	if want == "" {
		want = "an integer"
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case bool:
		if s.acc.typ == "bool" {
			return strconv.FormatBool(x), nil
		}
	case int:
		if s.acc.typ != "string" && s.acc.typ != "bool" {
			return strconv.Itoa(x), nil
		}
	case int64:
		if s.acc.typ != "string" && s.acc.typ != "bool" {
			return strconv.FormatInt(x, 10), nil
		}
	case float64:
		if s.acc.typ != "string" && s.acc.typ != "bool" && x == math.Trunc(x) && math.Abs(x) < 1<<62 {
			return strconv.FormatInt(int64(x), 10), nil
		}
	case json.Number:
		if s.acc.typ != "string" && s.acc.typ != "bool" {
			return x.String(), nil
		}
	}
	if s.secret {
		return "", fmt.Errorf("expected %s, got a value of type %T", want, v)
	}
	return "", fmt.Errorf("expected %s, got %v (%T)", want, v, v)
}

// SettingsOf returns c as a map of configuration keys to values in each
// key's unit (string, int64 or bool), the inverse of ConfigFromSettings. A
// duration set in code that is not a whole number of its key's unit (a
// 1.5 s DebugFlushInterval for debug_flush_interval_secs, a 250 µs
// AckTimeout for ack_timeout_ms) is given exactly, as Go duration text
// ("1.5s", "250us"), never cut to a whole number; the loaders, whose keys
// take whole units, refuse that text naming the key, so such a Config does
// not round-trip through settings, YAML or the environment.
// Unset settings are left out: empty strings, zero numbers that stand for
// a non-zero default (ConfigFromSettings refuses an explicit 0 there), and
// the per-kind debug switches unless they decide (an explicit false stays,
// see Config.DebugKindsExplicit). Secrets are included: the caller must not
// print them.
func SettingsOf(c Config) map[string]any {
	m := make(map[string]any, len(settings))
	for _, s := range settings {
		v := s.acc.get(&c)
		if str, ok := v.(string); (ok && str == "") || v == nil {
			continue
		}
		if _, ok := s.zeroForDefault(&c); ok {
			continue
		}
		m[s.key] = v
	}
	return m
}

// LoadConfigYAMLEnv is LoadConfigYAML with "${NAME}" references resolved
// through lookup instead of the process environment (a language binding
// passes its own environment as data). When the file's values are refused
// (a *ConfigurationError with Problems, such as an unknown key), the Config
// holds the values that loaded, as ParseConfigYAML says.
func LoadConfigYAMLEnv(path string, lookup func(string) (string, bool)) (Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return Config{}, err
	}
	return parseYAML(data, path, lookup)
}

// ByKeyError returns err with its configuration problems named by key
// (table_name) instead of by Config field (TableName), for callers that set
// options by key (the Python package). Errors other than a
// *ConfigurationError are returned as they are.
func ByKeyError(err error) error {
	var ce *ConfigurationError
	if !errors.As(err, &ce) || ce.ByKey {
		return err
	}
	cp := *ce
	cp.ByKey = true
	if ce == err { //nolint:errorlint // the outermost error itself: replace it
		return &cp
	}
	// Keep the text that wraps it, with the problems' part named by key.
	inner, byKey := ce.Error(), cp.Error()
	msg := byKey
	if full := err.Error(); strings.Contains(full, inner) {
		msg = strings.Replace(full, inner, byKey, 1)
	}
	return &byKeyWrap{msg: msg, err: err, ce: &cp}
}

// byKeyWrap shows err, which wraps a *ConfigurationError, with the
// settings named by key; errors.As finds the by-key copy first.
type byKeyWrap struct {
	msg string
	err error
	ce  *ConfigurationError
}

func (e *byKeyWrap) Error() string   { return e.msg }
func (e *byKeyWrap) Unwrap() []error { return []error{e.ce, e.err} }

// fieldNames matches any Config field name of the settings table as a whole
// word, for fieldsToKeys.
var fieldNames = sync.OnceValue(func() *regexp.Regexp {
	names := make([]string, len(settings))
	for i, s := range settings {
		names[i] = regexp.QuoteMeta(s.field)
	}
	return regexp.MustCompile(`\b(` + strings.Join(names, "|") + `)\b`)
})

// fieldsToKeys replaces Config field names in a problem message (e.g.
// "below RetryBaseDelay") with their keys ("below retry_base_delay_ms").
func fieldsToKeys(msg string) string {
	return fieldNames().ReplaceAllStringFunc(msg, func(f string) string {
		for _, s := range settings {
			if s.field == f {
				return s.key
			}
		}
		return f
	})
}

// inKeyUnits formats a problem message of field for naming by key: every
// time.Duration argument is written as a number in the unit of field's key
// (retry_base_delay_ms: 1500µs -> "1.5"), so the message speaks the key's
// unit. It returns "" when there is no duration argument or field has no
// duration key.
func inKeyUnits(field, format string, args []any) string {
	unit := time.Duration(0)
	for _, s := range settings {
		if s.field == field && s.acc.typ == "duration" {
			unit = time.Millisecond
			if s.acc.unit == "s" {
				unit = time.Second
			}
		}
	}
	if unit == 0 {
		return ""
	}
	conv := make([]any, len(args))
	found := false
	for i, a := range args {
		conv[i] = a
		if d, ok := a.(time.Duration); ok {
			conv[i] = strconv.FormatFloat(float64(d)/float64(unit), 'f', -1, 64)
			found = true
		}
	}
	if !found {
		return ""
	}
	return fmt.Sprintf(format, conv...)
}
