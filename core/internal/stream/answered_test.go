package stream

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// MarkAnswered counts an UNAVAILABLE as the server's own answer whether or
// not response headers came first: a grpc-go handler that fails at once,
// many proxies, and a server shutting down send a trailers-only response,
// for which Header() gives no metadata. A connection that breaks without any
// answer stays unanswered ("cannot reach").
func TestMarkAnsweredTrailersOnly(t *testing.T) {
	release := make(chan struct{})
	handler := func(_ any, ss grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(ss)
		switch method {
		case "/t.T/Headers":
			if err := ss.SendHeader(nil); err != nil {
				return err
			}
		case "/t.T/Hang":
			<-release
		}
		return status.Error(codes.Unavailable, "busy")
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(handler))
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	defer close(release)
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	answered := func(method string, breakIt func()) (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
		if err != nil {
			return false, err
		}
		if breakIt != nil {
			time.Sleep(100 * time.Millisecond) // the handler is running
			breakIt()
		}
		rerr := cs.RecvMsg(new(struct{}))
		if status.Code(rerr) != codes.Unavailable {
			return false, rerr
		}
		ce := &ConnectionError{Op: "create", Err: &ServerError{Code: codes.Unavailable, Message: "busy"}}
		var got *ConnectionError
		if !errors.As(MarkAnswered(cs, ce), &got) {
			t.Fatal("MarkAnswered lost the *ConnectionError")
		}
		return got.Answered, nil
	}
	for _, method := range []string{"/t.T/Headers", "/t.T/TrailersOnly"} {
		got, err := answered(method, nil)
		if err != nil || !got {
			t.Errorf("%s: answered = %t (%v), want true", method, got, err)
		}
	}
	// The server's connections are cut while the handler runs: no answer.
	got, err := answered("/t.T/Hang", func() {
		go srv.Stop()
	})
	if err != nil || got {
		t.Errorf("broken connection: answered = %t (%v), want false", got, err)
	}
}

// A handler that fails at once can end the RPC before the client's first
// Send: Send then returns io.EOF and the status comes from Recv. That status
// is the server's answer too (it was reported as "cannot reach" under load).
func TestSendFailedReadsTheServersAnswer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(any, grpc.ServerStream) error {
		return status.Error(codes.Unavailable, "busy")
	}))
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cs, err := conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, "/t.T/Now")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = cs.Header() // returns once the trailers-only status has arrived
	serr := cs.SendMsg(&emptyMsg{})
	if !errors.Is(serr, io.EOF) {
		t.Fatalf("Send after the status = %v, want io.EOF", serr)
	}
	classify := func(err error) error {
		return &ConnectionError{Op: "create", Err: &ServerError{Code: status.Code(err), Message: status.Convert(err).Message()}}
	}
	err = SendFailed(cs, serr, func() error { return cs.RecvMsg(&emptyMsg{}) }, classify)
	var ce *ConnectionError
	if !errors.As(err, &ce) || !ce.Answered {
		t.Fatalf("SendFailed = %#v, want an answered *ConnectionError", err)
	}
	if se := (*ServerError)(nil); !errors.As(err, &se) || se.Code != codes.Unavailable || se.Message != "busy" {
		t.Fatalf("SendFailed = %v, want the server's UNAVAILABLE busy", err)
	}
}

// emptyMsg is a message grpc-go's default codec can send: none of its fields.
type emptyMsg = emptypb.Empty
