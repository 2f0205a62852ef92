package flightstream

import (
	"runtime"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/mem"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// heldMin is the smallest IPC body taken from Config.Alloc; smaller ones
// are Go memory. It is above gRPC's pooling threshold, so every message
// buffer carrying a held body is reference counted (mem.NewBuffer).
const heldMin = 32 << 10

// heldBody is an IPC body in memory from Config.Alloc (the encoder arena,
// off the Go heap). It goes back to the allocator when its last reference
// is dropped: one is the Encoded's, then its batch's until the batch
// resolves; the sender holds one while it hands the body to gRPC, and each
// gRPC message buffer carrying it holds one until gRPC frees the buffer
// (written or dropped). Should a holder let it go unreachable without
// dropping its reference, a cleanup returns the memory.
type heldBody struct {
	refs    atomic.Int64
	cleanup runtime.Cleanup
	mem     memory.Allocator
	b       []byte // as Allocate returned it
	holds   int64  // the memory b holds (see newHeldBody)
}

// bodyMem is what the cleanup frees (it must not reference the heldBody).
type bodyMem struct {
	mem memory.Allocator
	b   []byte
}

func newHeldBody(alloc memory.Allocator, n int) *heldBody {
	h := &heldBody{mem: alloc, b: alloc.Allocate(n)}
	// An allocator that knows (the encoder arena's: a region may be
	// larger than the body) tells what the body holds; else its length.
	h.holds = int64(len(h.b))
	if ha, ok := alloc.(interface{ Holds([]byte) int64 }); ok {
		h.holds = ha.Holds(h.b)
	}
	h.refs.Store(1)
	h.cleanup = runtime.AddCleanup(h, func(m bodyMem) { m.mem.Free(m.b) }, bodyMem{alloc, h.b})
	return h
}

// Retain adds a reference; h must hold one already. Nil: nothing.
func (h *heldBody) Retain() {
	if h != nil {
		h.refs.Add(1)
	}
}

// Release drops a reference and frees the body with the last one. Nil:
// nothing.
func (h *heldBody) Release() {
	if h == nil {
		return
	}
	switch n := h.refs.Add(-1); {
	case n == 0:
		h.cleanup.Stop()
		h.mem.Free(h.b)
	case n < 0:
		panic("flightstream: IPC body released twice")
	}
}

// buffer returns a gRPC buffer of body (a slice of h's memory, or Go
// memory when h is nil) holding a reference to h (stream.HeldBuffer).
func (h *heldBody) buffer(body []byte) mem.Buffer {
	if h == nil {
		return mem.SliceBuffer(body)
	}
	return stream.HeldBuffer(body, h)
}

// sendData is a FlightData whose body may be held (see heldBody); the DoPut
// codec gives gRPC the body by reference with the reference counted.
type sendData struct {
	*flight.FlightData
	held *heldBody
}
