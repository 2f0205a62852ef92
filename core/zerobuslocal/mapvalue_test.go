package zerobuslocal_test

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A MAP whose value is a STRUCT makes a table (its value message is the
// map entry's sibling: an entry may not declare nested types), also beside
// a struct column whose message name would be the same ("m_value" ->
// "MValue"), and the client's descriptor for the same columns matches it.
// Found by TestRoundTripRandom (seed 3): every such table failed to be
// created ("is an invalid map: message must not have any nested
// declarations").
func TestMapOfStructColumns(t *testing.T) {
	s := start(t, zerobuslocal.Options{DisableAutoCreate: true})
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, m MAP<STRING, STRUCT<a: INT, b: STRUCT<c: STRING>>>, " +
		"m_value STRUCT<x: DOUBLE>, l ARRAY<STRUCT<k: MAP<INT, STRUCT<v: BOOLEAN>>>>")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(testTable, cols); err != nil {
		t.Fatalf("CreateTableColumns: %v", err)
	}
	desc, _ := s.TableDescriptor(testTable)
	md, err := protoarrow.MessageDescriptor(desc)
	if err != nil {
		t.Fatal(err)
	}
	m := md.Fields().ByName("m")
	if !m.IsMap() || m.MapValue().Message() == nil || m.MapValue().Message().Fields().ByName("b").Message() == nil {
		t.Fatalf("field m is %v, want map<string, message{a, b: message}>", m)
	}
	if mv := md.Fields().ByName("m_value").Message(); mv == nil || mv.FullName() == m.MapValue().Message().FullName() {
		t.Fatalf("m_value and m's value share a message: %v", mv)
	}
	st := arrow.StructOf
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, st(
			arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "b", Type: st(arrow.Field{Name: "c", Type: arrow.BinaryTypes.String, Nullable: true}), Nullable: true})), Nullable: true},
		{Name: "m_value", Type: st(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true}), Nullable: true},
		{Name: "l", Type: arrow.ListOf(st(arrow.Field{Name: "k", Type: arrow.MapOf(arrow.PrimitiveTypes.Int32,
			st(arrow.Field{Name: "v", Type: arrow.FixedWidthTypes.Boolean, Nullable: true})), Nullable: true})), Nullable: true},
	}, nil)
	plan, err := convert.NewPlan(schema, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stream := openStream(t, dial(t, s), token(t, s, testTable), testTable)
	stream.create(testTable, plan.Descriptor(), zerobuspb.RecordType_PROTO)
	if err := stream.finish(); err != nil {
		t.Fatalf("stream with the client's descriptor: %v", err)
	}
}

// A STRUCT column whose name is already UpperCamel ("Point") gets a
// message name that is not a field name of the same message (protobuf
// declares both in one scope), and a struct whose message name would be a
// map's entry name ("point_entry_entry" beside the map "PointEntry") takes
// another, as a map entry must be named after its field; the client's
// descriptor for them matches. Found by TestRoundTripRandom (seed 36 and a
// long run): the table could not be created ("Point" already declared,
// "incorrect implicit map entry name").
func TestStructColumnNamedLikeItsMessage(t *testing.T) {
	s := start(t, zerobuslocal.Options{DisableAutoCreate: true})
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, Point STRUCT<x: DOUBLE, Inner: STRUCT<y: INT>>, " +
		"point_entry_entry STRUCT<z: INT>, PointEntry MAP<STRING, INT>")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(testTable, cols); err != nil {
		t.Fatalf("CreateTableColumns: %v", err)
	}
	st := arrow.StructOf
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "Point", Type: st(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
			arrow.Field{Name: "Inner", Type: st(arrow.Field{Name: "y", Type: arrow.PrimitiveTypes.Int32, Nullable: true}), Nullable: true}), Nullable: true},
		{Name: "point_entry_entry", Type: st(arrow.Field{Name: "z", Type: arrow.PrimitiveTypes.Int32, Nullable: true}), Nullable: true},
		{Name: "PointEntry", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int32), Nullable: true},
	}, nil)
	plan, err := convert.NewPlan(schema, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stream := openStream(t, dial(t, s), token(t, s, testTable), testTable)
	stream.create(testTable, plan.Descriptor(), zerobuspb.RecordType_PROTO)
	if err := stream.finish(); err != nil {
		t.Fatalf("stream with the client's descriptor: %v", err)
	}
}

// A map column's entry message must be named <Camel>Entry: a STRUCT column
// c_entry before the map column c takes another name (it took CEntry, and
// the map's entry, CEntry_2, was refused: "incorrect implicit map entry
// name"), and a column or another map that needs the same name is an
// error naming both columns and what to do (it was protobuf's "already
// declared", naming neither).
func TestMapEntryNames(t *testing.T) {
	for _, c := range []struct{ ddl, err string }{
		{"id BIGINT NOT NULL, c_entry STRUCT<x: INT>, c MAP<STRING, INT>", ""},
		{"id BIGINT NOT NULL, c MAP<STRING, INT>, c_entry STRUCT<x: INT>", ""},
		{"p MAP<STRING, INT>, PEntry INT", `column "p" (map<string,int>): a map column needs a nested message named "PEntry" for its entries, which column "PEntry" already uses`},
		{"PEntry INT, p MAP<STRING, INT>", `column "p" (map<string,int>): a map column needs a nested message named "PEntry" for its entries, which column "PEntry" already uses`},
		{"a_b MAP<STRING, INT>, aB MAP<STRING, INT>", `column "aB" (map<string,int>): a map column needs a nested message named "ABEntry" for its entries, which column "a_b" already uses`},
		{"s STRUCT<p: MAP<STRING, INT>, PEntry: INT>", `column "s.p" (map<string,int>): a map column needs a nested message named "PEntry" for its entries, which column "s.PEntry" already uses`},
	} {
		s := start(t, zerobuslocal.Options{DisableAutoCreate: true})
		cols, err := zerobuslocal.ParseColumns(c.ddl)
		if err != nil {
			t.Fatal(err)
		}
		err = s.CreateTableColumns(testTable, cols)
		if c.err == "" {
			if err != nil {
				t.Errorf("%s: %v", c.ddl, err)
				continue
			}
			desc, _ := s.TableDescriptor(testTable)
			md, err := protoarrow.MessageDescriptor(desc)
			if err != nil {
				t.Fatalf("%s: %v", c.ddl, err)
			}
			if m := md.Fields().ByName("c"); !m.IsMap() || m.Message().Name() != "CEntry" || md.Fields().ByName("c_entry").Message() == nil {
				t.Errorf("%s: c is %v", c.ddl, m)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) || !strings.Contains(err.Error(), "rename one of them") {
			t.Errorf("%s: %v, want %q", c.ddl, err, c.err)
		}
	}
}
