package core_test

import (
	"context"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestSendReaderProgressForAnInputWithoutRows: the progress callback is
// called once, with 0 rows resolved, when the input has no rows (a reader
// with no batches, or only empty ones), with the total given. It was never
// called, so a progress bar driven by it never saw the send end.
func TestSendReaderProgressForAnInputWithoutRows(t *testing.T) {
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, "main.default.s17_progress_empty"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	for _, c := range []struct {
		name  string
		rdr   *genReader
		total []core.SendOption
		want  core.Progress
	}{
		{"no batches", &genReader{size: 10, count: 0}, nil, core.Progress{TotalRows: -1}},
		{"empty batches, total 0", &genReader{size: 0, count: 3}, []core.SendOption{core.WithTotalRows(0)}, core.Progress{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var calls []core.Progress
			opts := append([]core.SendOption{core.WithProgress(func(p core.Progress) { calls = append(calls, p) })}, c.total...)
			res, err := w.SendReader(context.Background(), c.rdr, opts...)
			if err != nil || !res.Success || res.TotalRows != 0 {
				t.Fatalf("SendReader: %v, %v", res, err)
			}
			if len(calls) != 1 || calls[0] != c.want {
				t.Errorf("progress calls %+v, want one %+v", calls, c.want)
			}
		})
	}
}
