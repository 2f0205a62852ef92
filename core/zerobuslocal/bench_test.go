package zerobuslocal_test

import (
	"fmt"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// BenchmarkIngest measures the server's ingest path (receive, decode,
// store, ack) with a raw pipelined client: one op is one request message.
func BenchmarkIngest(b *testing.B) {
	for _, bc := range []struct {
		name    string
		records int
	}{{"single", 1}, {"batch100", 100}} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := zerobuslocal.Start(b.Context(), zerobuslocal.Options{AllowAnyToken: true})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			cc := dialB(b, s)
			st := openStreamB(b, cc, testTable)
			recs := make([][]byte, bc.records)
			size := 0
			for i := range recs {
				recs[i] = encode(b, event(b, int64(i), "some name"))
				size += len(recs[i])
			}
			if err := st.Send(createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)); err != nil {
				b.Fatal(err)
			}
			if _, err := st.Recv(); err != nil {
				b.Fatal(err)
			}
			done := make(chan error, 1)
			go func() {
				for {
					m, err := st.Recv()
					if err != nil {
						done <- err
						return
					}
					if m.GetIngestRecordResponse().GetDurabilityAckUpToOffset() == int64(b.N-1) {
						done <- nil
						return
					}
				}
			}()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				var m *req
				if bc.records == 1 {
					m = recordReq(int64(i), recs[0])
				} else {
					m = batchReq(int64(i), recs...)
				}
				if err := st.Send(m); err != nil {
					b.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st.CloseSend()
			if got := s.RecordCount(testTable); got != b.N*bc.records {
				b.Fatalf("RecordCount: got %d, want %d", got, b.N*bc.records)
			}
		})
	}
}

// BenchmarkArrowBatch measures reading stored rows back as Arrow: each op
// stores 1000 fresh records in a new table (not timed) and converts them
// (timed), so the lazy decoding of the raw records is included.
func BenchmarkArrowBatch(b *testing.B) {
	const rows = 1000
	s, err := zerobuslocal.Start(b.Context(), zerobuslocal.Options{AllowAnyToken: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	cc := dialB(b, s)
	recs := make([][]byte, rows)
	size := 0
	for i := range recs {
		recs[i] = encode(b, event(b, int64(i), "some name"))
		size += len(recs[i])
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		table := fmt.Sprintf("main.bench.t%d", i)
		st := openStreamB(b, cc, table)
		if err := st.Send(createReq(table, eventsDesc(), zerobuspb.RecordType_PROTO)); err != nil {
			b.Fatal(err)
		}
		if err := st.Send(batchReq(0, recs...)); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 2; j++ { // create response, ack
			if _, err := st.Recv(); err != nil {
				b.Fatal(err)
			}
		}
		st.CloseSend()
		b.StartTimer()
		rec, err := s.ArrowBatch(table, nil)
		if err != nil {
			b.Fatal(err)
		}
		if rec.NumRows() != rows {
			b.Fatalf("ArrowBatch: %d rows, want %d", rec.NumRows(), rows)
		}
		rec.Release()
	}
}
