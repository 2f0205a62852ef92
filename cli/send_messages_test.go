package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// unknownHost is a host name no resolver can find: a label over 63 bytes
// is refused by the resolver without a query, with the same "no such host"
// error as a name the DNS does not know, so the test needs no network.
var unknownHost = "no-such-host-" + strings.Repeat("x", 60) + ".zerobus.test"

// TestSendUnknownHost: an endpoint or workspace URL whose host does not
// resolve stops the command at once (no retries) with one message naming
// the host and the setting, printed once.
func TestSendUnknownHost(t *testing.T) {
	s := startServer(t)
	path := filepath.Join(t.TempDir(), "d.arrow")
	var batches []arrow.RecordBatch
	for i := range 6 {
		batches = append(batches, mixedBatch(memory.DefaultAllocator, i*10, 10))
	}
	writeArrow(t, path, false, mixedSchema, batches)
	for _, b := range batches {
		b.Release()
	}
	for _, tc := range []struct {
		name, flag, value, setting string
	}{
		{"endpoint", "-endpoint", "https://" + unknownHost + ":443", "endpoint"},
		{"workspace url", "-workspace-url", "https://" + unknownHost, "unity_catalog_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(connFlags(s, "main.default.unknown_host"), tc.flag, tc.value, "-batch-rows", "10", path)
			r := sendCLI(t, args...)
			if r.err == nil {
				t.Fatalf("no error; stdout:\n%s", r.stdout)
			}
			all := r.err.Error() + "\n" + r.stdout + r.stderr
			t.Logf("error: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
			for _, want := range []string{unknownHost, "not found", tc.setting} {
				if !strings.Contains(r.err.Error()+r.stdout, want) {
					t.Errorf("output lacks %q", want)
				}
			}
			if n := strings.Count(r.stdout, unknownHost); n != 1 {
				t.Errorf("the summary names the host %d times, want once", n)
			}
			for _, bad := range []string{"gave up after", "server health", "zerobus: zerobus:", "retrying"} {
				if strings.Contains(all, bad) {
					t.Errorf("output contains %q: an unknown host is not worth retrying", bad)
				}
			}
		})
	}
}

// TestErrorLineOnePrefix: the command's error line does not repeat the
// library's prefix ("zerobus send: zerobus: invalid configuration").
func TestErrorLineOnePrefix(t *testing.T) {
	r := sendCLI(t, "-table", "main.default.t", filepath.Join(t.TempDir(), "x.arrow"))
	if r.err == nil {
		t.Fatal("no error")
	}
	cfgErr := sendCLI(t, "-endpoint", "ftp://x", "-table", "a.b.c", "-client-id", "i", "-client-secret", "s", "-workspace-url", "https://w", writeOneRowArrow(t))
	for _, err := range []error{r.err, cfgErr.err} {
		if err == nil {
			t.Fatal("no error")
		}
		line := errorLine("send", err)
		if strings.Count(line, "zerobus") != 1 || !strings.HasPrefix(line, "zerobus send: ") {
			t.Errorf("error line %q: want one \"zerobus\" prefix", line)
		}
	}
}

func writeOneRowArrow(t *testing.T) string { return writeMixedArrow(t, "one.arrow", 1) }

// writeMixedArrow writes rows rows of mixedBatch to an Arrow IPC file name
// in a temporary directory and returns its path.
func writeMixedArrow(t *testing.T, name string, rows int) string {
	path := filepath.Join(t.TempDir(), name)
	rec := mixedBatch(memory.DefaultAllocator, 0, rows)
	defer rec.Release()
	writeArrow(t, path, false, mixedSchema, []arrow.RecordBatch{rec})
	return path
}
