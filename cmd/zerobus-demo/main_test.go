package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestDemo(t *testing.T) {
	dir := t.TempDir()
	// Twice in the same directory: the second run rotates the first run's
	// debug files aside and must report only its own data.
	for n := 1; n <= 2; n++ {
		var out bytes.Buffer
		if err := run(t.Context(), &out, dir); err != nil {
			t.Fatalf("run %d: %v\n%s", n, err, out.String())
		}
		got := out.String()
		for _, want := range []string{
			"batch 1: 4/4 rows acknowledged, ",
			"batch 2: 3/4 rows acknowledged, 1 failed (conversion: 1), ",
			`  failed row 1: column "views": uint64 value 18446744073709551615 is over the int64 maximum`,
			"total: 11 rows acknowledged, 1 failed",
			"server stored 11 rows in main.demo.events",
			"read back: the Arrow file holds 3 batches, 12 rows",
			"read back: the protobuf file holds 11 records",
			"zerobus.rows.sent{transport=protobuf} = 11\n",
			"zerobus.rows.failed{error.kind=conversion,row.state=not_written,transport=protobuf} = 1\n",
			"zerobus.batches.sent{outcome=partial,transport=protobuf} = 1\n",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("run %d: output lacks %q:\n%s", n, want, got)
			}
		}
		// One clean line per error: no "zerobus: " prefixes piling up, the
		// failed row's reason printed once.
		if strings.Contains(got, "zerobus: ") {
			t.Errorf("run %d: output has a \"zerobus: \" error prefix:\n%s", n, got)
		}
		if c := strings.Count(got, "is over the int64 maximum"); c != 1 {
			t.Errorf("run %d: the failed row's reason is printed %d times, want once", n, c)
		}
		// Timestamps as times: the first stored row and the first record.
		if !regexp.MustCompile(`(?m)^  1000  signup    2025-03-14 09:26:53Z  `).MatchString(got) {
			t.Errorf("run %d: the stored table does not show row 1000's timestamp as a UTC time", n)
		}
		if !strings.Contains(got, "(at: 1741944413000000 µs since the epoch = 2025-03-14 09:26:53Z)") {
			t.Errorf("run %d: the first record's timestamp is not explained", n)
		}
		// The stored table lists ids 1000..1011 except the failed row's 1005.
		for _, id := range []string{"1000", "1004", "1006", "1011"} {
			if !regexp.MustCompile(`(?m)^  ` + id + `  `).MatchString(got) {
				t.Errorf("run %d: stored row %s missing from the table", n, id)
			}
		}
		if regexp.MustCompile(`(?m)^  1005  `).MatchString(got) {
			t.Errorf("run %d: the failed row 1005 is listed as stored", n)
		}
	}
	for _, p := range []string{"zerobus/arrow/main.demo.events.arrow", "zerobus/proto/main.demo.events.proto", "zerobus/proto/main.demo.events.descriptor.pb"} {
		if st, err := os.Stat(filepath.Join(dir, p)); err != nil || st.Size() == 0 {
			t.Errorf("debug file %s: %v", p, err)
		}
	}
	rotated, _ := filepath.Glob(filepath.Join(dir, "zerobus", "arrow", "main.demo.events-*.arrow"))
	if len(rotated) != 1 {
		t.Errorf("rotated Arrow files after two runs: %v, want the first run's file", rotated)
	}
}

func TestDemoEmptyDebugDir(t *testing.T) {
	if err := run(t.Context(), &bytes.Buffer{}, ""); err == nil {
		t.Error("run with an empty debug dir: no error")
	}
}
