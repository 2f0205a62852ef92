package debugfile

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
	"github.com/zerobus-wrapper/zerobus-wrapper/internal/leakcheck"
)

// ---- fake clock ----

type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	tickers []*fakeTicker
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTicker(d time.Duration) Ticker {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTicker{ch: make(chan time.Time, 1), d: d, next: c.now.Add(d)}
	c.tickers = append(c.tickers, t)
	return t
}

// Advance moves the clock and delivers due ticks (dropping them when the
// receiver is behind, like time.Ticker).
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.tickers {
		if t.stopped.Load() {
			continue
		}
		for !t.next.After(c.now) {
			select {
			case t.ch <- c.now:
			default:
			}
			t.next = t.next.Add(t.d)
		}
	}
}

type fakeTicker struct {
	ch      chan time.Time
	d       time.Duration
	next    time.Time
	stopped atomic.Bool
}

func (t *fakeTicker) C() <-chan time.Time { return t.ch }
func (t *fakeTicker) Stop()               { t.stopped.Store(true) }

// ---- fault-injecting file system ----

var errDiskFull = errors.New("no space left on device (simulated)")

// faultFS is the OS file system with switchable failures.
type faultFS struct {
	osFS
	failWrites atomic.Bool   // Write returns errDiskFull
	failCreate atomic.Bool   // OpenFile returns errDiskFull
	block      chan struct{} // if non-nil, Write waits until it is closed
	waiting    atomic.Int64  // Writes waiting on block
	// refuseDirect: SetDirect(true) fails with EINVAL (tmpfs before Linux
	// 6.6); einvalDirect: direct writes fail with EINVAL (an alignment the
	// file system does not accept).
	refuseDirect, einvalDirect atomic.Bool
	writes                     atomic.Int64
	// refuseAlloc: Allocate fails (a file system without fallocate);
	// allocs counts the Allocate calls, trims the TrimAlloc calls.
	refuseAlloc   atomic.Bool
	allocs, trims atomic.Int64
	// partAlloc: Allocate reserves the first half of the range, then fails
	// with ENOSPC (ext4 keeps the chunks it reserved before running out).
	partAlloc atomic.Bool
}

func (f *faultFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if f.failCreate.Load() {
		return nil, &os.PathError{Op: "open", Path: name, Err: errDiskFull}
	}
	file, err := f.osFS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: file, fs: f}, nil
}

type faultFile struct {
	File
	fs     *faultFS
	direct atomic.Bool
}

// begin counts a write after waiting while the file system is blocked;
// errDiskFull while it fails writes.
func (f *faultFile) begin() error {
	if f.fs.block != nil {
		f.fs.waiting.Add(1)
		<-f.fs.block
		f.fs.waiting.Add(-1)
	}
	f.fs.writes.Add(1)
	if f.fs.failWrites.Load() {
		return errDiskFull
	}
	return nil
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.begin(); err != nil {
		return 0, err
	}
	return f.File.Write(p)
}

// WriteAt and SetDirect make faultFile a directFile when the file under it
// is one (the OS file system's), with the same failures as Write, and
// refuseDirect / einvalDirect to emulate file systems without direct I/O.
func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.begin(); err != nil {
		return 0, err
	}
	if f.direct.Load() && f.fs.einvalDirect.Load() {
		return 0, syscall.EINVAL
	}
	return f.File.(directFile).WriteAt(p, off)
}

func (f *faultFile) Seek(offset int64, whence int) (int64, error) {
	return f.File.(directFile).Seek(offset, whence)
}

func (f *faultFile) SetDirect(on bool) error {
	df, ok := f.File.(directFile)
	if !ok {
		return errors.ErrUnsupported
	}
	if on && f.fs.refuseDirect.Load() {
		return syscall.EINVAL
	}
	if err := df.SetDirect(on); err != nil {
		return err
	}
	f.direct.Store(on)
	return nil
}

// Allocate and TrimAlloc make faultFile an allocFile when the file under
// it is one.
func (f *faultFile) Allocate(off, n int64) error {
	f.fs.allocs.Add(1)
	af, ok := f.File.(allocFile)
	if !ok || f.fs.refuseAlloc.Load() {
		return errors.ErrUnsupported
	}
	if f.fs.partAlloc.Load() {
		if err := af.Allocate(off, n/2); err != nil {
			return err
		}
		return syscall.ENOSPC
	}
	return af.Allocate(off, n)
}

func (f *faultFile) TrimAlloc() error {
	f.fs.trims.Add(1)
	af, ok := f.File.(allocFile)
	if !ok {
		return errors.ErrUnsupported
	}
	return af.TrimAlloc()
}

// ---- data ----

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// makeBatch returns rows with ids [start, start+n).
func makeBatch(mem memory.Allocator, start, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, testSchema)
	defer b.Release()
	ids := b.Field(0).(*array.Int64Builder)
	names := b.Field(1).(*array.StringBuilder)
	for i := start; i < start+n; i++ {
		ids.Append(int64(i))
		if i%7 == 3 {
			names.AppendNull()
		} else {
			names.Append("row-" + strings.Repeat("x", i%13))
		}
	}
	return b.NewRecordBatch()
}

