package zerobuslocal

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"testing"
	"time"
)

// Connections that do nothing were held forever (s20 review leaks L1): an
// HTTP keep-alive connection after its request, a gRPC connection that
// never sent its preface (until gRPC's own 120 s). With short bounds each is
// closed by the server. (An HTTP request stalled in its body is still held:
// a ReadTimeout would also cancel long answers.)
func TestS20IdleConnectionsAreClosed(t *testing.T) {
	saved := connTimeouts
	connTimeouts.handshake, connTimeouts.httpIdle = 300*time.Millisecond, 300*time.Millisecond
	defer func() { connTimeouts = saved }()
	s, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	httpAddr, grpcAddr := s.httpLis.Addr().String(), s.grpcLis.Addr().String()

	dial := func(addr string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedByServer waits (up to 5 s, far past the bounds) for the server
	// to close c: a read then ends with EOF or a reset.
	closedByServer := func(name string, c net.Conn, r io.Reader) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.Copy(io.Discard, r)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("%s: the server kept the connection open", name)
		}
	}

	keep := dial(httpAddr)
	if _, err := io.WriteString(keep, "GET /api/2.1/unity-catalog/tables/x HTTP/1.1\r\nHost: "+httpAddr+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(keep)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	silent := dial(grpcAddr)

	closedByServer("HTTP keep-alive connection left idle", keep, br)
	closedByServer("gRPC connection that never sent its preface", silent, silent)
}
