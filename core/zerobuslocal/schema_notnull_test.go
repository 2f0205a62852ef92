package zerobuslocal_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A PROTO stream whose descriptor leaves out a NOT NULL column is refused
// with MISSING_REQUIRED_COLUMN also when the descriptor cannot mark the
// column required (an ARRAY column is repeated, a STRUCT's fields are
// optional), as Avro and Arrow schemas are; it used to give only
// FIELD_COUNT_MISMATCH (found by tests_py/test_official_sdk_random.py).
func TestMissingNotNullColumnInDescriptor(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const table = "main.default.missing_nn"
	cols := mustColumns(t, "id BIGINT NOT NULL, tags ARRAY<STRING> NOT NULL, addr STRUCT<zip:STRING NOT NULL, city:STRING>, note STRING")
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	full, _ := s.TableDescriptor(table)
	without := func(d *descriptorpb.DescriptorProto, name string) *descriptorpb.DescriptorProto {
		out := proto.Clone(d).(*descriptorpb.DescriptorProto)
		out.Field = nil
		for _, f := range d.GetField() {
			if f.GetName() != name {
				out.Field = append(out.Field, f)
			}
		}
		return out
	}
	noZip := proto.Clone(full).(*descriptorpb.DescriptorProto)
	for i, nt := range noZip.GetNestedType() {
		if nt.GetName() == "Addr" {
			noZip.NestedType[i] = without(nt, "zip")
		}
	}
	cc := dial(t, s)
	tok := token(t, s, table)
	for _, tc := range []struct {
		desc   *descriptorpb.DescriptorProto
		substr string
	}{
		{without(full, "tags"), `MISSING_REQUIRED_COLUMN: NOT NULL column "tags" has no field in the stream descriptor`},
		{noZip, `MISSING_REQUIRED_COLUMN: NOT NULL column "addr.zip" has no field in the stream descriptor`},
	} {
		st := openStream(t, cc, tok, table)
		st.send(createReq(table, tc.desc, zerobuspb.RecordType_PROTO))
		wantStatus(t, st.drain(), codes.InvalidArgument, tc.substr)
	}
	// A nullable column left out is a count mismatch only.
	st := openStream(t, cc, tok, table)
	st.send(createReq(table, without(full, "note"), zerobuspb.RecordType_PROTO))
	err := st.drain()
	wantStatus(t, err, codes.InvalidArgument, "FIELD_COUNT_MISMATCH")
	if msg := err.Error(); strings.Contains(msg, "MISSING_REQUIRED_COLUMN") {
		t.Errorf("a nullable column reported as required: %s", msg)
	}
}
