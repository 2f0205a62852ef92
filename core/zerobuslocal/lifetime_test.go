package zerobuslocal_test

import (
	"context"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/zerobuspb"
	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

func TestStreamLifetime(t *testing.T) {
	s := start(t, zerobuslocal.Options{StreamLifetime: 400 * time.Millisecond})
	if err := s.CreateTableColumns(testTable, mustColumns(t, flightDDL)); err != nil {
		t.Fatal(err)
	}
	tok := token(t, s, testTable)

	desc, _ := s.TableDescriptor(testTable)
	st := openStream(t, dial(t, s), tok, testTable)
	began := time.Now()
	st.create(testTable, desc, zerobuspb.RecordType_PROTO)
	m := st.recv()
	sig := m.GetCloseStreamSignal()
	if sig == nil || sig.GetDuration().AsDuration() != 100*time.Millisecond {
		t.Fatalf("got %v, want CloseStreamSignal{100ms} (grace = lifetime/4)", m)
	}
	if el := time.Since(began); el < 250*time.Millisecond {
		t.Errorf("CloseStreamSignal after %v, want about 300ms", el)
	}
	if err := st.drain(); err != nil {
		t.Fatalf("end: got %v, want a clean end", err)
	}
	if el := time.Since(began); el < 350*time.Millisecond {
		t.Errorf("stream ended after %v, want about 400ms", el)
	}

	f := openFlight(t, s, tok, testTable)
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	a := f.expect(-1, 0)
	if a.CloseStreamDurationMs == nil || *a.CloseStreamDurationMs != 100 {
		t.Fatalf("Flight: got %+v, want close_stream_duration_ms 100", a)
	}
	if err := f.drain(); err != nil {
		t.Fatalf("Flight end: %v", err)
	}

	// A given grace is announced as given (one above a quarter of the
	// lifetime was cut to it silently).
	s3 := start(t, zerobuslocal.Options{StreamLifetime: 400 * time.Millisecond, StreamCloseGrace: 250 * time.Millisecond})
	st3 := openStream(t, dial(t, s3), token(t, s3, testTable), testTable)
	st3.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	if sig := st3.recv().GetCloseStreamSignal(); sig == nil || sig.GetDuration().AsDuration() != 250*time.Millisecond {
		t.Fatalf("got %v, want CloseStreamSignal{250ms} (the grace given)", sig)
	}
	if err := st3.drain(); err != nil {
		t.Fatalf("end: got %v, want a clean end", err)
	}

	// Negative: streams live until the client ends them.
	s2 := start(t, zerobuslocal.Options{StreamLifetime: -1})
	st2 := openStream(t, dial(t, s2), token(t, s2, testTable), testTable)
	st2.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	time.Sleep(50 * time.Millisecond)
	if err := st2.finish(); err != nil {
		t.Fatal(err)
	}
	if n := s2.Stats().CloseSignals; n != 0 {
		t.Errorf("close signals with StreamLifetime -1: %d", n)
	}
}

func TestCreateDelayFault(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	tok := token(t, s, testTable)
	s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultCreateDelay, Latency: 300 * time.Millisecond})
	st := openStream(t, dial(t, s), tok, testTable)
	began := time.Now()
	st.create(testTable, eventsDesc(), zerobuspb.RecordType_PROTO)
	if el := time.Since(began); el < 280*time.Millisecond {
		t.Errorf("create response after %v, want >= 300ms", el)
	}
	if err := st.finish(); err != nil {
		t.Fatal(err)
	}
	// A client deadline shorter than the delay fires first.
	s.InjectFault(testTable, zerobuslocal.Fault{Kind: zerobuslocal.FaultCreateDelay, Latency: 5 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	c, err := zerobuspb.NewZerobusClient(dial(t, s)).EphemeralStream(outgoing(ctx, tok, testTable))
	if err != nil {
		t.Fatal(err)
	}
	_ = c.Send(createReq(testTable, eventsDesc(), zerobuspb.RecordType_PROTO))
	_, err = c.Recv()
	wantStatus(t, err, codes.DeadlineExceeded, "")
	// Flight READY is delayed the same way.
	s.InjectFault("main.default.flightdelay", zerobuslocal.Fault{Kind: zerobuslocal.FaultCreateDelay, Latency: 200 * time.Millisecond})
	f := openFlight(t, s, token(t, s, "main.default.flightdelay"), "main.default.flightdelay")
	began = time.Now()
	f.sendSchema(flightSchema)
	f.expect(-1, 0)
	if el := time.Since(began); el < 180*time.Millisecond {
		t.Errorf("READY after %v, want >= 200ms", el)
	}
}

func TestSchemaErrorInfoDomain(t *testing.T) {
	s := start(t, zerobuslocal.Options{})
	if err := s.CreateTable(testTable, eventsDesc()); err != nil {
		t.Fatal(err)
	}
	st := openStream(t, dial(t, s), token(t, s, testTable), testTable)
	st.send(createReq(testTable, mutate(func(d *descriptorpb.DescriptorProto) { d.Field = d.Field[:1] }), zerobuspb.RecordType_PROTO))
	err := st.drain()
	wantStatus(t, err, codes.InvalidArgument, "schema validation failed")
	stt, _ := status.FromError(err)
	for _, d := range stt.Details() {
		if ei, ok := d.(*errdetails.ErrorInfo); ok {
			if ei.Domain != "zerobus.databricks.com" || ei.Metadata["error_code"] != "8001" || ei.Reason != "SCHEMA_VALIDATION_FAILED" {
				t.Fatalf("ErrorInfo: %v", ei)
			}
			return
		}
	}
	t.Fatalf("no ErrorInfo in %v", err)
}

func outgoing(ctx context.Context, tok, table string) context.Context {
	return metadata.NewOutgoingContext(ctx, metadata.Pairs("x-databricks-zerobus-table-name", table, "authorization", "Bearer "+tok))
}
