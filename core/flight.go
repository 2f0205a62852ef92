package core

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/flightstream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/telemetry"
)

// The Arrow Flight transport (Config.Transport "arrow_flight"): batches are
// cast to the table's Arrow types and sent as Arrow IPC over Flight DoPut
// (core/internal/flightstream); everything above the transport (per-row
// results, typed errors, telemetry, debug files, writer-disabled mode) is
// the protobuf path's.

// flightChunkBytes is the target IPC size of one physical batch: large
// enough to amortise a message, small enough to pipeline several in the
// window and to stay under MaxMessageBytes.
const flightChunkBytes = 4 << 20

// maxDecodedFactor bounds what one Flight batch's buffers hold before
// compression: at most this many times max_message_bytes (which bounds the
// compressed body), so a server need not decompress a small body into
// hundreds of MiB (the local server refuses more than 16 times).
const maxDecodedFactor = 8

// ColumnMismatch is one column of a batch that cannot be sent as the
// table's column: BatchType is "" when the batch lacks the column,
// TableType is "" when the table lacks it.
type ColumnMismatch struct {
	Column    string
	BatchType string
	TableType string
	Reason    string
	// Code is a machine-readable code of Reason ("ZONED_TIMESTAMP_INTO_NTZ":
	// a timestamp in a zone other than UTC for a TIMESTAMP_NTZ), "" if none.
	Code string
}

// SchemaMismatchError lists every column of a batch that does not fit the
// table's Arrow schema: over arrow_flight always, over protobuf when the
// table's columns were read from Unity Catalog (a derived descriptor). It
// is found before any row is sent or stream opened and is the Err of the
// *ConversionError (Row -1) every row fails with.
type SchemaMismatchError struct {
	Table   string
	Columns []ColumnMismatch
	msg     string
}

func (e *SchemaMismatchError) Error() string { return "zerobus: " + e.msg }

// Kind returns KindConversion.
func (e *SchemaMismatchError) Kind() ErrorKind { return KindConversion }

// flightSchema is the Flight state of one caller schema: its cast to the
// table schema and its stream slots.
type flightSchema struct {
	mu     sync.Mutex
	caster *flightstream.Caster
	err    error
	// errAt is when err, a mismatch with the table's schema as read from
	// the catalog, was found (zero for errors kept for good): a batch from
	// mismatchRecheck later reads the table's schema again and re-plans.
	errAt time.Time
	// planning is the read of the table's schema and plan in progress
	// (flightPlan), nil when none: the sends of the schema that come
	// meanwhile wait for it, each as long as its own ctx allows.
	planning *fplanning
	// failed is the error of the last read, one that ran out of attempts
	// (a *RetryExhaustedError), kept until failedUntil: the sends of the
	// schema until then fail with it instead of each retrying.
	failed      error
	failedUntil time.Time
	slots       []*fslot
	// growth is the last chunk's IPC body size per 1024 bytes of its input
	// (0: none yet), to size the next batch's chunks.
	growth atomic.Int64
}

// fslot and fopening are the Flight transport's slot and opening.
type (
	fslot    = slotOf[*flightstream.Stream]
	fopening = openingOf[*flightstream.Stream]
)

// tableTarget caches the table's Arrow schema from Unity Catalog (both
// transports: Wrapper.tableSchema).
type tableTarget struct {
	// sem holds one token while the schema is read or the fields below are
	// used: a lock that a send waiting for another's catalog read leaves when
	// its ctx ends (made by New; see tableSchema).
	sem       chan struct{}
	schema    *arrow.Schema
	fetched   time.Time // when schema was read
	canonical bool      // the catalog may not be read: use the canonical mapping
	// unread is why the last read of the table's columns failed (nil after
	// one that did not): a schema the server then refuses says so (openErr).
	unread atomic.Pointer[catalogUnread]
	// refusals counts the streams refused for their schema while the
	// last read had failed in a way that may pass (openErr): a plan made
	// without the table's columns before the latest is made again at the
	// next send (planFor, planStale), not mismatchRecheck later.
	refusals atomic.Uint64
}

