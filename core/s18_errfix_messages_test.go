package core_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// closedAddr is a loopback host:port where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// s18Send sends three rows on a new Wrapper of cfg (transport tr) and
// returns the error.
func s18Send(t *testing.T, cfg core.Config, tr string) error {
	t.Helper()
	cfg.Transport = tr
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	defer w.Close(context.Background())
	rec := telBatch(memory.NewGoAllocator(), 3)
	defer rec.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err = w.SendBatch(ctx, rec)
	if err == nil {
		t.Fatal("no error")
	}
	return err
}

// checkText fails unless msg holds every want and none of bad.
func checkText(t *testing.T, msg string, want, bad []string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("message lacks %q:\n%s", w, msg)
		}
	}
	for _, b := range bad {
		if strings.Contains(msg, b) {
			t.Errorf("message has %q:\n%s", b, msg)
		}
	}
}

// grpcRaw are grpc-go's own words, which no message shows.
var grpcRaw = []string{"server returned", "Unavailable", "desc =", "transport:", "error reading from server", "connection failed ("}

// TestRefusedAndDroppedConnectionTexts: a port where nothing listens and a
// server that drops every connection were reported as "server returned
// Unavailable: connection error: desc = \"transport: Error while dialing:
// ...\"" (s18 review errors H1). They now say what happened, where, and what
// to check, on both transports, and stay retryable connection failures
// with grpc_code UNAVAILABLE.
func TestRefusedAndDroppedConnectionTexts(t *testing.T) {
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := localServer(t)
			addr := closedAddr(t)
			cfg := localConfig(srv, "main.default.s18_refused")
			cfg.Endpoint = "http://" + addr
			cfg.RetryMaxAttempts = 2
			err := s18Send(t, cfg, tr)
			checkText(t, err.Error(), []string{
				"zerobus: gave up after 2 attempts: cannot reach http://" + addr + ": cannot connect to " + addr +
					": connection refused (check the endpoint URL, network and TLS settings)",
			}, append(grpcRaw, "raise retry_max_attempts"))
			checkConnectionDetails(t, err)

			table := "main.default.s18_dropped"
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultDropConnection, Persistent: true})
			cfg = localConfig(srv, table)
			cfg.RetryMaxAttempts = 1
			err = s18Send(t, cfg, tr)
			checkText(t, err.Error(), []string{
				"zerobus: gave up after 1 attempt: the connection to " + srv.Endpoint() +
					" closed (EOF) while creating the stream (check the endpoint URL, network and TLS settings)",
			}, grpcRaw)
			checkConnectionDetails(t, err)
		})
	}
}

// checkConnectionDetails: err is a retryable retry_exhausted error whose
// last failure is a connection error, grpc_code UNAVAILABLE.
func checkConnectionDetails(t *testing.T, err error) {
	t.Helper()
	d := core.DetailsOf(err)
	if d.Kind != core.KindRetryExhausted || !d.Retryable || d.GRPCCode != "UNAVAILABLE" || !core.IsRetryable(err) {
		t.Errorf("details %+v, IsRetryable %t; want retryable retry_exhausted, UNAVAILABLE", d, core.IsRetryable(err))
	}
	if len(d.Causes) != 1 || d.Causes[0].Kind != core.KindConnection || d.Causes[0].GRPCCode != "UNAVAILABLE" {
		t.Errorf("causes %+v; want one connection error, UNAVAILABLE", d.Causes)
	}
}

