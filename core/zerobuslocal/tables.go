package zerobuslocal

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// ErrTableExists is returned by CreateTable for a name already in use.
var ErrTableExists = errors.New("zerobuslocal: table already exists")

// noTableHint ends the NOT_FOUND of a stream to a table that does not exist
// while auto-create is off, for each way the server is run.
const noTableHint = "create it first (zerobus local -table NAME -columns DDL, LocalServer.create_table, Server.CreateTableColumns) or let streams create tables (run without -no-auto-create / auto_create_tables=False / Options.DisableAutoCreate)"

// ErrNoTable is returned for operations on a table that does not exist.
var ErrNoTable = errors.New("zerobuslocal: no such table")

// Row is one stored record. Message and Raw must not be modified.
type Row struct {
	// StreamID is the stream id the server gave the RPC that sent the record.
	StreamID string
	// Offset is the wire offset of the request message that carried it.
	Offset int64
	// Index is the record's position inside that request (0 for a single
	// ingest_record).
	Index int
	// Seq is the arrival order across the whole server, from 1.
	Seq int64
	// Message is the record decoded with the table's descriptor; nil for a
	// table without a schema (raw JSON).
	Message *dynamicpb.Message
	// Raw is the record as received: protobuf bytes, or the JSON text; for
	// Avro and Arrow Flight rows, the record in the table's protobuf form.
	Raw []byte
	// JSON reports whether the record came on a JSON stream.
	JSON bool
}

type table struct {
	name      string
	cols      []Column                      // the table model; nil: raw JSON table
	declared  bool                          // cols are Unity Catalog columns given at creation, not derived from a descriptor
	arrow     *arrow.Schema                 // what Flight streams must send (from cols)
	desc      *descriptorpb.DescriptorProto // nil: raw JSON table
	md        protoreflect.MessageDescriptor
	validator *protoarrow.Validator // for records encoded with md

	blocks  []*block // stored request messages, oldest first
	skip    int      // rows of blocks[0] dropped by MaxStoredRows
	count   int      // rows stored
	evicted int64    // rows dropped by MaxStoredRows
}

// newTable builds a table from its columns and/or descriptor: with cols
// only, the descriptor derives from them; with a descriptor only, the
// columns derive from it (an auto-created or CreateTable table). Neither:
// a raw JSON table.
func newTable(name string, cols []Column, desc *descriptorpb.DescriptorProto, md protoreflect.MessageDescriptor) (*table, error) {
	t := &table{name: name, cols: cols, desc: desc, md: md, declared: cols != nil}
	if cols != nil && desc == nil {
		var err error
		if t.desc, err = descriptorFromColumns(messageName(name), cols); err != nil {
			return nil, err
		}
		if t.md, err = protoarrow.MessageDescriptor(t.desc); err != nil {
			return nil, fmt.Errorf("the descriptor derived from the columns does not resolve: %w", err)
		}
	}
	if t.md != nil && t.cols == nil {
		// The table rules hold for a table a descriptor creates too (names
		// that differ only in case: one column for Unity Catalog).
		if t.cols = columnsFromMessage(t.md); len(t.cols) > 0 {
			if err := checkColumns(t.cols); err != nil {
				return nil, err
			}
		}
	}
	if t.md != nil {
		t.validator = protoarrow.NewValidator(t.md)
		t.arrow = arrowSchemaFromColumns(t.cols)
	}
	return t, nil
}

// messageName is the protobuf message name of a table's descriptor: its
// last name part.
func messageName(table string) string {
	if i := strings.LastIndexByte(table, '.'); i >= 0 {
		return table[i+1:]
	}
	return table
}

var tableNameRE = regexp.MustCompile(`^[A-Za-z0-9_]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$`)

// CheckTableName reports whether name is a table name the server takes:
// catalog.schema.table, three non-empty parts of ASCII letters, digits and _.
func CheckTableName(name string) error { return checkTableName(name) }

