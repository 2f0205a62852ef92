package tests_go

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// readingDescriptor is a hand-built proto2 message for eventSchema's
// columns with field numbers no derived descriptor would pick, plus an
// optional field that has no column.
func readingDescriptor() *descriptorpb.DescriptorProto {
	field := func(name string, num int32, label descriptorpb.FieldDescriptorProto_Label, typ descriptorpb.FieldDescriptorProto_Type) *descriptorpb.FieldDescriptorProto {
		return &descriptorpb.FieldDescriptorProto{Name: proto.String(name), Number: proto.Int32(num), Label: label.Enum(), Type: typ.Enum()}
	}
	const (
		required = descriptorpb.FieldDescriptorProto_LABEL_REQUIRED
		optional = descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL
	)
	return &descriptorpb.DescriptorProto{
		Name: proto.String("Reading"),
		Field: []*descriptorpb.FieldDescriptorProto{
			field("id", 10, required, descriptorpb.FieldDescriptorProto_TYPE_INT64),
			field("name", 20, optional, descriptorpb.FieldDescriptorProto_TYPE_STRING),
			field("score", 30, optional, descriptorpb.FieldDescriptorProto_TYPE_DOUBLE),
			field("unused", 50, optional, descriptorpb.FieldDescriptorProto_TYPE_INT32),
		},
	}
}

// fieldNumbers maps a descriptor's field names to numbers.
func fieldNumbers(d *descriptorpb.DescriptorProto) map[string]int32 {
	out := map[string]int32{}
	for _, f := range d.GetField() {
		out[f.GetName()] = f.GetNumber()
	}
	return out
}

// TestSendWithDescriptor: with WithDescriptor the records are encoded with
// the caller's field numbers, the stream (and so the table) uses that
// descriptor, and every value arrives.
func TestSendWithDescriptor(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.with_descriptor"
	desc := readingDescriptor()
	before := proto.Clone(desc)
	w := newWrapper(t, serverConfig(srv, table), core.WithDescriptor(desc))

	const rows = 300
	rec := eventBatch(mem, 0, rows)
	defer rec.Release()
	res, err := w.SendBatch(testCtx(t), rec)
	if err != nil {
		t.Fatalf("SendBatch: %v", err)
	}
	checkInvariant(t, res, rows)
	if !proto.Equal(before, desc) {
		t.Errorf("the caller's descriptor was modified: %v", desc)
	}

	got, ok := srv.TableDescriptor(table)
	if !ok {
		t.Fatal("the table was not created")
	}
	if diff := cmp.Diff(map[string]int32{"id": 10, "name": 20, "score": 30, "unused": 50}, fieldNumbers(got)); diff != "" {
		t.Errorf("table descriptor fields (-want +got):\n%s", diff)
	}
	if got.GetName() != "Reading" {
		t.Errorf("table message name = %q, want Reading", got.GetName())
	}

	stored := srv.Rows(table)
	if len(stored) != rows {
		t.Fatalf("server stored %d rows, want %d", len(stored), rows)
	}
	seen := map[int64]bool{}
	for _, r := range stored {
		if num, _, n := protowire.ConsumeTag(r.Raw); n < 0 || num != 10 {
			t.Fatalf("record %x starts with field %d, want the descriptor's id field 10", r.Raw, num)
		}
		v, ok := field(r.Message, "id")
		if !ok {
			t.Fatalf("row without id: %v", r.Message)
		}
		id := v.Int()
		seen[id] = true
		name, hasName := field(r.Message, "name")
		if id%7 == 0 {
			if hasName {
				t.Errorf("id %d: name = %q, want unset (null)", id, name.String())
			}
		} else if !hasName || name.String() != fmt.Sprintf("event-%d", id) {
			t.Errorf("id %d: name = %q (set %v), want event-%d", id, name.String(), hasName, id)
		}
		if score, ok := field(r.Message, "score"); !ok || score.Float() != float64(id)/2 {
			t.Errorf("id %d: score = %v (set %v), want %v", id, score.Float(), ok, float64(id)/2)
		}
		if _, ok := field(r.Message, "unused"); ok {
			t.Errorf("id %d: field unused is set, want unset (no column)", id)
		}
	}
	if len(seen) != rows {
		t.Errorf("%d distinct ids stored, want %d", len(seen), rows)
	}
}

