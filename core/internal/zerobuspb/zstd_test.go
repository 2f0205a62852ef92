package zerobuspb_test

import (
	"bytes"
	"io"
	"runtime"
	"strings"
	"testing"

	"google.golang.org/grpc/encoding"

	_ "github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// The registered "zstd" compressor round-trips messages through its pools,
// refuses corrupt frames with an error, and refuses a frame that asks for a
// window far above any message without allocating it.
func TestGRPCZstdCompressor(t *testing.T) {
	c := encoding.GetCompressor("zstd")
	if c == nil {
		t.Fatal("no zstd compressor registered")
	}
	msg := bytes.Repeat([]byte("zerobus flight message "), 10_000)
	for range 3 { // pooled encoders and decoders are reused
		var buf bytes.Buffer
		w, err := c.Compress(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(msg); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if buf.Len() >= len(msg)/10 {
			t.Fatalf("compressed %d bytes to %d", len(msg), buf.Len())
		}
		r, err := c.Decompress(&buf)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("round trip: %d bytes, %v", len(got), err)
		}
	}

	r, err := c.Decompress(strings.NewReader("\x28\xb5\x2f\xfd garbage after a zstd magic"))
	if err == nil {
		_, err = io.ReadAll(r)
	}
	if err == nil {
		t.Fatal("corrupt frame decoded without an error")
	}

	// A frame header declaring a 1 TiB window (window descriptor 0xd0 →
	// exponent 40), single segment off.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	huge := []byte{0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xd0, 0x01, 0x00, 0x00}
	r, err = c.Decompress(bytes.NewReader(huge))
	if err == nil {
		_, err = io.ReadAll(r)
	}
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a 1 TiB window was accepted")
	}
	if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<20 {
		t.Fatalf("refusing the frame allocated %d MiB", grown>>20)
	}
}
