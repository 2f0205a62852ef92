package cli

import (
	"strings"
	"testing"
)

// TestSendGraceExpiredSaysItOnce: when the grace after an interrupt runs
// out, the summary says so in its "interrupted:" line only; it also printed
// "stopped early: the call was canceled" (the cancellation counted as a
// failure that stops the run), and -json had a "stopped" with it.
func TestSendGraceExpiredSaysItOnce(t *testing.T) {
	stdout, _, done, _ := stalledSend(t, "main.default.graceonce", "-grace", "100ms")
	err := <-done
	wantExitInterrupted(t, err)
	out := stdout.String()
	if strings.Contains(out, "stopped early") || strings.Count(out, "were cancelled") != 1 ||
		!strings.Contains(out, "  interrupted:  reading stopped after 1 of 1 files; the batches still in flight after the 100ms grace (-grace) were cancelled") {
		t.Errorf("summary:\n%s", out)
	}
	if !strings.Contains(out, "  rows failed:  6 (canceled=6; 6 unknown") {
		t.Errorf("summary lacks the 6 cancelled rows:\n%s", out)
	}

	stdout, _, done, _ = stalledSend(t, "main.default.graceonce2", "-grace", "100ms", "-json")
	<-done
	sum := summaryOf(t, stdout)
	if sum.Stopped != "" || !sum.GraceExpired || !sum.Interrupted || sum.RowsFailed != 6 || sum.RowsUnknown != 6 {
		t.Errorf("-json: %+v", sum)
	}
}
