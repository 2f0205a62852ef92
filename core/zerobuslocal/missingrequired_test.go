package zerobuslocal_test

import (
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// A PROTO or JSON record that leaves out a NOT NULL column (or sends it as
// JSON null) is refused naming the column as the Arrow Flight and Avro
// paths do, `column "label": null in a NOT NULL column`. It read "cannot
// decode as T: proto: required field T.label not set", with protobuf-go's
// "proto:" prefix whose space is U+00A0 in some builds (found driving the
// official Java SDK, tests_py/test_official_java_sdk.py).
func TestMissingNotNullColumnNamed(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	const table = "main.default.not_null_named"
	cols, err := zerobuslocal.ParseColumns("id BIGINT NOT NULL, label STRING NOT NULL, name STRING")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateTableColumns(table, cols); err != nil {
		t.Fatal(err)
	}
	desc, ok := s.TableDescriptor(table)
	if !ok {
		t.Fatal("no descriptor")
	}
	desc = proto.Clone(desc).(*descriptorpb.DescriptorProto)
	cc := dial(t, s)
	tok := token(t, s, table)
	good := rawEvent(1, strField(2, "l"))
	const want = `record 1 of 2: column "label": null in a NOT NULL column (the whole request is rejected)`
	for _, tc := range []struct {
		name string
		rt   zerobuspb.RecordType
		msg  *req
		want string
	}{
		{"proto without label", zerobuspb.RecordType_PROTO, batchReq(0, good, rawEvent(2, strField(3, "n"))), want},
		{"proto without id and label", zerobuspb.RecordType_PROTO,
			batchReq(0, good, protowire.AppendString(protowire.AppendTag(nil, 3, protowire.BytesType), "n")),
			`record 1 of 2: column "id": null in a NOT NULL column`},
		{"json label null", zerobuspb.RecordType_JSON, jsonReq(0, `{"id": 1, "label": "l"}`, `{"id": 2, "label": null}`), want},
		{"json without label", zerobuspb.RecordType_JSON, jsonReq(0, `{"id": 1, "label": "l"}`, `{"id": 2}`), want},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStream(t, cc, tok, table)
			if tc.rt == zerobuspb.RecordType_JSON {
				st.create(table, nil, tc.rt)
			} else {
				st.create(table, desc, tc.rt)
			}
			st.send(tc.msg)
			err := st.finish()
			wantStatus(t, err, codes.InvalidArgument, tc.want)
			if msg := status.Convert(err).Message(); strings.Contains(msg, "proto:") || strings.Contains(msg, "\u00a0") {
				t.Errorf("message %q: want no protobuf-go prefix", msg)
			}
		})
	}
	if n := s.RecordCount(table); n != 0 {
		t.Errorf("RecordCount: %d, want 0 (whole requests rejected)", n)
	}
}
