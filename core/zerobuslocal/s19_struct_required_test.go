package zerobuslocal_test

import (
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A STRUCT's NOT NULL field marked required in the client's descriptor (the
// official Rust SDK's descriptor_from_uc_columns does so) agrees with the
// table, whose own descriptor has every STRUCT field optional: the stream is
// created and its rows stored. A nullable STRUCT field marked required is
// still refused. Before, both were refused with TYPE_INCOMPATIBLE.
func TestStructNotNullFieldMarkedRequired(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const table = "main.default.struct_required"
	cols := mustColumns(t, "id BIGINT NOT NULL, addr STRUCT<zip:STRING NOT NULL, city:STRING>")
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	full, _ := s.TableDescriptor(table)
	withRequired := func(field string) *descriptorpb.DescriptorProto {
		d := proto.Clone(full).(*descriptorpb.DescriptorProto)
		for _, nt := range d.GetNestedType() {
			for _, f := range nt.GetField() {
				if nt.GetName() == "Addr" && f.GetName() == field {
					f.Label = descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum()
				}
			}
		}
		return d
	}
	cc := dial(t, s)
	tok := token(t, s, table)

	st := openStream(t, cc, tok, table)
	st.create(table, withRequired("zip"), zerobuspb.RecordType_PROTO)
	addr := protowire.AppendTag(nil, 1, protowire.BytesType)
	addr = protowire.AppendString(addr, "12345")
	rec := protowire.AppendTag(nil, 1, protowire.VarintType)
	rec = protowire.AppendVarint(rec, 7)
	rec = protowire.AppendTag(rec, 2, protowire.BytesType)
	rec = protowire.AppendBytes(rec, addr)
	st.send(recordReq(0, rec))
	st.expectAck(0)
	if err := st.finish(); err != nil {
		t.Fatalf("stream end: %v", err)
	}
	rows := s.Rows(table)
	if len(rows) != 1 {
		t.Fatalf("stored %d rows, want 1", len(rows))
	}
	m := rows[0].Message
	fields := m.Descriptor().Fields()
	if got := m.Get(fields.ByName("id")).Int(); got != 7 {
		t.Errorf("id = %d, want 7", got)
	}
	a := m.Get(fields.ByName("addr")).Message()
	af := a.Descriptor().Fields()
	if got := a.Get(af.ByName("zip")).String(); got != "12345" {
		t.Errorf("addr.zip = %q, want 12345", got)
	}
	if a.Has(af.ByName("city")) {
		t.Errorf("addr.city is set, want null")
	}

	st = openStream(t, cc, tok, table)
	st.send(createReq(table, withRequired("city"), zerobuspb.RecordType_PROTO))
	wantStatus(t, st.drain(), codes.InvalidArgument, `TYPE_INCOMPATIBLE: field "addr.city" is required, the table column is optional`)
}