// mismatchRecheck is how long a batch schema that does not match the
// table's is refused from memory before a batch of it has the table's
// schema read again (the table may have been altered to take it).
var mismatchRecheck = 10 * time.Second

// transportProblems lists the settings cfg (before defaults) gives that
// mean nothing with transport, so that Validate (and so New) refuses them
// rather than ignore them. With arrow_flight: max_record_bytes (no protobuf
// record is encoded; a row is bounded by max_message_bytes and fails alone
// over it) and protobuf debug files as the only debug output (none would be
// written). With protobuf: arrow_flight_compression.
func transportProblems(cfg Config, transport string) []ConfigProblem {
	var ps []ConfigProblem
	if transport == TransportProtobuf {
		if opt, grpcZstd, err := flightstream.ParseCompression(cfg.ArrowFlightCompression); err == nil && (opt != nil || grpcZstd) {
			ps = append(ps, problemFor("ArrowFlightCompression", fmt.Sprintf("is %q and compresses what transport arrow_flight sends, which transport protobuf does not use: leave it unset or use transport arrow_flight", cfg.ArrowFlightCompression)))
		}
		return ps
	}
	derived := cfg
	derived.MaxRecordBytes = 0 // what withDefaults gives when it is unset (max_message_bytes can lower it)
	if cfg.MaxRecordBytes != 0 && cfg.MaxRecordBytes != DefaultMaxRecordBytes && cfg.MaxRecordBytes != derived.withDefaults().MaxRecordBytes {
		ps = append(ps, problemFor("MaxRecordBytes", fmt.Sprintf("is %d, and bounds encoded protobuf records, which transport arrow_flight does not send (a row is bounded by max_message_bytes there and fails alone over it): leave it unset or use transport protobuf", cfg.MaxRecordBytes)))
	}
	if cfg.debugProtoAsked() && !cfg.debugArrow() {
		ps = append(ps, problemFor("DebugProtobufEnabled", "writes encoded protobuf records, which transport arrow_flight does not encode: no debug file would be written; use debug_arrow_enabled (the batches as sent), or transport protobuf"))
	}
	return ps
}

// newFlightClient builds the Flight client on the stream client. Its window
// bounds the requests in flight only: their bytes are bounded by the
// Wrapper's record window (runFlight), from before they are cast to their
// acknowledgement.
func newFlightClient(cfg *Config, sc *stream.Client) (*flightstream.Client, error) {
	return flightstream.NewClient(sc, flightstream.Config{
		Compression:        cfg.ArrowFlightCompression,
		MaxInflightBatches: cfg.MaxInflightRequests,
		MaxInflightBytes:   math.MaxInt64,
		Alloc:              convert.ArrowBodyAllocator, // IPC bodies in flight: off the Go heap, holding exactly ArrowAllocation(len)
	})
}

// targetSchema returns the table's Arrow schema: from Unity Catalog
// (tableSchema), or the canonical mapping of caller when the catalog may
// not be read or nothing is sent. fetched is when the catalog's schema was
// read (zero for the canonical mapping).
func (w *Wrapper) targetSchema(ctx context.Context, caller *arrow.Schema, notBefore time.Time) (_ *arrow.Schema, fetched time.Time, _ error) {
	s, fetched, err := w.tableSchema(ctx, notBefore)
	if err != nil || s != nil {
		return s, fetched, err
	}
	s, err = w.canonicalSchema(caller)
	return s, time.Time{}, err
}

// tableSchema returns the table's Arrow schema as Unity Catalog describes
// it (cached per Wrapper, i.e. per table, and read again when the cached
// copy was read before notBefore), and when it was read; or nil (no error)
// when the catalog may not be read (no workspace URL, 401/403: not asked
// again), has no such table yet (404: the first stream creates it), or
// nothing is sent (writer disabled). Both transports use it: arrow_flight
// casts to the schema, protobuf takes its columns' optionality (planFor).
// Errors: a *flightstream.CatalogError the catalog answered (a column type
// without an Arrow mapping), a *ConnectionError (catalog unreachable), or
// the credential error.
func (w *Wrapper) tableSchema(ctx context.Context, notBefore time.Time) (_ *arrow.Schema, fetched time.Time, _ error) {
	s, fetched, _, err := w.readTableSchema(ctx, notBefore)
	return s, fetched, err
}