// testDesc describes message Row { optional int64 id = 1; optional string name = 2; }.
func testDesc(name string) *descriptorpb.DescriptorProto {
	return &descriptorpb.DescriptorProto{
		Name: proto.String(name),
		Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("id"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()},
			{Name: proto.String("name"), Number: proto.Int32(2), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
		},
	}
}

// makeRecords encodes Row messages with ids [start, start+n).
func makeRecords(start, n int) [][]byte {
	recs := make([][]byte, n)
	for i := range recs {
		id := start + i
		var b []byte
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(id))
		b = protowire.AppendTag(b, 2, protowire.BytesType)
		b = protowire.AppendString(b, "row-"+strings.Repeat("y", id%11))
		recs[i] = b
	}
	return recs
}

// recordID decodes field 1 of a Row record.
func recordID(t *testing.T, rec []byte) int64 {
	t.Helper()
	for len(rec) > 0 {
		num, typ, n := protowire.ConsumeTag(rec)
		if n < 0 {
			t.Fatalf("bad record tag")
		}
		rec = rec[n:]
		if num == 1 && typ == protowire.VarintType {
			v, n := protowire.ConsumeVarint(rec)
			if n < 0 {
				t.Fatalf("bad id varint")
			}
			return int64(v)
		}
		n = protowire.ConsumeFieldValue(num, typ, rec)
		if n < 0 {
			t.Fatalf("bad field")
		}
		rec = rec[n:]
	}
	t.Fatalf("record has no id")
	return 0
}

// ---- files ----

// dataFiles returns the data files (ext) of table base in dir, rotated ones
// oldest first and the active one last (if present).
func dataFiles(t *testing.T, dir, base, ext string) (rotated []string, active string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("ReadDir(%s): %v", dir, err)
	}
	var stems []string
	for _, e := range entries {
		if stem, ok := parseRotated(e.Name(), base, ext); ok {
			stems = append(stems, stem)
		}
		if e.Name() == base+ext {
			active = filepath.Join(dir, e.Name())
		}
	}
	sortRotated(stems)
	for _, s := range stems {
		rotated = append(rotated, filepath.Join(dir, s+ext))
	}
	return rotated, active
}

// withActive appends the active file, if any, to the rotated ones.
func withActive(rotated []string, active string) []string {
	files := append([]string(nil), rotated...)
	if active != "" {
		files = append(files, active)
	}
	return files
}

var eos = []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}

// readArrowIDs reads ids from every Arrow file in order; every file must be a
// complete stream (ending with the end-of-stream marker) when complete is set.
func readArrowIDs(t *testing.T, files []string, complete bool) []int64 {
	t.Helper()
	var ids []int64
	for _, f := range files {
		if complete {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(raw, eos) {
				t.Errorf("%s does not end with the IPC end-of-stream marker", filepath.Base(f))
			}
		}
		recs, err := ReadArrowFile(f, memory.DefaultAllocator)
		if err != nil {
			t.Fatalf("ReadArrowFile(%s): %v", filepath.Base(f), err)
		}
		for _, r := range recs {
			if !r.Schema().Equal(testSchema) {
				t.Errorf("%s: schema %v, want %v", filepath.Base(f), r.Schema(), testSchema)
			}
			col := r.Column(0).(*array.Int64)
			for i := 0; i < col.Len(); i++ {
				ids = append(ids, col.Value(i))
			}
			r.Release()
		}
	}
	return ids
}

// readProtoIDs reads ids from every protobuf file in order, checking each
// file's sidecar descriptor.
func readProtoIDs(t *testing.T, files []string, wantDesc string) []int64 {
	t.Helper()
	var ids []int64
	for _, f := range files {
		desc, recs, err := ReadProtoFile(f)
		if err != nil {
			t.Fatalf("ReadProtoFile(%s): %v", filepath.Base(f), err)
		}
		if wantDesc != "" && desc.GetName() != wantDesc {
			t.Errorf("%s: descriptor %q, want %q", filepath.Base(f), desc.GetName(), wantDesc)
		}
		for _, r := range recs {
			ids = append(ids, recordID(t, r))
		}
	}
	return ids
}

func seq(start, n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(start + i)
	}
	return s
}

func sortedCopy(ids []int64) []int64 {
	c := append([]int64(nil), ids...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c
}

// eventually polls cond (bounded: the background goroutine reacts to fake
// ticks asynchronously).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// checkGoroutines fails the test if goroutines started during it are still
// running at its end.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() { leakcheck.Goroutines(t, before, 10*time.Second) })
}

// ---- telemetry ----

func newTestTelemetry() (*telemetry.Telemetry, *sdkmetric.ManualReader) {
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	return telemetry.New(mp, nil, nil), r
}

// counter sums an int64 counter over all attributes.
func counter(t testing.TB, r *sdkmetric.ManualReader, name string) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != name {
				continue
			}
			if s, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range s.DataPoints {
					sum += dp.Value
				}
			}
		}
	}
	return sum
}
