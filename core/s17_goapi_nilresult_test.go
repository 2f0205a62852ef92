package core_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/zerobus-wrapper/zerobus-wrapper/core"
)

// TestNilResultSafe: a nil *TransmissionResult panicked in every method but
// String, and SendFuture.Wait returns one when its ctx ends first, so doc.go's
// quarantine pattern panicked after a timed-out Wait (s17 review goapi L2).
// Every method is now safe on a nil result: no rows, and the Extract
// methods return an error.
func TestNilResultSafe(t *testing.T) {
	var r *core.TransmissionResult
	rec := nullNameBatch(3, func(i int) bool { return i == 1 })
	defer rec.Release()
	checks := map[string]func(){
		"String":                      func() { _ = r.String() },
		"IsPartialSuccess":            func() { _ = r.IsPartialSuccess() },
		"HasFailedRows":               func() { _ = r.HasFailedRows() },
		"HasSuccessfulRows":           func() { _ = r.HasSuccessfulRows() },
		"FailedRowIndices":            func() { _ = r.FailedRowIndices() },
		"NotWrittenRowIndices":        func() { _ = r.NotWrittenRowIndices() },
		"UnknownRowIndices":           func() { _ = r.UnknownRowIndices() },
		"SuccessfulRowIndices":        func() { _ = r.SuccessfulRowIndices() },
		"FailedRowIndicesByErrorType": func() { _ = r.FailedRowIndicesByErrorType(core.KindConversion) },
		"GroupErrorsByType":           func() { _ = r.GroupErrorsByType() },
		"ErrorStatistics":             func() { _ = r.ErrorStatistics() },
		"ErrorMessages":               func() { _ = r.ErrorMessages() },
		"FailedGroups":                func() { _ = r.FailedGroups() },
		"FailedAsWhole":               func() { _ = r.FailedAsWhole() },
		"Format":                      func() { _ = fmt.Sprintf("%v %+v %s", r, r, r) },
	}
	for name, f := range checks {
		noPanic(t, name, f)
	}
	extract := map[string]func() (any, error){
		"ExtractFailedBatch":     func() (any, error) { return r.ExtractFailedBatch(rec) },
		"ExtractSuccessfulBatch": func() (any, error) { return r.ExtractSuccessfulBatch(rec) },
		"ExtractNotWrittenBatch": func() (any, error) { return r.ExtractNotWrittenBatch(rec) },
		"ExtractUnknownBatch":    func() (any, error) { return r.ExtractUnknownBatch(rec) },
	}
	for name, f := range extract {
		noPanic(t, name, func() {
			if b, err := f(); err == nil {
				t.Errorf("%s on a nil result = %v, nil; want an error", name, b)
			}
		})
	}
	noPanic(t, "values", func() {
		if s := r.ErrorStatistics(); s.TotalRows != 0 || s.ByKind == nil {
			t.Errorf("ErrorStatistics = %+v", s)
		}
		if r.HasFailedRows() || r.FailedAsWhole() || len(r.FailedRowIndices()) != 0 || len(r.FailedGroups()) != 0 {
			t.Error("a nil result reports failed rows")
		}
	})
}

// TestQuarantineAfterTimedOutWait runs doc.go's quarantine pattern on the
// result of a Wait whose ctx ended before the send resolved.
func TestQuarantineAfterTimedOutWait(t *testing.T) {
	srv := localServer(t)
	w, err := core.New(context.Background(), localConfig(srv, "main.default.quarantine_wait"))
	if err != nil {
		t.Fatal(err)
	}
	defer closeWrapper(t, w)
	rec := nullNameBatch(5, func(i int) bool { return i == 2 })
	defer rec.Release()
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := w.SendBatchAsync(context.Background(), rec).Wait(ended)
	if err == nil {
		t.Skip("the send resolved before Wait looked at its ctx")
	}
	noPanic(t, "quarantine", func() {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait = %v, want context.Canceled", err)
		}
		// doc.go: "if err != nil { // res still says which rows failed … }"
		if res.HasFailedRows() {
			t.Errorf("a nil result has failed rows")
		}
		if bad, xerr := res.ExtractFailedBatch(rec); xerr == nil {
			bad.Release()
			t.Error("ExtractFailedBatch on the nil result of a timed-out Wait: no error")
		}
		_ = res.String()
	})
}
