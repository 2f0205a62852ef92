package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestSendWriterDisabledFromEnvOrFileIsADryRun: zerobus_writer_disabled set
// by the environment or the -config file made the Wrapper send nothing, yet
// the summary said "rows sent: 24 of 24" and "dry_run": false, exit 0
// (s16 review-settings H1). It is a dry run whatever set it: the summary
// says nothing was sent and stderr names what set it.
func TestSendWriterDisabledFromEnvOrFileIsADryRun(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 4)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})

	r := sendCLIEnv(t, map[string]string{"ZEROBUS_WRITER_DISABLED": "true", "ZEROBUS_TABLE_NAME": "a.b.c"},
		"-progress", "never", "-json", path)
	if r.err != nil {
		t.Fatalf("send: %v\n%s", r.err, r.stderr)
	}
	if !strings.Contains(r.stdout, `"dry_run":true`) { // rows_sent then counts the rows converted, as for -dry-run
		t.Errorf("summary of a send with ZEROBUS_WRITER_DISABLED=true claims the rows were sent: %s", r.stdout)
	}
	if want := "zerobus_writer_disabled is true (env ZEROBUS_WRITER_DISABLED)"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not name what disabled the writer (%q)", r.stderr, want)
	}

	yml := filepath.Join(dir, "off.yaml")
	if err := os.WriteFile(yml, []byte("table_name: a.b.c\nzerobus_writer_disabled: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = sendCLIEnv(t, nil, "-config", yml, "-progress", "never", path)
	if r.err != nil {
		t.Fatalf("send -config: %v\n%s", r.err, r.stderr)
	}
	if strings.Contains(r.stdout, "rows sent: 4") || !strings.Contains(r.stdout, "nothing sent") {
		t.Errorf("summary of a send with zerobus_writer_disabled in -config claims the rows were sent: %s", r.stdout)
	}
	if want := "zerobus_writer_disabled is true (file " + yml + ")"; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not name the file (%q)", r.stderr, want)
	}
}

// TestSendLocalRefusesWhatItWouldOverride: -local sends to an embedded
// server, so it silently overrode zerobus_writer_disabled from the
// environment (the summary said 24 rows sent, the server held 0) and the
// -endpoint, -workspace-url, -client-id and -client-secret flags (s16
// review-settings H1, L1). Each is now refused, naming both.
func TestSendLocalRefusesWhatItWouldOverride(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "d.arrow")
	rec := mixedBatch(memory.DefaultAllocator, 0, 2)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})

	r := sendCLIEnv(t, map[string]string{"ZEROBUS_WRITER_DISABLED": "true"}, "-local", "-progress", "never", path)
	if r.err == nil || !strings.Contains(r.err.Error(), "-local") ||
		!strings.Contains(r.err.Error(), "zerobus_writer_disabled is true (env ZEROBUS_WRITER_DISABLED)") {
		t.Errorf("-local with ZEROBUS_WRITER_DISABLED=true: err %v, want a refusal naming both", r.err)
	}
	for _, fl := range []string{"-endpoint", "-workspace-url", "-client-id", "-client-secret"} {
		r := sendCLIEnv(t, nil, "-local", fl, "http://127.0.0.1:1", "-progress", "never", path)
		if r.err == nil || !strings.Contains(r.err.Error(), "-local and "+fl) {
			t.Errorf("-local %s: err %v, want a refusal naming both", fl, r.err)
		}
	}
}
