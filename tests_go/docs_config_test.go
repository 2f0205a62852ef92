package tests_go

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// configFieldDocs returns the doc comment of every field of core.Config, on
// one line each.
func configFieldDocs(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "core", "config.go"), nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Config" {
			return true
		}
		for _, field := range ts.Type.(*ast.StructType).Fields.List {
			for _, name := range field.Names {
				docs[name.Name] = strings.Join(strings.Fields(field.Doc.Text()), " ")
			}
		}
		return false
	})
	if len(docs) < 30 {
		t.Fatalf("core.Config has %d documented fields?", len(docs))
	}
	return docs
}

var (
	docDefault   = regexp.MustCompile(`\bDefault ("[^"]*"|[^.;:(]+?)\s*(?:[.;:(]|$)|(\S+) \(default\)`)
	docYAML      = regexp.MustCompile(`\bYAML ([a-z_]+)`)
	docEnv       = regexp.MustCompile(`\benv ([A-Z][A-Z0-9_]+)`)
	docQuantity  = regexp.MustCompile(`^(\d+)\s*(MiB|KiB|GiB|bytes|B)?(?:\s*[−-]\s*(\d+)\s*(MiB|KiB|bytes|B))?$`)
	docSizeUnits = map[string]int64{"": 1, "B": 1, "bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
)

// docValue converts the default a comment states to a Setting.Default of s.
func docValue(s core.Setting, text string) (any, error) {
	text = strings.Trim(strings.TrimSpace(text), `"`)
	switch s.Type {
	case "bool":
		return strconv.ParseBool(text)
	case "string":
		return text, nil
	case "duration":
		if n, err := strconv.ParseInt(text, 10, 64); err == nil { // "0"
			return n, nil
		}
		d, err := time.ParseDuration(text)
		if err != nil {
			return nil, err
		}
		unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second}[s.Unit]
		return int64(d / unit), nil
	}
	m := docQuantity.FindStringSubmatch(text)
	if m == nil {
		return nil, fmt.Errorf("%q is not a quantity", text)
	}
	a, _ := strconv.ParseInt(m[1], 10, 64)
	v := a * docSizeUnits[m[2]]
	if m[3] != "" {
		b, _ := strconv.ParseInt(m[3], 10, 64)
		v -= b * docSizeUnits[m[4]]
	}
	return v, nil
}

// configDocProblems compares each Config field's comment with its row of
// settings: the YAML key and first variable it names, and its default.
func configDocProblems(docs map[string]string, settings []core.Setting) []string {
	var out []string
	for _, s := range settings {
		doc, ok := docs[s.Field]
		if !ok {
			out = append(out, s.Field+": no such Config field")
			continue
		}
		if m := docYAML.FindStringSubmatch(doc); m != nil && m[1] != s.Key {
			out = append(out, fmt.Sprintf("%s: comment says YAML %s, the key is %s", s.Field, m[1], s.Key))
		}
		if m := docEnv.FindStringSubmatch(doc); m != nil && m[1] != s.Env[0] {
			out = append(out, fmt.Sprintf("%s: comment says env %s, the variable is %s", s.Field, m[1], s.Env[0]))
		}
		m := docDefault.FindStringSubmatch(doc)
		if m == nil {
			continue
		}
		text := m[1] + m[2]
		got, err := docValue(s, text)
		want := s.Default
		if want == nil {
			want = false // a per-kind debug switch: unset reads as off
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			out = append(out, fmt.Sprintf("%s: comment says default %q, Settings has %v", s.Field, text, s.Default))
		}
	}
	return out
}

// TestConfigCommentsMatchSettings: the godoc of every core.Config field
// states the YAML key, environment variable and default of core.Settings.
func TestConfigCommentsMatchSettings(t *testing.T) {
	docs := configFieldDocs(t)
	if p := configDocProblems(docs, core.Settings()); len(p) > 0 {
		t.Errorf("core.Config comments differ from core.Settings():\n%s", strings.Join(p, "\n"))
	}
	// and the check finds drift: a changed default, key or variable
	drift := core.Settings()
	for i := range drift {
		switch drift[i].Key {
		case "retry_max_delay_ms":
			drift[i].Default = int64(20000)
		case "ack_timeout_ms":
			drift[i].Default = int64(1)
		case "max_record_bytes":
			drift[i].Default = drift[i].Default.(int64) + 1
		case "tls_ca_file":
			drift[i].Key = "ca_file"
		case "transport":
			drift[i].Env = []string{"ZEROBUS_TRANSPORTS"}
		}
	}
	got := strings.Join(configDocProblems(docs, drift), "\n")
	for _, want := range []string{"RetryMaxDelay: comment says default", "AckTimeout: comment says default",
		"MaxRecordBytes: comment says default", "TLSCAFile: comment says YAML tls_ca_file", "Transport: comment says env ZEROBUS_TRANSPORT,"} {
		if !strings.Contains(got, want) {
			t.Errorf("drift not found: %q in\n%s", want, got)
		}
	}
}
