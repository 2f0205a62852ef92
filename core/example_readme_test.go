package core_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEGoSnippetCompiles type-checks the "Go in ten lines" block of the
// top-level README.md (a fragment: it is placed in a function that provides
// ctx, rec and quarantine) with go vet, so the README cannot show Go that does
// not build, and checks that it releases the batch it extracts.
func TestREADMEGoSnippetCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go vet")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH") // go test runs with it; other runners may not
	}
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)\n```go\n(.*?)\n```").FindAllSubmatch(readme, -1)
	if len(blocks) != 1 {
		t.Fatalf("README.md has %d Go blocks, want the one of \"Go in ten lines\"", len(blocks))
	}
	snippet := string(blocks[0][1])
	if m := regexp.MustCompile(`(\w+), \w+ := res\.ExtractFailedBatch`).FindStringSubmatch(snippet); m == nil {
		t.Error("the README's Go block no longer extracts the failed rows")
	} else if !strings.Contains(snippet, m[1]+".Release()") {
		t.Errorf("the README's Go block never releases %s, the batch ExtractFailedBatch returns", m[1])
	}

	// Inside the module (so its imports resolve), in a directory ./... skips.
	dir, err := os.MkdirTemp(filepath.Join("..", "_build"), "readme-go-")
	if os.IsNotExist(err) {
		if err = os.MkdirAll(filepath.Join("..", "_build"), 0o755); err == nil {
			dir, err = os.MkdirTemp(filepath.Join("..", "_build"), "readme-go-")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	src := `package readme

import (
	"context"
	"log"
	"os"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

var _, _ = log.Println, os.Getenv

func readme(ctx context.Context, rec arrow.RecordBatch, quarantine func(arrow.RecordBatch)) {
` + snippet + `
}
`
	if err := os.WriteFile(filepath.Join(dir, "readme.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goBin, "vet", ".")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the README's Go block does not build: %v\n%s\n%s", err, out, src)
	}
}
