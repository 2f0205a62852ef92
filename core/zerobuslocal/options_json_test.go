package zerobuslocal_test

import (
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	gotoken "go/token"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestOptionsJSONTags: every field of Options, AckPolicy and Fault has a
// snake_case JSON key (language bindings decode straight into them), and a
// duration's key says its unit (_ns, encoding/json's form).
func TestOptionsJSONTags(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[zerobuslocal.Options](), reflect.TypeFor[zerobuslocal.AckPolicy](), reflect.TypeFor[zerobuslocal.Fault]()} {
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag, ok := f.Tag.Lookup("json")
			if !ok || tag == "" {
				t.Errorf("%s.%s has no json tag", typ.Name(), f.Name)
				continue
			}
			if tag == "-" {
				continue
			}
			if tag != strings.ToLower(tag) || strings.Contains(tag, ",") {
				t.Errorf("%s.%s: json tag %q is not a plain snake_case key", typ.Name(), f.Name, tag)
			}
			if f.Type == reflect.TypeFor[time.Duration]() && !strings.HasSuffix(tag, "_ns") {
				t.Errorf("%s.%s: duration key %q does not end in _ns", typ.Name(), f.Name, tag)
			}
		}
	}
}

func TestOptionsFromJSON(t *testing.T) {
	var o zerobuslocal.Options
	text := `{"client_id": "c", "token_lifetime_ns": 2000000000, "allowed_hosts": ["box"], "inspect_token": "tok",
		"ack_policy": {"every": 3, "interval_ns": 5000000}, "stream_lifetime_ns": -1, "http_tls": true, "max_stored_rows": 7}`
	if err := json.Unmarshal([]byte(text), &o); err != nil {
		t.Fatal(err)
	}
	want := zerobuslocal.Options{ClientID: "c", TokenLifetime: 2 * time.Second, AllowedHosts: []string{"box"}, InspectToken: "tok",
		AckPolicy: zerobuslocal.AckPolicy{Every: 3, Interval: 5 * time.Millisecond}, StreamLifetime: -1, HTTPTLS: true, MaxStoredRows: 7}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("decoded %+v, want %+v", o, want)
	}
	var f zerobuslocal.Fault
	if err := json.Unmarshal([]byte(`{"kind": "partial_ack", "after_messages": 1, "records": 3, "code": "UNAVAILABLE", "close_after_ns": 1000}`), &f); err != nil {
		t.Fatal(err)
	}
	if wantF := (zerobuslocal.Fault{Kind: zerobuslocal.FaultPartialAck, AfterMessages: 1, Records: 3, Code: codes.Unavailable, CloseAfter: time.Microsecond}); f != wantF {
		t.Errorf("decoded %+v, want %+v", f, wantF)
	}
}

