package flightstream

import (
	"strings"
	"testing"
)

// The count in the message is of the columns that differ, not the table's
// (it read "(2 columns)" for a table of other width).
func TestMismatchErrorCountsDifferingColumns(t *testing.T) {
	e := &MismatchError{Table: "main.default.t", Columns: []ColumnMismatch{
		{Column: "event", CallerType: "utf8"},
		{Column: "at", CallerType: "timestamp[us]"},
	}}
	if got := e.Error(); !strings.HasPrefix(got, "the Arrow schema does not match table main.default.t (2 columns differ): column \"event\"") {
		t.Errorf("Error() = %q", got)
	}
}
