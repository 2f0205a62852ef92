package debugfile

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// Defaults applied by New to zero-valued Config fields.
const (
	// DefaultFlushInterval is how often buffered debug data reaches the file.
	DefaultFlushInterval = 5 * time.Second
	// DefaultMaxFileSize is the size after which a debug file is rotated.
	DefaultMaxFileSize int64 = 128 << 20
	// DefaultMaxFilesRetained is how many rotated files are kept per table and kind.
	DefaultMaxFilesRetained = 10
	// RetainNone as Config.MaxFilesRetained keeps no rotated file: each
	// rotation deletes every rotated file of its table and kind (the one just
	// rotated too), so only the active file remains. It is what the original
	// API's debug_max_files_retained=0 meant; Config's 0 means the default.
	RetainNone = math.MinInt
	// DefaultMaxBuffered bounds the bytes per kind queued for the disk
	// (batches and records held by reference until written).
	DefaultMaxBuffered int64 = 64 << 20
	// DefaultMaxQueuedWrites bounds the writes per kind queued for the disk.
	DefaultMaxQueuedWrites = 8192
)

// kickBytes is how much queued data makes the background goroutine write
// before the next flush tick (or a quarter of the WithMaxBuffered limit if
// that is smaller); an eighth of WithMaxQueuedWrites does too, and so does
// any single write of 256 KiB or more.
const kickBytes = 1 << 20

// ErrClosed is returned by Flush after Close.
var ErrClosed = errors.New("debugfile: writer closed")

// Compression is the Arrow IPC body compression codec of Arrow debug files.
// Readers that implement the Arrow IPC format (ReadArrowFile, arrow-go
// ipc.NewReader, pyarrow.ipc.open_stream) decompress it transparently.
type Compression string

// The supported codecs.
const (
	// CompressionNone writes uncompressed record batch bodies (the default).
	CompressionNone Compression = ""
	// CompressionZstd compresses every body buffer with Zstandard.
	CompressionZstd Compression = "zstd"
	// CompressionLZ4 compresses every body buffer with LZ4 (frame format).
	CompressionLZ4 Compression = "lz4"
)

// ParseCompression returns the codec named by s: "" or "none" (no
// compression), "zstd" or "lz4", in any case. Any other value is an error.
func ParseCompression(s string) (Compression, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "", "none":
		return CompressionNone, nil
	case string(CompressionZstd), string(CompressionLZ4):
		return Compression(v), nil
	}
	return CompressionNone, fmt.Errorf("debugfile: unknown Arrow compression %q; must be \"none\", \"zstd\" or \"lz4\"", s)
}

// ipcOptions returns the ipc.Writer options that select c.
func (c Compression) ipcOptions() []ipc.Option {
	switch c {
	case CompressionZstd:
		return []ipc.Option{ipc.WithZstd()}
	case CompressionLZ4:
		return []ipc.Option{ipc.WithLZ4()}
	}
	return nil
}

// Config says what to write and how to rotate it. The zero value is disabled.
type Config struct {
	// OutputDir is the directory under which zerobus/arrow and zerobus/proto
	// are created (0700). Required when Arrow or Proto is true.
	OutputDir string
	// Arrow writes every batch passed to WriteArrow to an Arrow IPC stream
	// file. Default false.
	Arrow bool
	// Proto writes every record passed to WriteProto, length-delimited, with
	// its descriptor beside it. Default false.
	Proto bool
	// FlushInterval bounds how long written data may stay in memory before
	// it reaches the file, even when no further writes arrive. Default 5s
	// (when 0); negative is invalid.
	FlushInterval time.Duration
	// RotationInterval rotates each file this often if it holds data (so a
	// complete Arrow stream is produced every interval). 0 (default) means
	// no time-based rotation; negative is invalid.
	RotationInterval time.Duration
	// MaxFileSize rotates a file after the write that takes it to this many
	// bytes or more, so a file exceeds it by at most one batch. Default
	// 128 MiB (when 0); negative is invalid.
	MaxFileSize int64
	// MaxFilesRetained is how many rotated files are kept per table and kind
	// (the active file is not counted); older ones are deleted after each
	// rotation. 0 means the default, 10; RetainNone keeps none; any other
	// negative value keeps all files.
	MaxFilesRetained int
	// ArrowCompression compresses the record batch bodies of Arrow files
	// (IPC buffer compression; the schema and message headers stay
	// uncompressed). Default CompressionNone. MaxFileSize counts the
	// compressed bytes. Protobuf files are never compressed.
	ArrowCompression Compression
}

