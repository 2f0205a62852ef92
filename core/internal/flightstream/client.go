package flightstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// TransportName is the value of the zerobus.transport telemetry attribute
// on everything this package records.
const TransportName = "arrow_flight"

// Config configures a Client. Zero fields mean the stream.Client's settings.
type Config struct {
	// Compression compresses the IPC buffers of every batch ("zstd",
	// "lz4"), or each whole gRPC message with zstd ("grpc_zstd", the
	// official Rust client's GrpcZstd: it helps most on wide or sparse
	// schemas, whose messages are mostly metadata), or nothing ("" /
	// "none", default).
	Compression string
	// MaxInflightBatches bounds the batches sent and not yet fully
	// acknowledged across all streams of the Client (one window they
	// share). Default: the stream.Client's MaxInflightRequests; when both
	// limits are the stream.Client's, its window is shared with it.
	MaxInflightBatches int
	// MaxInflightBytes bounds their IPC body bytes. Default: the
	// stream.Client's MaxInflightBytes.
	MaxInflightBytes int64
	// Alloc, if set, holds the IPC bodies of queued batches (from 32 KiB):
	// each is freed once its batch has resolved and gRPC has written or
	// dropped it. Nil: Go memory.
	Alloc memory.Allocator
}

// ParseCompression checks a Compression value and returns its IPC option
// (nil for none) and whether whole gRPC messages are compressed instead.
func ParseCompression(s string) (opt ipc.Option, grpcZstd bool, err error) {
	switch strings.ToLower(s) {
	case "", "none":
		return nil, false, nil
	case "zstd":
		return ipc.WithZstd(), false, nil
	case "lz4", "lz4_frame":
		return ipc.WithLZ4(), false, nil
	case "grpc_zstd":
		return nil, true, nil
	}
	return nil, false, fmt.Errorf("compression %q: must be \"none\", \"zstd\", \"lz4\" or \"grpc_zstd\"", s)
}

// Client opens Flight streams over a stream.Client's connection and
// credentials. It is safe for concurrent use.
type Client struct {
	sc       *stream.Client
	scfg     stream.Config
	fc       flight.FlightServiceClient
	tel      *telemetry.Telemetry
	ipcOpts  []ipc.Option
	alloc    memory.Allocator  // of IPC bodies (Config.Alloc), or nil
	callOpts []grpc.CallOption // of every DoPut: its codec and the gRPC compressor, if any
	win      *stream.Window    // shared by the client's streams
	attrs    []attribute.KeyValue

	mu      sync.Mutex
	closed  bool
	streams map[*Stream]struct{}
}

// errClientClosed is the cause of streams aborted by Client.Close.
var errClientClosed = fmt.Errorf("zerobus: flight client closed: %w", stream.ErrClosed)

// NewClient returns a Flight client on sc. It does no network I/O. Closing
// the Client aborts its streams; sc stays open (its owner closes it).
func NewClient(sc *stream.Client, cfg Config) (*Client, error) {
	opt, grpcZstd, err := ParseCompression(cfg.Compression)
	if err != nil {
		return nil, fmt.Errorf("zerobus: invalid flight config: %w", err)
	}
	scfg := sc.Settings()
	c := &Client{
		sc:      sc,
		scfg:    scfg,
		fc:      flight.NewFlightServiceClient(sc.Conn()),
		tel:     sc.Telemetry(),
		attrs:   []attribute.KeyValue{telemetry.KeyTable.String(scfg.TableName), telemetry.KeyTransport.String(TransportName)},
		streams: map[*Stream]struct{}{},
	}
	c.ipcOpts = []ipc.Option{ipc.WithAllocator(memory.DefaultAllocator)}
	c.alloc = cfg.Alloc
	if opt != nil {
		c.ipcOpts = append(c.ipcOpts, opt)
	}
	c.callOpts = []grpc.CallOption{grpc.ForceCodecV2(doPutCodec)}
	if grpcZstd {
		c.callOpts = append(c.callOpts, grpc.UseCompressor(zerobuspb.Zstd))
	}
	maxReqs, maxBytes := cfg.MaxInflightBatches, cfg.MaxInflightBytes
	if maxReqs <= 0 {
		maxReqs = scfg.MaxInflightRequests
	}
	if maxBytes <= 0 {
		maxBytes = scfg.MaxInflightBytes
	}
	if maxReqs == scfg.MaxInflightRequests && maxBytes == scfg.MaxInflightBytes {
		c.win = sc.Window()
	} else {
		c.win = stream.NewWindow(maxReqs, maxBytes)
	}
	return c, nil
}

// Window is the window the client's streams share.
func (c *Client) Window() *stream.Window { return c.win }

// metricAttrs returns the table and transport attributes plus kv.
func (c *Client) metricAttrs(kv ...attribute.KeyValue) metric.MeasurementOption {
	return metric.WithAttributes(append(append([]attribute.KeyValue(nil), c.attrs...), kv...)...)
}

// String describes the client without secrets.
func (c *Client) String() string {
	return fmt.Sprintf("flightstream.Client{endpoint=%s table=%s}", c.scfg.Endpoint, c.scfg.TableName)
}