func checkTableName(name string) error {
	if !tableNameRE.MatchString(name) {
		return fmt.Errorf("invalid table name %q: want catalog.schema.table, three non-empty parts of ASCII letters, digits and _", name)
	}
	return nil
}

// CreateTable registers table name (catalog.schema.table) with the schema
// desc, which every stream to it must match and which decodes its records.
// It fails with ErrTableExists if the name is taken (also by an
// auto-created table) and with a descriptive error if desc does not resolve.
// desc is cloned.
func (s *Server) CreateTable(name string, desc *descriptorpb.DescriptorProto) error {
	if err := checkTableName(name); err != nil {
		return fmt.Errorf("zerobuslocal: CreateTable: %w", err)
	}
	if desc == nil {
		return fmt.Errorf("zerobuslocal: CreateTable %q: nil descriptor", name)
	}
	desc = proto.Clone(desc).(*descriptorpb.DescriptorProto)
	md, err := protoarrow.MessageDescriptor(desc)
	if err != nil {
		return fmt.Errorf("zerobuslocal: CreateTable %q: %w", name, err)
	}
	if _, err := protoarrow.SchemaFromMessage(md); err != nil {
		return fmt.Errorf("zerobuslocal: CreateTable %q: %w", name, err)
	}
	t, err := newTable(name, nil, desc, md)
	if err != nil {
		return fmt.Errorf("zerobuslocal: CreateTable %q: %w", name, err)
	}
	return s.addTable(t)
}

// CreateTableColumns registers table name (catalog.schema.table) with
// columns in Unity Catalog types (see ParseColumns). The descriptor PROTO
// streams must match, the Arrow schema Flight streams must send and what the
// Unity Catalog tables endpoint serves all derive from them. cols is copied.
func (s *Server) CreateTableColumns(name string, cols []Column) error {
	if err := checkTableName(name); err != nil {
		return fmt.Errorf("zerobuslocal: CreateTableColumns: %w", err)
	}
	if err := checkColumns(cols); err != nil {
		return fmt.Errorf("zerobuslocal: CreateTableColumns %q: %w", name, err)
	}
	t, err := newTable(name, cloneColumns(cols), nil, nil)
	if err != nil {
		return fmt.Errorf("zerobuslocal: CreateTableColumns %q: %w", name, err)
	}
	return s.addTable(t)
}

func (s *Server) addTable(t *table) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tables[t.name]; ok {
		return fmt.Errorf("%w: %q", ErrTableExists, t.name)
	}
	s.tables[t.name] = t
	s.events.add(Event{Kind: EventTableCreated, Table: t.name})
	return nil
}

// TableColumns returns a copy of the columns of table name; nil and false
// if the table does not exist, nil and true for a raw JSON table.
func (s *Server) TableColumns(name string) ([]Column, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[name]
	if !ok {
		return nil, false
	}
	return cloneColumns(t.cols), true
}

// DropTable removes table name and its rows. It reports whether the table
// existed. Streams already open to it keep writing to the dropped table,
// which nothing can read (its rows still count against MaxStoredRows until
// evicted).
func (s *Server) DropTable(name string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[name]
	if ok {
		s.forget(t)
	}
	delete(s.tables, name)
	return ok
}

