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
	if !c.waitWritten(mark, queued, time.Millisecond, time.Minute, time.Minute) {
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

// With no write after the mark, waitWritten gives up at its start bound
// and says so; a write that fails ends the wait (nothing more would arrive).
func TestWaitWrittenBoundAndFailure(t *testing.T) {
	c, peer, _ := pipeConn(t)
	mark := c.writeMark()
	if c.waitWritten(mark, time.Now(), time.Millisecond, 20*time.Millisecond, time.Hour) {
		t.Fatal("waitWritten: reported written with no write after the mark")
	}
	peer.Close()
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("Write to a closed pipe succeeded")
	}
	if !c.waitWritten(mark, time.Now(), time.Hour, time.Hour, time.Hour) {
		t.Fatal("waitWritten after a failed write: gave up, want it to end the wait")
	}
}

// A writer goroutine that takes up the responses late (a loaded machine:
// CI saw a drop_connection lose its due acks when the 100 ms bound counted
// from the wait's start) is waited for up to the start bound; once writes
// go on without a pause, the wait gives up bound after the first one.
func TestWaitWrittenLateWriterAndBusyConn(t *testing.T) {
	c, _, got := pipeConn(t)
	mark := c.writeMark()
	go func() {
		time.Sleep(200 * time.Millisecond) // well past the bound below
		c.Write([]byte("ack"))
	}()
	if !c.waitWritten(mark, time.Now(), time.Millisecond, time.Minute, 20*time.Millisecond) {
		t.Fatal("waitWritten: gave up before the late writer ran, want it waited for")
	}
	c.wmu.Lock()
	ended := c.ended
	c.wmu.Unlock()
	if ended != mark+1 {
		t.Fatalf("after waitWritten: %d writes ended, want %d", ended, mark+1)
	}
	// A busy connection (writes keep coming: never idle for an hour) gives
	// up at the bound, not at the start bound.
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			c.Write([]byte("x"))
			time.Sleep(time.Millisecond)
		}
	}()
	// (Waiting for the start bound or the idle time would hang the test.)
	if c.waitWritten(c.writeMark(), time.Now(), time.Hour, time.Hour, 30*time.Millisecond) {
		t.Fatal("waitWritten: reported idle on a connection written every millisecond")
	}
	close(stop)
	<-done
	c.Conn.Close()
	if b := <-got; len(b) < 4 || string(b[:3]) != "ack" {
		t.Fatalf("peer read %q, want it to start with %q", b, "ack")
	}
}
