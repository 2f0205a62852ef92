package core

import (
	"context"
	"testing"
	"time"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/zerobuslocal"
)

// protobufWrapper creates table on srv with the columns of ddl and a
// Wrapper sending it over protobuf, closed when the test ends.
func protobufWrapper(t *testing.T, srv *zerobuslocal.Server, table, ddl string) *Wrapper {
	t.Helper()
	alterTable(t, srv, table, ddl)
	w, err := New(context.Background(), localConfig(srv, table))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

// Over protobuf too, a table altered under a Wrapper (a column added)
// takes the new column: the up-front check against the table's columns
// (protobufMismatch) reads the catalog again when the copy it has was read
// before the batch, instead of refusing a column the table now has.
func TestProtobufTableAlteredAfterFirstBatch(t *testing.T) {
	srv := startLocal(t)
	const table = "main.default.pb_altered"
	w := protobufWrapper(t, srv, table, "id BIGINT NOT NULL")
	if err := sendIDs(t, w, 0, 5, false); err != nil {
		t.Fatalf("first batch: %v", err)
	}
	alterTable(t, srv, table, "id BIGINT NOT NULL, score DOUBLE")
	if err := sendIDs(t, w, 100, 7, true); err != nil {
		t.Fatalf("a batch with the added column: %v", err)
	}
	if n := len(srv.Rows(table)); n != 7 {
		t.Fatalf("the altered table holds %d rows, want the 7 sent after it was altered", n)
	}
}

// A batch schema the table refuses is refused over protobuf before any
// stream opens, from memory for mismatchRecheck, then checked against the
// table's columns read again: once the table takes it, it is sent.
func TestProtobufMismatchRecheckedAfterInterval(t *testing.T) {
	shortRecheck(t, time.Second)

	srv := startLocal(t)
	const table = "main.default.pb_recheck"
	w := protobufWrapper(t, srv, table, "id BIGINT NOT NULL")
	if err := sendIDs(t, w, 0, 5, true); !isMismatch(err) {
		t.Fatalf("a batch with a column the table lacks: %v, want a *SchemaMismatchError", err)
	}
	if st := srv.Stats(); st.StreamsCreated+st.StreamsRejected != 0 {
		t.Fatalf("streams asked for a batch the catalog showed the table refuses: %+v", st)
	}
	alterTable(t, srv, table, "id BIGINT NOT NULL, score DOUBLE")
	if err := sendIDs(t, w, 0, 5, true); !isMismatch(err) {
		t.Fatalf("within the recheck interval: %v, want the kept *SchemaMismatchError", err)
	}
	time.Sleep(mismatchRecheck + 50*time.Millisecond)
	if err := sendIDs(t, w, 10, 6, true); err != nil {
		t.Fatalf("after the recheck interval, with the table altered to take the batch: %v", err)
	}
	if n := len(srv.Rows(table)); n != 6 {
		t.Fatalf("the table holds %d rows, want 6", n)
	}
}
