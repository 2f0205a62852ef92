package zerobuslocal_test

import (
	"net/http"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// InspectURL is where the inspection API answers (the CLI prints it and
// Python's LocalServer calls it; Python kept a copy of InspectPrefix).
func TestInspectURL(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if want := s.WorkspaceURL() + zerobuslocal.InspectPrefix; s.InspectURL() != want {
		t.Fatalf("InspectURL %q, want %q", s.InspectURL(), want)
	}
	resp, err := http.Get(s.InspectURL() + "/tables")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s/tables: %s", s.InspectURL(), resp.Status)
	}
}
