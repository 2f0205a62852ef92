package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/google/go-cmp/cmp"
	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"
)

// The fixtures are written in the debug file formats directly (cmd/ cannot
// import core/internal/debugfile), which also pins the formats.

var debugSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

func writeArrowFixture(t *testing.T, dir string, batches, rows int) string {
	t.Helper()
	p := filepath.Join(dir, "t.arrow")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := ipc.NewWriter(f, ipc.WithSchema(debugSchema))
	for b := 0; b < batches; b++ {
		rb := array.NewRecordBuilder(memory.DefaultAllocator, debugSchema)
		for i := 0; i < rows; i++ {
			id := b*rows + i
			rb.Field(0).(*array.Int64Builder).Append(int64(id))
			if id == 1 {
				rb.Field(1).(*array.StringBuilder).AppendNull()
			} else {
				rb.Field(1).(*array.StringBuilder).Append("n\t" + strings.Repeat("x", id))
			}
		}
		rec := rb.NewRecordBatch()
		rb.Release()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeProtoFixture(t *testing.T, dir string, n int) string {
	t.Helper()
	desc := &descriptorpb.DescriptorProto{
		Name: proto.String("Row"),
		Field: []*descriptorpb.FieldDescriptorProto{
			{Name: proto.String("id"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()},
			{Name: proto.String("name"), Number: proto.Int32(2), Label: descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
			{Name: proto.String("tags"), Number: proto.Int32(3), Label: descriptorpb.FieldDescriptorProto_LABEL_REPEATED.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
		},
	}
	b, err := proto.Marshal(desc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "t-20260102T030405.000Z-0000.descriptor.pb"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	var data []byte
	for i := 0; i < n; i++ {
		var r []byte
		r = protowire.AppendTag(r, 1, protowire.VarintType)
		r = protowire.AppendVarint(r, uint64(i))
		if i != 1 {
			r = protowire.AppendTag(r, 2, protowire.BytesType)
			r = protowire.AppendString(r, "row"+strings.Repeat("y", i))
		}
		r = protowire.AppendTag(r, 3, protowire.BytesType)
		r = protowire.AppendString(r, "a")
		data = protowire.AppendVarint(data, uint64(len(r)))
		data = append(data, r...)
	}
	p := filepath.Join(dir, "t-20260102T030405.000Z-0000.proto")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func runDebugCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := debugMain(context.Background(), args, &out, &errOut)
	return out.String(), err
}

func jsonIDs(t *testing.T, out string) []int64 {
	t.Helper()
	var ids []int64
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var row map[string]any
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		switch v := row["id"].(type) {
		case float64: // Arrow JSON
			ids = append(ids, int64(v))
		case string: // protojson writes int64 as a string
			var n int64
			if err := json.Unmarshal([]byte(v), &n); err != nil {
				t.Fatalf("id %q: %v", v, err)
			}
			ids = append(ids, n)
		default:
			t.Fatalf("line %q has no id", line)
		}
	}
	return ids
}

func TestDebugReadArrow(t *testing.T) {
	dir := t.TempDir()
	p := writeArrowFixture(t, dir, 3, 4)
	for _, tc := range []struct {
		name    string
		args    []string
		wantIDs []int64
	}{
		{"json default", []string{"read", p}, []int64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{"limit after file", []string{"read", p, "-limit", "6"}, []int64{0, 1, 2, 3, 4, 5}},
		{"flags before file", []string{"read", "-format", "json", "-limit=2", p}, []int64{0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runDebugCmd(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantIDs, jsonIDs(t, out)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("json keeps column order and nulls", func(t *testing.T) {
		out, err := runDebugCmd(t, "read", p, "-limit", "2")
		if err != nil {
			t.Fatal(err)
		}
		want := "{\"id\":0,\"name\":\"n\\t\"}\n{\"id\":1,\"name\":null}\n"
		if out != want {
			t.Errorf("output %q, want %q", out, want)
		}
	})
	t.Run("table", func(t *testing.T) {
		out, err := runDebugCmd(t, "read", p, "-format", "table", "-limit", "3")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		if len(lines) != 4 || !strings.HasPrefix(lines[0], "id") || !strings.Contains(lines[0], "name") {
			t.Fatalf("table output:\n%s", out)
		}
		if !strings.Contains(lines[2], "null") || !strings.Contains(lines[3], `n\txx`) {
			t.Errorf("table rows:\n%s", out)
		}
	})
	t.Run("arrow to file", func(t *testing.T) {
		outFile := filepath.Join(dir, "out.arrow")
		if _, err := runDebugCmd(t, "read", p, "-format", "arrow", "-limit", "5", "-o", outFile); err != nil {
			t.Fatal(err)
		}
		var rows int64
		for _, r := range readArrowOut(t, outFile) {
			if !r.Schema().Equal(debugSchema) {
				t.Errorf("schema %v", r.Schema())
			}
			rows += r.NumRows()
		}
		if rows != 5 {
			t.Errorf("rows = %d, want 5", rows)
		}
	})
}

func TestDebugReadProto(t *testing.T) {
	dir := t.TempDir()
	p := writeProtoFixture(t, dir, 5)
	out, err := runDebugCmd(t, "read", p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{0, 1, 2, 3, 4}, jsonIDs(t, out)); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	if first := strings.SplitN(out, "\n", 2)[0]; first != `{"id":"0","name":"row","tags":["a"]}` {
		t.Errorf("first line %s", first)
	}
	out, err = runDebugCmd(t, "read", p, "-format", "table", "-limit", "2")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "tags") || !strings.Contains(lines[2], "null") || !strings.Contains(lines[1], `"a"`) {
		t.Errorf("table output:\n%s", out)
	}
}

func TestDebugReadErrors(t *testing.T) {
	dir := t.TempDir()
	p := writeProtoFixture(t, dir, 3)
	raw, _ := os.ReadFile(p)
	truncated := filepath.Join(dir, "t-20260102T030405.000Z-0001.proto")
	os.WriteFile(truncated, raw[:len(raw)-1], 0o600)
	side, _ := os.ReadFile(strings.TrimSuffix(p, ".proto") + ".descriptor.pb")
	os.WriteFile(strings.TrimSuffix(truncated, ".proto")+".descriptor.pb", side, 0o600)
	os.WriteFile(filepath.Join(dir, "x.csv"), []byte("id\n1\n"), 0o600)
	lone := filepath.Join(dir, "lone.proto") // a protobuf file without its descriptor
	os.WriteFile(lone, raw, 0o600)

	// A FILE that does not exist is named as such (not its missing descriptor), a usage error (exit 2) as in send.
	for _, name := range []string{"nope.proto", "nope.arrow"} {
		_, err := runDebugCmd(t, "read", filepath.Join(dir, name))
		var ue *usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), name+": no such file") || strings.Contains(err.Error(), "descriptor") {
			t.Errorf("debug read %s: %v, want a usage error naming the missing file", name, err)
		}
	}

	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", nil, "missing subcommand"},
		{"unknown subcommand", []string{"write"}, "unknown subcommand"},
		{"no file", []string{"read"}, "exactly one FILE"},
		{"two files", []string{"read", p, p}, "exactly one FILE"},
		{"bad format", []string{"read", p, "-format", "csv"}, "must be json, table or arrow"},
		{"bad limit", []string{"read", p, "-limit", "-1"}, "-limit"},
		{"sidecar given", []string{"read", strings.TrimSuffix(p, ".proto") + ".descriptor.pb"}, "pass the .proto file"},
		{"other file", []string{"read", filepath.Join(dir, "x.csv")}, "expected a .arrow or .proto"},
		{"missing sidecar", []string{"read", lone}, "lone.descriptor.pb"},
		{"truncated", []string{"read", truncated}, "record 2 at byte offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runDebugCmd(t, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	// A truncated file still prints its complete records.
	out, _ := runDebugCmd(t, "read", truncated)
	if diff := cmp.Diff([]int64{0, 1}, jsonIDs(t, out)); diff != "" {
		t.Errorf("ids of the truncated file (-want +got):\n%s", diff)
	}
}

// TestDebugReadProtoAsArrow converts a protobuf debug file to an Arrow IPC
// stream with the descriptor beside it, and reads the values back.
func TestDebugReadProtoAsArrow(t *testing.T) {
	dir := t.TempDir()
	p := writeProtoFixture(t, dir, 3)
	outFile := filepath.Join(dir, "from-proto.arrow")
	if _, err := runDebugCmd(t, "read", p, "-format", "arrow", "-o", outFile); err != nil {
		t.Fatal(err)
	}
	recs := readArrowOut(t, outFile)
	if len(recs) != 1 || recs[0].NumRows() != 3 {
		t.Fatalf("got %d batches, want one of 3 rows", len(recs))
	}
	rec := recs[0]
	ids := rec.Column(0).(*array.Int64)
	names := rec.Column(1).(*array.String)
	for i := 0; i < 3; i++ {
		if ids.Value(i) != int64(i) {
			t.Errorf("id[%d] = %d, want %d", i, ids.Value(i), i)
		}
	}
	if !names.IsNull(1) || names.Value(2) != "rowyy" {
		t.Errorf("names = %v, want [row null rowyy]", names)
	}
	// the help says so (it said "-format arrow: .arrow files only for now")
	help, _ := runDebugCmd(t, "read", "-h") // the help on out, and flag.ErrHelp
	if !strings.Contains(help, "records of a .proto file become Arrow columns") || strings.Contains(help, "only for now") {
		t.Errorf("debug read -h does not say -format arrow reads .proto files:\n%s", help)
	}
}

// writeDrops writes the drops sidecar of debug file p.
func writeDrops(t *testing.T, p string, lines ...string) {
	t.Helper()
	side := strings.TrimSuffix(p, filepath.Ext(p)) + ".drops.jsonl"
	if err := os.WriteFile(side, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestDebugReadGaps: rows the writer dropped (the drops sidecar) show where
// they happened, in json and table, with a note on stderr.
func TestDebugReadGaps(t *testing.T) {
	dir := t.TempDir()
	p := writeArrowFixture(t, dir, 3, 4) // ids 0..11 in batches of 4
	writeDrops(t, p,
		`{"before_write":1,"before_row":4,"dropped_writes":2,"dropped_rows":8,"dropped_bytes":1500,"reason":"queue full"}`,
		`{"before_write":3,"before_row":12,"dropped_writes":1,"dropped_rows":4,"dropped_bytes":700,"reason":"file failed"}`)
	run := func(args ...string) (string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		if err := debugMain(context.Background(), append([]string{"read", p}, args...), &out, &errOut); err != nil {
			t.Fatalf("debug read %v: %v", args, err)
		}
		return out.String(), errOut.String()
	}
	wantNote := "note: 12 rows are missing from " + p + " (2 gaps: queue full, file failed; the writer dropped them, see " +
		strings.TrimSuffix(p, ".arrow") + ".drops.jsonl)\n"

	out, errOut := run()
	if errOut != wantNote {
		t.Errorf("stderr:\n%q\nwant\n%q", errOut, wantNote)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 14 {
		t.Fatalf("json: %d lines, want 12 rows + 2 gaps:\n%s", len(lines), out)
	}
	for i, want := range map[int]string{
		4:  `{"zerobus_gap":{"before_write":1,"before_row":4,"dropped_writes":2,"dropped_rows":8,"dropped_bytes":1500,"reason":"queue full"}}`,
		13: `{"zerobus_gap":{"before_write":3,"before_row":12,"dropped_writes":1,"dropped_rows":4,"dropped_bytes":700,"reason":"file failed"}}`,
	} {
		if lines[i] != want {
			t.Errorf("json line %d = %s, want %s", i, lines[i], want)
		}
	}
	if !strings.HasPrefix(lines[3], `{"id":3,`) || !strings.HasPrefix(lines[5], `{"id":4,`) {
		t.Errorf("the first gap is not between ids 3 and 4:\n%s", out)
	}

	out, _ = run("-format", "table")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 15 || lines[5] != "-- gap: 8 rows dropped here (2 writes, 1,500 bytes; queue full) --" ||
		lines[14] != "-- gap: 4 rows dropped here (1 writes, 700 bytes; file failed) --" ||
		!strings.HasPrefix(lines[4], "3 ") || !strings.HasPrefix(lines[6], "4 ") {
		t.Errorf("table:\n%s", out)
	}
	if a, b := strings.Index(lines[4], `n\t`), strings.Index(lines[6], `n\t`); a != b {
		t.Errorf("table: the columns before and after the gap are not aligned (%d, %d):\n%s", a, b, out)
	}

	// -limit 5 shows the gap before row 4, not the trailing one; with
	// -limit 4 both lie after the cut. The note always counts both.
	out, errOut = run("-limit", "5")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 6 || !strings.HasPrefix(lines[4], `{"zerobus_gap"`) {
		t.Errorf("-limit 5:\n%s", out)
	}
	if errOut != wantNote {
		t.Errorf("-limit: stderr %q", errOut)
	}
	out, _ = run("-limit", "4")
	if strings.Contains(out, "zerobus_gap") {
		t.Errorf("-limit 4 shows a gap after the last row printed:\n%s", out)
	}

	// -format arrow keeps the stream clean: the gaps are only in the note.
	out, errOut = run("-format", "arrow")
	if strings.Contains(out, "gap") || errOut != wantNote {
		t.Errorf("arrow: stderr %q", errOut)
	}

	// Protobuf files: records count as rows.
	pp := writeProtoFixture(t, t.TempDir(), 3)
	writeDrops(t, pp, `{"before_write":1,"before_row":2,"dropped_writes":1,"dropped_rows":5,"dropped_bytes":90,"reason":"queue full"}`)
	var pout, perr bytes.Buffer
	if err := debugMain(context.Background(), []string{"read", pp}, &pout, &perr); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(pout.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[2], `{"zerobus_gap":{"before_write":1,"before_row":2,`) ||
		!strings.Contains(perr.String(), "5 rows are missing") {
		t.Errorf("proto:\n%s\nstderr %q", pout.String(), perr.String())
	}

	// A bad sidecar is noted on stderr, naming it (s17: the data file is
	// printed all the same; see TestS17DebugReadDamagedDrops).
	writeDrops(t, p, `{not json`)
	var bout, berr bytes.Buffer
	if err := debugMain(context.Background(), []string{"read", p}, &bout, &berr); err != nil || !strings.Contains(berr.String(), "drops.jsonl") {
		t.Errorf("bad sidecar: %v, stderr %q", err, berr.String())
	}
}

// readArrowOut reads the Arrow IPC file `debug read -format arrow -o` wrote;
// its batches are released when the test ends.
func readArrowOut(t *testing.T, path string) []arrow.RecordBatch {
	t.Helper()
	recs, err := core.ReadDebugArrowFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, r := range recs {
			r.Release()
		}
	})
	return recs
}