// readTableSchema is tableSchema, also giving, with no schema and no
// error, why the catalog gave none (nil with the writer disabled), as this
// call found it: another call may read the catalog again at once.
func (w *Wrapper) readTableSchema(ctx context.Context, notBefore time.Time) (_ *arrow.Schema, fetched time.Time, unread *catalogUnread, _ error) {
	if w.client == nil {
		return nil, time.Time{}, nil, nil
	}
	t := &w.target
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, time.Time{}, nil, callEnded(ctx, "while waiting for another send's read of the table's columns from Unity Catalog, before anything was sent")
	}
	defer func() { <-t.sem }()
	if t.schema != nil && !t.fetched.Before(notBefore) {
		return t.schema, t.fetched, nil, nil
	}
	if t.canonical {
		return nil, time.Time{}, t.unread.Load(), nil
	}
	at := time.Now()
	// Bounded by create_timeout_ms: other sends wait for this read (t.sem),
	// and a caller's HTTP client may have no timeout of its own.
	fctx, cancel := context.WithTimeout(ctx, w.cfg.CreateTimeout)
	s, err := flightstream.FetchTableSchema(fctx, w.client)
	timedOut := fctx.Err() != nil && ctx.Err() == nil
	cancel()
	var ce *flightstream.CatalogError
	var out error
	switch {
	case err != nil && ctx.Err() != nil:
		// The caller's ctx ended the lookup: say so, not "cannot reach".
		return nil, time.Time{}, nil, callEnded(ctx, "while reading the table's columns from Unity Catalog, before anything was sent")
	case err != nil && timedOut:
		out = &ConnectionError{Endpoint: w.cfg.UnityCatalogURL, Err: fmt.Errorf(
			"the Unity Catalog lookup of table %s did not answer within create_timeout_ms (%v)", w.cfg.TableName, w.cfg.CreateTimeout)}
	case err == nil:
		t.unread.Store(nil)
		t.schema, t.fetched = s, at
		return s, at, nil, nil
	case errors.As(err, &ce) && ce.Answered():
		out = err // the table cannot be sent over Flight: kept as the schema's error (flightPlan)
	case errors.As(err, &ce) && ce.NotAllowed():
		if ce.Status != 404 {
			t.canonical = true
		}
		t.schema = nil // a table dropped since: its old schema no longer applies
		w.log.DebugContext(ctx, "zerobus: the table's columns cannot be read from Unity Catalog; using the batch's schema", "table", w.cfg.TableName, "reason", err)
	case errors.As(err, &ce):
		out = &ConnectionError{Endpoint: w.cfg.UnityCatalogURL, Err: err}
	default:
		out = fromStream(err, w.cfg.TableName, w.cfg.Endpoint)
	}
	why := &catalogUnread{err: err}
	if out != nil && IsRetryable(out) {
		why.retryable = out
	}
	t.unread.Store(why)
	if out != nil {
		return nil, time.Time{}, nil, out
	}
	return nil, time.Time{}, why, nil
}

// canonicalSchema is the §9 mapping of caller; with AllFieldsOptional every
// column and STRUCT field is nullable, as the protobuf path's descriptor
// makes them optional (a table created by the first stream follows it).
func (w *Wrapper) canonicalSchema(caller *arrow.Schema) (*arrow.Schema, error) {
	s, err := flightstream.CanonicalSchema(caller)
	if err != nil || !w.cfg.AllFieldsOptional {
		return s, err
	}
	return flightstream.AllOptional(s), nil
}

// newFlightSchema returns the Flight state of a new schema (its slots).
func newFlightSchema(n int) *flightSchema {
	fs := &flightSchema{slots: make([]*fslot, n)}
	for i := range fs.slots {
		fs.slots[i] = &fslot{}
	}
	return fs
}

// fplanning is one flightPlan read in progress: shared is, once done is
// closed, the error the sends that waited for it fail with (nil: they look
// at the schema's state again, as the read left it).
type fplanning struct {
	done   chan struct{}
	shared error
}

