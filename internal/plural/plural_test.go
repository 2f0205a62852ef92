package plural

import (
	"fmt"
	"testing"
)

func TestAgreement(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 attempts, 0 recoveries: they export"},
		{1, "1 attempt, 1 recovery: it exports"},
		{2, "2 attempts, 2 recoveries: they export"},
	} {
		pron := Word(c.n, "it", "they")
		got := fmt.Sprintf("%d attempt%s, %d %s: %s %s", c.n, S(c.n), c.n, Word(c.n, "recovery", "recoveries"), pron, Verb(c.n, "export"))
		if got != c.want {
			t.Errorf("n=%d: %q, want %q", c.n, got, c.want)
		}
	}
	if Of(int64(1), "request") != "1 request" || Of(0, "cell") != "0 cells" || Of(12, "attempt") != "12 attempts" {
		t.Errorf("Of: %q, %q, %q", Of(int64(1), "request"), Of(0, "cell"), Of(12, "attempt"))
	}
	if S(int(1)) != "" || Verb(int(3), "rotate") != "rotate" {
		t.Error("int counts disagree with int64 ones")
	}
}
