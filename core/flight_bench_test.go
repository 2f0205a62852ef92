package core_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// BenchmarkTransports sends the 100k-row reference batch end to end (until
// durably acknowledged) to the local server over each transport, side by
// side in one run: protobuf (every row encoded as a protobuf record) and
// arrow_flight (the batch as Arrow IPC over Flight DoPut), the latter also
// with zstd IPC compression and with zstd gRPC message compression. Run:
// make bench-transports.
func BenchmarkTransports(b *testing.B) {
	for _, server := range []string{"local_server", "null_server"} {
		for _, tc := range []struct{ name, transport, compression string }{
			{"protobuf", core.TransportProtobuf, ""},
			{"arrow_flight", core.TransportArrowFlight, ""},
			{"arrow_flight_zstd", core.TransportArrowFlight, "zstd"},
			{"arrow_flight_grpc_zstd", core.TransportArrowFlight, "grpc_zstd"},
		} {
			b.Run(fmt.Sprintf("%s/%s/rows=100000", server, tc.name), func(b *testing.B) {
				mutate := func(c *core.Config) {
					c.Transport = tc.transport
					c.ArrowFlightCompression = tc.compression
				}
				var w *core.Wrapper
				switch {
				case server == "local_server":
					w, _ = benchWrapper(b, zerobuslocal.Options{MaxStoredRows: 200_000}, mutate)
				case tc.transport == core.TransportProtobuf:
					w, _ = nullWrapper(b, 0, mutate)
				default:
					w = nullFlightWrapper(b, mutate)
				}
				rec, _ := warmReference(b, w, 100_000)
				ctx := context.Background()
				b.ReportAllocs()
				b.ResetTimer()
				start, cpu := time.Now(), processCPU()
				for i := 0; i < b.N; i++ {
					if _, err := w.SendBatch(ctx, rec); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(100_000*b.N)/time.Since(start).Seconds(), "rows/s")
				// CPU time of the whole process (client and in-process
				// server) per batch: steadier than wall time on a busy
				// machine.
				if used := processCPU() - cpu; used > 0 {
					b.ReportMetric(float64(used.Milliseconds())/float64(b.N), "cpu-ms/op")
				}
			})
		}
	}
}

// nullFlight is a Flight DoPut peer that reads each batch (Arrow IPC, no
// per-row work) and acknowledges its records after latency (at once when
// 0), in order: the Flight counterpart of nullServer, to measure the client
// path alone.
type nullFlight struct {
	flight.BaseFlightServer
	latency time.Duration
}

func (nf *nullFlight) DoPut(st flight.FlightService_DoPutServer) error {
	rdr, err := flight.NewRecordReader(st)
	if err != nil {
		return err
	}
	defer rdr.Release()
	if err := st.Send(&flight.PutResult{AppMetadata: []byte(`{"ack_up_to_offset":-1,"ack_up_to_records":0}`)}); err != nil {
		return err
	}
	type ack struct {
		off, recs int64
		due       time.Time
	}
	acks := make(chan ack, 1<<16)
	sent := make(chan error, 1)
	go func() { // the only sender from here on
		var err error
		for a := range acks {
			if err != nil {
				continue
			}
			time.Sleep(time.Until(a.due))
			err = st.Send(&flight.PutResult{AppMetadata: fmt.Appendf(nil, `{"ack_up_to_offset":%d,"ack_up_to_records":%d}`, a.off, a.recs)})
		}
		sent <- err
	}()
	var off, recs int64
	for rdr.Next() {
		recs += rdr.RecordBatch().NumRows()
		acks <- ack{off: off, recs: recs, due: time.Now().Add(nf.latency)}
		off++
	}
	close(acks)
	return <-sent
}

// startNullFlight serves a nullFlight on loopback and returns its endpoint.
func startNullFlight(tb testing.TB, latency time.Duration) string {
	tb.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(16 << 20))
	flight.RegisterFlightServiceServer(gs, &nullFlight{latency: latency})
	go func() { _ = gs.Serve(lis) }()
	tb.Cleanup(gs.Stop)
	return "http://" + lis.Addr().String()
}

// nullFlightWrapper is a Wrapper (transport arrow_flight) for a nullFlight
// server.
func nullFlightWrapper(b *testing.B, mutate func(*core.Config)) *core.Wrapper {
	b.Helper()
	cfg := core.DefaultConfig()
	cfg.Endpoint = startNullFlight(b, 0)
	cfg.TableName = "main.default.bench"
	mutate(&cfg)
	w, err := core.New(context.Background(), cfg, core.WithHeadersProvider(staticHeaders(cfg.TableName)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}
