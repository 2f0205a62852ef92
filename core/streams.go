package core

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

// Schema bookkeeping: every distinct Arrow schema gets its own conversion
// plan and its own streams (a stream is created with one descriptor and must
// never carry records of another). Streams of schemas unused for
// idleSchemaTTL are closed when another schema appears, and at most
// maxSchemas schemas keep streams open.
const (
	idleSchemaTTL = time.Minute
	maxSchemas    = 16
)

// schemaState is the plan and the stream slots of one Arrow schema.
type schemaState struct {
	key    string
	schema *arrow.Schema

	planMu  sync.Mutex
	planned atomic.Bool // plan and planErr are set for good (planFor)
	plan    *convert.Plan
	planErr error
	// replanAt: plan was made without the table's columns, the catalog
	// being down for a while; a batch from then on plans again (planMu),
	// or as soon as w.planStale(replanGen) (catalog_retry.go).
	replanAt  time.Time
	replanGen uint64

	slots []*slot
	fl    *flightSchema // transport arrow_flight (flight.go)

	// guarded by Wrapper.mu
	users    int
	lastUsed time.Time
	evicted  bool
}

// transportStream is what a slot needs of a stream of either transport
// (*stream.Stream, *flightstream.Stream).
type transportStream interface {
	comparable
	Done() <-chan struct{}
	Close(ctx context.Context) error
}

// slotOf holds at most one open stream. Opening happens in a background
// goroutine so that callers waiting for it can give up with their own ctx
// without abandoning the open for everyone else.
type slotOf[S transportStream] struct {
	load atomic.Int32 // batches currently using this slot

	mu   sync.Mutex
	st   S
	open *openingOf[S]
}

// openingOf is one stream creation in progress.
type openingOf[S transportStream] struct {
	done chan struct{}
	st   S
	err  error
}

// slot and opening are those of the protobuf transport (see fslot for
// arrow_flight).
type (
	slot    = slotOf[*stream.Stream]
	opening = openingOf[*stream.Stream]
)

// schemaFor returns the state for rec's schema, creating it (and evicting
// idle old schemas) on first use, and marks it in use; the caller must call
// w.release(ss). ctx is only used for logging.
func (w *Wrapper) schemaFor(ctx context.Context, schema *arrow.Schema) *schemaState {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ss *schemaState
	if w.last != nil && (w.last.schema == schema) && !w.last.evicted {
		ss = w.last
	} else {
		key := schemaKey(schema)
		ss = w.schemas[key]
		if ss == nil {
			ss = &schemaState{key: key, schema: schema, slots: make([]*slot, w.cfg.StreamsPerSchema), fl: newFlightSchema(w.cfg.StreamsPerSchema)}
			for i := range ss.slots {
				ss.slots[i] = &slot{}
			}
			w.evictLocked(ctx)
			w.schemas[key] = ss
		}
		w.last = ss
	}
	ss.users++
	ss.lastUsed = w.now()
	return ss
}

// release marks ss no longer used by one batch.
func (w *Wrapper) release(ss *schemaState) {
	w.mu.Lock()
	ss.users--
	ss.lastUsed = w.now()
	w.mu.Unlock()
}

// schemaKey identifies a schema by names, types and nullability (metadata
// is ignored: it does not change the descriptor).
func schemaKey(s *arrow.Schema) string {
	if fp := s.Fingerprint(); fp != "" {
		return fp
	}
	var b strings.Builder
	for _, f := range s.Fields() {
		b.WriteString(f.String())
		b.WriteByte(';')
	}
	return b.String()
}

// evictLocked closes the streams of idle schemas that are old, or the least
// recently used idle ones beyond maxSchemas. Called with w.mu held; ctx is
// only used for logging.
func (w *Wrapper) evictLocked(ctx context.Context) {
	now := w.now()
	for len(w.schemas) > 0 {
		var victim *schemaState
		for _, ss := range w.schemas {
			if ss.users > 0 {
				continue
			}
			if now.Sub(ss.lastUsed) > idleSchemaTTL {
				victim = ss
				break
			}
			if len(w.schemas) >= maxSchemas && (victim == nil || ss.lastUsed.Before(victim.lastUsed)) {
				victim = ss
			}
		}
		if victim == nil {
			return
		}
		delete(w.schemas, victim.key)
		victim.evicted = true
		if w.last == victim {
			w.last = nil
		}
		w.log.DebugContext(ctx, "zerobus: closing streams of an idle schema", "table", w.cfg.TableName)
		w.closeSlotsAsync(victim)
	}
}

// closeSlotsAsync flushes and closes the open streams of ss in the
// background (bounded by FlushTimeout).
func (w *Wrapper) closeSlotsAsync(ss *schemaState) {
	if w.flight != nil {
		closeSlotsAsync(w, ss.fl.slots)
	}
	closeSlotsAsync(w, ss.slots)
}

