package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// s23Wrapper is a Wrapper writing debug files of table under dir, sending
// to a local server.
func s23Wrapper(t *testing.T, table, dir string) (*core.Wrapper, *zerobuslocal.Server) {
	t.Helper()
	srv, err := zerobuslocal.Start(context.Background(), zerobuslocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	cfg := core.DefaultConfig()
	cfg.Endpoint = srv.Endpoint()
	cfg.UnityCatalogURL = srv.WorkspaceURL()
	cfg.ClientID = srv.ClientID()
	cfg.ClientSecret = srv.ClientSecret()
	cfg.TableName = table
	cfg.DebugEnabled = true
	cfg.DebugOutputDir = dir
	cfg.AckTimeout = 5 * time.Second
	w, err := core.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w, srv
}

func s23Dec(t *testing.T, s string, prec, scale int32) decimal128.Num {
	t.Helper()
	v, err := decimal128.FromString(s, prec, scale)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// s23 dbgread 1: a decimal nested in a STRUCT, ARRAY or MAP printed as a
// float (arrow-go's "1e-08", "1.1"); it prints as its exact text, every
// digit of its scale, as a top-level one does. The file is written by a
// Wrapper with debug output on.
func TestS23DebugReadNestedDecimalsExact(t *testing.T) {
	dir := t.TempDir()
	w, _ := s23Wrapper(t, "main.default.nesteddec", dir)
	big := &arrow.Decimal128Type{Precision: 38, Scale: 2}
	small := &arrow.Decimal128Type{Precision: 10, Scale: 8}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "d", Type: big, Nullable: true},
		{Name: "s", Type: arrow.StructOf(
			arrow.Field{Name: "x", Type: big, Nullable: true},
			arrow.Field{Name: "y", Type: small, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(small), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, big), Nullable: true},
		{Name: "ls", Type: arrow.ListOf(arrow.StructOf(arrow.Field{Name: "z", Type: big, Nullable: true})), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	bigVals := []string{"12345678901234567.89", "1.10"}
	smallVals := []string{"0.00000001", "12.00000000"}
	for r := range 2 {
		b.Field(0).(*array.Decimal128Builder).Append(s23Dec(t, bigVals[r], 38, 2))
		sb := b.Field(1).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Decimal128Builder).Append(s23Dec(t, bigVals[r], 38, 2))
		sb.FieldBuilder(1).(*array.Decimal128Builder).Append(s23Dec(t, smallVals[r], 10, 8))
		lb := b.Field(2).(*array.ListBuilder)
		lb.Append(true)
		lb.ValueBuilder().(*array.Decimal128Builder).Append(s23Dec(t, smallVals[r], 10, 8))
		mb := b.Field(3).(*array.MapBuilder)
		mb.Append(true)
		mb.KeyBuilder().(*array.StringBuilder).Append("k")
		mb.ItemBuilder().(*array.Decimal128Builder).Append(s23Dec(t, bigVals[r], 38, 2))
		lsb := b.Field(4).(*array.ListBuilder)
		lsb.Append(true)
		esb := lsb.ValueBuilder().(*array.StructBuilder)
		esb.Append(true)
		esb.FieldBuilder(0).(*array.Decimal128Builder).Append(s23Dec(t, bigVals[1-r], 38, 2))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if _, err := w.SendBatch(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "zerobus", "arrow", "main.default.nesteddec.arrow")

	out, err := runDebugCmd(t, "read", path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"d":"12345678901234567.89","s":{"x":"12345678901234567.89","y":"0.00000001"},"l":["0.00000001"],"m":[{"key":"k","value":"12345678901234567.89"}],"ls":[{"z":"1.10"}]}`,
		`{"d":"1.10","s":{"x":"1.10","y":"12.00000000"},"l":["12.00000000"],"m":[{"key":"k","value":"1.10"}],"ls":[{"z":"12345678901234567.89"}]}`,
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(out), "\n")); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}

	out, err = runDebugCmd(t, "read", "-format", "table", "-limit", "1", path)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		rows = append(rows, strings.Join(strings.Fields(line), " "))
	}
	wantTable := []string{
		"d s l m ls",
		`12345678901234567.89 {"x":"12345678901234567.89","y":"0.00000001"} ["0.00000001"] [{"key":"k","value":"12345678901234567.89"}] [{"z":"1.10"}]`,
	}
	if diff := cmp.Diff(wantTable, rows); diff != "" {
		t.Errorf("table (-want +got):\n%s", diff)
	}

	// The protobuf debug file of the same batch has the same decimal text.
	out, err = runDebugCmd(t, "read", filepath.Join(dir, "zerobus", "proto", "main.default.nesteddec.proto"))
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{`"x":"12345678901234567.89"`, `"y":"0.00000001"`, `"l":["12.00000000"]`} {
		if !strings.Contains(out, text) {
			t.Errorf("protobuf file's json lacks %s:\n%s", text, out)
		}
	}
}

// The other nested shapes a debug file may hold (dictionary, run-end
// encoded, union, fixed-size list, large list) print their decimals exactly
// too; a nested value without a decimal is printed as arrow-go prints it.
func TestS23DebugReadNestedDecimalShapes(t *testing.T) {
	mem := memory.DefaultAllocator
	dt := &arrow.Decimal128Type{Precision: 10, Scale: 8}
	vals := array.NewDecimal128Builder(mem, dt)
	vals.Append(s23Dec(t, "0.00000001", 10, 8))
	vals.Append(s23Dec(t, "1.10000000", 10, 8))
	dict := vals.NewArray()
	defer dict.Release()
	idx := array.NewInt32Builder(mem)
	idx.AppendValues([]int32{1, 0}, nil)
	indices := idx.NewArray()
	defer indices.Release()
	dictArr := array.NewDictionaryArray(&arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: dt}, indices, dict)
	defer dictArr.Release()
	// a struct holding the dictionary
	dictStruct, err := array.NewStructArray([]arrow.Array{dictArr}, []string{"dd"})
	if err != nil {
		t.Fatal(err)
	}
	defer dictStruct.Release()

	ends := array.NewInt32Builder(mem)
	ends.AppendValues([]int32{2}, nil)
	endsArr := ends.NewArray()
	defer endsArr.Release()
	one := array.NewSlice(dict, 0, 1)
	defer one.Release()
	ree := array.NewRunEndEncodedArray(endsArr, one, 2, 0)
	defer ree.Release()
	reeList, err := array.NewStructArray([]arrow.Array{ree}, []string{"r"})
	if err != nil {
		t.Fatal(err)
	}
	defer reeList.Release()

	codes := array.NewInt8Builder(mem)
	codes.AppendValues([]int8{0, 1}, nil)
	codesArr := codes.NewArray()
	defer codesArr.Release()
	strs := array.NewStringBuilder(mem)
	strs.AppendValues([]string{"a", ""}, []bool{true, false}) // row 1 selects the null
	strArr := strs.NewArray()
	defer strArr.Release()
	union, err := array.NewSparseUnionFromArrays(codesArr, []arrow.Array{dict, strArr})
	if err != nil {
		t.Fatal(err)
	}
	defer union.Release()

	fsl := array.NewFixedSizeListBuilder(mem, 2, dt)
	fsl.Append(true)
	fsl.ValueBuilder().(*array.Decimal128Builder).Append(s23Dec(t, "1.10000000", 10, 8))
	fsl.ValueBuilder().(*array.Decimal128Builder).Append(s23Dec(t, "0.00000001", 10, 8))
	fsl.AppendNull()
	fsl.ValueBuilder().(*array.Decimal128Builder).AppendNull()
	fsl.ValueBuilder().(*array.Decimal128Builder).AppendNull()
	fslArr := fsl.NewArray()
	defer fslArr.Release()

	ll := array.NewLargeListBuilder(mem, arrow.PrimitiveTypes.Int64)
	ll.Append(true)
	ll.ValueBuilder().(*array.Int64Builder).Append(7)
	ll.Append(true)
	llArr := ll.NewArray()
	defer llArr.Release()

	cols := []arrow.Array{dictStruct, reeList, union, fslArr, llArr}
	names := []string{"dict", "ree", "union", "fsl", "plain"}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: names[i], Type: c.DataType(), Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	rec := array.NewRecordBatch(schema, cols, 2)
	defer rec.Release()
	p := filepath.Join(t.TempDir(), "shapes.arrow")
	writeArrow(t, p, true, schema, []arrow.RecordBatch{rec})

	out, err := runDebugCmd(t, "read", p)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"dict":{"dd":"1.10000000"},"ree":{"r":"0.00000001"},"union":[0,"0.00000001"],"fsl":["1.10000000","0.00000001"],"plain":[7]}`,
		`{"dict":{"dd":"0.00000001"},"ree":{"r":"0.00000001"},"union":null,"fsl":null,"plain":[]}`,
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(out), "\n")); diff != "" {
		t.Errorf("json (-want +got):\n%s", diff)
	}
}