// TestSendWithDescriptorMismatch: an Arrow schema that does not fit the
// caller's descriptor fails the whole batch at the first SendBatch with a
// *ConversionError naming every problem; nothing is sent.
func TestSendWithDescriptorMismatch(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*descriptorpb.DescriptorProto)
		want   []string
	}{
		{"incompatible type", func(d *descriptorpb.DescriptorProto) {
			d.Field[0].Type = descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()
		}, []string{`"id"`}},
		{"column without field", func(d *descriptorpb.DescriptorProto) {
			d.Field = d.Field[:2] // drops score
		}, []string{`"score"`}},
		{"required field without column", func(d *descriptorpb.DescriptorProto) {
			d.Field[3].Label = descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum()
		}, []string{"unused"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			srv := startServer(t, zerobuslocal.Options{})
			table := fmt.Sprintf("main.default.desc_mismatch_%d", i)
			desc := readingDescriptor()
			tc.mutate(desc)
			w := newWrapper(t, serverConfig(srv, table), core.WithDescriptor(desc))
			rec := eventBatch(mem, 0, 20)
			defer rec.Release()
			res, err := w.SendBatch(testCtx(t), rec)
			if err == nil {
				t.Fatal("SendBatch: nil error, want a conversion error")
			}
			checkInvariant(t, res, 20)
			if res.FailedCount != 20 {
				t.Errorf("FailedCount = %d, want 20", res.FailedCount)
			}
			var ce *core.ConversionError
			if !errors.As(err, &ce) || ce.Row != -1 {
				t.Fatalf("error = %#v, want a schema-level *core.ConversionError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
			if n := srv.RecordCount(table); n != 0 {
				t.Errorf("server stored %d rows, want 0", n)
			}
		})
	}
}

// TestSendWithMessage: WithMessage uses a generated proto2 message's
// descriptor (descriptorpb's UninterpretedOption.NamePart: two required
// fields); a null in a required column fails that row alone.
func TestSendWithMessage(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	srv := startServer(t, zerobuslocal.Options{})
	const table = "main.default.with_message"
	w := newWrapper(t, serverConfig(srv, table), core.WithMessage(&descriptorpb.UninterpretedOption_NamePart{}))

	schema := arrow.NewSchema([]arrow.Field{
		{Name: "name_part", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "is_extension", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	const rows, nullRow = 40, 13
	for i := range rows {
		if i == nullRow {
			b.Field(0).(*array.StringBuilder).AppendNull()
		} else {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("part_%d", i))
		}
		b.Field(1).(*array.BooleanBuilder).Append(i%2 == 1)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()

	res, err := w.SendBatch(testCtx(t), rec)
	if err == nil {
		t.Fatal("SendBatch: nil error, want row 13 to fail")
	}
	checkInvariant(t, res, rows)
	if res.FailedCount != 1 || res.FailedRows[0].Index != nullRow {
		t.Fatalf("failed rows = %+v, want only row %d", res.FailedRows, nullRow)
	}
	var ce *core.ConversionError
	if !errors.As(res.FailedRows[0].Err, &ce) || ce.Row != nullRow || ce.Column != "name_part" {
		t.Errorf("row %d error = %#v, want *core.ConversionError{Row: %d, Column: name_part}", nullRow, res.FailedRows[0].Err, nullRow)
	}

	got, _ := srv.TableDescriptor(table)
	want := (&descriptorpb.UninterpretedOption_NamePart{}).ProtoReflect().Descriptor()
	if got.GetName() != string(want.Name()) || len(got.GetField()) != want.Fields().Len() {
		t.Errorf("table descriptor = %v, want the fields of %s", got, want.FullName())
	}
	stored := map[string]bool{}
	for _, r := range srv.Rows(table) {
		// The stored bytes are a valid NamePart.
		var np descriptorpb.UninterpretedOption_NamePart
		if err := proto.Unmarshal(r.Raw, &np); err != nil {
			t.Fatalf("stored record is not a NamePart: %v", err)
		}
		stored[np.GetNamePart()] = true
		var i int
		if _, err := fmt.Sscanf(np.GetNamePart(), "part_%d", &i); err != nil {
			t.Fatalf("stored name_part %q: %v", np.GetNamePart(), err)
		}
		if np.GetIsExtension() != (i%2 == 1) {
			t.Errorf("%s: is_extension = %v, want %v", np.GetNamePart(), np.GetIsExtension(), i%2 == 1)
		}
	}
	if len(stored) != rows-1 || stored[fmt.Sprintf("part_%d", nullRow)] {
		t.Errorf("server stored %d distinct rows, want %d (all but row %d)", len(stored), rows-1, nullRow)
	}
}
