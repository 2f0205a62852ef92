package core

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
)

// LogAttributes checks attributes given as names and values by a binding
// (decoded JSON: strings, json.Number or float64 numbers, booleans) and
// returns them as slog attributes sorted by name, for a logger's With: the
// Python package's log_attributes, which the Spark data source fills with
// each task's job, partition, attempt and task attempt id so that tasks
// sharing a log file can be told apart. A whole number is an integer
// attribute, another number a float. An empty name, or a value that is not
// a scalar, is a *ConfigurationError naming the attribute. Values are
// logged as given: never a secret.
func LogAttributes(m map[string]any) ([]any, error) {
	names := make([]string, 0, len(m))
	for k, v := range m {
		if k == "" {
			return nil, &ConfigurationError{Err: fmt.Errorf("log attributes: an empty name; give each attribute a name")}
		}
		switch v.(type) {
		case string, json.Number, float64, bool:
		case nil:
			return nil, &ConfigurationError{Err: fmt.Errorf("log attribute %q: no value; give a string, number or boolean, or leave it out", k)}
		default:
			return nil, &ConfigurationError{Err: fmt.Errorf("log attribute %q: a %s; give a string, number or boolean", k, jsonKind(v))}
		}
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]any, 0, len(names))
	for _, k := range names {
		switch v := m[k].(type) {
		case json.Number:
			if i, err := v.Int64(); err == nil {
				out = append(out, slog.Int64(k, i))
			} else if f, err := v.Float64(); err == nil {
				out = append(out, slog.Float64(k, f))
			} else {
				out = append(out, slog.String(k, v.String()))
			}
		default:
			out = append(out, slog.Any(k, v))
		}
	}
	return out, nil
}

// jsonKind names the JSON kind of a decoded value that is not a scalar.
func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "JSON object"
	case []any:
		return "JSON list"
	}
	return fmt.Sprintf("%T", v)
}
