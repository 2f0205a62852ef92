package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestSendStoppedJSONWords: -json's "stopped" of a file that fails part-way
// has no "below"/"above" (the text summary's layout): it points at the
// error field.
func TestSendStoppedJSONWords(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,name\n")
	for i := range 30 {
		fmt.Fprintf(&b, "%d,n%d\n", i, i)
	}
	b.WriteString("30,a,b\n") // a row with 3 cells, after the type sample
	path := filepath.Join(t.TempDir(), "bad.csv")
	writeFile(t, path, b.String())
	code, out, _, _ := runCLIOrdered(context.Background(), "send", "-dry-run", "-json", "-csv-infer-rows", "5", "-batch-rows", "10", path)
	var sum struct {
		Stopped string `json:"stopped"`
		Error   string `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("-json %q: %v", out, err)
	}
	want := "reading " + path + " failed after 30 rows (error says why); the rows read before were sent and are counted here"
	if code != ExitFailed || sum.Stopped != want || sum.Error == "" {
		t.Errorf("exit %d, stopped %q (want %q), error %q", code, sum.Stopped, want, sum.Error)
	}
}
