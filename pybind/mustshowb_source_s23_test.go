package pybind

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// Issue 14 and 15 ("what it must show"): pybind/ only delegates. It holds no
// result-merging code (core owns "many batches, one result") and no key
// table of the settings (core.Settings is the one table; pybind passes
// settings as data and never touches the process environment). These tests
// read pybind's own non-test sources, so each fails when such code comes back.

// pybindSources parses every non-test Go file of this package.
func pybindSources(t *testing.T) (*token.FileSet, map[string]*ast.File) {
	t.Helper()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parsing %s: %v", p, err)
		}
		files[p] = f
	}
	// The files that must be here: a rename would make the checks vacuous.
	for _, want := range []string{"config.go", "wrapper.go", "result_groups.go", "cstream.go"} {
		if files[want] == nil {
			t.Fatalf("pybind/%s is missing; found %d files", want, len(files))
		}
	}
	return fset, files
}

// stringLiterals returns every string literal of f that is not a struct tag
// or an import path, unquoted, with its position.
func stringLiterals(fset *token.FileSet, f *ast.File) map[string][]token.Position {
	skip := map[*ast.BasicLit]bool{}
	for _, imp := range f.Imports {
		skip[imp.Path] = true
	}
	ast.Inspect(f, func(n ast.Node) bool {
		if fl, ok := n.(*ast.Field); ok && fl.Tag != nil {
			skip[fl.Tag] = true
		}
		return true
	})
	out := map[string][]token.Position{}
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING || skip[lit] {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		out[s] = append(out[s], fset.Position(lit.Pos()))
		return true
	})
	return out
}

// TestS23PybindHoldsNoSettingsKeyTable: no pybind source spells a setting's
// key or environment variable as a string (a key table, a default or an env
// lookup of its own), and none reads or changes the process environment.
func TestS23PybindHoldsNoSettingsKeyTable(t *testing.T) {
	settings := core.Settings()
	if len(settings) < 20 {
		t.Fatalf("core.Settings() has %d keys, want the whole table", len(settings))
	}
	names := map[string]string{}
	for _, s := range settings {
		names[s.Key] = "key"
		for _, e := range s.Env {
			names[e] = "environment variable of " + s.Key
		}
	}
	fset, files := pybindSources(t)
	for p, f := range files {
		for lit, poss := range stringLiterals(fset, f) {
			if what, ok := names[lit]; ok {
				t.Errorf("%s: pybind/%s spells the setting %s %q: the settings table is core's alone", poss[0], p, what, lit)
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == "os" {
				switch sel.Sel.Name {
				case "Setenv", "Unsetenv", "Getenv", "LookupEnv", "Environ", "Clearenv":
					t.Errorf("%s: pybind/%s calls os.%s: settings cross as data, never through the environment",
						fset.Position(sel.Pos()), p, sel.Sel.Name)
				}
			}
			return true
		})
	}
	// config.go hands the settings to core as data.
	if !regexp.MustCompile(`core\.ConfigFromSettings\(`).MatchString(readSource(t, "config.go")) {
		t.Error("pybind/config.go no longer delegates to core.ConfigFromSettings")
	}
}

// TestS23PybindMergesNoResults: pybind builds no core result of its own (no
// composite literal of core's result types), declares no merging or row
// offset helpers, and sends through core's reader form, whose one result is
// already global across the input.
func TestS23PybindMergesNoResults(t *testing.T) {
	coreResultTypes := map[string]bool{"TransmissionResult": true, "FailedRow": true, "FailedGroup": true}
	nameRule := regexp.MustCompile(`(?i)merge|combine|concat.*result|result.*concat|shift.*row|row.*offset|offset.*row|globalrow`)
	fset, files := pybindSources(t)
	for p, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "core" && coreResultTypes[sel.Sel.Name] {
						t.Errorf("%s: pybind/%s builds a core.%s: results are made and merged in core only",
							fset.Position(n.Pos()), p, sel.Sel.Name)
					}
				}
			case *ast.FuncDecl:
				if nameRule.MatchString(n.Name.Name) {
					t.Errorf("%s: pybind/%s declares %s: result merging belongs to core", fset.Position(n.Pos()), p, n.Name.Name)
				}
			case *ast.AssignStmt:
				// core.TransmissionResult's row fields are never written here.
				for _, lhs := range n.Lhs {
					if sel, ok := lhs.(*ast.SelectorExpr); ok {
						switch sel.Sel.Name {
						case "FailedRows", "SuccessfulRows", "SuccessfulCount", "FailedCount", "NotWrittenCount", "UnknownCount", "TotalRows":
							t.Errorf("%s: pybind/%s assigns .%s: counts and rows are core's", fset.Position(sel.Pos()), p, sel.Sel.Name)
						}
					}
				}
			}
			return true
		})
	}
	// The send goes through core's reader form (one result for the whole
	// input), not a loop of one-batch sends.
	src := readSource(t, "wrapper.go")
	if !strings.Contains(src, ".SendReader") && !strings.Contains(src, ".SendReaderAsync") {
		t.Error("pybind/wrapper.go no longer sends through core's SendReader")
	}
	if strings.Contains(src, ".SendBatch(") {
		t.Error("pybind/wrapper.go calls SendBatch: a loop of one-batch sends needs merging outside core")
	}
}

func readSource(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
