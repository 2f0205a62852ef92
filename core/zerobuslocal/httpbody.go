package zerobuslocal

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// boundBody bounds the time r's body has to arrive in full to
// s.bodyTimeout: a client that sends the headers and part of a body, then
// stalls, gets the route's answer to a failed read (its 400 naming the
// timeout) and a closed connection, instead of holding a handler until
// Close. It sets the connection's read deadline only for a request with a
// body, and clears it once the body has been read to its end, so that the
// bound never reaches past the body into the handler's work (a token
// request delayed by a fault, a long /arrow answer): a read of the
// connection failing then would cancel the request's context. (net/http
// 1.26 clears the deadline there too, when it starts its background read;
// boundedBody does not rely on it.) A body the handler leaves unread stays
// bounded while net/http discards it after the handler. Only HTTP/1
// connections (the listener's only protocol) support the deadline; on
// others nothing is bounded.
func (s *Server) boundBody(w http.ResponseWriter, r *http.Request) {
	if r.Body == nil || r.Body == http.NoBody || s.bodyTimeout <= 0 {
		return
	}
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(s.bodyTimeout)) != nil {
		return
	}
	r.Body = &boundedBody{ReadCloser: r.Body, rc: rc, bound: s.bodyTimeout}
}

// boundedBody is a request body read under a deadline (boundBody). Read
// is called by the handler's goroutine only.
type boundedBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	bound   time.Duration
	cleared bool // the deadline was cleared at the body's end
}

func (b *boundedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil:
	case err == io.EOF:
		if !b.cleared {
			b.cleared = true
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		err = &bodyTimeoutError{bound: b.bound, err: err}
	}
	return n, err
}

// bodyTimeoutError is the read error of a body that did not arrive within
// the bound.
type bodyTimeoutError struct {
	bound time.Duration
	err   error
}

func (e *bodyTimeoutError) Error() string {
	return fmt.Sprintf("the request body did not arrive within %v", e.bound)
}

func (e *bodyTimeoutError) Unwrap() error { return e.err }
