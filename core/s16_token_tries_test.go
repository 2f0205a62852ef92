package core_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestTokenTriesFollowRetryMaxAttempts: a token endpoint that answers every
// request with 503 gets, per token fetch, the retry policy's tries (one
// with retry_max_attempts=1, "1 disables retries"; at most 4), not a fixed
// 4: arrow_flight fetches once per attempt of the catalog read, protobuf
// once for the catalog read and once per stream creation attempt. The
// error's "gave up after N attempts" is retry_max_attempts.
func TestTokenTriesFollowRetryMaxAttempts(t *testing.T) {
	srv := localServer(t)
	for _, c := range []struct {
		transport string
		attempts  int
		want      int64 // token requests
	}{
		{"arrow_flight", 1, 1},
		{"arrow_flight", 2, 2 * 2},
		{"arrow_flight", 5, 5 * 4},
		{"protobuf", 1, 1 + 1},
		{"protobuf", 2, 2 + 2*2},
	} {
		t.Run(fmt.Sprintf("%s/%d", c.transport, c.attempts), func(t *testing.T) {
			cfg := localConfig(srv, fmt.Sprintf("main.default.s16_tokentries_%s_%d", c.transport, c.attempts))
			cfg.Transport, cfg.RetryMaxAttempts = c.transport, c.attempts
			if err := srv.InjectFault("", zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 503, Persistent: true}); err != nil {
				t.Fatal(err)
			}
			defer srv.ClearFaults("")
			before := srv.Stats().FaultsFired
			err, _ := sendOnce(t, cfg)
			if got := srv.Stats().FaultsFired - before; got != c.want {
				t.Errorf("token requests answered 503: %d, want %d", got, c.want)
			}
			want := fmt.Sprintf("zerobus: gave up after %d attempt", c.attempts)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %v, want it to start %q", err, want)
			}
		})
	}
}