// Format prints String for every verb.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// OpenStream opens a Flight stream for batches of schema: it sends the
// schema and waits for the server's READY, retrying retryable failures per
// the client's retry rule (each attempt bounded by CreateTimeout). It
// blocks until the stream is ready, ctx ends, or the attempts fail.
func (c *Client) OpenStream(ctx context.Context, schema *arrow.Schema) (*Stream, error) {
	if schema == nil {
		return nil, errors.New("zerobus: flight OpenStream: nil schema")
	}
	for _, f := range schema.Fields() {
		if hasDictionary(f.Type) {
			return nil, fmt.Errorf("zerobus: flight OpenStream: column %q is dictionary-encoded (%s); decode it first", f.Name, f.Type)
		}
	}
	if err := c.sc.CheckRoute(ctx); err != nil {
		return nil, err // a host that does not exist: final, as for a protobuf stream
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errClientClosed
	}
	s := newStream(c, schema)
	c.streams[s] = struct{}{}
	c.mu.Unlock()
	if err := s.open(ctx); err != nil {
		c.forget(s)
		return nil, err
	}
	return s, nil
}

func hasDictionary(t arrow.DataType) bool {
	switch t := t.(type) {
	case *arrow.DictionaryType:
		return true
	case arrow.NestedType:
		for _, f := range t.Fields() {
			if hasDictionary(f.Type) {
				return true
			}
		}
	}
	return false
}

func (c *Client) forget(s *Stream) {
	c.mu.Lock()
	delete(c.streams, s)
	c.mu.Unlock()
}

// Close aborts the streams still open (their unresolved batches fail with
// ErrClosed; close streams first for a clean shutdown) and waits for their
// goroutines. Idempotent.
func (c *Client) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	streams := make([]*Stream, 0, len(c.streams))
	for s := range c.streams {
		streams = append(streams, s)
	}
	c.mu.Unlock()
	for _, s := range streams {
		s.abort(errClientClosed)
	}
}

// encode serializes rec as one IPC record-batch message: the flatbuffer
// header (FlightData.data_header) and the body (FlightData.data_body).
func (c *Client) encode(rec arrow.RecordBatch) (header, body []byte, err error) {
	header, body, _, err = c.encodeHeld(rec, nil)
	return header, body, err
}

// encodeHeld is encode with the body from alloc when it is set and the
// body is heldMin or more (held is then non-nil, with one reference).
func (c *Client) encodeHeld(rec arrow.RecordBatch, alloc memory.Allocator) (header, body []byte, held *heldBody, err error) {
	opts := c.ipcOpts
	if alloc != nil { // the encoder's own buffers (offsets rebased to 0, bitmaps, compressed buffers) too
		opts = append(opts[:len(opts):len(opts)], ipc.WithAllocator(alloc))
	}
	p, err := ipc.GetRecordBatchPayload(rec, opts...)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("zerobus: encoding a record batch as Arrow IPC: %w", err)
	}
	defer p.Release()
	m := p.Meta()
	header = bytes.Clone(m.Bytes())
	m.Release()
	var size countWriter // a first pass only counts, so the body is copied once
	if err := p.SerializeBody(&size); err != nil {
		return nil, nil, nil, fmt.Errorf("zerobus: encoding a record batch as Arrow IPC: %w", err)
	}
	var into []byte
	if alloc != nil && int(size) >= heldMin {
		held = newHeldBody(alloc, int(size))
		into = held.b[:0:size]
	} else {
		into = make([]byte, 0, int(size))
	}
	buf := bytes.NewBuffer(into)
	if err := p.SerializeBody(buf); err != nil {
		held.Release()
		return nil, nil, nil, fmt.Errorf("zerobus: encoding a record batch as Arrow IPC: %w", err)
	}
	if held != nil && unsafe.SliceData(buf.Bytes()) != unsafe.SliceData(held.b) {
		held.Release() // the count was wrong and the buffer grew: Go memory
		held = nil
	}
	return header, buf.Bytes(), held, nil
}

// suffix re-encodes rows [from, rows) of the batch encoded as header and
// body (schema: the stream's IPC schema message), for a replay.
func (c *Client) suffix(schema, header, body []byte, from, rows int64) ([]byte, []byte, error) {
	mr := &messages{msgs: []*ipc.Message{
		ipc.NewMessage(memory.NewBufferBytes(schema), memory.NewBufferBytes(nil)),
		ipc.NewMessage(memory.NewBufferBytes(header), memory.NewBufferBytes(body)),
	}}
	rdr, err := ipc.NewReaderFromMessageReader(mr, ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, nil, fmt.Errorf("zerobus: decoding a batch to replay: %w", err)
	}
	defer rdr.Release()
	if !rdr.Next() {
		err := rdr.Err()
		if err == nil {
			err = errors.New("no record batch in the message")
		}
		return nil, nil, fmt.Errorf("zerobus: decoding a batch to replay: %w", err)
	}
	rec := rdr.RecordBatch()
	if rec.NumRows() != rows {
		return nil, nil, fmt.Errorf("zerobus: decoding a batch to replay: %d rows, want %d", rec.NumRows(), rows)
	}
	part := rec.NewSlice(from, rows)
	defer part.Release()
	return c.encode(part)
}

// messages is an ipc.MessageReader over messages in memory.
type messages struct{ msgs []*ipc.Message }

func (m *messages) Message() (*ipc.Message, error) {
	if len(m.msgs) == 0 {
		return nil, io.EOF
	}
	msg := m.msgs[0]
	m.msgs = m.msgs[1:]
	return msg, nil
}

func (m *messages) Retain()  {}
func (m *messages) Release() {}

// schemaHeader is the IPC schema message of schema.
func schemaHeader(schema *arrow.Schema) []byte {
	p := ipc.GetSchemaPayload(schema, memory.DefaultAllocator)
	defer p.Release()
	m := p.Meta()
	defer m.Release()
	return bytes.Clone(m.Bytes())
}

// countWriter counts the bytes written to it.
type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