// closeSlotsAsync closes the open streams of slots in the background
// (bounded by FlushTimeout), waiting for opens in progress.
func closeSlotsAsync[S transportStream](w *Wrapper, slots []*slotOf[S]) {
	var none S
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		ctx, cancel := stream.WithFlushTimeout(context.Background(), w.cfg.FlushTimeout)
		defer cancel()
		for _, sl := range slots {
			// Wait for an open in progress so its stream is closed too.
			sl.mu.Lock()
			op := sl.open
			sl.mu.Unlock()
			if op != nil {
				<-op.done
			}
			sl.mu.Lock()
			st := sl.st
			sl.st = none
			sl.mu.Unlock()
			if st != none {
				_ = st.Close(ctx)
			}
		}
	}()
}

// planFor builds (once) the conversion plan of ss. A descriptor derived
// from the batch's schema takes each column's optionality from the table's
// columns in Unity Catalog when they can be read (tableColumns): the
// service wants it to match the table's (a nullable column optional, a NOT
// NULL one required), whatever the batch's Arrow nullability says; the
// JSON text of a column the table declares VARIANT is checked value by
// value, as the Flight path checks it; and columns and STRUCT fields are
// matched to the table's by name (convert.MatchFields, the Flight cast's
// rule), the descriptor listing them in the table's order and spelling. A descriptor given with WithDescriptor/WithMessage is used as it is.
func (w *Wrapper) planFor(ctx context.Context, ss *schemaState) (*convert.Plan, error) {
	if ss.planned.Load() {
		return ss.plan, ss.planErr
	}
	ss.planMu.Lock()
	defer ss.planMu.Unlock()
	start := time.Now()
	if ss.planned.Load() || ss.plan != nil && start.Before(ss.replanAt) && !w.planStale(ss.replanGen) ||
		ss.planErr != nil && start.Before(ss.replanAt) { // a mismatch with the table, kept (protobufMismatch)
		return ss.plan, ss.planErr
	}
	ss.planErr = nil
	opts := convert.Options{
		MessageName:    messageName(w.cfg.TableName),
		AllOptional:    w.cfg.AllFieldsOptional,
		MaxRecordBytes: min(w.cfg.MaxRecordBytes, w.cfg.MaxMessageBytes-requestOverhead),
	}
	var err error
	switch {
	case w.opts.descriptor != nil:
		ss.plan, err = convert.NewPlanForDescriptor(ss.schema, w.opts.descriptor, opts)
	case w.opts.message != nil:
		ss.plan, err = convert.NewPlanForMessage(ss.schema, w.opts.message, opts)
	default:
		// A schema that does not convert fails as it is, without asking the
		// catalog; one that does is planned again with the table's optionality.
		ss.plan, err = convert.NewPlan(ss.schema, opts)
		if err != nil && !needsTableTypes(ss.schema) {
			break
		}
		// (A column of the null type, or a float MAP key of a table's
		// integer key, is planned as the table's type when the catalog
		// gives it; otherwise its refusal stands.)
		first := err
		table, terr, cerr := w.tableColumns(ctx)
		if cerr != nil {
			return nil, cerr // ctx ended while the catalog was read, or the workspace's certificate: not kept
		}
		transient := terr != nil
		if table == nil && first != nil && transient {
			// A null-type column needs the table's type: the catalog's
			// failure, which may pass, is the batch's (not kept, as Flight).
			ss.plan = nil
			return nil, terr
		}
		if table != nil {
			opts.TableNullable = convert.TableNullability(table)
			opts.TableVariant = convert.TableVariants(table)
			opts.TableDecimal = convert.TableDecimals(table)
			opts.TableType = convert.TableTypes(table)
			opts.TableFields = convert.TableLevels(table)
			ss.plan, err = convert.NewPlan(ss.schema, opts)
			if err == nil {
				if ce := w.protobufMismatch(ss.schema, table, ss.plan, opts); ce != nil {
					if fresh, _, ferr := w.tableSchema(ctx, start); ferr == nil && fresh != nil && fresh != table {
						// A copy read before this plan: the table may
						// have changed since; read again, once.
						return w.replanFresh(ctx, ss, fresh, opts)
					}
					// Refused before any stream opens, as over Flight;
					// checked again mismatchRecheck later (the table may
					// be altered meanwhile).
					ss.plan, ss.planErr, ss.replanAt = nil, ce, time.Now().Add(mismatchRecheck)
					return nil, ce
				}
			}
		} else if first != nil {
			ss.plan, err = nil, first
		}
		if transient && err == nil {
			// The batch's own optionality for now (the send goes on when
			// it matches the table's); the table's once the catalog is back.
			ss.replanAt, ss.replanGen = time.Now().Add(mismatchRecheck), w.target.refusals.Load()
			return ss.plan, nil
		}
	}
	if err != nil {
		ss.planErr = fromSchemaError(err)
	}
	ss.planned.Store(true)
	return ss.plan, ss.planErr
}