// Tables returns the names of all tables, sorted.
func (s *Server) Tables() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.tables))
	for n := range s.tables {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TableDescriptor returns a copy of the schema of table name; nil and false
// if the table does not exist, nil and true for a raw JSON table.
func (s *Server) TableDescriptor(name string) (*descriptorpb.DescriptorProto, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[name]
	if !ok || t.desc == nil {
		return nil, ok
	}
	return proto.Clone(t.desc).(*descriptorpb.DescriptorProto), true
}

// Rows returns the rows stored in table so far, in arrival order (a copy of
// the list; Raw is shared and must not be modified). Nil for an unknown
// table. Records are stored raw and decoded by each call (on several
// goroutines for a large table): the Messages are the caller's, and nothing
// in the server keeps them (those of JSON rows, decoded on ingest, are
// shared and must not be modified either). No server lock is held while
// decoding.
func (s *Server) Rows(table string) []Row {
	br, ok := s.rowRange(table)
	if !ok {
		return nil
	}
	rows := make([]Row, 0, br.count)
	br.each(func(b *block, i int) {
		rows = append(rows, b.row(i))
	})
	ps := br.pieces(decodePieceRows)
	first := make([]int, len(ps)) // index in rows of each piece's first row
	for k := 1; k < len(ps); k++ {
		first[k] = first[k-1] + ps[k-1].to - ps[k-1].from
	}
	inParallel(len(ps), br.count >= parallelReadRows, func(k int) {
		p := ps[k]
		for i := p.from; i < p.to; i++ {
			rows[first[k]+i-p.from].Message = p.b.message(i)
		}
	})
	return rows
}

// rowRange is a snapshot of the rows of table (false: no such table).
func (s *Server) rowRange(table string) (blockRange, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tables[table]
	if !ok {
		return blockRange{}, false
	}
	return t.snapshot(), true
}

// EvictedCount returns the number of rows of table dropped so far to honour
// Options.MaxStoredRows (0 if unknown); RecordCount + EvictedCount is every
// row the table received.
func (s *Server) EvictedCount(table string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tables[table]; ok {
		return t.evicted
	}
	return 0
}

// RecordCount returns the number of rows stored in table (0 if unknown).
func (s *Server) RecordCount(table string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tables[table]; ok {
		return t.count
	}
	return 0
}

// ArrowBatch returns every row of table as one Arrow record batch, in
// arrival order. The schema is the one protoarrow derives from the table's
// descriptor, except that a table created with Unity Catalog columns
// (CreateTableColumns, CreateTableFromArrow, the tables endpoint, or a
// Flight or Avro stream that created it) reads back its TIMESTAMP,
// TIMESTAMP_NTZ, DATE and DECIMAL(p,s) columns, at any depth, typed:
// timestamp[us, tz=UTC], timestamp[us], date32 and decimal128(p,s), holding
// the stored values (µs since the epoch, days since the epoch, the decimal
// text). A table created from a descriptor only (CreateTable, an
// auto-created PROTO stream) has no such types: int64, int32 and string as
// the descriptor says. The caller must Release it. A nil mem means
// memory.DefaultAllocator. It fails for unknown tables and raw JSON tables.
func (s *Server) ArrowBatch(table string, mem memory.Allocator) (arrow.RecordBatch, error) {
	s.mu.Lock()
	t, ok := s.tables[table]
	var md protoreflect.MessageDescriptor
	var cols []Column
	var br blockRange
	if ok && t.md != nil {
		md = t.md
		if t.declared {
			cols = t.cols
		}
		br = t.snapshot()
	}
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNoTable, table)
	}
	if md == nil {
		return nil, fmt.Errorf("zerobuslocal: table %q has no schema (it was created by a JSON stream); read it with Rows", table)
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	b, err := protoarrow.NewBuilder(mem, md)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	br.each(func(blk *block, i int) {
		if err != nil {
			return
		}
		if !blk.json && blk.src.md == md {
			// Raw records of the table's own descriptor: straight from the
			// wire format, no dynamic messages.
			err = b.AppendRecord(blk.record(i))
		} else {
			err = b.AppendMessage(blk.message(i))
		}
		if err != nil {
			err = fmt.Errorf("zerobuslocal: table %q, row %d: %w", table, blk.firstSeq+int64(i), err)
		}
	})
	if err != nil {
		return nil, err
	}
	rec := b.NewRecordBatch()
	if cols == nil {
		return rec, nil
	}
	typed, err := typedRecord(mem, rec, cols)
	rec.Release()
	if err != nil {
		return nil, fmt.Errorf("zerobuslocal: table %q: %w", table, err)
	}
	return typed, nil
}

