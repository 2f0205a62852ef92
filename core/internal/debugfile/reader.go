package debugfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/protoarrow"
)

// SidecarPath returns the path of the serialized DescriptorProto that
// describes the records of protobuf debug file protoPath
// (T.proto -> T.descriptor.pb, T-<stamp>-<seq>.proto -> T-<stamp>-<seq>.descriptor.pb).
func SidecarPath(protoPath string) string {
	pb, _ := sidecars(protoPath)
	return pb
}

// ReadProtoFile reads a protobuf debug file: the descriptor from its sidecar
// (SidecarPath) and the records, each still encoded, with their varint
// length prefixes removed. The records share one buffer. When the file ends
// inside a record (a crash or a full disk), the complete records before it
// are returned together with an error naming the record and offset. Safe for
// concurrent use; the file may be read while a Writer appends to it.
func ReadProtoFile(path string) (*descriptorpb.DescriptorProto, [][]byte, error) {
	side := SidecarPath(path)
	raw, err := os.ReadFile(side)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the descriptor of %q: %w (it is expected beside the file, named %s)", path, err, filepath.Base(side))
	}
	desc := new(descriptorpb.DescriptorProto)
	if err := proto.Unmarshal(raw, desc); err != nil {
		return nil, nil, fmt.Errorf("%q is not a serialized google.protobuf.DescriptorProto: %w", side, err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return desc, nil, fmt.Errorf("reading %q: %w", path, err)
	}
	records, err := splitDelimited(data)
	if err != nil {
		return desc, records, fmt.Errorf("%q: %w", path, err)
	}
	return desc, records, nil
}

// splitDelimited splits varint-length-prefixed records.
func splitDelimited(data []byte) ([][]byte, error) {
	var records [][]byte
	for off := 0; off < len(data); {
		n, l := protowire.ConsumeVarint(data[off:])
		if l < 0 {
			return records, fmt.Errorf("record %d at byte offset %d: bad length prefix (the file is truncated or not a protobuf debug file)", len(records), off)
		}
		if n > uint64(len(data)-off-l) {
			return records, fmt.Errorf("record %d at byte offset %d: length %d runs past the end of the file by %d bytes (truncated)", len(records), off, n, n-uint64(len(data)-off-l))
		}
		start := off + l
		records = append(records, data[start:start+int(n):start+int(n)])
		off = start + int(n)
	}
	return records, nil
}

// DecodeProto parses records with desc into dynamic messages (for printing,
// e.g. with protojson). Records that do not parse, lack a required field or
// carry fields unknown to desc are an error naming the record index.
func DecodeProto(desc *descriptorpb.DescriptorProto, records [][]byte) ([]proto.Message, error) {
	md, err := protoarrow.MessageDescriptor(desc)
	if err != nil {
		return nil, err
	}
	msgs := make([]proto.Message, len(records))
	for i, r := range records {
		m, err := protoarrow.Unmarshal(md, r)
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i, err)
		}
		msgs[i] = m
	}
	return msgs, nil
}

// ReadProtoFileArrow reads a protobuf debug file and converts its records to
// one Arrow record batch (protoarrow.Decode), whose schema follows from the
// descriptor. The caller must Release the batch. A nil mem means
// memory.DefaultAllocator.
func ReadProtoFileArrow(path string, mem memory.Allocator) (arrow.RecordBatch, error) {
	desc, records, err := ReadProtoFile(path)
	if err != nil {
		return nil, err
	}
	rec, err := protoarrow.Decode(mem, desc, records)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", path, err)
	}
	return rec, nil
}

// ReadArrowFile reads every record batch of an Arrow IPC stream debug file,
// also one still being written (it ends at a message boundary). The caller
// must Release every returned batch, also when err != nil: on a damaged
// stream the batches before the damage are returned with the error, which
// names the file and the batch. Each message's metadata is verified
// (protoarrow.NewIPCHeldStreamVerifier: every batch is kept, so their
// compressed buffers may decompress to protoarrow.DecodedLimit in all)
// before arrow-go, which trusts its lengths, reads it, so damage is an
// error, not a panic or an allocation of what a corrupt length asks for;
// each batch's body is validated
// (protoarrow.ArrowValidator) before it is returned, so a damaged offset,
// index or length in it is an error naming the batch, column and row, not
// garbage or a panic in whoever reads it. A nil mem means
// memory.DefaultAllocator.
func ReadArrowFile(path string, mem memory.Allocator) (recs []arrow.RecordBatch, err error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r, err := ipc.NewReader(protoarrow.NewIPCHeldStreamVerifier(f, st.Size()), ipc.WithAllocator(mem))
	if err != nil {
		hint := ""
		if kind, _ := KindOf(path); kind == "proto" {
			hint = " (this is a protobuf debug file; use ReadProtoFile)"
		}
		return nil, fmt.Errorf("%q is not a readable Arrow IPC stream%s: %w", path, hint, err)
	}
	defer r.Release()
	v := protoarrow.NewArrowValidator()
	for r.Next() {
		rec := r.RecordBatch()
		if err := v.Record(rec); errors.Is(err, protoarrow.ErrValidatorFailure) {
			return recs, fmt.Errorf("%q: batch %d: %w", path, len(recs), err)
		} else if err != nil {
			return recs, fmt.Errorf("%q: batch %d: %w (the file is damaged from this batch on; the %d batches before it are intact)", path, len(recs), err, len(recs))
		}
		rec.Retain()
		recs = append(recs, rec)
	}
	if err := r.Err(); err != nil {
		return recs, fmt.Errorf("%q: batch %d: %w", path, len(recs), err)
	}
	return recs, nil
}

// DropsPath returns the path of the drops sidecar of debug file path
// (T.arrow -> T.drops.jsonl, T-<stamp>-<seq>.proto -> T-<stamp>-<seq>.drops.jsonl).
// It exists only when writes meant for that file were dropped.
func DropsPath(path string) string { return dropsPath(path) }

// ReadDrops returns the gaps recorded for debug file path (an Arrow or
// protobuf data file): each says how many writes, rows and bytes were
// dropped just before the file's write number BeforeWrite (row
// BeforeRow). No sidecar means nothing was dropped: nil, nil. The sidecar
// holds one JSON object per line, so other tools read it too.
func ReadDrops(path string) ([]Gap, error) {
	side := dropsPath(path)
	data, err := os.ReadFile(side)
	if errors.Is(err, iofs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the drops record of %q: %w", path, err)
	}
	var gaps []Gap
	for i, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var g Gap
		if err := json.Unmarshal(line, &g); err != nil {
			return gaps, fmt.Errorf("%q line %d: %w", side, i+1, err)
		}
		gaps = append(gaps, g)
	}
	return gaps, nil
}
