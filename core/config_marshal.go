package core

import (
	"bytes"
	"encoding/json"
	"time"

	"gopkg.in/yaml.v3"
)

// MarshalJSON encodes c as the redacted view String and LogValue print: an
// object of the configuration keys (snake_case, in declaration order) with
// the client secret shown as "<redacted>" and user:password removed from
// URLs. Log libraries that encode values by reflection (zap.Any, a JSON
// formatter, json.Marshal into an audit record) so never write the secret.
// Durations are written as text ("1.5s"). It is a description, not a
// serialization: the secret cannot be read back (bindings pass settings
// with SettingsOf / ConfigFromSettings).
//
// Embed a Config in a struct of your own as a named field (Zerobus
// core.Config), not anonymously: an embedded Config's MarshalJSON and
// MarshalYAML are promoted to the outer struct, which is then encoded as
// this view alone, without its own fields. A named field is encoded as this
// view under its key, beside the others.
func (c Config) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, kv := range c.fields() {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(kv.key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(shownValue(kv.val))
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// MarshalYAML encodes c as the same redacted view as MarshalJSON, a mapping
// of the YAML configuration keys in declaration order. As for MarshalJSON,
// embed a Config in your own struct as a named field, not anonymously.
func (c Config) MarshalYAML() (any, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, kv := range c.fields() {
		var v yaml.Node
		if err := v.Encode(shownValue(kv.val)); err != nil {
			return nil, err
		}
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: kv.key}, &v)
	}
	return m, nil
}

// shownValue is a field value of Config.fields as encoders write it:
// durations as text, as in YAML configuration files.
func shownValue(v any) any {
	if d, ok := v.(time.Duration); ok {
		return d.String()
	}
	return v
}