// replanFresh is planFor's end with a fresh copy of the table's columns,
// read because the copy the plan was first made with showed a mismatch.
func (w *Wrapper) replanFresh(ctx context.Context, ss *schemaState, table *arrow.Schema, opts convert.Options) (*convert.Plan, error) {
	opts.TableNullable = convert.TableNullability(table)
	opts.TableVariant = convert.TableVariants(table)
	opts.TableDecimal = convert.TableDecimals(table)
	opts.TableType = convert.TableTypes(table)
	opts.TableFields = convert.TableLevels(table)
	plan, err := convert.NewPlan(ss.schema, opts)
	if err != nil {
		ss.plan, ss.planErr = nil, fromSchemaError(err)
		ss.planned.Store(true)
		return nil, ss.planErr
	}
	if ce := w.protobufMismatch(ss.schema, table, plan, opts); ce != nil {
		ss.plan, ss.planErr, ss.replanAt = nil, ce, time.Now().Add(mismatchRecheck)
		return nil, ce
	}
	ss.plan = plan
	ss.planned.Store(true)
	return plan, nil
}

// tableColumns returns the table's columns as Unity Catalog declares them
// (read once per Wrapper: tableSchema), from which the plan takes whether
// each column and STRUCT field (also inside ARRAY elements and MAP values)
// is nullable (convert.TableNullability) and which are VARIANT, whose JSON
// text is then checked (convert.TableVariants),
// or nil when the catalog cannot tell: no workspace URL, the lookup refused
// (401/403/404), unreachable, or a column type it describes that has no
// Arrow mapping. The derived descriptor then follows the batch's schema as
// without a catalog, so a catalog failure fails no send (but one of a
// null-type column, whose type only the table gives). The error is ctx's,
// when it ended during the read, or the workspace's TLS certificate failing
// verification, which the stream's token request meets the same way (not
// retryable). transient is the catalog's failure when it may pass (the
// catalog unreachable or answering 5xx/429): planFor then asks again later.
func (w *Wrapper) tableColumns(ctx context.Context) (_ *arrow.Schema, transient, _ error) {
	s, _, err := w.tableSchema(ctx, time.Time{})
	if err != nil {
		var cf *stream.CertificateError
		switch {
		case ctx.Err() != nil && errors.Is(err, ctx.Err()):
			return nil, nil, err // tableSchema's callEnded
		case errors.As(err, &cf) && (cf.Setting == "WorkspaceURL" || cf.Setting == "Proxy"):
			// The workspace's certificate (or proxy_url's), which the
			// stream's token request meets the same way: its error, once.
			return nil, nil, err
		case tokenRefused(err):
			// The token endpoint refused the request (HTTP 4xx, final per
			// the protocol): the stream needs the same token; its error,
			// once, as on arrow_flight, not a second token request.
			return nil, nil, err
		}
		w.log.DebugContext(ctx, "zerobus: the table's columns cannot be read from Unity Catalog; the descriptor's optionality follows the batch's schema", "table", w.cfg.TableName, "reason", err)
		if IsRetryable(err) {
			return nil, err, nil
		}
		return nil, nil, nil
	}
	return s, nil, nil
}

// tokenRefused reports whether err is the token endpoint's final refusal of
// a token request (an *AuthenticationError whose cause is the token
// request's error), as opposed to the catalog refusing the lookup.
func tokenRefused(err error) bool {
	var ae *AuthenticationError
	var te *stream.TokenError
	return errors.As(err, &ae) && errors.As(ae.Err, &te) && !te.Retryable
}

// messageName is the descriptor's message name: the table part of the table
// name, made a valid protobuf identifier.
func messageName(table string) string {
	name := table[strings.LastIndexByte(table, '.')+1:]
	return convert.SanitizeMessageName(name)
}

// pick returns the least loaded slot of ss and counts the caller in; the
// caller must call sl.load.Add(-1).
func (ss *schemaState) pick() *slot { return pickSlot(ss.slots) }

// pickSlot returns the least loaded of slots and counts the caller in; the
// caller must call sl.load.Add(-1).
func pickSlot[S transportStream](slots []*slotOf[S]) *slotOf[S] {
	best := slots[0]
	bl := best.load.Load()
	for _, sl := range slots[1:] {
		if l := sl.load.Load(); l < bl {
			best, bl = sl, l
		}
	}
	best.load.Add(1)
	return best
}

