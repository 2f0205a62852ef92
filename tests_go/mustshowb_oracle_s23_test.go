package tests_go

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const modulePath = "github.com/zerobus-wrapper/zerobus-wrapper"

// moduleImports returns the module-local packages pkg imports in its
// non-test files (every build tag), transitively, with the chain that
// reached each.
func moduleImports(t *testing.T, pkg string) map[string][]string {
	t.Helper()
	seen := map[string][]string{pkg: {pkg}}
	queue := []string{pkg}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		dir := filepath.Join("..", filepath.FromSlash(strings.TrimPrefix(strings.TrimPrefix(p, modulePath), "/")))
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("package %s: no Go files in %s (%v)", p, dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatalf("parsing %s: %v", f, err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				if path != modulePath && !strings.HasPrefix(path, modulePath+"/") {
					continue
				}
				if _, ok := seen[path]; !ok {
					seen[path] = append(slices.Clone(seen[p]), path)
					queue = append(queue, path)
				}
			}
		}
	}
	return seen
}

// TestS23LocalServerImportsNothingOfTheClient (issue 17: the local server
// stays an independent oracle): core/zerobuslocal, and everything it
// imports from this module, imports none of the client's packages — core,
// its converter, stream, Flight stream, debug-file and telemetry code — so
// a conversion bug in the client cannot hide in the server's own checks.
func TestS23LocalServerImportsNothingOfTheClient(t *testing.T) {
	client := []string{
		modulePath + "/core",
		modulePath + "/core/internal/convert",
		modulePath + "/core/internal/stream",
		modulePath + "/core/internal/flightstream",
		modulePath + "/core/internal/debugfile",
		modulePath + "/core/internal/telemetry",
		modulePath + "/pybind",
		modulePath + "/cli",
	}
	got := moduleImports(t, modulePath+"/core/zerobuslocal")
	if len(got) < 2 {
		t.Fatalf("found no module imports of core/zerobuslocal: %v", got)
	}
	for _, c := range client {
		if chain, ok := got[c]; ok {
			t.Errorf("core/zerobuslocal reaches the client package %s: %s", c, strings.Join(chain, " -> "))
		}
	}
	// The check sees real imports: the client itself does reach them.
	if chain := moduleImports(t, modulePath+"/core"); chain[modulePath+"/core/internal/convert"] == nil {
		t.Errorf("core does not import core/internal/convert: the import walk is broken (%v)", chain)
	}
}