// The listen addresses' rules are Check's (the CLI's -port and Python's
// port= both hand a port over as 127.0.0.1:N; each kept its own copy of the
// port range before).
func TestCheckAddresses(t *testing.T) {
	for _, c := range []struct {
		opts     zerobuslocal.Options
		key, msg string // "" : valid
	}{
		{zerobuslocal.Options{Addr: "127.0.0.1:70000"}, "addr", "must be a port between 1 and 65535 (0: a free port)"},
		{zerobuslocal.Options{HTTPAddr: "127.0.0.1:-1"}, "http_addr", "must be a port between 1 and 65535 (0: a free port)"},
		{zerobuslocal.Options{Addr: "127.0.0.1:http"}, "addr", "must be a port between 1 and 65535 (0: a free port)"},
		{zerobuslocal.Options{Addr: "0.0.0.0:0"}, "addr", "must be a loopback address, e.g. 127.0.0.1:0"},
		{zerobuslocal.Options{HTTPAddr: "192.0.2.1:80"}, "http_addr", "must be a loopback address, e.g. 127.0.0.1:0"},
		{zerobuslocal.Options{Addr: "nonsense"}, "addr", "must be a loopback host:port, e.g. 127.0.0.1:0"},
		{zerobuslocal.Options{AllowedHosts: []string{"box", "http://box:80"}}, "allowed_hosts", `must be host names without scheme or port (e.g. a container name); "http://box:80" is not`},
		{zerobuslocal.Options{AllowedHosts: []string{""}}, "allowed_hosts", `must be host names without scheme or port (e.g. a container name); "" is not`},
		{zerobuslocal.Options{Addr: "127.0.0.1:65535", HTTPAddr: "localhost:0", AllowedHosts: []string{"box", "a.test"}}, "", ""},
		{zerobuslocal.Options{Addr: "[::1]:0", HTTPAddr: "127.0.0.2:1"}, "", ""},
	} {
		err := c.opts.Check()
		if c.key == "" {
			if err != nil {
				t.Errorf("Check(%+v): %v, want nil", c.opts, err)
			}
			continue
		}
		var oe *zerobuslocal.OptionsError
		if !errors.As(err, &oe) || !errors.Is(err, zerobuslocal.ErrInvalidOptions) || len(oe.Problems) != 1 {
			t.Errorf("Check(%+v): %v, want one option problem", c.opts, err)
			continue
		}
		if keys, msgs := oe.KeyProblems(); keys[0] != c.key || msgs[0] != c.msg {
			t.Errorf("Check(%+v): %s %q, want %s %q", c.opts, keys[0], msgs[0], c.key, c.msg)
		}
	}
}

// DecodeOptions and DecodeFault name the key of a value the JSON form
// cannot hold (a duration past Go's longest, ~292 years, was encoding/json's
// "cannot unmarshal number ... into Go struct field AckPolicy.ack_policy.delay_ns";
// Python kept a copy of the limit to word it), and check the options.
func TestDecodeNamesTheKey(t *testing.T) {
	for _, c := range []struct {
		text, field, key, value, msg string
	}{
		{`{"ack_policy": {"delay_ns": 10000000000000000000}}`, "AckPolicy.Delay", "ack_policy.delay_ns", "10000000000000000000",
			"must be a duration of at most about 292 years (the longest a Go time.Duration holds)"},
		{`{"token_lifetime_ns": -1e30}`, "TokenLifetime", "token_lifetime_ns", "-1e30",
			"must be a duration of at least about -292 years (the shortest a Go time.Duration holds)"},
		{`{"stream_lifetime_ns": 1.5}`, "StreamLifetime", "stream_lifetime_ns", "1.5", "must be a whole number of nanoseconds"},
		{`{"max_stored_rows": 100000000000000000000}`, "MaxStoredRows", "max_stored_rows", "100000000000000000000", "is out of range for int"},
		{`{"ack_policy": {"every": "3"}}`, "AckPolicy.Every", "ack_policy.every", "a JSON string", "must be an integer"},
		{`{"tls": 1}`, "TLS", "tls", "a JSON number", "must be true or false"},
		{`{"addr": "127.0.0.1:70000"}`, "Addr", "addr", "127.0.0.1:70000", "must be a port between 1 and 65535 (0: a free port)"},
		// a 0 given for the stream lifetime may mean "never": refused as the CLI's -stream-lifetime 0 is (Python took it as 15m)
		{`{"stream_lifetime_ns": 0}`, "StreamLifetime", "stream_lifetime_ns", "0",
			"must not be 0 (negative: streams never end by themselves; leave it unset for the default, 15m0s)"},
	} {
		_, err := zerobuslocal.DecodeOptions([]byte(c.text))
		var oe *zerobuslocal.OptionsError
		if !errors.As(err, &oe) || !errors.Is(err, zerobuslocal.ErrInvalidOptions) || len(oe.Problems) != 1 {
			t.Errorf("DecodeOptions(%s): %v, want one option problem", c.text, err)
			continue
		}
		if got, want := oe.Problems[0], (zerobuslocal.OptionProblem{Field: c.field, Key: c.key, Value: c.value, Msg: c.msg}); got != want {
			t.Errorf("DecodeOptions(%s): %+v, want %+v", c.text, got, want)
		}
		if strings.Contains(err.Error(), "json:") {
			t.Errorf("DecodeOptions(%s): %v shows encoding/json's words", c.text, err)
		}
	}
	// Unknown keys and bad JSON stay errors (of the options, not a port or a connection).
	for _, text := range []string{`{"nope": 1}`, `{`} {
		if _, err := zerobuslocal.DecodeOptions([]byte(text)); !errors.Is(err, zerobuslocal.ErrInvalidOptions) {
			t.Errorf("DecodeOptions(%s): %v, want ErrInvalidOptions", text, err)
		}
	}
	if o, err := zerobuslocal.DecodeOptions([]byte("  ")); err != nil || !reflect.DeepEqual(o, zerobuslocal.Options{}) {
		t.Errorf("DecodeOptions(blank): %+v, %v; want the zero Options", o, err)
	}
	if o, err := zerobuslocal.DecodeOptions([]byte(`{"addr": "127.0.0.1:0", "ack_policy": {"delay_ns": 5}, "stream_lifetime_ns": -1}`)); err != nil ||
		o.Addr != "127.0.0.1:0" || o.AckPolicy.Delay != 5 || o.StreamLifetime != -1 {
		t.Errorf("DecodeOptions: %+v, %v", o, err)
	}

	_, err := zerobuslocal.DecodeFault([]byte(`{"kind": "error", "after_ns": 1e19}`))
	var oe *zerobuslocal.OptionsError
	if !errors.As(err, &oe) || !errors.Is(err, zerobuslocal.ErrInvalidFault) || errors.Is(err, zerobuslocal.ErrInvalidOptions) ||
		oe.Problems[0].Key != "after_ns" || oe.Problems[0].Field != "After" || !strings.HasPrefix(err.Error(), "zerobuslocal: invalid fault: After (after_ns) is 1e19; must be a duration of at most about 292 years") {
		t.Errorf("DecodeFault(after_ns 1e19): %v", err)
	}
	if f, err := zerobuslocal.DecodeFault([]byte(`{"kind": "error", "after_ns": 5, "code": "UNAVAILABLE"}`)); err != nil ||
		f != (zerobuslocal.Fault{Kind: zerobuslocal.FaultError, After: 5, Code: codes.Unavailable}) {
		t.Errorf("DecodeFault: %+v, %v", f, err)
	}
}