// flightPlan returns the cast of ss's schema to the table's (computed once
// per schema), or the column-by-column mismatch (also kept). A failure to
// learn the table's schema (the catalog unreachable, ctx ended) is returned
// without being kept, so a later batch tries again.
//
// The table's schema is cached per Wrapper, and the table may have been
// altered since it was read: a batch schema that does not match a cached
// copy is checked once more against the schema read again, and a mismatch
// is kept for mismatchRecheck only, after which a batch of that schema
// reads the table's schema again (at most once per mismatchRecheck).
//
// One send of the schema reads (the catalog read's retries included:
// targetSchemaRetried) without holding fs.mu; the sends that come
// meanwhile wait for it, each until its own ctx ends, and take its outcome:
// the plan, the kept error, or a failure that may pass, which the sends
// that arrive within failedKeep after the retries ran out take too. When
// the reading send's own ctx ends, a waiting send reads in its place.
func (w *Wrapper) flightPlan(ctx context.Context, ss *schemaState) (*flightSchema, error) {
	fs := ss.fl
	for {
		fs.mu.Lock()
		if fs.caster != nil {
			fs.mu.Unlock()
			return fs, nil
		}
		if ss.schema.NumFields() == 0 && fs.err == nil {
			// The cast would make every column of the table null: the
			// protobuf plan's refusal, the same ConversionError on both
			// transports (kept: the schema cannot change).
			_, err := convert.NewPlan(ss.schema, convert.Options{MessageName: messageName(w.cfg.TableName)})
			if err == nil {
				err = errors.New("the schema has no columns; Zerobus needs at least one")
			}
			fs.err = fromSchemaError(err)
			fs.mu.Unlock()
			return fs, fs.err
		}
		if p := fs.planning; p != nil {
			fs.mu.Unlock()
			select {
			case <-p.done:
				if p.shared != nil {
					return fs, p.shared
				}
				continue
			case <-ctx.Done():
				return fs, callEnded(ctx, "while the table's columns were being read from Unity Catalog, before anything was sent")
			}
		}
		start := time.Now()
		if fs.err != nil && (fs.errAt.IsZero() || start.Sub(fs.errAt) < mismatchRecheck) {
			fs.mu.Unlock()
			return fs, fs.err
		}
		if fs.failed != nil && start.Before(fs.failedUntil) {
			fs.mu.Unlock()
			return fs, fs.failed
		}
		p := &fplanning{done: make(chan struct{})}
		fs.planning = p
		notBefore := fs.errAt // a recheck: the copy the mismatch was found with is stale
		kept := fs.err
		fs.mu.Unlock()
		var o planOutcome
		func() {
			// Published even if planning panics, so that no waiter is
			// left waiting.
			defer func() {
				fs.mu.Lock()
				fs.planning = nil
				if o.caster != nil {
					fs.caster, fs.err, fs.errAt = o.caster, nil, time.Time{}
				} else if o.keep {
					fs.err, fs.errAt = o.err, o.errAt
				} else {
					fs.err, fs.errAt = nil, time.Time{}
					if ctx.Err() == nil {
						// Not the reading send's ctx ending: the waiters'
						// failure too.
						p.shared = o.err
					}
					var re *RetryExhaustedError
					if errors.As(o.err, &re) && ctx.Err() == nil {
						fs.failed, fs.failedUntil = o.err, time.Now().Add(w.failedKeep())
					}
				}
				fs.mu.Unlock()
				close(p.done)
			}()
			o = w.planFlight(ctx, ss, start, notBefore, kept)
		}()
		return fs, o.err
	}
}

// planOutcome is what one flightPlan read gives: the cast, or err, kept as
// the schema's (until errAt+mismatchRecheck when errAt is set) when keep.
type planOutcome struct {
	caster *flightstream.Caster
	err    error
	keep   bool
	errAt  time.Time
}

