package tests_go

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
)

// coreNames returns the exported names of package core (its non-test files):
// package-level types, functions, constants and variables as "Name", and
// methods and struct fields as "Type.Name".
func coreNames(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	skipTests := func(fi os.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }
	pkgs, err := parser.ParseDir(fset, filepath.Join("..", "core"), skipTests, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, pkg := range pkgs {
		for _, f := range pkg.Files {
			for _, decl := range f.Decls {
				switch d := decl.(type) {
				case *ast.FuncDecl:
					if d.Recv == nil {
						names[d.Name.Name] = true
						continue
					}
					recv := d.Recv.List[0].Type
					if star, ok := recv.(*ast.StarExpr); ok {
						recv = star.X
					}
					if id, ok := recv.(*ast.Ident); ok {
						names[id.Name+"."+d.Name.Name] = true
					}
				case *ast.GenDecl:
					for _, spec := range d.Specs {
						switch s := spec.(type) {
						case *ast.TypeSpec:
							names[s.Name.Name] = true
							if st, ok := s.Type.(*ast.StructType); ok {
								for _, field := range st.Fields.List {
									for _, n := range field.Names {
										names[s.Name.Name+"."+n.Name] = true
									}
								}
							}
						case *ast.ValueSpec:
							for _, n := range s.Names {
								names[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return names
}

// userDocs are the files a user reads that name Go API as core.X.
func userDocs(t *testing.T) []string {
	t.Helper()
	docs, err := filepath.Glob(filepath.Join("..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append(docs, filepath.Join("..", "README.md"), filepath.Join("..", "zerobus_py", "README.md"),
		filepath.Join("..", "CHANGELOG.md"))
}

var coreRef = regexp.MustCompile(`\bcore\.([A-Z]\w*)(?:\.([A-Z]\w*))?`)

// missingCoreNames lists every core.Name or core.Type.Member of text that
// names is missing, as "file:line: core.X".
func missingCoreNames(names map[string]bool, file, text string) []string {
	var out []string
	for i, line := range strings.Split(text, "\n") {
		for _, m := range coreRef.FindAllStringSubmatch(line, -1) {
			name := m[1]
			if m[2] != "" {
				name += "." + m[2]
			}
			if !names[name] {
				out = append(out, file+":"+strconv.Itoa(i+1)+": "+m[0])
			}
		}
	}
	return out
}

// TestDocsNameRealCoreAPI: every core.X (and core.Type.Member) the README,
// the PyPI page, docs/ and the changelog name exists in package core, so a
// renamed or removed function cannot stay documented.
func TestDocsNameRealCoreAPI(t *testing.T) {
	names := coreNames(t)
	var missing []string
	for _, path := range userDocs(t) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		missing = append(missing, missingCoreNames(names, filepath.ToSlash(path), string(src))...)
	}
	if len(missing) > 0 {
		t.Errorf("the docs name core API that does not exist:\n%s", strings.Join(missing, "\n"))
	}
	// the check itself finds a name that is not there, and accepts each kind that is
	probe := missingCoreNames(names, "probe", "core.New core.Wrapper.SendBatch core.Config.TableName core.NoSuchThing core.Wrapper.Nope")
	if strings.Join(probe, ",") != "probe:1: core.NoSuchThing,probe:1: core.Wrapper.Nope" {
		t.Errorf("the name check is broken: %q", probe)
	}
}
