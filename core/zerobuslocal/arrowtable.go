package zerobuslocal

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/convert"
)

// CreateTableFromArrow registers table name with the descriptor that
// core/internal/convert derives from schema with default options (the one
// this project's client sends for that schema). Errors are those of
// convert.NewPlan (unsupported column types, bad names) and CreateTable.
func (s *Server) CreateTableFromArrow(name string, schema *arrow.Schema) error {
	if schema == nil {
		return fmt.Errorf("zerobuslocal: CreateTableFromArrow %q: nil schema", name)
	}
	plan, err := convert.NewPlan(schema, convert.Options{})
	if err != nil {
		return fmt.Errorf("zerobuslocal: CreateTableFromArrow %q: %w", name, err)
	}
	return s.CreateTable(name, plan.Descriptor())
}
