package flightstream

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// LargestColumn returns the column of rec whose Arrow IPC body alone is the
// largest and that body's size, encoded as Encode encodes (a slice's values
// only, the stream's compression): for naming the column of a row over
// max_message_bytes, as the protobuf path names an oversize record's. name
// is "" when no column could be encoded.
func (s *Stream) LargestColumn(rec arrow.RecordBatch) (name string, size int64) {
	for i, f := range rec.Schema().Fields() {
		one := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{f}, nil), []arrow.Array{rec.Column(i)}, rec.NumRows())
		p, err := ipc.GetRecordBatchPayload(one, s.c.ipcOpts...)
		one.Release()
		if err != nil {
			continue
		}
		var n countWriter
		err = p.SerializeBody(&n)
		p.Release()
		if err == nil && (name == "" || int64(n) > size) {
			name, size = f.Name, int64(n)
		}
	}
	return name, size
}
