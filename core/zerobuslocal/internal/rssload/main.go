// Command rssload pushes a large load through a `zerobus local` process
// and reports its peak resident memory, to check that -max-rows bounds the
// server's memory across tables (make local-rss).
//
// It starts the server binary given by -server with -max-rows, opens one
// stream per table (half Arrow Flight DoPut, half Zerobus PROTO streams,
// auto-creating the tables), sends -bytes of records spread over the
// tables, reads a table back as Arrow over the inspection API now and then,
// and finally checks that the tables hold at most -max-rows rows together
// and that stored + evicted rows equal the rows sent. It prints the peak
// RSS (VmHWM) and fails when it is over -max-rss-mb.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
)

var (
	serverBin = flag.String("server", "", "the zerobus binary (runs `zerobus local`)")
	totalMB   = flag.Int("mb", 1024, "megabytes of records to send in all")
	maxRows   = flag.Int("max-rows", 200_000, "-max-rows of the server")
	tables    = flag.Int("tables", 40, "tables (half Flight, half PROTO)")
	batchRows = flag.Int("batch-rows", 2000, "rows per request")
	maxRSSMB  = flag.Int("max-rss-mb", 500, "fail when the server's peak RSS is above this")
)

const payloadBytes = 200

func main() {
	flag.Parse()
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "rssload:", err)
		os.Exit(1)
	}
}

type info struct {
	Endpoint     string `json:"endpoint"`
	WorkspaceURL string `json:"workspace_url"`
}

