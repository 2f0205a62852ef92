// Command rssload pushes a large load through a `zerobus local` process
// and reports its peak resident memory, to check issue 22's target: the
// local server under a 1 GB load with -max-rows 200000 stays under 500 MB
// (make local-rss).
//
// It loads the way users do: the project's own Go client (core.Wrapper,
// default configuration), one Wrapper per table, half of the tables over
// Arrow Flight and half over protobuf, -senders goroutines in all calling
// SendBatch concurrently with -batch-rows rows per batch (50,000 rows of 15
// columns: requests of about 10 MB, the service's cap), -mb megabytes in
// total. Then it sends -max-rows rows to one table, so that it holds every
// row the server keeps, and reads it back with one GET .../rows (the
// inspection API's JSON, the most expensive read). It checks that every
// table holds acknowledged rows only, stored + evicted = acknowledged, the
// tables together at most -max-rows rows, and prints the load's throughput
// and the server's peak RSS (VmHWM), failing when that is over -max-rss-mb.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
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
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

var (
	serverBin = flag.String("server", "", "the zerobus binary (runs `zerobus local`)")
	totalMB   = flag.Int("mb", 1024, "megabytes of rows (Arrow size) to send in all")
	maxRows   = flag.Int("max-rows", 200_000, "-max-rows of the server")
	tables    = flag.Int("tables", 8, "tables, one Wrapper each (even ones protobuf, odd ones Arrow Flight)")
	senders   = flag.Int("senders", 16, "goroutines calling SendBatch, spread over the tables' Wrappers")
	batchRows = flag.Int("batch-rows", 50_000, "rows per SendBatch")
	readBack  = flag.Bool("read-rows", true, "fill one table with -max-rows rows and GET its /rows")
	maxRSSMB  = flag.Int("max-rss-mb", 500, "fail when the server's peak RSS is above this (0: report only)")
)

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
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

type tableInfo struct {
	Name        string `json:"name"`
	RecordCount int64  `json:"record_count"`
	RowsEvicted int64  `json:"rows_evicted"`
}

