package core_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
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

// detailsServer starts a local server and returns a config for table with
// fast retries.
func detailsServer(t *testing.T, table string) (core.Config, *zerobuslocal.Server) {
	t.Helper()
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	cfg := core.DefaultConfig()
	cfg.Endpoint, cfg.UnityCatalogURL = srv.Endpoint(), srv.WorkspaceURL()
	cfg.ClientID, cfg.ClientSecret = srv.ClientID(), srv.ClientSecret()
	cfg.TableName = table
	cfg.RetryBaseDelay, cfg.RetryMaxDelay = time.Millisecond, 5*time.Millisecond
	return cfg, srv
}

// sendErr sends invalidUTF8Batch with cfg and returns the result and its
// error (the send must fail).
func sendErr(t *testing.T, cfg core.Config) (*core.TransmissionResult, error) {
	t.Helper()
	rec := invalidUTF8Batch()
	defer rec.Release()
	ctx := context.Background()
	w, err := core.New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close(ctx)
	res, err := w.SendBatch(ctx, rec)
	if err == nil {
		t.Fatal("the send succeeded")
	}
	return res, err
}

func invalidUTF8Batch() arrow.RecordBatch {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"ok", "bad\xff", "fine"}, nil)
	return b.NewRecordBatch()
}

// TestDetailsOfRealErrors describes errors produced by real sends against
// the local server, by New and by config validation, and checks every
// field that the error is about.
func TestDetailsOfRealErrors(t *testing.T) {
	const table = "main.default.details"
	type check func(t *testing.T, d core.ErrorDetails)
	cases := []struct {
		name  string
		err   func(t *testing.T) error
		kind  core.ErrorKind
		check check
	}{
		{
			name: "conversion error names row and column",
			err: func(t *testing.T) error {
				cfg, _ := detailsServer(t, table)
				res, err := sendErr(t, cfg)
				if res.FailedCount != 1 || res.SuccessfulCount != 2 {
					t.Fatalf("failed %d, successful %d; want 1, 2", res.FailedCount, res.SuccessfulCount)
				}
				return err
			},
			kind: core.KindConversion,
			check: func(t *testing.T, d core.ErrorDetails) {
				if d.Row != 1 || d.Column != "name" || d.Retryable || d.Fatal {
					t.Errorf("row %d column %q retryable %v fatal %v; want 1 \"name\" false false", d.Row, d.Column, d.Retryable, d.Fatal)
				}
				if d.GRPCCode != "" || d.Attempts != 0 || len(d.Keys) != 0 {
					t.Errorf("unexpected grpc code %q, attempts %d, keys %v", d.GRPCCode, d.Attempts, d.Keys)
				}
			},
		},
		{
			name: "exhausted retries carry attempts and the gRPC code",
			err: func(t *testing.T) error {
				cfg, srv := detailsServer(t, table)
				srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Code: codes.Unavailable, Message: "down for x7", Persistent: true})
				cfg.RetryMaxAttempts = 3
				_, err := sendErr(t, cfg)
				return err
			},
			kind: core.KindRetryExhausted,
			check: func(t *testing.T, d core.ErrorDetails) {
				if d.Attempts != 3 || d.GRPCCode != "UNAVAILABLE" || !d.Retryable || !d.Fatal || d.Row != -1 {
					t.Errorf("attempts %d code %q retryable %v fatal %v row %d; want 3 UNAVAILABLE true true -1", d.Attempts, d.GRPCCode, d.Retryable, d.Fatal, d.Row)
				}
				if len(d.Causes) != 1 || d.Causes[0].Kind != core.KindConnection || d.Causes[0].GRPCCode != "UNAVAILABLE" ||
					!strings.Contains(d.Causes[0].Message, "down for x7") {
					t.Errorf("causes = %+v, want the last failure (connection UNAVAILABLE at create)", d.Causes)
				}
			},
		},
		{
			name: "server schema rejection carries reason and causes",
			err: func(t *testing.T) error {
				cfg, srv := detailsServer(t, table)
				if err := srv.CreateTableFromArrow(table, arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)); err != nil {
					t.Fatal(err)
				}
				cfg.RetryMaxAttempts = 1
				// The table's columns unread (403): the server checks the
				// stream's descriptor (read, the mismatch is found up
				// front, as the Flight case below shows).
				ws, err := url.Parse(srv.WorkspaceURL())
				if err != nil {
					t.Fatal(err)
				}
				fwd := httputil.NewSingleHostReverseProxy(ws)
				front := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
					if strings.HasPrefix(r.URL.Path, zerobuslocal.UnityCatalogTablesPath) {
						http.Error(rw, "not readable in this test", http.StatusForbidden)
						return
					}
					fwd.ServeHTTP(rw, r)
				}))
				t.Cleanup(front.Close)
				cfg.UnityCatalogURL = front.URL
				_, err = sendErr(t, cfg) // "name" is not in the table
				return err
			},
			kind: core.KindTransmission, // the stream is refused at create, before any row
			check: func(t *testing.T, d core.ErrorDetails) {
				if d.GRPCCode != "INVALID_ARGUMENT" || d.Reason != zerobuslocal.ReasonSchemaValidationFailed || d.Retryable {
					t.Errorf("code %q reason %q retryable %v", d.GRPCCode, d.Reason, d.Retryable)
				}
				if !strings.Contains(strings.Join(d.ServerCauses, ","), zerobuslocal.CauseFieldNotInTable) {
					t.Errorf("server causes %v, want %s", d.ServerCauses, zerobuslocal.CauseFieldNotInTable)
				}
			},
		},
		{
			name: "Arrow Flight schema mismatch names every column",
			err: func(t *testing.T) error {
				cfg, srv := detailsServer(t, table)
				if err := srv.CreateTableFromArrow(table, arrow.NewSchema([]arrow.Field{
					{Name: "id", Type: arrow.PrimitiveTypes.Int64},
					{Name: "name", Type: arrow.PrimitiveTypes.Int32},
					{Name: "must", Type: arrow.PrimitiveTypes.Int64},
				}, nil)); err != nil {
					t.Fatal(err)
				}
				cfg.Transport = core.TransportArrowFlight
				res, err := sendErr(t, cfg) // name is a string, must is missing
				if !res.FailedAsWhole() {
					t.Errorf("not failed as a whole: %+v", res)
				}
				return err
			},
			kind: core.KindConversion,
			check: func(t *testing.T, d core.ErrorDetails) {
				if strings.Join(d.Columns, ",") != "name,must" || d.Column != "" || d.Row != -1 {
					t.Errorf("columns %v column %q row %d; want [name must], \"\", -1", d.Columns, d.Column, d.Row)
				}
			},
		},
		{
			name: "configuration error names the keys",
			err: func(t *testing.T) error {
				cfg := core.DefaultConfig()
				cfg.Endpoint, cfg.TableName = "http://127.0.0.1:1", "not-a-table"
				cfg.ClientSecret = "s3cr3t-details"
				cfg.RetryBaseDelay = -time.Millisecond
				_, err := core.New(context.Background(), cfg)
				return core.ByKeyError(err)
			},
			kind: core.KindConfiguration,
			check: func(t *testing.T, d core.ErrorDetails) {
				want := map[string]bool{"table_name": true, "retry_base_delay_ms": true, "unity_catalog_url": true, "client_id": true}
				for _, k := range d.Keys {
					delete(want, k)
				}
				if len(want) != 0 || !d.Fatal || d.Retryable {
					t.Errorf("keys %v miss %v (fatal %v retryable %v)", d.Keys, want, d.Fatal, d.Retryable)
				}
			},
		},
		{
			name: "errors.Join keeps every cause",
			err: func(t *testing.T) error {
				cfg := core.DefaultConfig()
				cfg.TableName = "a.b.c"
				return errors.Join(
					&core.ConversionError{Row: 4, Column: "x", Reason: "bad"},
					core.ByKeyError(cfg.Validate()),
					context.Canceled,
				)
			},
			kind: core.KindConversion,
			check: func(t *testing.T, d core.ErrorDetails) {
				if len(d.Causes) != 3 {
					t.Fatalf("causes = %+v, want 3", d.Causes)
				}
				kinds := []core.ErrorKind{d.Causes[0].Kind, d.Causes[1].Kind, d.Causes[2].Kind}
				if kinds[0] != core.KindConversion || kinds[1] != core.KindConfiguration || kinds[2] != core.KindCanceled {
					t.Errorf("cause kinds %v", kinds)
				}
				if d.Causes[0].Row != 4 || d.Causes[0].Column != "x" || len(d.Causes[1].Keys) == 0 || d.Causes[1].Keys[0] != "endpoint" {
					t.Errorf("causes = %+v", d.Causes)
				}
			},
		},
		{
			name: "rejected secret is redacted",
			err: func(t *testing.T) error {
				cfg, _ := detailsServer(t, table)
				cfg.ClientSecret = "wrong-s3cr3t-details"
				_, err := sendErr(t, cfg)
				return err
			},
			kind: core.KindAuthentication,
			check: func(t *testing.T, d core.ErrorDetails) {
				if d.HTTPStatus != 401 || d.Retryable || d.Reason == "" {
					t.Errorf("http %d retryable %v reason %q; want 401 false and the OAuth error code", d.HTTPStatus, d.Retryable, d.Reason)
				}
			},
		},
		{
			name: "a secret the server echoes is redacted",
			err: func(t *testing.T) error {
				cfg, srv := detailsServer(t, table)
				cfg.ClientSecret = "s3cr3t-details"
				srv.InjectFault(table, zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 503, Message: "echo s3cr3t-details", Persistent: true})
				cfg.RetryMaxAttempts = 2
				_, err := sendErr(t, cfg)
				return err
			},
			kind: core.KindRetryExhausted,
			check: func(t *testing.T, d core.ErrorDetails) {
				if d.HTTPStatus != 503 || d.Attempts != 2 || len(d.Causes) != 1 || d.Causes[0].Kind != core.KindTokenRefresh {
					t.Errorf("http %d attempts %d causes %+v; want 503, 2, one token_refresh", d.HTTPStatus, d.Attempts, d.Causes)
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.err(t)
			d := core.DetailsOf(err)
			if d.Kind != c.kind || d.Message != err.Error() {
				t.Fatalf("kind %q message %q; want %q and err.Error()", d.Kind, d.Message, c.kind)
			}
			c.check(t, d)
			b, jerr := json.Marshal(d)
			if jerr != nil {
				t.Fatal(jerr)
			}
			for _, secret := range []string{"s3cr3t-details", "wrong-s3cr3t-details"} {
				if strings.Contains(string(b), secret) {
					t.Errorf("secret in %s", b)
				}
			}
			var back core.ErrorDetails
			if err := json.Unmarshal(b, &back); err != nil || back.Kind != d.Kind || back.Row != d.Row {
				t.Errorf("JSON round trip: %v %+v", err, back)
			}
		})
	}
}