// TestCreateTimeoutText: a server that holds the create response back past
// create_timeout_ms gave "cannot reach ...: connection failed (create): no
// stream id within CreateTimeout (200ms) (check the endpoint URL, ...)"
// (s18 review errors M1): a Go field, "cannot reach" for a server that was
// reached, and no word of the setting. Both transports now name the key,
// its value and the env var.
func TestCreateTimeoutText(t *testing.T) {
	for _, tc := range []struct{ tr, what string }{
		{core.TransportProtobuf, "no stream id"},
		{core.TransportArrowFlight, "no READY from the Flight service"},
	} {
		t.Run(tc.tr, func(t *testing.T) {
			srv := localServer(t)
			table := "main.default.s18_create_delay"
			srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultCreateDelay, Latency: 30 * time.Second, Persistent: true})
			cfg := localConfig(srv, table)
			cfg.CreateTimeout = 200 * time.Millisecond
			cfg.RetryMaxAttempts = 1
			err := s18Send(t, cfg, tc.tr)
			checkText(t, err.Error(), []string{
				"zerobus: gave up after 1 attempt: " + srv.Endpoint() + ": " + tc.what + " within create_timeout_ms (200 ms)" +
					" (raise create_timeout_ms, env ZEROBUS_CREATE_TIMEOUT_MS, or check the endpoint and network)",
			}, []string{"CreateTimeout", "cannot reach", "check the endpoint URL", "raise retry_max_attempts", "200ms"})
			d := core.DetailsOf(err)
			if d.Kind != core.KindRetryExhausted || !d.Retryable || len(d.Causes) != 1 || d.Causes[0].Kind != core.KindConnection {
				t.Errorf("details %+v; want retryable retry_exhausted of a connection error", d)
			}
		})
	}
}

// TestRefusedProxyText: a proxy_url where nothing listens was reported as
// "token request failed at URL: proxyconnect tcp: dial tcp ...: connect:
// connection refused (check unity_catalog_url, network and TLS settings)"
// (s18 review errors M5): the wrong setting, and net/http's internal words.
// It now names the proxy and proxy_url, on both transports, and never its
// password.
func TestRefusedProxyText(t *testing.T) {
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := localServer(t)
			addr := closedAddr(t)
			cfg := localConfig(srv, "main.default.s18_proxy")
			cfg.ProxyURL = "http://user:S18proxyPW@" + addr
			cfg.RetryMaxAttempts = 1
			err := s18Send(t, cfg, tr)
			msg := err.Error()
			checkText(t, msg, []string{
				"token request failed at " + srv.WorkspaceURL(),
				": cannot reach the proxy " + addr + " (proxy_url): connection refused (check proxy_url and that the proxy is running)",
			}, []string{"proxyconnect", "unity_catalog_url", "S18proxyPW", "dial tcp", "raise retry_max_attempts"})
			d := core.DetailsOf(err)
			t.Logf("%s (keys %v)", msg, d.Keys)
			if !d.Retryable || !core.IsRetryable(err) {
				t.Errorf("not retryable: %+v", d)
			}
			found := false
			for _, dd := range append([]core.ErrorDetails{d}, d.Causes...) {
				for _, k := range dd.Keys {
					found = found || k == "proxy_url"
				}
			}
			if !found {
				t.Errorf("no proxy_url in the keys: %+v", d)
			}
		})
	}
}

// TestCodeNamesAreCanonical: messages printed Go's CamelCase code names
// ("server rejected the stream (NotFound)", "server returned Unavailable")
// while grpc_code and the docs say NOT_FOUND (s18 review errors M2). The
// message now prints the name grpc_code has.
func TestCodeNamesAreCanonical(t *testing.T) {
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{DisableAutoCreate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	err = s18Send(t, localConfig(srv, "main.default.s18_missing"), core.TransportProtobuf)
	d := core.DetailsOf(err)
	checkText(t, err.Error(), []string{"server rejected the stream (NOT_FOUND): "}, []string{"NotFound"})
	if d.GRPCCode != "NOT_FOUND" || d.Kind != core.KindTransmission {
		t.Errorf("details %+v; want transmission NOT_FOUND", d)
	}

	srv2 := localServer(t)
	for _, tc := range []struct {
		code codes.Code
		name string
	}{{codes.Unavailable, "UNAVAILABLE"}, {codes.OutOfRange, "OUT_OF_RANGE"}, {codes.Canceled, "CANCELED"}, {codes.ResourceExhausted, "RESOURCE_EXHAUSTED"}} {
		table := "main.default.s18_code_" + strings.ToLower(tc.name)
		srv2.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: tc.code, Message: "s18 fault", Persistent: true})
		cfg := localConfig(srv2, table)
		cfg.RetryMaxAttempts = 1
		err := s18Send(t, cfg, core.TransportProtobuf)
		msg := err.Error()
		if !strings.Contains(msg, "("+tc.name+"): s18 fault") && !strings.Contains(msg, "returned "+tc.name+": s18 fault") {
			t.Errorf("%s: %s", tc.name, msg)
		}
		if strings.Contains(msg, tc.code.String()) || core.DetailsOf(err).GRPCCode != tc.name {
			t.Errorf("%s: Go's name in %q or grpc_code %q", tc.name, msg, core.DetailsOf(err).GRPCCode)
		}
	}
}

