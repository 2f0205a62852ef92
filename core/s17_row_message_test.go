package core_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestRowMessageRebuildsEachRowsMessage: a RowNamed group's RowMessage
// splits its message around the row it names, so that before + i + after
// is row i's own message (what pybind sends Python instead of a message
// per row); a group that is not RowNamed has none.
func TestRowMessageRebuildsEachRowsMessage(t *testing.T) {
	srv := localServer(t)
	cfg := localConfig(srv, "main.default.s17_row_message")
	cfg.WriterDisabled = true
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	// Rows 5..104 fail alike (100 rows: "row 5" to "row 104", so the row's
	// digits change length); row 7's message must not match at "row 70".
	rec := nullNameBatch(120, func(i int) bool { return i >= 5 && i < 105 })
	defer rec.Release()
	res, _ := w.SendBatch(context.Background(), rec)
	groups := res.FailedGroups()
	if len(groups) != 1 || !groups[0].RowNamed || groups[0].Rows() != 100 {
		t.Fatalf("FailedGroups = %+v, want one RowNamed group of 100 rows", groups)
	}
	before, after, ok := groups[0].RowMessage()
	if !ok {
		t.Fatalf("RowMessage of %v: not split", groups[0].Err)
	}
	for i := 5; i < 105; i++ {
		if got, want := before+strconv.Itoa(i)+after, core.DetailsOf(groups[0].ErrAt(i)).Message; got != want {
			t.Fatalf("row %d: rebuilt %q, want %q", i, got, want)
		}
	}
	if _, _, ok := (core.FailedGroup{Err: core.ErrClosed, Ranges: [][2]int{{0, 2}}}).RowMessage(); ok {
		t.Error("RowMessage of a group that is not RowNamed: ok")
	}
}
