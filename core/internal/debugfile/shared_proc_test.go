//go:build unix

package debugfile

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
)

// The writer in another process (TestSharedTableHelperProcess) holds the
// canonical names: this process's writer of the same table takes names of
// its own (flock excludes other processes), and every row of both is in the
// files exactly once, with rotation on every write and every file kept.
func TestSharedTableAcrossProcesses(t *testing.T) {
	checkGoroutines(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSharedTableHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "DEBUGFILE_SHARED_DIR="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stdin.Close(); _ = cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	var helperPaths string
	for lines.Scan() {
		if p, ok := strings.CutPrefix(lines.Text(), "paths "); ok {
			helperPaths = p
			break
		}
	}
	if helperPaths == "" {
		t.Fatalf("helper process printed no paths: %v", lines.Err())
	}
	w := mustNew(t, "t", sharedProcConfig(dir))
	t.Cleanup(func() { _ = w.Close() })
	a, p := w.Paths()
	if helperPaths != filepath.Join(dir, "zerobus", "arrow", "t.arrow")+" "+filepath.Join(dir, "zerobus", "proto", "t.proto") {
		t.Errorf("helper's paths %q, want the canonical ones", helperPaths)
	}
	if strings.Contains(helperPaths, a) || strings.Contains(helperPaths, p) {
		t.Errorf("both processes write %q", helperPaths)
	}
	for i := 0; i < 10; i++ {
		writeRows(t, w, memory.DefaultAllocator, 1000+3*i, 3)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_ = stdin.Close() // the helper writes its rows, closes and exits
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper process: %v", err)
	}
	arrowIDs, protoIDs := sharedIDs(t, dir, "t")
	want := sortedCopy(append(seq(0, 30), seq(1000, 30)...))
	if !cmp.Equal(arrowIDs, want) || !cmp.Equal(protoIDs, want) {
		t.Errorf("ids in the files:\narrow %v\nproto %v\nwant  %v (each once)", arrowIDs, protoIDs, want)
	}
}

func sharedProcConfig(dir string) Config {
	return Config{OutputDir: dir, Arrow: true, Proto: true, MaxFileSize: 1, MaxFilesRetained: -1}
}

// TestSharedTableHelperProcess is the other process of
// TestSharedTableAcrossProcesses: it opens its writer, prints its paths,
// writes rows while the parent writes, and closes when stdin closes.
func TestSharedTableHelperProcess(t *testing.T) {
	dir := os.Getenv("DEBUGFILE_SHARED_DIR")
	if dir == "" {
		t.Skip("helper process of TestSharedTableAcrossProcesses")
	}
	w := mustNew(t, "t", sharedProcConfig(dir))
	a, p := w.Paths()
	os.Stdout.WriteString("paths " + a + " " + p + "\n")
	for i := 0; i < 10; i++ {
		writeRows(t, w, memory.DefaultAllocator, 3*i, 3)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes it
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}
