package zerobuslocal_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// TestS23ResponseHeadersBeforeCreate (issue 4: "Send response headers
// immediately"): a raw client that waits for the response headers before
// sending anything, as tonic-based clients do, gets them while the RPC
// waits for its create_stream, on plaintext and on TLS; the stream then
// works as usual. Without the server's SendHeader, Header() would wait for
// the first response the server never sends before the create_stream: the
// test would end by the stream's 30 s deadline.
func TestS23ResponseHeadersBeforeCreate(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tlsOn), func(t *testing.T) {
			s := start(t, zerobuslocal.Options{TLS: tlsOn})
			st := openStream(t, dial(t, s), token(t, s, testTable), testTable)
			if _, err := st.c.Header(); err != nil {
				t.Fatalf("Header before create_stream: %v, want the server's response headers", err)
			}
			if err := st.c.Context().Err(); err != nil {
				t.Fatalf("Header returned only when the stream ended (%v): the server sent no headers before create_stream", err)
			}
			if got := s.Stats().StreamsCreated; got != 0 {
				t.Fatalf("StreamsCreated = %d before any create_stream, want 0", got)
			}
			st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
			st.send(recordReq(0, encode(t, event(t, 7, "h"))))
			st.expectAck(0)
			if err := st.finish(); err != nil {
				t.Fatal(err)
			}
			rows := s.Rows(testTable)
			if len(rows) != 1 {
				t.Fatalf("stored %d rows, want 1", len(rows))
			}
			if id := rows[0].Message.Get(rows[0].Message.Descriptor().Fields().ByName("id")).Int(); id != 7 {
				t.Errorf("stored id %d, want 7", id)
			}
		})
	}
}

// TestS23TokenEndpoint4xxFault (issue 4: "token endpoint 4xx/5xx/latency"):
// TestTokenFaults covers 5xx and latency; an injected 4xx is answered with
// that status once (one-shot), then tokens are issued again, and the
// rejection is counted.
func TestS23TokenEndpoint4xxFault(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			s := start(t, zerobuslocal.Options{})
			s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultTokenError, HTTPStatus: code})
			got, tr := postToken(t, s, nil, s.ClientID(), s.ClientSecret(), tokenForm(testTable))
			if got != code || tr.AccessToken != "" {
				t.Fatalf("first token request: HTTP %d %+v, want %d and no token", got, tr, code)
			}
			if got, tr := postToken(t, s, nil, s.ClientID(), s.ClientSecret(), tokenForm(testTable)); got != http.StatusOK || tr.AccessToken == "" {
				t.Fatalf("second token request: HTTP %d %+v, want 200 with a token (one-shot fault)", got, tr)
			}
			st := s.Stats()
			if st.FaultsFired != 1 || st.TokensRejected != 1 || st.TokensIssued != 1 {
				t.Errorf("stats: faults %d, rejected %d, issued %d; want 1, 1, 1", st.FaultsFired, st.TokensRejected, st.TokensIssued)
			}
		})
	}
}