func TestDetailsOfBoundsAndNil(t *testing.T) {
	if d := core.DetailsOf(nil); d.Kind != "" || d.Row != -1 || d.Message != "" {
		t.Errorf("DetailsOf(nil) = %+v", d)
	}
	var errs []error
	for i := 0; i < core.MaxErrorCauses+3; i++ {
		errs = append(errs, &core.ConversionError{Row: i, Reason: "r"})
	}
	d := core.DetailsOf(errors.Join(errs...))
	if len(d.Causes) != core.MaxErrorCauses || d.CausesOmitted != 3 {
		t.Errorf("%d causes, %d omitted; want %d, 3", len(d.Causes), d.CausesOmitted, core.MaxErrorCauses)
	}
	// nesting stops at three levels
	var deep error = &core.ConversionError{Row: 0, Reason: "r"}
	for i := 0; i < 6; i++ {
		deep = &core.RetryExhaustedError{Attempts: i + 1, Last: deep}
	}
	d = core.DetailsOf(deep)
	if len(d.Causes) != 1 || len(d.Causes[0].Causes) != 1 || len(d.Causes[0].Causes[0].Causes) != 0 {
		t.Errorf("nesting not bounded: %+v", d)
	}
	for c, want := range map[codes.Code]string{codes.OK: "OK", codes.InvalidArgument: "INVALID_ARGUMENT", codes.Canceled: "CANCELED",
		codes.DeadlineExceeded: "DEADLINE_EXCEEDED", codes.Unauthenticated: "UNAUTHENTICATED", codes.Code(42): "CODE_42"} {
		if got := core.CodeName(c); got != want {
			t.Errorf("CodeName(%v) = %q, want %q", c, got, want)
		}
	}
}

