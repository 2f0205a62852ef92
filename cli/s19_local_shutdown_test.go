package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLocalSaysWhatItWrote: at shutdown `zerobus local -data-dir` says
// what it wrote where (it printed nothing), and with -inspect-token the
// inspect line says the API needs the token (it answers 401 without).
func TestLocalSaysWhatItWrote(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dd")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- localMain(ctx, []string{"-data-dir", dir, "-table", "main.x.y", "-columns", "id BIGINT", "-inspect-token", "s3cret-token"},
			Env{Stdout: stdout, Stderr: stderr, LookupEnv: func(string) (string, bool) { return "", false }}.withDefaults())
	}()
	for !strings.Contains(stdout.String(), "inspect:") {
		select {
		case err := <-done:
			t.Fatalf("local returned: %v\n%s", err, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if !strings.Contains(stdout.String(), `/tables (send "Authorization: Bearer TOKEN" with the -inspect-token value)`) ||
		strings.Contains(stdout.String(), "s3cret-token") {
		t.Errorf("banner:\n%s", stdout)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if want := "zerobus local: wrote 1 table (main.x.y) to " + dir + "\n"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "main.x.y.arrow")); err != nil {
		t.Error(err)
	}
}