// The fault kinds are listed once, in Go (FaultKinds; Python kept a copy to
// check inject_fault's kind): an unknown kind is a problem of the key
// "kind" naming every kind, and the list holds every FaultKind constant.
func TestFaultKindsAreChecked(t *testing.T) {
	_, err := zerobuslocal.DecodeFault([]byte(`{"kind": "explode"}`))
	var oe *zerobuslocal.OptionsError
	if !errors.As(err, &oe) || !errors.Is(err, zerobuslocal.ErrInvalidFault) || oe.Problems[0].Key != "kind" ||
		oe.Problems[0].Msg != "must be one of error, end_stream, drop_connection, stall_acks, close_signal, expire_token, token_error, token_latency, create_delay, partial_ack" {
		t.Errorf("DecodeFault(kind explode): %v", err)
	}
	fset := gotoken.NewFileSet()
	f, err := parser.ParseFile(fset, "faults.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var consts []string
	for _, d := range f.Decls {
		if gd, ok := d.(*ast.GenDecl); ok && gd.Tok == gotoken.CONST {
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "FaultKind" {
					consts = append(consts, strings.Trim(vs.Values[0].(*ast.BasicLit).Value, `"`))
				}
			}
		}
	}
	var listed []string
	for _, k := range zerobuslocal.FaultKinds() {
		listed = append(listed, string(k))
		if _, err := zerobuslocal.DecodeFault([]byte(`{"kind": "` + string(k) + `"}`)); err != nil {
			t.Errorf("DecodeFault(kind %s): %v", k, err)
		}
	}
	slices.Sort(consts)
	slices.Sort(listed)
	if len(consts) < 10 || !slices.Equal(consts, listed) {
		t.Errorf("FaultKinds %v, the FaultKind constants of faults.go %v", listed, consts)
	}
}
