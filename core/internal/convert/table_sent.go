package convert

import "github.com/apache/arrow-go/v18/arrow"

// TableAsSent is the table schema s with every VARIANT in it as large_utf8,
// the JSON text the protobuf path sends for one: a plan of it has the
// descriptor the table takes (what the service checks a stream's against).
func TableAsSent(s *arrow.Schema) *arrow.Schema {
	fs := s.Fields()
	for i := range fs {
		fs[i].Type = variantsAsText(fs[i].Type)
	}
	md := s.Metadata()
	return arrow.NewSchema(fs, &md)
}
