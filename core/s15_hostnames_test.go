package core_test

import (
	"context"
	"errors"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// sendOnce sends a 3-row batch with cfg and returns the send's error and
// how many retries the wrapper's backoff was asked for.
func sendOnce(t *testing.T, cfg core.Config) (error, int64) {
	t.Helper()
	var retries atomic.Int64
	backoff := func(int, time.Duration, time.Duration) time.Duration { retries.Add(1); return time.Millisecond }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w, err := core.New(ctx, cfg, core.WithRetryBackoff(backoff))
	if err != nil {
		return err, retries.Load()
	}
	defer func() { _ = w.Close(ctx) }()
	rec := idBatch(0, 3)
	defer rec.Release()
	res, err := w.SendBatch(ctx, rec)
	if err == nil && res != nil {
		err = res.Err
	}
	return err, retries.Load()
}

// TestUnknownHostSameOnBothTransports: an endpoint, or a proxy, whose host
// name does not exist fails a send at once (no retry) with the same
// terminal *ConnectionError naming the host and its setting, on protobuf
// and on arrow_flight (issue #16: an unknown host is printed once, not as
// "gave up after 5 attempts").
func TestUnknownHostSameOnBothTransports(t *testing.T) {
	// The server accepts tokens for workspace "nohost", the endpoint's
	// first label: only the endpoint's host is wrong.
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{WorkspaceID: "nohost"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cases := []struct {
		name    string
		set     func(*core.Config)
		message string
		key     string
	}{
		{"endpoint", func(c *core.Config) { c.Endpoint = "http://nohost.invalid:4433" },
			"zerobus: host nohost.invalid not found: the name in endpoint does not resolve in DNS (check the endpoint setting)", "endpoint"},
		{"proxy", func(c *core.Config) { c.ProxyURL = "http://nohost.invalid:3128" },
			"zerobus: host nohost.invalid not found: the name in proxy_url does not resolve in DNS (check the proxy_url setting)", "proxy_url"},
	}
	for _, tc := range cases {
		for _, transport := range []string{"protobuf", "arrow_flight"} {
			t.Run(tc.name+"/"+transport, func(t *testing.T) {
				cfg := localConfig(srv, "main.default.s15_nohost_"+tc.name)
				cfg.Transport = transport
				tc.set(&cfg)
				err, retries := sendOnce(t, cfg)
				var ce *core.ConnectionError
				if !errors.As(err, &ce) || core.KindOf(err) != core.KindConnection {
					t.Fatalf("err = %v (kind %s); want a *ConnectionError", err, core.KindOf(err))
				}
				if err.Error() != tc.message {
					t.Errorf("message = %q\nwant      %q", err.Error(), tc.message)
				}
				if core.IsRetryable(err) {
					t.Error("IsRetryable = true for an unknown host")
				}
				if retries != 0 {
					t.Errorf("the send was retried %d times; want none", retries)
				}
				d := core.DetailsOf(err)
				if !reflect.DeepEqual(d.Keys, []string{tc.key}) {
					t.Errorf("DetailsOf(err).Keys = %v, want [%s]", d.Keys, tc.key)
				}
				if n := len(srv.Rows(cfg.TableName)); n != 0 {
					t.Errorf("the server stored %d rows", n)
				}
			})
		}
	}
}