// Enabled reports whether any debug output is switched on.
func (c Config) Enabled() bool { return c.Arrow || c.Proto }

// withDefaults returns c with zero fields replaced by the defaults.
func (c Config) withDefaults() Config {
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.MaxFileSize == 0 {
		c.MaxFileSize = DefaultMaxFileSize
	}
	if c.MaxFilesRetained == 0 {
		c.MaxFilesRetained = DefaultMaxFilesRetained
	}
	return c
}

// validate reports every problem of an enabled configuration at once.
func (c Config) validate() error {
	var errs []error
	if c.OutputDir == "" {
		errs = append(errs, errors.New("debugfile: OutputDir is empty; set it to a writable directory or turn debug output off"))
	}
	if c.FlushInterval < 0 {
		errs = append(errs, fmt.Errorf("debugfile: FlushInterval is %v; must be positive (0 means %v)", c.FlushInterval, DefaultFlushInterval))
	}
	if c.RotationInterval < 0 {
		errs = append(errs, fmt.Errorf("debugfile: RotationInterval is %v; must be 0 (no time rotation) or positive", c.RotationInterval))
	}
	if c.MaxFileSize < 0 {
		errs = append(errs, fmt.Errorf("debugfile: MaxFileSize is %d; must be positive bytes (0 means %d)", c.MaxFileSize, DefaultMaxFileSize))
	}
	switch c.ArrowCompression {
	case CompressionNone, CompressionZstd, CompressionLZ4:
	default:
		errs = append(errs, fmt.Errorf("debugfile: ArrowCompression is %q; must be CompressionNone (\"\"), CompressionZstd (\"zstd\") or CompressionLZ4 (\"lz4\")", c.ArrowCompression))
	}
	return errors.Join(errs...)
}

// Option configures the collaborators of a Writer.
type Option func(*options)

type options struct {
	clock       Clock
	tel         *telemetry.Telemetry
	fs          FS
	mem         memory.Allocator
	maxBuffered int64
	maxEntries  int
	bufferedIO  bool
	pinnedIO    bool // benchmarks, tests: the load is not observed (busy only with testBusy)
	noPrealloc  bool // benchmarks: no blocks reserved ahead (bufWriter.reserve)
}

// WithClock replaces the wall clock (used for rotation names and the flush
// and rotation tickers); tests inject a fake one. Default: the real clock.
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithTelemetry sets where debug writes, bytes, rotations and failures are
// counted and failures logged. Default: telemetry.Nop().
func WithTelemetry(t *telemetry.Telemetry) Option { return func(o *options) { o.tel = t } }

// WithFileSystem replaces the operating system's file system, e.g. to
// simulate a full disk. Default: the os package.
func WithFileSystem(fs FS) Option { return func(o *options) { o.fs = fs } }

// WithAllocator sets the allocator the Arrow IPC encoder uses for scratch
// buffers. Default: memory.DefaultAllocator.
func WithAllocator(mem memory.Allocator) Option { return func(o *options) { o.mem = mem } }

// WithMaxBuffered bounds the bytes per kind queued for the disk (Arrow: the
// buffers of the retained batches; protobuf: the referenced records). A
// write arriving while the queue holds n bytes or more is dropped and
// counted instead of blocking the caller; one write larger than n is still
// accepted into an emptier queue. Writes held back while a sender is busy
// (Writer.SenderBusy) are written once the queue holds n/2 bytes or more.
// Default 64 MiB; n <= 0 means the default.
func WithMaxBuffered(n int64) Option { return func(o *options) { o.maxBuffered = n } }

// WithMaxQueuedWrites bounds the writes per kind queued for the disk, like
// WithMaxBuffered bounds their bytes. Default DefaultMaxQueuedWrites; n <= 0
// means the default.
func WithMaxQueuedWrites(n int) Option { return func(o *options) { o.maxEntries = n } }

// WithBufferedIO writes the data files through the page cache even where
// direct I/O is available (see the package doc, "File I/O"). The bytes in
// the files are the same either way.
func WithBufferedIO() Option { return func(o *options) { o.bufferedIO = true } }
