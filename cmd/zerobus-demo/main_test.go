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
			"batch 1: zerobus: 4/4 rows sent",
			"batch 2: zerobus: 3/4 rows sent (1 failed: conversion=1)",
			`  failed row 1: column "views": uint64 value 18446744073709551615 is over the int64 maximum`,
			"total: 11 rows acknowledged, 1 failed",
			"server stored 11 rows in main.demo.events",
			"read back: the Arrow file holds 3 batches, 12 rows",
			"read back: the protobuf file holds 11 records",
			"zerobus.rows.sent = 11\n",
			"zerobus.rows.failed{error.kind=conversion} = 1\n",
			"zerobus.batches.sent{outcome=partial} = 1\n",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("run %d: output lacks %q:\n%s", n, want, got)
			}
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
