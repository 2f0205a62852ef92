package zerobuslocal_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A batch whose body arrow-go reads without complaint but whose string
// offsets fall (row 1 ends before it starts) ends the DoPut with
// INVALID_ARGUMENT naming the offset, column and row; the batch before it
// is stored and acknowledged, nothing of the damaged one is, and the
// server goes on serving.
func TestFlightDamagedBody(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)
	f := openFlight(t, s, tok, testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	good := flightRows(t, 0, 2)
	defer good.Release()
	f.send(good, 0)
	f.expect(0, 2)

	rec := flightRows(t, 2, 3) // names "n2", null, "n4": offsets [0 2 2 4]
	defer rec.Release()
	names := rec.Column(1).Data()
	offs := bytes.Clone(names.Buffers()[1].Bytes())
	binary.LittleEndian.PutUint64(offs[8:], 3) // [0 3 2 4]
	bad := array.MakeFromData(array.NewData(names.DataType(), names.Len(),
		[]*memory.Buffer{names.Buffers()[0], memory.NewBufferBytes(offs), names.Buffers()[2]}, nil, names.NullN(), 0))
	defer bad.Release()
	cols := append([]arrow.Array(nil), rec.Columns()...)
	cols[1] = bad
	damaged := array.NewRecordBatch(flightSchema, cols, 3)
	defer damaged.Release()
	f.send(damaged, 1)
	wantStatus(t, f.drain(), codes.InvalidArgument,
		"batch at offset 1: corrupt Arrow data: column name, row 1: offset 2 is 2, below the offset 3 before it (the whole batch is rejected")
	if diff := cmp.Diff(seq(0, 2), storedIDs(t, s, testTable)); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}

	f = openFlight(t, s, tok, testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	next := flightRows(t, 2, 3)
	defer next.Release()
	f.send(next, 0)
	f.expect(0, 3)
	_ = f.c.CloseSend()
	if err := f.drain(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(seq(0, 5), storedIDs(t, s, testTable)); diff != "" {
		t.Errorf("stored ids (-want +got):\n%s", diff)
	}
}
