package core_test

import (
	"strings"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestTokenRefusalFinalOnBothTransports: a token endpoint that answers one
// request with HTTP 400 (protocol §4: a 4xx is final) fails the send that
// met it on protobuf as on arrow_flight, with the same authentication
// error and no row stored; the protobuf send no longer drops the refusal
// its catalog read met and asks again for its stream. The next send asks
// again and stores its rows.
func TestTokenRefusalFinalOnBothTransports(t *testing.T) {
	srv := localServer(t)
	msgs := map[string]string{}
	for _, transport := range []string{"protobuf", "arrow_flight"} {
		t.Run(transport, func(t *testing.T) {
			cfg := localConfig(srv, "main.default.s15_token400_"+transport)
			cfg.Transport = transport
			srv.InjectFault(cfg.TableName, zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, HTTPStatus: 400, Message: "refused once"})
			err, retries := sendOnce(t, cfg)
			if core.KindOf(err) != core.KindAuthentication || core.IsRetryable(err) {
				t.Fatalf("err = %v (kind %s); want a final authentication error", err, core.KindOf(err))
			}
			if retries != 0 {
				t.Errorf("retried %d times", retries)
			}
			if n := len(srv.Rows(cfg.TableName)); n != 0 {
				t.Errorf("the server stored %d rows after the refusal", n)
			}
			msgs[transport] = strings.ReplaceAll(err.Error(), cfg.TableName, "TABLE")
			if err, _ := sendOnce(t, cfg); err != nil {
				t.Fatalf("the next send: %v", err)
			}
			if n := len(srv.Rows(cfg.TableName)); n != 3 {
				t.Errorf("the server stored %d rows after the next send, want 3", n)
			}
		})
	}
	if msgs["protobuf"] != msgs["arrow_flight"] {
		t.Errorf("messages differ:\nprotobuf:     %s\narrow_flight: %s", msgs["protobuf"], msgs["arrow_flight"])
	}
}
