//go:build linux

package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// openFDs is what each open file descriptor of the process refers to
// ("pipe:[123]", a path, "socket:[456]"), sorted.
func openFDs(t *testing.T) []string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil {
			out = append(out, e.Name()+" "+target)
		}
	}
	slices.Sort(out)
	return out
}

// pumpsLeft is the stacks of the goroutines reading a stream input
// (pipeReader.pump) that are still running.
func pumpsLeft() []string {
	buf := make([]byte, 1<<22)
	var left []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "(*pipeReader).pump") {
			left = append(left, g)
		}
	}
	return left
}

// eventually polls cond until it holds; false when it still does not
// after a long while (the state it waits for never comes).
func eventually(cond func() bool) bool {
	for range 3000 {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return cond()
}

// TestSendStdinInterruptLeavesNothing: `zerobus send -` of a pipe whose
// writer stalls (an Arrow IPC stream's schema and 10 rows, then nothing,
// the pipe open), interrupted once the server holds the 10 rows: after the
// run returns (exit 130), no goroutine of it still reads the pipe, no file
// descriptor it opened is left, standard input is open, still blocking
// (its open file description's flags are as before: Python reading a
// non-blocking stdin gets EAGAIN) and readable: what the writer writes
// next is read from it, not swallowed by a read of the run left behind.
// Standard input here is as the host process's fd 0 is: a blocking pipe.
func TestSendStdinInterruptLeavesNothing(t *testing.T) {
	s := startServer(t)
	const table = "main.pipes.stdin_cancel"
	var fds [2]int
	if err := syscall.Pipe2(fds[:], syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	stdin, w := os.NewFile(uintptr(fds[0]), "stdin"), os.NewFile(uintptr(fds[1]), "writer")
	defer stdin.Close()
	defer w.Close()
	flags := func() int {
		fl, err := fcntlFlags(fds[0])
		if err != nil {
			t.Fatal(err)
		}
		return fl
	}
	flagsBefore := flags()
	if flagsBefore&syscall.O_NONBLOCK != 0 {
		t.Fatalf("the pipe is non-blocking before the run: flags %#o", flagsBefore)
	}
	iw := ipc.NewWriter(w, ipc.WithSchema(mixedSchema))
	rec := mixedBatch(memory.DefaultAllocator, 0, 10)
	if err := iw.Write(rec); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	fdsBefore := openFDs(t)

	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- RunEnv(ctx, append([]string{"send"}, append(connFlags(s, table), "-json", "-progress", "never", "-batch-rows", "10", "-")...),
			Env{Stdin: stdin, Stdout: &stdout, Stderr: &stderr, LookupEnv: func(string) (string, bool) { return "", false }})
	}()
	for s.RecordCount(table) < 10 {
		select {
		case code := <-done:
			t.Fatalf("send returned (exit %d) while the writer stalls\n%s\n%s", code, &stdout, &stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	interrupt()
	if code := <-done; code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitInterrupted, &stdout, &stderr)
	}
	if !eventually(func() bool { return len(pumpsLeft()) == 0 }) {
		t.Errorf("goroutines of the run still read standard input:\n%s", strings.Join(pumpsLeft(), "\n\n"))
	}
	var fdsAfter []string
	if !eventually(func() bool { fdsAfter = openFDs(t); return slices.Equal(fdsAfter, fdsBefore) }) {
		t.Errorf("open file descriptors after the run:\n%s\nbefore:\n%s", strings.Join(fdsAfter, "\n"), strings.Join(fdsBefore, "\n"))
	}
	if got := flags(); got != flagsBefore {
		t.Errorf("standard input's flags %#o after the run, %#o before", got, flagsBefore)
	}
	if _, err := w.Write([]byte("after the run\n")); err != nil {
		t.Fatal(err)
	}
	_ = w.Close()
	b := make([]byte, 64)
	n, err := stdin.Read(b)
	if string(b[:n]) != "after the run\n" {
		t.Errorf("standard input after the run: read %q (%v), want what the writer wrote next", b[:n], err)
	}
	if got := s.RecordCount(table); got != 10 {
		t.Errorf("server stored %d rows, want 10", got)
	}
}

// TestSendFIFOInterruptClosesIt: a FIFO the run opened is closed by the
// run: after an interrupted send of a FIFO whose writer stalls, no file
// descriptor reads it (the writer's, the test's, is open for writing) and
// no goroutine of the run reads it.
func TestSendFIFOInterruptClosesIt(t *testing.T) {
	s := startServer(t)
	_, interrupt, stdout, stderr, done, fifo := stalledPipeSend(t, s, "main.pipes.fifo_cancel", nil, "-json")
	interrupt()
	wantExitInterrupted(t, waitSend(t, done, stdout, stderr))
	if !eventually(func() bool { return len(pumpsLeft()) == 0 }) {
		t.Errorf("goroutines of the run still read the FIFO:\n%s", strings.Join(pumpsLeft(), "\n\n"))
	}
	for _, fd := range openFDs(t) {
		if strings.HasSuffix(fd, " "+fifo) && readable(t, strings.Fields(fd)[0]) {
			t.Errorf("the FIFO is still open after the run: fd %s", fd)
		}
	}
}

// readable reports whether the file descriptor fd (a decimal) of the
// process is open for reading.
func readable(t *testing.T, fd string) bool {
	b, err := os.ReadFile(filepath.Join("/proc/self/fdinfo", fd))
	if err != nil {
		return false // closed since
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			fl, err := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
			if err != nil {
				t.Fatalf("fdinfo %s: %q: %v", fd, line, err)
			}
			return fl&syscall.O_ACCMODE != syscall.O_WRONLY
		}
	}
	t.Fatalf("fdinfo %s has no flags: %s", fd, b)
	return false
}

func fcntlFlags(fd int) (int, error) {
	fl, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFL, 0)
	if errno != 0 {
		return 0, fmt.Errorf("fcntl F_GETFL: %w", errno)
	}
	return int(fl), nil
}