func run() error {
	if *serverBin == "" {
		return errors.New("-server is required")
	}
	if *tables < 1 || *senders < *tables || *batchRows < 1 {
		return errors.New("want -tables >= 1, -senders >= -tables, -batch-rows >= 1")
	}
	cmd := exec.Command(*serverBin, "local", "-json", "-max-rows", strconv.Itoa(*maxRows))
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
	ctx := context.Background()

	wrappers := make([]*core.Wrapper, *tables)
	names := make([]string, *tables)
	for k := range wrappers {
		names[k] = fmt.Sprintf("main.rssload.t%02d", k)
		cfg := core.DefaultConfig()
		cfg.Endpoint, cfg.UnityCatalogURL = inf.Endpoint, inf.WorkspaceURL
		cfg.ClientID, cfg.ClientSecret = inf.ClientID, inf.ClientSecret
		cfg.TableName = names[k]
		if k%2 == 1 {
			cfg.Transport = core.TransportArrowFlight
		}
		if wrappers[k], err = core.New(ctx, cfg); err != nil {
			return fmt.Errorf("%s: %w", names[k], err)
		}
	}
	defer func() {
		for _, w := range wrappers {
			_ = w.Close(ctx)
		}
	}()

	// One batch, sent again and again (its ids repeat: the check is on
	// counts, which the eviction leaves exact).
	rec := build(*batchRows)
	defer rec.Release()
	rowBytes := arrowBytes(rec) / int64(*batchRows)
	batches := max(1, (int64(*totalMB)<<20)/(rowBytes*int64(*batchRows)))
	acked := make([]atomic.Int64, *tables)
	var next atomic.Int64
	errs := make(chan error, *senders)
	start := time.Now()
	var wg sync.WaitGroup
	for i := range *senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i % *tables
			for next.Add(1) <= batches {
				res, err := wrappers[k].SendBatch(ctx, rec)
				if err == nil && !res.Success {
					err = res.Err
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %w", names[k], err)
					return
				}
				acked[k].Add(int64(res.SuccessfulCount))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	for err := range errs {
		return err
	}
	loadPeak := procKB(pid, "VmHWM")
	sent := batches * int64(*batchRows)
	fmt.Printf("load: %d senders, %d tables (half Arrow Flight), %d-row batches of %.1f MB: %d MB (%d rows) in %.1fs, %.0f MB/s\n",
		*senders, *tables, *batchRows, float64(rowBytes*int64(*batchRows))/(1<<20), sent*rowBytes>>20, sent, elapsed.Seconds(),
		float64(sent*rowBytes)/(1<<20)/elapsed.Seconds())

	readMB := 0.0
	if *readBack {
		// Fill table 0 with every row the server keeps, then read it.
		k := 0
		for filled := int64(0); filled < int64(*maxRows); filled += int64(*batchRows) {
			res, err := wrappers[k].SendBatch(ctx, rec)
			if err == nil && !res.Success {
				err = res.Err
			}
			if err != nil {
				return fmt.Errorf("%s: %w", names[k], err)
			}
			acked[k].Add(int64(res.SuccessfulCount))
		}
		t0 := time.Now()
		n, rows, err := getRows(inf.WorkspaceURL, names[k])
		if err != nil {
			return err
		}
		readMB = float64(n) / (1 << 20)
		fmt.Printf("GET /rows of %s: %d rows, %.0f MB of JSON in %.1fs\n", names[k], rows, readMB, time.Since(t0).Seconds())
	}

	var tis []tableInfo
	if err := getJSON(inf.WorkspaceURL+"/zerobus-local/v1/tables", &tis); err != nil {
		return err
	}
	var stored, evicted, total int64
	for _, ti := range tis {
		k := indexOf(names, ti.Name)
		if k < 0 {
			return fmt.Errorf("unexpected table %s", ti.Name)
		}
		if ti.RecordCount+ti.RowsEvicted != acked[k].Load() {
			return fmt.Errorf("%s: %d kept + %d evicted, %d acknowledged", ti.Name, ti.RecordCount, ti.RowsEvicted, acked[k].Load())
		}
		stored += ti.RecordCount
		evicted += ti.RowsEvicted
	}
	for k := range acked {
		total += acked[k].Load()
	}
	peak := procKB(pid, "VmHWM")
	fmt.Printf("server -max-rows %d: %d rows acknowledged, %d kept, %d evicted\n", *maxRows, total, stored, evicted)
	fmt.Printf("server RSS: idle %d MB, peak after the load %d MB, peak %d MB (target %d MB)\n", idle>>10, loadPeak>>10, peak>>10, *maxRSSMB)
	if stored > int64(*maxRows) {
		return fmt.Errorf("%d rows kept, over -max-rows %d", stored, *maxRows)
	}
	if *maxRSSMB > 0 && peak>>10 > int64(*maxRSSMB) {
		return fmt.Errorf("peak RSS %d MB is over %d MB", peak>>10, *maxRSSMB)
	}
	return nil
}

func indexOf(names []string, name string) int {
	for i, n := range names {
		if n == name {
			return i
		}
	}
	return -1
}

// getRows reads GET .../tables/NAME/rows and returns its size and rows.
func getRows(base, name string) (int64, int, error) {
	resp, err := http.Get(base + "/zerobus-local/v1/tables/" + name + "/rows")
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, 0, fmt.Errorf("GET rows of %s: %s", name, resp.Status)
	}
	cr := &countingReader{r: resp.Body}
	dec := json.NewDecoder(cr)
	if _, err := dec.Token(); err != nil { // [
		return 0, 0, err
	}
	rows := 0
	for dec.More() {
		var row struct {
			Record json.RawMessage `json:"record"`
		}
		if err := dec.Decode(&row); err != nil {
			return 0, 0, err
		}
		rows++
	}
	if _, err := dec.Token(); err != nil { // ]
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, cr)
	return cr.n, rows, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func getJSON(url string, v any) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
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

// schema: 15 columns, about 200 bytes a row.
var schema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "seq", Type: arrow.PrimitiveTypes.Int64},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "f1", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "f2", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "f3", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "i1", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "i2", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "s1", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "s2", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "s3", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "s4", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "b1", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "s5", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "s6", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

func build(n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := range n {
		seq := int64(i)
		b.Field(0).(*array.Int64Builder).Append(seq)
		b.Field(1).(*array.Int64Builder).Append(seq * 3)
		b.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + seq))
		b.Field(3).(*array.Float64Builder).Append(float64(seq) / 3)
		b.Field(4).(*array.Float64Builder).Append(float64(seq) * 1.5)
		b.Field(5).(*array.Float64Builder).Append(-float64(seq))
		b.Field(6).(*array.Int32Builder).Append(int32(seq))
		b.Field(7).(*array.Int64Builder).Append(seq * 7)
		b.Field(8).(*array.StringBuilder).Append(fmt.Sprintf("user-%012d", seq))
		b.Field(9).(*array.StringBuilder).Append("some-constant-text-value")
		b.Field(10).(*array.StringBuilder).Append(fmt.Sprintf("s-%d", seq))
		b.Field(11).(*array.StringBuilder).Append("abcdefghijklmnopqrstuvwxyz0123")
		b.Field(12).(*array.BooleanBuilder).Append(seq%2 == 0)
		b.Field(13).(*array.StringBuilder).Append("x-y-z-0123456789")
		b.Field(14).(*array.StringBuilder).Append(fmt.Sprintf("%x", seq*2654435761))
	}
	return b.NewRecordBatch()
}

// arrowBytes is the size of rec's buffers.
func arrowBytes(rec arrow.RecordBatch) int64 {
	var n int64
	for _, c := range rec.Columns() {
		for _, b := range c.Data().Buffers() {
			if b != nil {
				n += int64(b.Len())
			}
		}
	}
	return n
}