func run() error {
	if *serverBin == "" {
		return errors.New("-server is required")
	}
	cmd := exec.Command(*serverBin, "local", "-json", "-allow-any-token", "-max-rows", strconv.Itoa(*maxRows))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("reading the server's JSON line: %w", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	var inf info
	if err := json.Unmarshal(line, &inf); err != nil {
		return fmt.Errorf("server line %q: %w", line, err)
	}
	pid := cmd.Process.Pid
	idle := procKB(pid, "VmRSS")

	cc, err := grpc.NewClient(strings.TrimPrefix(inf.Endpoint, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer cc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	rowBytes := 8 + 24 + payloadBytes + 8
	perTable := int64(*totalMB) << 20 / int64(*tables) / int64(rowBytes*(*batchRows))
	if perTable < 1 {
		perTable = 1
	}
	var sentRows, sentBytes atomic.Int64
	start := time.Now()
	errs := make(chan error, *tables)
	var wg sync.WaitGroup
	for k := range *tables {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("main.rssload.t%02d", k)
			var err error
			if k%2 == 0 {
				err = sendFlight(ctx, cc, name, k, perTable, &sentRows, &sentBytes)
			} else {
				err = sendProto(ctx, cc, name, k, perTable, &sentRows, &sentBytes)
			}
			if err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				cancel()
			}
		}()
	}
	// A reader: one table as Arrow over the inspection API every 250 ms.
	readDone := make(chan struct{})
	var reads atomic.Int64
	go func() {
		defer close(readDone)
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
			resp, err := http.Get(fmt.Sprintf("%s/zerobus-local/v1/tables/main.rssload.t%02d/arrow", inf.WorkspaceURL, i%*tables))
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				reads.Add(1)
			}
		}
	}()
	wg.Wait()
	cancel()
	<-readDone
	close(errs)
	for err := range errs {
		return err
	}
	elapsed := time.Since(start)

	// The bound held, and every row is accounted for.
	resp, err := http.Get(inf.WorkspaceURL + "/zerobus-local/v1/tables")
	if err != nil {
		return err
	}
	var tis []struct {
		Name        string `json:"name"`
		RecordCount int64  `json:"record_count"`
		RowsEvicted int64  `json:"rows_evicted"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tis)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var stored, evicted int64
	for _, ti := range tis {
		stored += ti.RecordCount
		evicted += ti.RowsEvicted
	}
	peak := procKB(pid, "VmHWM")
	fmt.Printf("sent %d MB (%d rows) to %d tables in %.1fs; %d Arrow reads; server -max-rows %d: %d rows kept, %d evicted\n",
		sentBytes.Load()>>20, sentRows.Load(), len(tis), elapsed.Seconds(), reads.Load(), *maxRows, stored, evicted)
	fmt.Printf("server RSS: idle %d MB, peak %d MB (limit %d MB)\n", idle>>10, peak>>10, *maxRSSMB)
	if stored > int64(*maxRows) || stored+evicted != sentRows.Load() {
		return fmt.Errorf("rows: %d kept + %d evicted, %d sent, bound %d", stored, evicted, sentRows.Load(), *maxRows)
	}
	if peak>>10 > int64(*maxRSSMB) {
		return fmt.Errorf("peak RSS %d MB is over %d MB", peak>>10, *maxRSSMB)
	}
	return nil
}

// procKB reads a "Vm...: N kB" line of /proc/pid/status.
func procKB(pid int, key string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, key+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

func outgoing(ctx context.Context, table string) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.Pairs("x-databricks-zerobus-table-name", table, "authorization", "Bearer load"))
}

// window is how many requests a stream keeps unacknowledged.
const window = 4

var schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "payload", Type: arrow.BinaryTypes.LargeBinary, Nullable: true},
	{Name: "x", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

func sendFlight(ctx context.Context, cc *grpc.ClientConn, table string, k int, batches int64, rows, bytesSent *atomic.Int64) error {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	pl := bytes.Repeat([]byte{byte(k)}, payloadBytes)
	for i := range *batchRows {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.LargeStringBuilder).Append(fmt.Sprintf("user-%08d@example.com", i)[:24])
		b.Field(2).(*array.BinaryBuilder).Append(pl)
		b.Field(3).(*array.Float64Builder).Append(float64(i) / 3)
	}
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	sp := ipc.GetSchemaPayload(schema, memory.DefaultAllocator)
	defer sp.Release()
	p, err := ipc.GetRecordBatchPayload(rec)
	if err != nil {
		return err
	}
	defer p.Release()
	var body bytes.Buffer
	if err := p.SerializeBody(&body); err != nil {
		return err
	}
	c, err := flight.NewClientFromConn(cc, nil).DoPut(outgoing(ctx, table))
	if err != nil {
		return err
	}
	if err := c.Send(&flight.FlightData{DataHeader: sp.Meta().Bytes()}); err != nil {
		return err
	}
	if _, err := c.Recv(); err != nil { // READY
		return err
	}
	acks := trackAcks(func() (int64, bool, error) {
		pr, err := c.Recv()
		if err != nil {
			return 0, false, err
		}
		var a struct {
			Offset int64 `json:"ack_up_to_offset"`
		}
		if err := json.Unmarshal(pr.AppMetadata, &a); err != nil {
			return 0, false, err
		}
		return a.Offset, true, nil
	})
	for i := range batches {
		if err := acks.waitUpTo(i - window); err != nil {
			return err
		}
		meta := fmt.Appendf(nil, `{"offset_id": %d}`, i)
		if err := c.Send(&flight.FlightData{DataHeader: p.Meta().Bytes(), DataBody: body.Bytes(), AppMetadata: meta}); err != nil {
			return err
		}
		rows.Add(int64(*batchRows))
		bytesSent.Add(int64(body.Len()))
	}
	if err := c.CloseSend(); err != nil {
		return err
	}
	if err := <-acks.err; err != io.EOF {
		return err
	}
	if n := acks.acked.Load(); n != batches-1 {
		return fmt.Errorf("acknowledged up to %d of %d batches", n, batches)
	}
	return nil
}

func sendProto(ctx context.Context, cc *grpc.ClientConn, table string, k int, batches int64, rows, bytesSent *atomic.Int64) error {
	opt := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL.Enum()
	desc := &descriptorpb.DescriptorProto{Name: proto.String(table[strings.LastIndexByte(table, '.')+1:]), Field: []*descriptorpb.FieldDescriptorProto{
		{Name: proto.String("id"), Number: proto.Int32(1), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum(), Label: descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum()},
		{Name: proto.String("name"), Number: proto.Int32(2), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: opt},
		{Name: proto.String("payload"), Number: proto.Int32(3), Type: descriptorpb.FieldDescriptorProto_TYPE_BYTES.Enum(), Label: opt},
		{Name: proto.String("x"), Number: proto.Int32(4), Type: descriptorpb.FieldDescriptorProto_TYPE_DOUBLE.Enum(), Label: opt},
	}}
	pl := bytes.Repeat([]byte{byte(k)}, payloadBytes)
	recs := make([][]byte, *batchRows)
	size := 0
	for i := range recs {
		var r []byte
		r = protowire.AppendTag(r, 1, protowire.VarintType)
		r = protowire.AppendVarint(r, uint64(i))
		r = protowire.AppendTag(r, 2, protowire.BytesType)
		r = protowire.AppendString(r, fmt.Sprintf("user-%08d@example.com", i)[:24])
		r = protowire.AppendTag(r, 3, protowire.BytesType)
		r = protowire.AppendBytes(r, pl)
		r = protowire.AppendTag(r, 4, protowire.Fixed64Type)
		r = protowire.AppendFixed64(r, math.Float64bits(float64(i)/3))
		recs[i] = r
		size += len(r)
	}
	st, err := zerobuspb.NewZerobusClient(cc).EphemeralStream(outgoing(ctx, table))
	if err != nil {
		return err
	}
	create := &zerobuspb.EphemeralStreamRequest{Payload: &zerobuspb.EphemeralStreamRequest_CreateStream{CreateStream: &zerobuspb.CreateIngestStreamRequest{
		TableName: proto.String(table), DescriptorProto: mustMarshal(desc), RecordType: zerobuspb.RecordType_PROTO.Enum(),
	}}}
	if err := st.Send(create); err != nil {
		return err
	}
	if _, err := st.Recv(); err != nil {
		return err
	}
	acks := trackAcks(func() (int64, bool, error) {
		m, err := st.Recv()
		if err != nil {
			return 0, false, err
		}
		a := m.GetIngestRecordResponse()
		return a.GetDurabilityAckUpToOffset(), a != nil, nil
	})
	for i := range batches {
		if err := acks.waitUpTo(i - window); err != nil {
			return err
		}
		req := &zerobuspb.EphemeralStreamRequest{Payload: &zerobuspb.EphemeralStreamRequest_IngestRecordBatch{IngestRecordBatch: &zerobuspb.IngestRecordBatchRequest{
			OffsetId: proto.Int64(i), Batch: &zerobuspb.IngestRecordBatchRequest_ProtoEncodedBatch{ProtoEncodedBatch: &zerobuspb.ProtoEncodedRecordBatch{Records: recs}}}}}
		if err := st.Send(req); err != nil {
			return err
		}
		rows.Add(int64(*batchRows))
		bytesSent.Add(int64(size))
	}
	if err := acks.waitUpTo(batches - 1); err != nil {
		return err
	}
	return st.CloseSend()
}

// ackTracker follows a stream's cumulative acknowledgements, read on a
// goroutine of its own.
type ackTracker struct {
	acked atomic.Int64  // highest offset acknowledged, -1 before any
	ackc  chan struct{} // signalled after each acknowledgement
	err   chan error    // the receive error that ended the stream (io.EOF at its end)
}

// trackAcks calls recv until it fails; recv returns an acknowledged offset
// and true, or false for a message that acknowledges nothing.
func trackAcks(recv func() (int64, bool, error)) *ackTracker {
	t := &ackTracker{ackc: make(chan struct{}, 1), err: make(chan error, 1)}
	t.acked.Store(-1)
	go func() {
		for {
			off, ok, err := recv()
			if err != nil {
				t.err <- err
				return
			}
			if !ok {
				continue
			}
			t.acked.Store(off)
			select {
			case t.ackc <- struct{}{}:
			default:
			}
		}
	}()
	return t
}

// waitUpTo waits until offset off is acknowledged, or returns the error
// that ended the stream first.
func (t *ackTracker) waitUpTo(off int64) error {
	for t.acked.Load() < off {
		select {
		case <-t.ackc:
		case err := <-t.err:
			return err
		}
	}
	return nil
}

func mustMarshal(m proto.Message) []byte {
	b, err := proto.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}
