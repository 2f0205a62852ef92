package cli

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// arrow-go trusts the lengths inside Arrow IPC metadata (a few flipped bits
// can make it allocate tens of GB, beyond any recover): every input file's
// footer and message metadata go through core.VerifyIPCFooter and
// core.VerifyIPCMessage (the verifier the local server checks FlightData
// with) before arrow-go reads them. This file frames them: where the footer
// and blocks lie in a file, each message's prefix in a stream, the bytes
// left for a body.

// errIPCMeta is wrapped by every verification failure.
var errIPCMeta = core.ErrIPCMetadata

// verifyIPCFile checks the footer, schema and every block's message
// metadata of the Arrow IPC file f (size bytes) before arrow-go opens it.
func verifyIPCFile(f io.ReaderAt, size int64) error {
	const magic, tail = 8, 10 // "ARROW1\0\0" ... int32 footer length, "ARROW1"
	if size < magic+tail {
		return fmt.Errorf("%w: the file is too short (%d bytes) for an Arrow IPC file", errIPCMeta, size)
	}
	var t [4]byte
	if _, err := f.ReadAt(t[:], size-tail); err != nil {
		return err
	}
	flen := int64(int32(binary.LittleEndian.Uint32(t[:])))
	if flen <= 0 || flen > size-magic-tail {
		return fmt.Errorf("%w: the footer length %d does not fit in the %d-byte file", errIPCMeta, flen, size)
	}
	footerAt := size - tail - flen
	buf := make([]byte, flen)
	if _, err := f.ReadAt(buf, footerAt); err != nil {
		return err
	}
	dicts, batches, err := core.VerifyIPCFooter(buf)
	if err != nil {
		return err
	}
	for _, kind := range []struct {
		name   string
		blocks []core.IPCBlock
	}{{"dictionary batch", dicts}, {"record batch", batches}} {
		for k, b := range kind.blocks {
			off, metaLen, bodyLen := b.Offset, b.MetaLen, b.BodyLen
			what := fmt.Sprintf("%s %d", kind.name, k)
			if off < magic || metaLen < 8 || bodyLen < 0 || off > footerAt || metaLen > footerAt-off || bodyLen > footerAt-off-metaLen {
				return fmt.Errorf("%w: %s: the footer places it at offset %d (%d + %d bytes), outside the file's %d bytes of data",
					errIPCMeta, what, off, metaLen, bodyLen, footerAt)
			}
			meta := make([]byte, metaLen)
			if _, err := f.ReadAt(meta, off); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			prefix := 8
			switch binary.LittleEndian.Uint32(meta) {
			case 0xFFFFFFFF:
			default:
				prefix = 4 // before Arrow 0.15: no continuation marker
			}
			if _, err := core.VerifyIPCMessage(meta[prefix:], what, bodyLen); err != nil {
				return err
			}
		}
	}
	return nil
}

// ipcStreamVerifier passes an Arrow IPC stream through, checking each
// message's metadata (and that its body fits in the bytes left) before
// handing it on.
type ipcStreamVerifier struct {
	r       *bufio.Reader
	left    int64 // bytes of the file not yet read
	pending []byte
	body    int64 // body bytes to pass through
	n       int   // messages seen
	done    bool
	err     error
}

func newIPCStreamVerifier(f *os.File, size int64) *ipcStreamVerifier {
	return &ipcStreamVerifier{r: bufio.NewReaderSize(f, 1<<16), left: size}
}

func (s *ipcStreamVerifier) Read(p []byte) (int, error) {
	for len(s.pending) == 0 && s.body == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return s.r.Read(p)
		}
		s.err = s.next()
	}
	if len(s.pending) > 0 {
		n := copy(p, s.pending)
		s.pending = s.pending[n:]
		return n, nil
	}
	if int64(len(p)) > s.body {
		p = p[:s.body]
	}
	n, err := s.r.Read(p)
	s.body -= int64(n)
	s.left -= int64(n)
	if err == io.EOF && s.body > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// next reads the framing and metadata of the next message into pending.
func (s *ipcStreamVerifier) next() error {
	head := make([]byte, 4, 8)
	if _, err := io.ReadFull(s.r, head); err != nil {
		if err == io.EOF {
			s.done = true
			return nil
		}
		return err
	}
	mlen := binary.LittleEndian.Uint32(head)
	if mlen == 0xFFFFFFFF {
		head = head[:8]
		if _, err := io.ReadFull(s.r, head[4:]); err != nil {
			return err
		}
		mlen = binary.LittleEndian.Uint32(head[4:])
	}
	s.left -= int64(len(head))
	if mlen == 0 { // end of stream
		s.pending, s.done = head, true
		return nil
	}
	what := fmt.Sprintf("message %d", s.n)
	if s.n == 0 {
		what = "the schema"
	}
	s.n++
	if int64(mlen) > s.left {
		return fmt.Errorf("%w: %s: %d bytes of metadata, but only %d bytes of the file are left", errIPCMeta, what, mlen, s.left)
	}
	meta := make([]byte, mlen)
	if _, err := io.ReadFull(s.r, meta); err != nil {
		return err
	}
	s.left -= int64(mlen)
	body, err := core.VerifyIPCMessage(meta, what, s.left)
	if err != nil {
		return err
	}
	s.pending, s.body = append(head, meta...), body
	return nil
}
