package zerobuslocal_test

import (
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// The server checks a descriptor's field order against the table's at
// every level, as the service does (FIELD_OUT_OF_ORDER): a STRUCT column's
// message, an ARRAY's STRUCT elements and a MAP's STRUCT values. Names are
// compared exactly: a field "ID" is not the column "id" (the service's rule
// for case is not documented; the client sends the table's spelling, so
// the local server stays strict and a client that does not is caught).
func TestSchemaValidationOrderAndCaseAtEveryLevel(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	cc := dial(t, s)
	const table = "main.default.order_levels"
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, s STRUCT<a:BIGINT, b:STRING>, " +
		"items ARRAY<STRUCT<a:BIGINT, b:STRING>>, m MAP<STRING,STRUCT<a:BIGINT, b:STRING>>")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	base, ok := s.TableDescriptor(table)
	if !ok {
		t.Fatal("no descriptor for the table")
	}
	tok := token(t, s, table)
	// message returns the nested message of d named by the type of field
	// col (for a map, of its entries' value).
	message := func(d *descriptorpb.DescriptorProto, col string) *descriptorpb.DescriptorProto {
		byName := func(full string) *descriptorpb.DescriptorProto {
			for _, m := range d.GetNestedType() {
				if "."+d.GetName()+"."+m.GetName() == full {
					return m
				}
			}
			t.Fatalf("no nested message %s in %v", full, d)
			return nil
		}
		for _, f := range d.GetField() {
			if f.GetName() != col {
				continue
			}
			m := byName(f.GetTypeName())
			if m.GetOptions().GetMapEntry() {
				m = byName(m.GetField()[1].GetTypeName())
			}
			return m
		}
		t.Fatalf("no field %s", col)
		return nil
	}
	swapped := func(col string) *descriptorpb.DescriptorProto {
		d := proto.Clone(base).(*descriptorpb.DescriptorProto)
		m := message(d, col)
		m.Field[0], m.Field[1] = m.Field[1], m.Field[0]
		return d
	}
	upper := proto.Clone(base).(*descriptorpb.DescriptorProto)
	upper.Field[0].Name = proto.String("ID")
	tests := []struct {
		name, causes, substr string
		desc                 *descriptorpb.DescriptorProto
	}{
		{"struct", "FIELD_OUT_OF_ORDER", `field "s.b" is at position 1, the table has it at 2`, swapped("s")},
		{"array of struct", "FIELD_OUT_OF_ORDER", `field "items.b" is at position 1, the table has it at 2`, swapped("items")},
		{"map of struct", "FIELD_OUT_OF_ORDER", `field "m.value.b" is at position 1, the table has it at 2`, swapped("m")},
		{"column case", "FIELD_NOT_IN_TABLE,MISSING_REQUIRED_COLUMN", `field "ID" is not a column of the table`, upper},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := openStream(t, cc, tok, table)
			st.send(createReq(table, tc.desc, zerobuspb.RecordType_PROTO))
			_, err := st.c.Recv()
			wantStatus(t, err, codes.InvalidArgument, tc.substr)
			var info *errdetails.ErrorInfo
			for _, d := range status.Convert(err).Details() {
				if ei, ok := d.(*errdetails.ErrorInfo); ok {
					info = ei
				}
			}
			if got := info.GetMetadata()["causes"]; got != tc.causes {
				t.Errorf("causes %q, want %q (%v)", got, tc.causes, err)
			}
		})
	}
	// The table's own descriptor is accepted.
	st := openStream(t, cc, tok, table)
	st.create(table, base, zerobuspb.RecordType_PROTO)
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
}