// TestSchemaMismatchText: a batch whose columns do not fit the table's gave
// the table's types in Arrow's words ("int32 in the table", "large_utf8 in
// the table"), "no safe cast" without a remedy, and the column twice
// ("conversion failed, column "id": ... column "id" is ...") (s18 review
// errors M3). Both transports now give the table's own type names, what to
// do, and each column once.
func TestSchemaMismatchText(t *testing.T) {
	cols, err := zerobuslocal.ParseColumns("id INT NOT NULL, name STRING NOT NULL")
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append("1")
	rec := b.NewRecordBatch()
	defer rec.Release()
	for _, tr := range []string{core.TransportProtobuf, core.TransportArrowFlight} {
		t.Run(tr, func(t *testing.T) {
			srv := localServer(t)
			table := "main.default.s18_mismatch"
			if err := srv.CreateTableColumns(table, cols); err != nil {
				t.Fatal(err)
			}
			cfg := localConfig(srv, table)
			cfg.Transport = tr
			w, err := core.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close(context.Background())
			_, err = w.SendBatch(context.Background(), rec)
			msg := err.Error()
			checkText(t, msg, []string{
				`zerobus: conversion failed: the Arrow schema does not match table ` + table + ` (2 columns differ): ` +
					`column "id" is utf8 in the batch and INT in the table: no safe cast; cast the batch's column to int32, or change the table's column; ` +
					`column "name" (STRING in the table) is missing from the batch: the column is NOT NULL: add it to the batch`,
			}, []string{"int32 in the table", "large_utf8", `column "id":`})
			d := core.DetailsOf(err)
			if d.Kind != core.KindConversion || strings.Join(d.Columns, ",") != "id,name" {
				t.Errorf("details %+v; want conversion naming id and name", d)
			}

			one := "main.default.s18_mismatch_one"
			if err := srv.CreateTableColumns(one, cols[:1]); err != nil {
				t.Fatal(err)
			}
			cfg = localConfig(srv, one)
			cfg.Transport = tr
			w1, err := core.New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer w1.Close(context.Background())
			_, err = w1.SendBatch(context.Background(), rec)
			checkText(t, err.Error(), []string{
				`zerobus: conversion failed: the Arrow schema does not match table ` + one + ` (1 column differs): column "id" is utf8 in the batch and INT in the table`,
			}, []string{`, column "id"`})
			if d := core.DetailsOf(err); d.Column != "id" {
				t.Errorf("column %q, want id", d.Column)
			}
		})
	}
}

