package zerobuslocal

import (
	"testing"
	"time"
)

// Every issued token stayed in the server's map forever, expired ones
// included (~200 B each: s20 review leaks M1), so a long-running server grew
// with every Wrapper and token refresh. Tokens expired for more than
// expiredTokenKept are now forgotten by IssueToken's amortised sweep; live
// and recently expired ones stay, and keep their answers.
func TestS20ExpiredTokensAreForgotten(t *testing.T) {
	s, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const old = 5000
	s.mu.Lock()
	for range old {
		s.tokens["old"+randomHex(8)] = tokenInfo{table: "main.t.x", expires: time.Now().Add(-2 * expiredTokenKept)}
	}
	s.tokens["recent"] = tokenInfo{table: "main.t.x", expires: time.Now().Add(-time.Minute)}
	s.mu.Unlock()
	live := s.IssueToken("main.t.x", time.Hour)

	s.mu.Lock()
	n := len(s.tokens)
	s.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d tokens kept after the sweep, want 2 (the live one and the one expired a minute ago)", n)
	}
	if msg, _ := s.checkToken(live, "main.t.x"); msg != "" {
		t.Errorf("live token refused: %s", msg)
	}
	if msg, _ := s.checkToken("recent", "main.t.x"); msg != "access token expired" {
		t.Errorf("recently expired token: %q, want \"access token expired\"", msg)
	}

	// Issuing many live tokens never forgets one, and sweeps stay amortised:
	// the next sweep waits for the map to double.
	toks := make([]string, 3*minTokenSweep)
	for i := range toks {
		toks[i] = s.IssueToken("main.t.x", time.Hour)
	}
	for _, tok := range toks {
		if msg, _ := s.checkToken(tok, "main.t.x"); msg != "" {
			t.Fatalf("a live token was forgotten: %s", msg)
		}
	}
	s.mu.Lock()
	n, next := len(s.tokens), s.tokenSweep
	s.mu.Unlock()
	if n != len(toks)+2 || next < n {
		t.Fatalf("%d tokens, next sweep at %d: want %d tokens and the next sweep at or past them", n, next, len(toks)+2)
	}
}