// planFlight reads the table's schema and plans the cast of ss's schema to
// it, for flightPlan (which publishes the outcome): kept is the mismatch
// being rechecked (nil if none), notBefore when its catalog copy was read.
func (w *Wrapper) planFlight(ctx context.Context, ss *schemaState, start, notBefore time.Time, kept error) planOutcome {
	for {
		target, fetched, err := w.targetSchemaRetried(ctx, ss.schema, notBefore, kept == nil)
		if err != nil {
			var ke kinded
			if errors.As(err, &ke) || ctx.Err() != nil {
				if kept != nil {
					// A recheck the catalog could not answer: the mismatch
					// stands, and is checked again mismatchRecheck later
					// (not at every batch while the catalog is down).
					return planOutcome{err: kept, keep: true, errAt: time.Now()}
				}
				return planOutcome{err: err} // transient: not kept
			}
			ce := &ConversionError{Row: -1, Reason: "the Arrow schema cannot be sent over Arrow Flight: " + causeText(err), Err: err}
			var cat *flightstream.CatalogError
			if errors.As(err, &cat) {
				ce.Column = cat.Column
			}
			return planOutcome{err: ce, keep: true}
		}
		caster, err := flightstream.PlanCast(w.cfg.TableName, ss.schema, target)
		if err == nil {
			return planOutcome{caster: caster}
		}
		var me *flightstream.MismatchError
		if !errors.As(err, &me) {
			return planOutcome{err: &ConversionError{Row: -1, Reason: causeText(err), Err: err}, keep: true}
		}
		if !fetched.IsZero() && fetched.Before(start) && notBefore.Before(start) {
			notBefore = start // a cached copy: read the table's schema again, once
			continue
		}
		o := planOutcome{err: mismatchError(me), keep: true}
		if !fetched.IsZero() {
			o.errAt = time.Now()
		}
		return o
	}
}

