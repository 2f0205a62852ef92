package zerobuslocal

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// GET .../rows answers a JSON array of RowJSON. It is written piece by
// piece as the rows are decoded, so that a read of a full table holds
// neither the table's decoded messages nor the whole answer: at most
// 2 × readWorkers pieces of decodePieceRows rows are decoded and encoded
// at a time, in order.

// rowsOut is the JSON of one piece of rows (a leading comma but for the
// first), or why it could not be built.
type rowsOut struct {
	buf []byte
	err error
}

// writeRowsJSON writes the rows of br to w as a JSON array of RowJSON
// followed by a newline (what writeJSON writes for the whole list).
func writeRowsJSON(w io.Writer, br blockRange) error {
	ps := br.pieces(decodePieceRows)
	if _, err := io.WriteString(w, "["); err != nil {
		return err
	}
	workers := min(readWorkers(), len(ps))
	if br.count < parallelReadRows {
		workers = min(1, len(ps))
	}
	results := make([]chan rowsOut, len(ps))
	for k := range results {
		results[k] = make(chan rowsOut, 1)
	}
	tokens := make(chan struct{}, 2*max(workers, 1)) // pieces being built or waiting to be written
	stop := make(chan struct{})
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case tokens <- struct{}{}:
				case <-stop:
					return
				}
				k := int(next.Add(1) - 1)
				if k >= len(ps) {
					return
				}
				buf, err := appendRowsJSON(nil, ps[k], k > 0)
				results[k] <- rowsOut{buf, err}
			}
		}()
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for k := range ps {
		out := <-results[k]
		<-tokens
		if out.err != nil {
			return out.err
		}
		if _, err := w.Write(out.buf); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "]\n")
	return err
}

// appendRowsJSON appends the RowJSON of every row of p to dst, separated by
// commas (and preceded by one when comma).
func appendRowsJSON(dst []byte, p piece, comma bool) ([]byte, error) {
	b := p.b
	for i := p.from; i < p.to; i++ {
		row := b.row(i)
		row.Message = b.message(i)
		rj, err := rowJSON(row)
		if err != nil {
			return nil, fmt.Errorf("row seq %d: %w", b.firstSeq+int64(i), err)
		}
		enc, err := json.Marshal(rj)
		if err != nil {
			return nil, fmt.Errorf("row seq %d: %w", b.firstSeq+int64(i), err)
		}
		if comma || i > p.from {
			dst = append(dst, ',')
		}
		dst = append(dst, enc...)
	}
	return dst, nil
}
