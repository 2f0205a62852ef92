package debugfile

import (
	"math/rand"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSafeName(t *testing.T) {
	for _, tc := range []struct {
		name, table string
		want        string // "" = only check the properties
	}{
		{"catalog name kept", "main.default.events", "main.default.events"},
		{"underscores kept", "a_b", "a_b"},
		{"slash replaced", "a/b", ""},
		{"dash replaced", "a-b", ""},
		{"dot dot", "..", ""},
		{"leading dot", ".hidden", ""},
		{"empty", "", ""},
		{"windows device", "con.x.y", ""},
		{"windows com port", "COM1", ""},
		{"unicode", "tåble", ""},
		{"long", strings.Repeat("x", 300), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SafeName(tc.table)
			if tc.want != "" && got != tc.want {
				t.Errorf("SafeName(%q) = %q, want %q", tc.table, got, tc.want)
			}
			if got == "" || strings.ContainsAny(got, `-/\: `) || strings.HasPrefix(got, ".") || len(got) > maxBaseLen+9 {
				t.Errorf("SafeName(%q) = %q is not a safe file name", tc.table, got)
			}
			if isReservedWindowsName(got) {
				t.Errorf("SafeName(%q) = %q is a Windows device name", tc.table, got)
			}
			if tc.want == "" && got == tc.table {
				t.Errorf("SafeName(%q) left an unsafe name unchanged", tc.table)
			}
		})
	}
	// Tables that sanitize alike still get different files.
	if a, b := SafeName("a-b"), SafeName("a/b"); a == b || a == "a_b" || b == "a_b" {
		t.Errorf("SafeName collides: a-b -> %q, a/b -> %q, a_b -> a_b", a, b)
	}
}

func TestParseRotated(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	stem := rotatedStem("a", at, 3)
	if want := "a-20260304T050607.890Z-0003"; stem != want {
		t.Fatalf("rotatedStem = %q, want %q", stem, want)
	}
	for _, tc := range []struct {
		file string
		ok   bool
	}{
		{stem + ".arrow", true},
		{"a-20260304T050607.890Z-12345.arrow", true},
		{"a.arrow", false}, // the active file
		{stem + ".proto", false},
		{"a_b-20260304T050607.890Z-0003.arrow", false},
		{"a.b-20260304T050607.890Z-0003.arrow", false},
		{"a-notes.arrow", false},
		{"a-20260304T050607.890Z-x003.arrow", false},
		{"a-20260304T050607.890Z.arrow", false},
		{"a-20261304T050607.890Z-0003.arrow", false},
		{"a-.arrow", false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got, ok := parseRotated(tc.file, "a", ".arrow")
			if ok != tc.ok {
				t.Fatalf("parseRotated(%q) ok = %v, want %v", tc.file, ok, tc.ok)
			}
			if ok && got != strings.TrimSuffix(tc.file, ".arrow") {
				t.Errorf("stem = %q", got)
			}
		})
	}
}

func TestSortRotatedIsChronological(t *testing.T) {
	base := time.Date(2026, 1, 1, 23, 59, 59, 0, time.UTC)
	var want []string
	for i := 0; i < 30; i++ {
		at := base.Add(time.Duration(i/3) * 500 * time.Millisecond) // three per timestamp, crossing midnight
		want = append(want, rotatedStem("t", at, i%3))
	}
	want = append(want, rotatedStem("t", base.Add(time.Hour), 9999), rotatedStem("t", base.Add(time.Hour), 10000))
	got := append([]string(nil), want...)
	rand.New(rand.NewSource(1)).Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	sortRotated(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sort order (-want +got):\n%s", diff)
	}
}