// runFlight is batchSend.run for transport arrow_flight (b.rec cut to its
// rows by run).
func (b *batchSend) runFlight() {
	w := b.w
	ss := w.schemaFor(b.ctx, b.rec.Schema())
	defer w.release(ss)
	fs, err := w.flightPlan(b.ctx, ss)
	if err != nil {
		b.failFrom(0, err)
		return
	}
	if b.total == 0 {
		return
	}
	n := b.total
	// The batch is cast and encoded chunk by chunk, each chunk's bytes
	// reserved in the Wrapper's record window before it is cast (as the
	// protobuf transport's chunks before they are converted) and returned
	// when its request resolves: the IPC bodies a Wrapper holds, encoding,
	// waiting for the stream and in flight, stay within MaxInflightBytes
	// however many goroutines send. The estimate is the input's Arrow size
	// (scaled by the last body/input ratio, +1/8, at least the arena region
	// of the estimate); the reservation is then set to what the IPC body
	// holds (Encoded.Held: its arena region).
	size := max(recordBytes(b.rec), 1)
	input := size
	if g := fs.growth.Load(); g > 1024 {
		size = max(1, size*g/1024+size/64) // bodies come out larger than the input
	}
	limit := min(int64(flightChunkBytes), max(w.cfg.MaxInflightBytes/4, 16<<10), int64(w.cfg.MaxMessageBytes)*3/4)
	per := chunkRows(n, size, limit)
	var (
		st    *flightstream.Stream
		sl    *fslot
		parts []flightPart
		split int // rows per chunk before an oversize chunk was halved (0: none)
	)
	defer func() {
		if sl != nil {
			sl.load.Add(-1)
		}
	}()
	_, tspan := w.tel.Start(b.ctx, "zerobus.transmit", w.transportAttr)
	var (
		sendErr error
		queued  int // rows put on the wire: not those that failed their cast (zerobus.records, as on protobuf)
	)
	for lo := 0; lo < n; {
		hi := min(n, lo+per)
		var need int64
		if !w.cfg.WriterDisabled {
			est := max(1, size*int64(hi-lo)/int64(n))
			// The body will hold its arena region (Encoded.Held): at
			// least the region of the estimate, with an eighth to spare.
			need = max(est+est/8, convert.ArrowAllocation(est))
			if err := w.records.acquire(b.ctx, need); err != nil {
				err = ended(b.ctx, err, windowWait)
				b.failFrom(lo, err)
				sendErr = err
				break
			}
		}
		c, err := b.castFlight(fs, lo, hi)
		if err != nil {
			w.records.release(need)
			b.failFrom(lo, err)
			sendErr = err
			break
		}
		if w.cfg.WriterDisabled || c.rows() == 0 {
			w.records.release(need)
			b.flightNulls(c)
			for i := range c.rows() {
				b.ok = appendRow(b.ok, c.row(i))
			}
			if c.rows() > 0 {
				b.bytes += int(recordBytes(c.out))
			}
			c.out.Release()
			lo = hi
			continue
		}
		// Compressed, a body may fit max_message_bytes while its buffers
		// decompress to far more (a dictionary or run-end column cast to
		// plain values): such a chunk is halved unsent, as an oversize body.
		decoded := hi-lo > 1 && recordBytes(c.out) > maxDecodedFactor*int64(w.cfg.MaxMessageBytes)
		if st == nil && !decoded {
			sl = fs.pick()
			st, err = b.awaitFlight(fs, sl)
			if err != nil {
				w.records.release(need)
				b.flightStop(c, hi, err)
				sendErr = err
				break
			}
		}
		var (
			e   *flightstream.Encoded
			mte *stream.MessageTooLargeError
		)
		if !decoded {
			e, err = st.Encode(c.out)
		}
		if errors.Is(err, flightstream.ErrUnreadable) {
			// The cast's output could not be encoded (malformed data the
			// cast passed through): the rows fail as a conversion does.
			w.records.release(need)
			cerr := &ConversionError{Row: -1, Reason: causeText(err), Err: err}
			b.flightStop(c, hi, cerr)
			sendErr = cerr
			break
		}
		if decoded || errors.As(err, &mte) && hi-lo > 1 {
			w.records.release(need)
			c.out.Release()
			if split == 0 {
				split = per
			}
			per = max(1, (hi-lo)/2)
			continue
		}
		if errors.As(err, &mte) {
			// One row alone is over max_message_bytes: it fails by itself,
			// as an oversize record does on the protobuf path, and the
			// rows after it go on in chunks of the size before the split.
			// Its largest column is named, with its size, as the protobuf
			// path names an oversize record's.
			w.records.release(need)
			col, colSize := st.LargestColumn(c.out)
			alone := ""
			if col != "" {
				alone = fmt.Sprintf(" (this column alone is %d bytes)", colSize)
			}
			b.failed = appendFailed(b.failed, lo, hi, &ConversionError{Row: lo, Column: col, Err: mte, Reason: fmt.Sprintf(
				"the row alone encodes to %d bytes of Arrow IPC, over the %d-byte limit%s; shrink or split the value, or raise max_message_bytes (Config.MaxMessageBytes) for servers that accept more",
				mte.Size, mte.Limit, alone)}, RowNotWritten)
			c.out.Release()
			if split > 0 {
				per, split = split, 0
			}
			lo = hi
			continue
		}
		var p *flightstream.Pending
		if err == nil && hi-lo > 1 {
			if in := input * int64(hi-lo) / int64(n); in >= 1024 {
				fs.growth.Store(e.Size() * 1024 / in)
			}
		}
		if err == nil && e.Size() > limit && hi-lo > 1 {
			// The body came out larger than the input's size (offsets
			// widened by the cast, say): the next chunks take fewer rows,
			// so that bodies stay within limit — and within the encoder
			// arena's 4 MiB size class rather than the next (6 MiB).
			per = max(1, int(int64(hi-lo)*limit/e.Size()))
		}
		if err == nil {
			sh := &windowShare{}
			w.records.settleShare(sh, need, e.Held())
			p, err = st.Queue(b.ctx, e, sh.resolved) // the share goes with the request
			if err != nil {
				sh.resolved()
			}
		} else {
			w.records.release(need)
		}
		if err != nil {
			sendErr = w.mapSendErr(b.ctx, err)
			b.flightStop(c, hi, sendErr)
			if isTerminal(sendErr) {
				w.invalidateFlight(sl, st)
			}
			break
		}
		b.flightNulls(c)
		c.out.Release() // the request keeps its IPC message only
		c.out = nil
		queued += c.rows()
		parts = append(parts, flightPart{flightChunk: c, p: p})
		lo = hi
	}
	tspan.SetAttributes(attribute.Int("zerobus.records", queued))
	telemetry.End(tspan, sendErr)
	b.debugIdle()

	_, wspan := w.tel.Start(b.ctx, "zerobus.wait_acks", attribute.Int("zerobus.requests", len(parts)), w.transportAttr)
	var firstErr error
	for _, pt := range parts {
		err := pt.p.Wait(b.ctx)
		if err != nil && !closed(pt.p.Done()) {
			// The caller gave up: take back what no RPC has carried yet,
			// and never write the rest again (GiveUp), so the attempts
			// and re-sends counted below are final.
			if !st.GiveUp(pt.p) && closed(pt.p.Done()) {
				if perr := pt.p.Err(); !errors.Is(perr, stream.ErrAbandoned) {
					err = perr // acknowledged, or failed, meanwhile
				}
			}
		}
		if a := pt.p.Attempts(); a > b.attempts {
			b.attempts = a
		}
		b.resent.add(&pt.p.Future)
		m := pt.rows()
		d := pt.p.Durable()
		if err == nil {
			d = m
		}
		for i := range d {
			b.ok = appendRow(b.ok, pt.row(i))
		}
		b.bytes += int(int64(pt.p.Bytes()) * int64(d) / int64(max(1, m)))
		if err == nil {
			continue
		}
		err = w.mapSendErr(b.ctx, err)
		if firstErr == nil {
			firstErr = err
		}
		if isTerminal(err) {
			w.invalidateFlight(sl, st)
		}
		state := RowUnknown
		if pt.p.NeverSent() {
			state = RowNotWritten
		}
		for i := d; i < m; i++ {
			b.failed = appendFailed(b.failed, pt.row(i), pt.row(i)+1, err, state)
		}
	}
	telemetry.End(wspan, firstErr)
}

