package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// send -config with an unknown key in the file lists the settings still
// missing in the same round, not only the key:
// they showed once the key was fixed (s18 review errors M4a).
func TestSendConfigUnknownKeyAndMissingAtOnce(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "b2.yaml")
	if err := os.WriteFile(yml, []byte("endpoint: http://127.0.0.1:1\nbogus_key: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(dir, "in.csv")
	if err := os.WriteFile(csv, []byte("id\n1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "send", "-config", yml, csv)
	for _, want := range []string{"bogus_key", "unknown key", "table_name", "is required"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if code != ExitUsage {
		t.Errorf("exit %d, want %d (configuration)", code, ExitUsage)
	}
	// with -table given as a flag, table_name is not reported missing
	_, _, errOut = runCLI(t, "send", "-config", yml, "-table", "main.default.t", csv)
	if !strings.Contains(errOut, "bogus_key") || strings.Contains(errOut, "table_name") {
		t.Errorf("with -table: stderr = %s", errOut)
	}
}