// TestDetailsOfOptionsError: the local server's options error reaches
// bindings as data: each JSON key at fault and what is wrong with it.
func TestDetailsOfOptionsError(t *testing.T) {
	_, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{
		TokenLifetime: -time.Second, AckPolicy: zerobuslocal.AckPolicy{Delay: -5 * time.Millisecond}})
	if !errors.Is(err, zerobuslocal.ErrInvalidOptions) {
		t.Fatalf("Start: %v, want ErrInvalidOptions", err)
	}
	d := core.DetailsOf(fmt.Errorf("wrapped: %w", err))
	wantKeys := []string{"token_lifetime_ns", "ack_policy.delay_ns"}
	wantMsg := "must not be negative (0: the default)"
	if strings.Join(d.Keys, ",") != strings.Join(wantKeys, ",") || len(d.KeyMessages) != 2 ||
		d.KeyMessages[0] != wantMsg || d.KeyMessages[1] != wantMsg {
		t.Errorf("DetailsOf: keys %q, key messages %q; want %q, each %q", d.Keys, d.KeyMessages, wantKeys, wantMsg)
	}
	if !strings.Contains(err.Error(), "TokenLifetime (token_lifetime_ns) is -1s; "+wantMsg) {
		t.Errorf("message %q", err.Error())
	}
}
