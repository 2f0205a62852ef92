package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// bareDash finds "-" used as a name in a message ("-: reading CSV ...",
// "sent - to ..."); the remedies' commands, where "-" is what the user
// types, are removed first.
var bareDash = regexp.MustCompile(`(^|[\s(])-([:\s)]|$)`)

func dashNamed(text string) []string {
	text = strings.ReplaceAll(text, "zerobus send [flags] -", "zerobus send [flags] <stdin>")
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if bareDash.MatchString(line) {
			lines = append(lines, line)
		}
	}
	return lines
}

// TestStdinNamedOneWay: every message about "-" names it "standard input"
// (before, "-: reading CSV from row 0 on: ... (standard input is read
// once ...)" named it both ways in one line, and the summary said "sent -
// to ..."); "-" appears only in the commands to type. -json keeps the
// arguments as given (files, stopped_file).
func TestStdinNamedOneWay(t *testing.T) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer devNull.Close()
	for _, tc := range []struct {
		name  string
		stdin func() *os.File
		args  []string
		want  string // in stdout + stderr
	}{
		{"summary", func() *os.File { return pipeStdin(t, []byte("id\n1\n2\n")) }, nil,
			"converted (-dry-run, nothing sent) standard input to main.default.zerobus_send\n"},
		{"csv-cells-late", func() *os.File { return pipeStdin(t, []byte("id,name\n1,a\n2,b\n3,d,e\n")) }, []string{"-csv-infer-rows", "1"},
			"zerobus send: standard input: reading CSV from row 0 on: record on line 4: wrong number of fields (the input is read once, so the row is not known; the line is)\n"},
		{"csv-type", func() *os.File { return pipeStdin(t, []byte("id\n1\n2\nx\n")) }, []string{"-csv-infer-rows", "2"},
			"reading standard input failed after 0 rows (see the error below)"},
		{"csv-cells", func() *os.File { return pipeStdin(t, []byte("id,name\n1,a\n2,b,c\n")) }, nil,
			"zerobus send: standard input: reading CSV row 1: record on line 3: wrong number of fields"},
		{"not-arrow", func() *os.File { return pipeStdin(t, []byte("id\n1\n")) }, []string{"-format", "arrow"},
			`zerobus send: standard input: not an Arrow IPC stream (it starts with "id\n1\n")`},
		{"gzip", func() *os.File { return pipeStdin(t, []byte("\x1f\x8b\x08\x00")) }, nil,
			"zerobus send: standard input is gzip-compressed"},
		{"twice", func() *os.File { return pipeStdin(t, []byte("id\n1\n")) }, []string{"-"},
			"zerobus send: standard input is given twice: it is read once\n"},
		{"terminal", func() *os.File { return devNull }, nil,
			"zerobus send: standard input is a terminal or a device, not a pipe: pipe the data in (some_tool | zerobus send [flags] -) or give the file's name\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out, errOut := runWithStdin(context.Background(), tc.stdin(), append(append([]string{"send", "-dry-run"}, tc.args...), "-")...)
			text := out + errOut
			if !strings.Contains(text, tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, text)
			}
			if bad := dashNamed(text); len(bad) > 0 {
				t.Errorf("lines naming standard input \"-\":\n%s", strings.Join(bad, "\n"))
			}
		})
	}
}

// TestStdinNamedInSummaryAndHardStop: the text summary's failed rows and the
// second Ctrl-C's line name "-" standard input; -json keeps "-".
func TestStdinNamedInSummaryAndHardStop(t *testing.T) {
	sum := &summary{table: "main.t.x", files: []string{"-"}, rowsRead: 3, rowsFailed: 2, fails: &failureLog{}}
	sum.fails.add("-", 1, errors.New("bad value"))
	sum.fails.add("-", 2, errors.New("bad value"))
	var out bytes.Buffer
	sum.write(&out)
	if !strings.Contains(out.String(), "sent standard input to main.t.x\n") || !strings.Contains(out.String(), "    standard input rows 1..2: ") {
		t.Errorf("summary:\n%s", out.String())
	}
	if bad := dashNamed(out.String()); len(bad) > 0 {
		t.Errorf("summary lines naming standard input \"-\":\n%s", strings.Join(bad, "\n"))
	}

	c := &counters{totalFiles: 1, start: time.Unix(0, 0)}
	c.current.Store(&input{path: "-"})
	c.fileRow.Store(7)
	s := &sender{c: c, sum: &summary{table: "main.t.x"}}
	var stdout, stderr bytes.Buffer
	s.hardStop(sendEnv{stdout: &stdout, stderr: &stderr}, &sendFlags{asJSON: true, files: []string{"-"}}, true)
	if !strings.Contains(stderr.String(), "reading stopped at row 7 of standard input (file 1 of 1)\n") || len(dashNamed(stderr.String())) > 0 {
		t.Errorf("hard stop line: %s", stderr.String())
	}
	if !strings.Contains(stdout.String(), `"stopped_file":"-"`) || !strings.Contains(stdout.String(), `"files":["-"]`) {
		t.Errorf("hard stop -json: %s", stdout.String())
	}
}
