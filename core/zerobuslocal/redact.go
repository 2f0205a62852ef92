package zerobuslocal

import (
	"fmt"
	"log/slog"
	"reflect"
	"strings"
)

// redacted is what printing and logging show instead of a secret.
const redacted = "<redacted>"

// SecretTag marks an Options field whose value printing and logging never
// show: `secret:"true"`. It is the one list of the secret options;
// SecretOptionKeys reads it, and language bindings take their list from
// there.
const SecretTag = "secret"

// isSecret reports whether f is tagged secret:"true".
func isSecret(f reflect.StructField) bool { return f.Tag.Get(SecretTag) == "true" }

// SecretOptionKeys returns the JSON key of every Options field tagged
// secret:"true" (ClientSecret, InspectToken), in declaration order: the
// options printing, logging and the language bindings' reprs and errors
// never show.
func SecretOptionKeys() []string {
	var keys []string
	t := reflect.TypeFor[Options]()
	for i := range t.NumField() {
		if f := t.Field(i); isSecret(f) {
			keys = append(keys, jsonKey(f))
		}
	}
	return keys
}

// jsonKey is f's key in the JSON form ("" for a field not encoded).
func jsonKey(f reflect.StructField) string {
	key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if key == "-" {
		return ""
	}
	return key
}

// optionField is one field of Options as printed: its Go name, JSON key
// and value, a secret replaced by "<redacted>" ("" stays "": unset).
type optionField struct {
	name, key string
	val       any
}

// shownFields are o's fields as printing and logging show them, in
// declaration order; Logger is left out.
func (o Options) shownFields() []optionField {
	v := reflect.ValueOf(o)
	t := v.Type()
	var out []optionField
	for i := range t.NumField() {
		f := t.Field(i)
		key := jsonKey(f)
		if key == "" {
			continue
		}
		val := v.Field(i).Interface()
		if isSecret(f) && !v.Field(i).IsZero() {
			val = redacted
		}
		out = append(out, optionField{f.Name, key, val})
	}
	return out
}

// String describes o on one line, Go field names and values, with every
// secret option (SecretOptionKeys) shown as "<redacted>".
func (o Options) String() string {
	var b strings.Builder
	b.WriteString("zerobuslocal.Options{")
	for i, f := range o.shownFields() {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %v", f.name, f.val)
	}
	b.WriteString("}")
	return b.String()
}

// GoString is String: %#v never shows a secret either.
func (o Options) GoString() string { return o.String() }

// Format implements fmt.Formatter so that every verb prints String (%q
// quotes it): the default struct printing would show the secrets.
func (o Options) Format(f fmt.State, verb rune) { formatString(f, verb, o.String()) }

// LogValue implements slog.LogValuer: a group of the JSON keys with every
// secret option shown as "<redacted>" (Logger left out).
func (o Options) LogValue() slog.Value {
	fs := o.shownFields()
	attrs := make([]slog.Attr, len(fs))
	for i, f := range fs {
		attrs[i] = slog.Any(f.key, f.val)
	}
	return slog.GroupValue(attrs...)
}

// String describes s on one line: its URLs, client id and options, with
// every secret shown as "<redacted>".
func (s *Server) String() string {
	if s == nil {
		return "zerobuslocal.Server(nil)"
	}
	return fmt.Sprintf("zerobuslocal.Server{Endpoint: %s, WorkspaceURL: %s, Options: %s}", s.endpoint, s.workspaceURL, s.options())
}

// GoString is String: %#v never shows a secret either.
func (s *Server) GoString() string { return s.String() }

// Format implements fmt.Formatter so that every verb prints String (%q
// quotes it): the default struct printing would show the secrets.
func (s *Server) Format(f fmt.State, verb rune) { formatString(f, verb, s.String()) }

// LogValue implements slog.LogValuer: the endpoint, workspace URL and
// options (Options.LogValue: secrets shown as "<redacted>").
func (s *Server) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("zerobuslocal.Server(nil)")
	}
	return slog.GroupValue(slog.String("endpoint", s.endpoint), slog.String("workspace_url", s.workspaceURL),
		slog.Any("options", s.options()))
}

// options is a copy of s's options with its secrets (the ack policy read
// under s.mu, as SetAckPolicy writes it).
func (s *Server) options() Options {
	if s.opts == nil {
		return Options{}
	}
	s.mu.Lock()
	o := *s.opts
	s.mu.Unlock()
	o.ClientSecret, o.InspectToken = s.secrets()
	return o
}

// formatString writes text for any verb, quoted for %q.
func formatString(f fmt.State, verb rune, text string) {
	if verb == 'q' {
		fmt.Fprintf(f, "%q", text)
		return
	}
	_, _ = f.Write([]byte(text))
}