// chunkRows returns the rows per chunk of a batch of n rows whose IPC is
// estimated at size bytes, for chunks of at most limit bytes: as few chunks
// as fit, of equal size rather than full ones and a small remainder (a
// body's memory is its arena region, the size class above it, which a small
// last chunk fills the least).
func chunkRows(n int, size, limit int64) int {
	per := max(1, int(int64(n)*limit/max(size, 1)))
	if k := (n + per - 1) / per; k > 1 {
		per = (n + k - 1) / k
	}
	return per
}

// flightChunk is the cast of input rows [lo, hi) of a batch.
type flightChunk struct {
	out   arrow.RecordBatch
	nulls []flightstream.NullRow // rows left out, relative to lo
	keep  []int                  // out's rows in the slice (nil: all)
	lo    int
	n     int // rows of out
}

func (c *flightChunk) rows() int { return c.n }

// row is the batch row of out's row i.
func (c *flightChunk) row(i int) int {
	if c.keep == nil {
		return c.lo + i
	}
	return c.lo + c.keep[i]
}

// flightPart is a chunk handed to the stream.
type flightPart struct {
	*flightChunk
	p *flightstream.Pending
}

// castFlight casts input rows [lo, hi) to the table's schema.
func (b *batchSend) castFlight(fs *flightSchema, lo, hi int) (*flightChunk, error) {
	w := b.w
	_, cspan := w.tel.Start(b.ctx, "zerobus.convert", attribute.Int("zerobus.rows", hi-lo), w.transportAttr)
	t0 := time.Now()
	in := b.rec
	if lo > 0 || hi < b.total {
		in = b.rec.NewSlice(int64(lo), int64(hi))
		defer in.Release()
	}
	out, nulls, keep, err := fs.caster.ApplyWith(b.ctx, convert.ArrowAllocator, in) // off the Go heap: released once encoded
	w.tel.ConvertDuration.Record(b.ctx, time.Since(t0).Seconds(), metric.WithAttributes(w.tableAttr, w.transportAttr))
	if err != nil {
		var ce *flightstream.CastError
		cerr := &ConversionError{Row: -1, Reason: causeText(err), Err: err}
		if errors.As(err, &ce) {
			cerr.Column = ce.Column
		}
		telemetry.End(cspan, cerr)
		return nil, cerr
	}
	cspan.SetAttributes(attribute.Int("zerobus.rows.failed", len(nulls)))
	cspan.End()
	return &flightChunk{out: out, nulls: nulls, keep: keep, lo: lo, n: int(out.NumRows())}, nil
}

