package cli

import (
	"bytes"
	"context"
	"io"
	"testing"
	"unsafe"
)

// bufferSpy is a stream input of size bytes (a pattern) handed out in
// reads of varying length; it records every buffer it is asked to read
// into.
type bufferSpy struct {
	data []byte
	off  int
	bufs map[*byte]bool
	read int
}

func (s *bufferSpy) Read(p []byte) (int, error) {
	s.bufs[unsafe.SliceData(p)] = true
	if s.off == len(s.data) {
		return 0, io.EOF
	}
	s.read++
	n := copy(p[:min(len(p), 1000+s.read*997%60000)], s.data[s.off:])
	s.off += n
	return n, nil
}

// TestPipeReaderReusesBuffers: reading a pipe of 32 MiB takes hundreds of
// reads, all into the same pipeBuffers buffers (before, each read had a
// fresh 64 KiB buffer), and what comes out is what went in, byte for byte,
// read in pieces of other sizes than the pipe's (a buffer reused while its
// bytes were still being copied out would show here, and to -race).
func TestPipeReaderReusesBuffers(t *testing.T) {
	data := make([]byte, 32<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>12)
	}
	spy := &bufferSpy{data: data, bufs: map[*byte]bool{}}
	p := newPipeReader(context.Background(), func() (io.Reader, io.Closer, error) { return spy, nil, nil })
	defer p.Close()
	var got bytes.Buffer
	piece := make([]byte, 10_007)
	for {
		n, err := p.Read(piece[:1+got.Len()%len(piece)])
		got.Write(piece[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("read %d bytes, not the %d written (or not in order)", got.Len(), len(data))
	}
	if spy.read < 100 || len(spy.bufs) > pipeBuffers {
		t.Errorf("%d reads into %d distinct buffers, want at least 100 reads into at most %d", spy.read, len(spy.bufs), pipeBuffers)
	}
}
