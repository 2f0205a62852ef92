package zerobuslocal_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A DataDir the tables cannot be written to fails Start: it failed only at
// Close, after the server had taken (and then lost) the rows.
func TestStartChecksDataDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{file, filepath.Join(file, "sub")} {
		s, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{DataDir: bad})
		if err == nil {
			s.Close()
			t.Fatalf("DataDir %s: Start succeeded", bad)
		}
		var oe *zerobuslocal.OptionsError
		if !errors.Is(err, zerobuslocal.ErrInvalidOptions) || !errors.As(err, &oe) || len(oe.Problems) != 1 ||
			oe.Problems[0].Field != "DataDir" || oe.Problems[0].Key != "data_dir" || oe.Problems[0].Value != bad ||
			!strings.Contains(oe.Problems[0].Msg, "not a directory") {
			t.Errorf("DataDir %s: %v", bad, err)
		}
	}
	// A directory to create is created at Start and left empty (the probe
	// file is removed); the tables are written there at Close.
	good := filepath.Join(dir, "new", "data")
	s, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{DataDir: good})
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(good)
	if err != nil || len(ents) != 0 {
		t.Errorf("DataDir after Start: %v %v, want an empty directory", ents, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}