// flightNulls records the rows a chunk's cast left out.
func (b *batchSend) flightNulls(c *flightChunk) {
	for _, nr := range c.nulls {
		r := c.lo + nr.Row
		b.failed = appendFailed(b.failed, r, r+1, &ConversionError{Row: r, Column: nr.Column, Reason: nr.Reason}, RowNotWritten)
	}
}

// flightStop ends the send at chunk c: every row of c fails, not written
// (the ones its cast left out with their reason, the others with err), and
// so does every row from hi on; c's batch is released.
func (b *batchSend) flightStop(c *flightChunk, hi int, err error) {
	b.flightNulls(c)
	for i := range c.rows() {
		b.failed = appendFailed(b.failed, c.row(i), c.row(i)+1, err, RowNotWritten)
	}
	b.failFrom(hi, err)
	c.out.Release()
}

// awaitFlight returns sl's open stream, opening it if needed.
func (b *batchSend) awaitFlight(fs *flightSchema, sl *fslot) (*flightstream.Stream, error) {
	w := b.w
	st, op := w.startFlight(b.ctx, fs, fs.caster.Target(), sl)
	if st != nil {
		return st, nil
	}
	select {
	case <-op.done:
		if op.err != nil {
			return nil, w.openErr(op.err)
		}
		return op.st, nil
	case <-b.ctx.Done():
		return nil, callEnded(b.ctx, "while the table's stream was opening")
	}
}

// pick returns the least loaded Flight slot and counts the caller in.
func (fs *flightSchema) pick() *fslot { return pickSlot(fs.slots) }

// startFlight returns the open stream of sl or the opening in progress (see
// Wrapper.start: the same rules).
func (w *Wrapper) startFlight(ctx context.Context, fs *flightSchema, target *arrow.Schema, sl *fslot) (*flightstream.Stream, *fopening) {
	return startSlot(w, ctx, sl, func(octx context.Context) (*flightstream.Stream, error) {
		return w.flight.OpenStream(octx, target)
	})
}

// invalidateFlight drops st from sl after a terminal failure.
func (w *Wrapper) invalidateFlight(sl *fslot, st *flightstream.Stream) { invalidateSlot(w, sl, st) }

// eachFlight runs f concurrently on every open Flight stream of states and
// returns the errors, mapped.
func (w *Wrapper) eachFlight(states []*schemaState, f func(*flightstream.Stream) error) []error {
	var open []*flightstream.Stream
	for _, ss := range states {
		open = openStreams(open, ss.fl.slots)
	}
	return runEach(open, func(st *flightstream.Stream) error {
		if err := f(st); err != nil && !errors.Is(err, stream.ErrClosed) {
			return fromStream(err, w.cfg.TableName, w.cfg.Endpoint)
		}
		return nil
	})
}

// transportName is the zerobus.transport attribute value.
func transportName(t string) string {
	if strings.EqualFold(t, TransportArrowFlight) {
		return TransportArrowFlight
	}
	return TransportProtobuf
}

// openErr maps the error of a stream that did not open (fromStream); when
// the server refused the stream's schema while the table's columns could
// not be read from Unity Catalog, the error says so
// (TransmissionError.CatalogUnread): without them the batch's columns are
// sent as they are, not matched to the table's nor cast to its types.
//
// When that failure may pass (the token endpoint or the catalog
// unreachable, answering 5xx/408/429, or slower than create_timeout_ms), the
// refusal is no verdict on the batch: the table's columns would have
// settled it. The error is then that failure's, retryable as it is
// (catalogRefusal), and the next send reads the catalog again.
func (w *Wrapper) openErr(err error) error {
	err = fromStream(err, w.cfg.TableName, w.cfg.Endpoint)
	var te *TransmissionError
	if errors.As(err, &te) && te.schemaRefused() {
		if why := w.target.unread.Load(); why != nil {
			te.CatalogUnread = why.err
			if why.retryable != nil {
				return w.catalogRefusal(te, why.retryable)
			}
		}
	}
	return err
}
