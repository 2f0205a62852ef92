package zerobuslocal_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// badFaults are faults with one option out of range: the Fault field, its
// key in Fault's JSON form (DecodeFault, pybind) and in the inspection
// API's (FaultJSON), and the value in each form. Each would fire at create
// were it armed (no positive trigger), so a refused one shows as a create
// that succeeds.
var badFaults = []struct {
	name         string
	fault        zerobuslocal.Fault
	key, httpKey string
	jsonValue    any // Fault's JSON form
	httpValue    any // FaultJSON's
}{
	{"after", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, After: -time.Second}, "after_ns", "after", -1_000_000_000, "-1s"},
	{"after_messages", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, AfterMessages: -3}, "after_messages", "after_messages", -3, -3},
	{"close_after", zerobuslocal.Fault{Kind: zerobuslocal.FaultCloseSignal, CloseAfter: -time.Second}, "close_after_ns", "close_after", -1_000_000_000, "-1s"},
	{"latency", zerobuslocal.Fault{Kind: zerobuslocal.FaultCreateDelay, Latency: -5 * time.Second}, "latency_ns", "latency", int64(-5_000_000_000), "-5s"},
	{"records", zerobuslocal.Fault{Kind: zerobuslocal.FaultError, Records: -1}, "records", "records", -1, -1},
	{"http_status", zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 42}, "http_status", "http_status", 42, 42},
}

// TestInjectFaultRefusesOutOfRange: Server.InjectFault, DecodeFault and
// POST /faults refuse a negative duration or count (and an HTTP status
// net/http cannot write), naming the option, and arm nothing: a stream
// created afterwards succeeds and no fault fires.
func TestInjectFaultRefusesOutOfRange(t *testing.T) {
	for _, tc := range badFaults {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, zerobuslocal.Options{})

			err := s.InjectFault(testTable, tc.fault)
			var oe *zerobuslocal.OptionsError
			if !errors.Is(err, zerobuslocal.ErrInvalidFault) || !errors.As(err, &oe) {
				t.Fatalf("InjectFault(%+v) = %v, want an *OptionsError wrapping ErrInvalidFault", tc.fault, err)
			}
			if keys, _ := oe.KeyProblems(); !slices.Equal(keys, []string{tc.key}) {
				t.Errorf("InjectFault(%+v): keys %q, want [%q]", tc.fault, keys, tc.key)
			}

			text, _ := json.Marshal(map[string]any{"kind": tc.fault.Kind, tc.key: tc.jsonValue})
			if _, err := zerobuslocal.DecodeFault(text); !errors.As(err, &oe) {
				t.Errorf("DecodeFault(%s) = %v, want an *OptionsError", text, err)
			} else if keys, _ := oe.KeyProblems(); !slices.Equal(keys, []string{tc.key}) {
				t.Errorf("DecodeFault(%s): keys %q, want [%q]", text, keys, tc.key)
			}

			code, body := httpDo(t, nil, "POST", s.InspectURL()+"/faults",
				map[string]any{"table": testTable, "kind": tc.fault.Kind, tc.httpKey: tc.httpValue})
			var msg struct{ Error string }
			_ = json.Unmarshal(body, &msg)
			if code != http.StatusBadRequest || !strings.HasPrefix(msg.Error, "invalid fault: "+tc.httpKey+" is ") {
				t.Errorf("POST /faults %s=%v: %d %s, want 400 naming %q", tc.httpKey, tc.httpValue, code, body, tc.httpKey)
			}

			if _, err := tryCreate(t, s, token(t, s, testTable), testTable); err != nil {
				t.Errorf("create after the refused faults: %v, want success (nothing armed)", err)
			}
			if fired := s.Stats().FaultsFired; fired != 0 {
				t.Errorf("FaultsFired = %d, want 0", fired)
			}
		})
	}
}

// TestInjectFaultAcceptsInRange: zero (unset) and positive values are
// armed as before.
func TestInjectFaultAcceptsInRange(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	for _, f := range []zerobuslocal.Fault{
		{Kind: zerobuslocal.FaultError, After: time.Hour, AfterMessages: 5, Records: 2},
		{Kind: zerobuslocal.FaultCloseSignal, CloseAfter: time.Second, AfterMessages: 1},
		{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 503},
		{Kind: zerobuslocal.FaultTokenLatency, Latency: 0},
	} {
		if err := s.InjectFault("main.default.other", f); err != nil {
			t.Errorf("InjectFault(%+v) = %v, want nil", f, err)
		}
	}
	if err := s.InjectFault("", zerobuslocal.Fault{Kind: "bogus"}); !errors.Is(err, zerobuslocal.ErrInvalidFault) {
		t.Errorf("InjectFault(kind bogus) = %v, want ErrInvalidFault", err)
	}
}
