package zerobuslocal

import (
	"io"
	"net"
	"testing"
	"time"
)

// pipeConn is a trackedConn over one end of a net.Pipe whose other end is
// read into got until it is closed.
func pipeConn(t *testing.T) (*trackedConn, net.Conn, <-chan []byte) {
	t.Helper()
	a, b := net.Pipe()
	got := make(chan []byte, 1)
	go func() {
		all, _ := io.ReadAll(b)
		got <- all
	}()
	t.Cleanup(func() { a.Close(); b.Close() })
	return &trackedConn{Conn: a}, b, got
}

// waitWritten returns once a write begun after the mark has returned, and
// that write's bytes have reached the peer.
func TestWaitWrittenSeesWriteAfterMark(t *testing.T) {
	c, _, got := pipeConn(t)
	if _, err := c.Write([]byte("before")); err != nil {
		t.Fatal(err)
	}
	mark := c.writeMark()
	queued := time.Now()
	go func() {
		time.Sleep(5 * time.Millisecond) // the writer goroutine runs later
		c.Write([]byte("-ack"))
	}()
	if !c.waitWritten(mark, queued, time.Millisecond, time.Minute) {
		t.Fatal("waitWritten: gave up, want the write after the mark seen")
	}
	c.wmu.Lock()
	begun, ended := c.begun, c.ended
	c.wmu.Unlock()
	if begun != mark+1 || ended != begun {
		t.Fatalf("after waitWritten: %d writes begun, %d ended, want %d both", begun, ended, mark+1)
	}
	c.Conn.Close()
	if b := <-got; string(b) != "before-ack" {
		t.Fatalf("peer read %q, want %q", b, "before-ack")
	}
}

// With no write after the mark, waitWritten gives up at its bound and says
// so; a write that fails ends the wait (nothing more would arrive).
func TestWaitWrittenBoundAndFailure(t *testing.T) {
	c, peer, _ := pipeConn(t)
	mark := c.writeMark()
	if c.waitWritten(mark, time.Now(), time.Millisecond, 20*time.Millisecond) {
		t.Fatal("waitWritten: reported written with no write after the mark")
	}
	peer.Close()
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("Write to a closed pipe succeeded")
	}
	if !c.waitWritten(mark, time.Now(), time.Hour, time.Hour) {
		t.Fatal("waitWritten after a failed write: gave up, want it to end the wait")
	}
}