// start returns the open stream of sl, or the opening in progress (starting
// one if needed). An opening started here runs under ctx's trace (its
// "zerobus.stream.create" span is a child of the caller's span) but not its
// cancellation.
func (w *Wrapper) start(ctx context.Context, ss *schemaState, plan *convert.Plan, sl *slot) (*stream.Stream, *opening) {
	return startSlot(w, ctx, sl, func(octx context.Context) (*stream.Stream, error) {
		return w.client.OpenStream(octx, plan.Descriptor(), zerobuspb.RecordType_PROTO)
	})
}

// startSlot returns the open stream of sl, or the opening in progress,
// starting one with open if needed (see Wrapper.start).
func startSlot[S transportStream](w *Wrapper, ctx context.Context, sl *slotOf[S], open func(context.Context) (S, error)) (S, *openingOf[S]) {
	var none S
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if sl.st != none {
		select {
		case <-sl.st.Done(): // failed or aborted: replace it
			sl.st = none
		default:
			return sl.st, nil
		}
	}
	if sl.open != nil {
		return none, sl.open
	}
	op := &openingOf[S]{done: make(chan struct{})}
	sl.open = op
	// The stream outlives the batch that triggered it: it is opened with a
	// context that no caller can cancel (Client.Close aborts it), yet keeps
	// the caller's trace.
	octx := context.WithoutCancel(ctx)
	w.bg.Add(1)
	w.opening.Add(1)
	go func() {
		defer w.bg.Done()
		st, err := open(octx)
		w.opening.Add(-1)
		sl.mu.Lock()
		sl.open = nil
		if err == nil {
			sl.st = st
		}
		op.st, op.err = st, err
		sl.mu.Unlock()
		close(op.done)
	}()
	return none, op
}

// invalidate drops st from sl after a terminal failure so that the next
// batch opens a fresh stream; st is closed in the background.
func (w *Wrapper) invalidate(sl *slot, st *stream.Stream) { invalidateSlot(w, sl, st) }

// invalidateSlot is Wrapper.invalidate for a slot of either transport.
func invalidateSlot[S transportStream](w *Wrapper, sl *slotOf[S], st S) {
	var none S
	sl.mu.Lock()
	if sl.st != st {
		sl.mu.Unlock()
		return
	}
	sl.st = none
	sl.mu.Unlock()
	w.bg.Add(1)
	go func() {
		defer w.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = st.Close(ctx)
	}()
}

// schemaList returns every schema state; called with w.mu held.
func (w *Wrapper) schemaList() []*schemaState {
	out := make([]*schemaState, 0, len(w.schemas))
	for _, ss := range w.schemas {
		out = append(out, ss)
	}
	return out
}

// eachStream runs f concurrently on every open stream of states and returns
// the non-nil errors.
func (w *Wrapper) eachStream(states []*schemaState, f func(*stream.Stream) error) []error {
	var open []*stream.Stream
	for _, ss := range states {
		open = openStreams(open, ss.slots)
	}
	return runEach(open, f)
}

// openStreams appends the open streams of slots to out.
func openStreams[S transportStream](out []S, slots []*slotOf[S]) []S {
	var none S
	for _, sl := range slots {
		sl.mu.Lock()
		if sl.st != none {
			out = append(out, sl.st)
		}
		sl.mu.Unlock()
	}
	return out
}

// runEach runs f concurrently on every stream of sts and returns the
// non-nil errors.
func runEach[S transportStream](sts []S, f func(S) error) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for _, st := range sts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(st); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// needsTableTypes reports whether s converts only with the table's types:
// it has a column, STRUCT field, ARRAY element or MAP value of the Arrow
// null type (all nulls: pandas' object column of None, polars' Null,
// pyarrow's struct<x: null> from dicts whose x is always None), or a MAP
// whose keys are floats (protobuf has no float map key: a table's integer
// key takes them, each checked as a whole number; convert.FloatToInt) or
// UUIDs (no map key either: a table's STRING key takes their text).
func needsTableTypes(s *arrow.Schema) bool {
	var has func(t arrow.DataType, depth int) bool
	has = func(t arrow.DataType, depth int) bool {
		if depth > convert.MaxNestingDepth {
			return false
		}
		switch t := convert.UnwrapType(t).(type) {
		case *arrow.NullType:
			return true
		case *arrow.StructType:
			for _, f := range t.Fields() {
				if has(f.Type, depth+1) {
					return true
				}
			}
		case *arrow.MapType:
			switch convert.UnwrapType(t.KeyType()).ID() {
			case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
				return true
			}
			if convert.IsUUIDField(t.KeyField()) {
				return true // UUID keys go into a table's STRING key, as their text
			}
			return has(t.ItemType(), depth+1)
		case arrow.ListLikeType:
			return has(t.Elem(), depth+1)
		}
		return false
	}
	for _, f := range s.Fields() {
		if has(f.Type, 0) {
			return true
		}
	}
	return false
}