// TestOneHintPerMessage: a retried failure with its own hint got a second,
// contradicting one ("(the server is throttling; ...) (raise
// retry_max_attempts or check server health)"), gRPC's size limit was
// retried although the same request is refused each time, a token 429 was
// told to check server health, and OUT_OF_RANGE had no remedy (s18 review
// errors L1, L7).
func TestOneHintPerMessage(t *testing.T) {
	srv := localServer(t)
	const retryHint = "raise retry_max_attempts or check server health"
	for _, tc := range []struct {
		name      string
		fault     zerobuslocal.Fault
		kind      core.ErrorKind
		retryable bool
		want      []string
	}{
		{"throttled", zerobuslocal.PipelineBlockedFault(), core.KindRetryExhausted, true,
			[]string{"gave up after 2 attempts: server rejected the stream (RESOURCE_EXHAUSTED): " + zerobuslocal.PipelineBlockedMessage +
				" (the server is throttling; lower concurrency or retry later)"}},
		{"size_limit", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.ResourceExhausted, Persistent: true,
			Message: "grpc: received message larger than max (10046704 vs. 9437184)"}, core.KindTransmission, false,
			[]string{"zerobus: server rejected the stream (RESOURCE_EXHAUSTED): grpc: received message larger than max (10046704 vs. 9437184) (the request is larger than the server accepts: lower max_message_bytes)"}},
		{"out_of_range", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.OutOfRange, Message: "offset out of range", Persistent: true},
			core.KindTransmission, false,
			[]string{"server rejected the stream (OUT_OF_RANGE): offset out of range (the server refused the stream's offsets or a value as out of range; this is not retried: send the failed rows again on a new wrapper, and report it if it repeats)"}},
		{"token_429", zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 429, Persistent: true}, core.KindRetryExhausted, true,
			[]string{"(HTTP 429)", "(the token endpoint is rate limiting: send less often or raise retry_max_attempts)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			table := "main.default.s18_hint_" + tc.name
			srv.InjectFault(table, tc.fault)
			cfg := localConfig(srv, table)
			cfg.RetryMaxAttempts = 2
			err := s18Send(t, cfg, core.TransportProtobuf)
			msg := err.Error()
			checkText(t, msg, tc.want, []string{retryHint})
			d := core.DetailsOf(err)
			if d.Kind != tc.kind || d.Retryable != tc.retryable || core.IsRetryable(err) != tc.retryable {
				t.Errorf("kind %s retryable %t; want %s %t (%s)", d.Kind, d.Retryable, tc.kind, tc.retryable, msg)
			}
		})
	}
}

// TestAckTimeoutCountsInSingular: a server that withholds acks for one
// request gave "with 1 requests in flight" (s18 review errors L3).
func TestAckTimeoutCountsInSingular(t *testing.T) {
	srv := localServer(t)
	table := "main.default.s18_stall"
	srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultStallAcks, Persistent: true})
	cfg := localConfig(srv, table)
	cfg.AckTimeout = 200 * time.Millisecond
	cfg.RetryMaxAttempts = 1
	err := s18Send(t, cfg, core.TransportProtobuf)
	checkText(t, err.Error(), []string{"sent no acknowledgement for 200ms with 1 request in flight (raise ack_timeout_ms"},
		[]string{"1 requests"})
}

// TestGrantsListedAlike: the token endpoint's 403 said "check USE CATALOG,
// USE SCHEMA and SELECT+MODIFY grants" and the server's PERMISSION_DENIED
// "needs USE CATALOG, USE SCHEMA, SELECT and MODIFY", the doc a third list
// (s18 review errors L10). Both messages now list the same grants.
func TestGrantsListedAlike(t *testing.T) {
	srv := localServer(t)
	const grants = "(needs USE CATALOG, USE SCHEMA, SELECT and MODIFY)"
	for _, f := range []zerobuslocal.Fault{
		{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 403, Persistent: true},
		{Kind: zerobuslocal.FaultError, Code: codes.PermissionDenied, Message: "no grant", Persistent: true},
	} {
		table := "main.default.s18_grants_" + string(f.Kind)
		srv.InjectFault(table, f)
		cfg := localConfig(srv, table)
		cfg.RetryMaxAttempts = 1
		err := s18Send(t, cfg, core.TransportProtobuf)
		checkText(t, err.Error(), []string{grants}, []string{"SELECT+MODIFY"})
		if core.KindOf(err) != core.KindAuthentication {
			t.Errorf("%s: kind %s", f.Kind, core.KindOf(err))
		}
	}
}
