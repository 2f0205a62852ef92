package zerobuslocal_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

const (
	testLocalSecret  = "SEKRIT-local-abc123"
	testInspectToken = "INSPECT-local-tok456"
)

// leaks returns the secrets out shows, plain or hex-encoded.
func leaks(out string) []string {
	var found []string
	for _, s := range []string{testLocalSecret, testInspectToken} {
		for _, form := range []string{s, fmt.Sprintf("%x", s), fmt.Sprintf("%X", s)} {
			if strings.Contains(out, form) {
				found = append(found, form)
			}
		}
	}
	return found
}

// TestOptionsAndServerNeverPrintSecrets prints Options and *Server, alone
// and nested, under every fmt verb and through slog's text and JSON
// handlers: neither the client secret nor the inspect token may appear,
// the client id does (something is printed) and the secrets' place says
// <redacted>.
func TestOptionsAndServerNeverPrintSecrets(t *testing.T) {
	opts := zerobuslocal.Options{ClientID: "cid-visible", ClientSecret: testLocalSecret, InspectToken: testInspectToken}
	srv, err := zerobuslocal.Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	values := map[string]any{
		"Options":                    opts,
		"*Options":                   &opts,
		"[]Options":                  []zerobuslocal.Options{opts},
		"struct{Options}":            struct{ O zerobuslocal.Options }{opts},
		"*Server":                    srv,
		"struct{*Server}":            struct{ S *zerobuslocal.Server }{srv},
		"[]*Server":                  []*zerobuslocal.Server{srv},
		"map[string]*Server":         map[string]*zerobuslocal.Server{"s": srv},
		"struct{unexported *Server}": struct{ s *zerobuslocal.Server }{srv},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
			if out := fmt.Sprintf(verb, v); len(leaks(out)) > 0 {
				t.Errorf("%s printed with %s shows %q: %s", name, verb, leaks(out), out)
			}
		}
		if name == "struct{unexported *Server}" {
			continue // an address
		}
		out := fmt.Sprintf("%+v", v)
		if !strings.Contains(out, "cid-visible") || !strings.Contains(out, "<redacted>") {
			t.Errorf("%s printed with %%+v does not show the client id and <redacted>: %s", name, out)
		}
	}

	for _, h := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
	} {
		var b bytes.Buffer
		slog.New(h.new(&b)).Info("start", "opts", opts, "srv", srv, "popts", &opts)
		out := b.String()
		if len(leaks(out)) > 0 {
			t.Errorf("slog %s handler shows %q: %s", h.name, leaks(out), out)
		}
		if !strings.Contains(out, "cid-visible") || strings.Count(out, "<redacted>") < 4 {
			t.Errorf("slog %s handler: want the client id and both secrets of opts and srv as <redacted>: %s", h.name, out)
		}
	}
}

// TestCopiedServerNeverPrintsSecrets prints a copy of a Server (*srv,
// which fmt prints field by field, calling no method of an unexported
// field) under every verb, after Close so that nothing writes it
// meanwhile.
func TestCopiedServerNeverPrintsSecrets(t *testing.T) {
	srv, err := zerobuslocal.Start(t.Context(), zerobuslocal.Options{ClientSecret: testLocalSecret, InspectToken: testInspectToken})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if srv.ClientSecret() != testLocalSecret {
		t.Fatalf("ClientSecret() = %q, want %q", srv.ClientSecret(), testLocalSecret)
	}
	copied := reflect.ValueOf(srv).Elem() // a Server value, as *srv (vet refuses copying it outright)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		if out := fmt.Sprintf(verb, copied); len(leaks(out)) > 0 {
			t.Errorf("a Server value printed with %s shows %q: %.300s", verb, leaks(out), out)
		}
	}
}

// TestUnsetSecretsPrintEmpty: an unset secret prints as "" (so a reader
// can tell "none" from "set"), a set one as <redacted>.
func TestUnsetSecretsPrintEmpty(t *testing.T) {
	got := zerobuslocal.Options{ClientSecret: "x"}.String()
	if !strings.Contains(got, "ClientSecret: <redacted>") || !strings.Contains(got, "InspectToken: ,") {
		t.Errorf("String() = %s, want ClientSecret: <redacted> and an empty InspectToken", got)
	}
}

// secretLike is a field name that holds a credential.
var secretLike = regexp.MustCompile(`(?i)secret|token|password|passwd|credential|api_?key`)

// TestSecretLikeOptionsAreTagged: every text-valued Options field named
// like a secret carries secret:"true" (so printing, logging and the
// bindings redact it), and SecretOptionKeys lists exactly the tagged ones.
func TestSecretLikeOptionsAreTagged(t *testing.T) {
	var tagged []string
	checkSecretTags(t, reflect.TypeFor[zerobuslocal.Options](), "", &tagged)
	if got := zerobuslocal.SecretOptionKeys(); !slices.Equal(got, tagged) {
		t.Errorf("SecretOptionKeys() = %q, want the tagged keys %q", got, tagged)
	}
	if !slices.Contains(tagged, "client_secret") || !slices.Contains(tagged, "inspect_token") {
		t.Errorf("tagged secret options %q, want client_secret and inspect_token among them", tagged)
	}
}

func checkSecretTags(t *testing.T, typ reflect.Type, prefix string, tagged *[]string) {
	t.Helper()
	for i := range typ.NumField() {
		f := typ.Field(i)
		secret := f.Tag.Get(zerobuslocal.SecretTag) == "true"
		key, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if secret {
			*tagged = append(*tagged, prefix+key)
		}
		switch ft := f.Type; {
		case ft.Kind() == reflect.Struct:
			checkSecretTags(t, ft, prefix+key+".", tagged)
		case ft.Kind() == reflect.String || ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String ||
			ft.Kind() == reflect.Map:
			if secretLike.MatchString(f.Name) && !secret {
				t.Errorf("Options field %s%s is named like a secret but lacks the tag secret:\"true\"", prefix, f.Name)
			}
		}
	}
}
