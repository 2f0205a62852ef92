package zerobuslocal_test

import (
	"encoding/json"
	"reflect"
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
