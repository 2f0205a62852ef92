package core

import (
	"slices"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/stream"
)

// resentTally collects, over the requests of one send, the stream
// recoveries they went through and the rows written again after one (the
// Recoveries and ResentRows of the result).
type resentTally struct {
	ids  []uint64 // ids of the RPCs left (stream.Future.Recoveries), ascending, distinct
	rows int
}

// add counts the request (or Flight batch) whose future is f, once it is
// resolved (or given up on).
func (t *resentTally) add(f *stream.Future) {
	t.rows += f.Resent()
	n := len(t.ids)
	t.ids = f.Recoveries(t.ids)
	if len(t.ids) > n {
		t.ids = sortedSet(t.ids)
	}
}

// set puts the tally into r.
func (t *resentTally) set(r *TransmissionResult) {
	r.recoveryIDs = t.ids
	r.Recoveries = len(t.ids)
	r.ResentRows = t.rows
}

// sortedSet sorts ids and drops repeats, in place.
func sortedSet(ids []uint64) []uint64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// mergeRecoveries sets out's Recoveries and ResentRows from parts (see
// RecoveryCount).
func mergeRecoveries(out *TransmissionResult, parts []*TransmissionResult) {
	var c RecoveryCount
	for _, p := range parts {
		c.Add(p)
	}
	out.recoveryIDs, out.Recoveries, out.ResentRows = c.distinct(), c.Recoveries(), c.rows
}

// RecoveryCount adds up the Recoveries and ResentRows of several results,
// e.g. of the batches of one run: a stream recovery that re-sent requests
// of several batches in flight together counts once (Recoveries of each
// result count it), re-sent rows add up. The zero value is ready to use;
// it is not safe for concurrent use.
type RecoveryCount struct {
	ids    []uint64 // of the results' recoveries; ascending and distinct when sorted
	sorted bool     // ids is sorted and compacted (Add appends, reading sorts once)
	other  int      // Recoveries of results that do not say which (built by hand)
	rows   int
}

// Add counts r (nil: nothing).
func (c *RecoveryCount) Add(r *TransmissionResult) {
	if r == nil {
		return
	}
	c.rows += r.ResentRows
	if len(r.recoveryIDs) == 0 {
		c.other += r.Recoveries
		return
	}
	c.ids, c.sorted = append(c.ids, r.recoveryIDs...), false
}

// distinct returns the ids of the recoveries added, ascending, each once.
func (c *RecoveryCount) distinct() []uint64 {
	if !c.sorted {
		c.ids, c.sorted = sortedSet(c.ids), true
	}
	return c.ids
}

// Recoveries is the number of distinct stream recoveries of the results
// added.
func (c *RecoveryCount) Recoveries() int { return len(c.distinct()) + c.other }

// ResentRows is the sum of the results' ResentRows: an upper bound of the
// rows they may have stored twice.
func (c *RecoveryCount) ResentRows() int { return c.rows }
