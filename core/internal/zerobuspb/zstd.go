package zerobuspb

import (
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
	"google.golang.org/grpc/encoding"
)

// gRPC message compression "zstd" (grpc-encoding: zstd), which clients may
// use for whole Flight messages (protocol §9; the official Rust crate's
// ArrowCompression::GrpcZstd, this module's arrow_flight_compression
// grpc_zstd) and the local server accepts. grpc-go keeps compressors in a
// process-wide registry filled at init time; importing this package adds
// zstd there unless the program registered its own. grpc-go bounds the
// decompressed size by the receiver's maximum message size; the decoder's
// window is bounded here too, so a small frame cannot make it allocate
// gigabytes.

func init() {
	if encoding.GetCompressor(Zstd) == nil {
		encoding.RegisterCompressor(&zstdCompressor{})
	}
}

// Zstd is the name of the gRPC compressor (grpc.UseCompressor(Zstd)).
const Zstd = "zstd"

const zstdMaxWindow = 64 << 20

type zstdCompressor struct {
	encoders, decoders sync.Pool
}

func (*zstdCompressor) Name() string { return Zstd }

func (c *zstdCompressor) Compress(w io.Writer) (io.WriteCloser, error) {
	e, _ := c.encoders.Get().(*zstd.Encoder)
	if e == nil {
		var err error
		e, err = zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			return nil, err
		}
	} else {
		e.Reset(w)
	}
	return &zstdWriter{e: e, c: c}, nil
}

// zstdWriter gives its encoder back to the pool when closed.
type zstdWriter struct {
	e *zstd.Encoder
	c *zstdCompressor
}

func (w *zstdWriter) Write(p []byte) (int, error) { return w.e.Write(p) }

func (w *zstdWriter) Close() error {
	err := w.e.Close()
	w.e.Reset(nil)
	w.c.encoders.Put(w.e)
	return err
}

func (c *zstdCompressor) Decompress(r io.Reader) (io.Reader, error) {
	d, _ := c.decoders.Get().(*zstd.Decoder)
	if d == nil {
		var err error
		// Concurrency 1 decodes on the caller's goroutine: a pooled
		// decoder the collector drops leaves nothing running.
		d, err = zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow),
			zstd.WithDecoderMaxMemory(4*zstdMaxWindow))
		if err != nil {
			return nil, err
		}
	} else if err := d.Reset(r); err != nil {
		c.decoders.Put(d)
		return nil, err
	}
	return &zstdReader{d: d, c: c}, nil
}

// zstdReader gives its decoder back to the pool at the end of the message.
type zstdReader struct {
	d *zstd.Decoder
	c *zstdCompressor
}

func (r *zstdReader) Read(p []byte) (int, error) {
	if r.d == nil {
		return 0, io.EOF
	}
	n, err := r.d.Read(p)
	if err != nil {
		_ = r.d.Reset(nil)
		r.c.decoders.Put(r.d)
		r.d = nil
	}
	return n, err
}