// typedRecord returns rec with the columns of cols whose Unity Catalog type
// has an Arrow type of its own (TIMESTAMP, TIMESTAMP_NTZ, DATE, DECIMAL, at
// any depth) in that type; rec itself (retained) when there are none. The
// caller releases both.
func typedRecord(mem memory.Allocator, rec arrow.RecordBatch, cols []Column) (arrow.RecordBatch, error) {
	schema := rec.Schema()
	if schema.NumFields() != len(cols) {
		rec.Retain()
		return rec, nil
	}
	fields := schema.Fields()
	arrs := make([]arrow.Array, len(fields))
	defer func() {
		for _, a := range arrs {
			if a != nil {
				a.Release()
			}
		}
	}()
	changed := false
	for i, f := range fields {
		if !strings.EqualFold(f.Name, cols[i].Name) {
			rec.Retain()
			return rec, nil
		}
		d, err := typedData(mem, cols[i].Type, rec.Column(i).Data(), 0)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", f.Name, err)
		}
		if d == nil {
			arrs[i] = rec.Column(i)
			arrs[i].Retain()
			continue
		}
		changed = true
		fields[i].Type = d.DataType()
		arrs[i] = array.MakeFromData(d)
		d.Release()
	}
	if !changed {
		rec.Retain()
		return rec, nil
	}
	md := schema.Metadata()
	return array.NewRecordBatch(arrow.NewSchema(fields, &md), arrs, rec.NumRows()), nil
}

// typedData returns d in the Arrow type of the Unity Catalog type ct (see
// typedRecord), or nil when that is d's type already or d is not stored as
// ct's protobuf form says (then it is left alone). The result is the
// caller's to release.
func typedData(mem memory.Allocator, ct ColumnType, d arrow.ArrayData, depth int) (arrow.ArrayData, error) {
	if depth > 64 {
		return nil, nil
	}
	retyped := func(dt arrow.DataType) arrow.ArrayData {
		return array.NewData(dt, d.Len(), d.Buffers(), d.Children(), d.NullN(), d.Offset())
	}
	id := d.DataType().ID()
	switch ct.Name {
	case TypeTimestamp:
		if id == arrow.INT64 {
			return retyped(&arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}), nil
		}
	case TypeTimestampNTZ:
		if id == arrow.INT64 {
			return retyped(&arrow.TimestampType{Unit: arrow.Microsecond}), nil
		}
	case TypeDate:
		if id == arrow.INT32 {
			return retyped(arrow.FixedWidthTypes.Date32), nil
		}
	case TypeDecimal:
		if id == arrow.STRING && ct.Precision >= 1 && ct.Precision <= 38 {
			return decimalData(mem, ct, d)
		}
	case TypeStruct:
		if id == arrow.STRUCT {
			return typedStruct(mem, ct.Fields, d, depth)
		}
	case TypeArray:
		if lt, ok := d.DataType().(*arrow.ListType); ok && ct.Element != nil {
			c, err := typedData(mem, *ct.Element, d.Children()[0], depth+1)
			if c == nil || err != nil {
				return nil, err
			}
			defer c.Release()
			ef := lt.ElemField()
			ef.Type = c.DataType()
			return array.NewData(arrow.ListOfField(ef), d.Len(), d.Buffers(), []arrow.ArrayData{c}, d.NullN(), d.Offset()), nil
		}
	case TypeMap:
		if mt, ok := d.DataType().(*arrow.MapType); ok && ct.Key != nil && ct.Value != nil {
			entries := d.Children()[0]
			kv := []Column{{Name: "key", Type: *ct.Key}, {Name: "value", Type: *ct.Value}}
			e, err := typedStruct(mem, kv, entries, depth)
			if e == nil || err != nil {
				return nil, err
			}
			defer e.Release()
			et := e.DataType().(*arrow.StructType)
			nt := arrow.MapOf(et.Field(0).Type, et.Field(1).Type) // as protoarrow and arrowTypeOf build maps
			nt.KeysSorted = mt.KeysSorted
			// The entries struct in the map type's own field names and nullability.
			ne := array.NewData(nt.Elem(), e.Len(), e.Buffers(), e.Children(), e.NullN(), e.Offset())
			defer ne.Release()
			return array.NewData(nt, d.Len(), d.Buffers(), []arrow.ArrayData{ne}, d.NullN(), d.Offset()), nil
		}
	}
	return nil, nil
}

