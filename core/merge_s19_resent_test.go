package core

import (
	"slices"
	"testing"
)

// TestMergeRecoveriesCountsSharedOnce: parts of one SendReader call that
// went through the same recovery (in flight together on one stream) count
// it once; re-sent rows add up; a part without recoveries adds nothing.
func TestMergeRecoveriesCountsSharedOnce(t *testing.T) {
	parts := []*TransmissionResult{
		{Success: true, TotalRows: 10, SuccessfulCount: 10, SuccessfulRanges: [][2]int{{0, 10}}, Recoveries: 2, ResentRows: 7, recoveryIDs: []uint64{5, 6}},
		{Success: true, TotalRows: 10, SuccessfulCount: 10, SuccessfulRanges: [][2]int{{0, 10}}},
		{Success: true, TotalRows: 10, SuccessfulCount: 10, SuccessfulRanges: [][2]int{{0, 10}}, Recoveries: 2, ResentRows: 3, recoveryIDs: []uint64{6, 1<<32 + 1}},
	}
	out := mergeResults(parts, false, false)
	if out.Recoveries != 3 || out.ResentRows != 10 || !slices.Equal(out.recoveryIDs, []uint64{5, 6, 1<<32 + 1}) {
		t.Fatalf("merged Recoveries %d, ResentRows %d, ids %v; want 3, 10, [5 6 4294967297]", out.Recoveries, out.ResentRows, out.recoveryIDs)
	}
	one := mergeResults(parts[:1], false, false)
	if one.Recoveries != 2 || one.ResentRows != 7 {
		t.Fatalf("one part: Recoveries %d, ResentRows %d; want 2, 7", one.Recoveries, one.ResentRows)
	}
	var tally resentTally
	tally.set(parts[1])
	if parts[1].Recoveries != 0 || parts[1].ResentRows != 0 || parts[1].recoveryIDs != nil {
		t.Fatalf("an empty tally set %+v", parts[1])
	}
}

// TestRecoveryCount: what a caller adding up the results of many batches
// (the CLI) gets: shared recoveries once, hand-built results by their
// count, nil ignored.
func TestRecoveryCount(t *testing.T) {
	var c RecoveryCount
	if c.Recoveries() != 0 || c.ResentRows() != 0 {
		t.Fatalf("zero value: %d, %d", c.Recoveries(), c.ResentRows())
	}
	c.Add(&TransmissionResult{Recoveries: 1, ResentRows: 4, recoveryIDs: []uint64{9}})
	c.Add(&TransmissionResult{Recoveries: 1, ResentRows: 6, recoveryIDs: []uint64{9}})
	c.Add(nil)
	c.Add(&TransmissionResult{})
	if c.Recoveries() != 1 || c.ResentRows() != 10 {
		t.Fatalf("one shared recovery: Recoveries %d, ResentRows %d; want 1, 10", c.Recoveries(), c.ResentRows())
	}
	c.Add(&TransmissionResult{Recoveries: 2, ResentRows: 1}) // built by hand: no ids
	c.Add(&TransmissionResult{Recoveries: 1, ResentRows: 1, recoveryIDs: []uint64{3}})
	if c.Recoveries() != 4 || c.ResentRows() != 12 {
		t.Fatalf("Recoveries %d, ResentRows %d; want 4, 12", c.Recoveries(), c.ResentRows())
	}
}