// typedStruct is typedData for a struct whose fields are cols (matched by
// position and name).
func typedStruct(mem memory.Allocator, cols []Column, d arrow.ArrayData, depth int) (arrow.ArrayData, error) {
	st := d.DataType().(*arrow.StructType)
	if st.NumFields() != len(cols) {
		return nil, nil
	}
	children := d.Children()
	fields := st.Fields()
	var out []arrow.ArrayData // nil until a child changes
	defer func() {
		for i, c := range out {
			if c != children[i] {
				c.Release()
			}
		}
	}()
	for i, f := range fields {
		if !strings.EqualFold(f.Name, cols[i].Name) {
			return nil, nil
		}
		c, err := typedData(mem, cols[i].Type, children[i], depth+1)
		if err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
		if c == nil {
			continue
		}
		if out == nil {
			out = append([]arrow.ArrayData(nil), children...)
		}
		out[i] = c
		fields[i].Type = c.DataType()
	}
	if out == nil {
		return nil, nil
	}
	return array.NewData(arrow.StructOf(fields...), d.Len(), d.Buffers(), out, d.NullN(), d.Offset()), nil
}

// decimalData parses the stored decimal text of a DECIMAL(p,s) column
// (always in its stored form: rounded to s places, within p digits).
func decimalData(mem memory.Allocator, ct ColumnType, d arrow.ArrayData) (arrow.ArrayData, error) {
	strs := array.NewStringData(d)
	defer strs.Release()
	b := array.NewDecimal128Builder(mem, &arrow.Decimal128Type{Precision: int32(ct.Precision), Scale: int32(ct.Scale)})
	defer b.Release()
	b.Reserve(strs.Len())
	for i := 0; i < strs.Len(); i++ {
		if strs.IsNull(i) {
			b.AppendNull()
			continue
		}
		n, err := decimal128.FromString(strs.Value(i), int32(ct.Precision), int32(ct.Scale))
		if err != nil {
			return nil, fmt.Errorf("stored DECIMAL(%d,%d) text %q: %w", ct.Precision, ct.Scale, strs.Value(i), err)
		}
		b.Append(n)
	}
	a := b.NewDecimal128Array()
	defer a.Release()
	out := a.Data()
	out.Retain()
	return out, nil
}

// lookupTable returns the table, creating it when allowed with mk (which
// returns a table from the stream's schema; nil mk: a raw JSON table).
func (s *Server) lookupTable(name string, mk func() (*table, error)) (*table, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tables[name]; ok {
		return t, false, nil
	}
	if s.opts.DisableAutoCreate {
		return nil, false, fmt.Errorf("%w: %q", ErrNoTable, name)
	}
	t := &table{name: name}
	if mk != nil {
		var err error
		if t, err = mk(); err != nil {
			return nil, false, err
		}
	}
	s.tables[name] = t
	s.events.add(Event{Kind: EventTableCreated, Table: name})
	return t, true, nil
}

// store appends one request message's records atomically and stamps their
// Seq. The lock covers only the append.
func (s *Server) store(t *table, b *block) {
	s.mu.Lock()
	s.appendBlock(t, b)
	s.mu.Unlock()
	s.stats.recordsStored.Add(int64(b.len()))
}
