package zerobuslocal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// Persist writes every table to Options.DataDir (created if needed):
// <table>.arrow, an Arrow IPC file of all rows, and <table>.parquet, the same
// rows as Parquet, for tables with a schema, and <table>.jsonl, one record
// per line, for raw JSON tables. Files are replaced atomically. A table
// whose schema Parquet cannot hold (a struct without fields) gets no
// .parquet file; that is logged, not an error. Close calls it; call it earlier to look at data while
// the server runs. It is a no-op without DataDir.
func (s *Server) Persist() error {
	if s.opts.DataDir == "" {
		return nil
	}
	if err := os.MkdirAll(s.opts.DataDir, 0o755); err != nil {
		return fmt.Errorf("zerobuslocal: DataDir: %w", err)
	}
	var errs []error
	for _, name := range s.Tables() {
		desc, ok := s.TableDescriptor(name)
		if !ok {
			continue
		}
		var err error
		if desc == nil {
			err = s.writeJSONL(name)
		} else {
			err = s.writeArrow(name)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("zerobuslocal: persisting table %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Server) writeArrow(name string) error {
	rec, err := s.ArrowBatch(name, memory.DefaultAllocator)
	if err != nil {
		return err
	}
	defer rec.Release()
	err = writeAtomic(filepath.Join(s.opts.DataDir, name+".arrow"), func(f *os.File) error {
		w, err := ipc.NewFileWriter(f, ipc.WithSchema(rec.Schema()))
		if err != nil {
			return err
		}
		if err := w.Write(rec); err != nil {
			w.Close()
			return err
		}
		return w.Close()
	})
	if err != nil {
		return err
	}
	perr := writeAtomic(filepath.Join(s.opts.DataDir, name+".parquet"), func(f *os.File) error {
		// Hide Close: the Parquet writer closes a sink that has one, and
		// writeAtomic closes f itself.
		w, err := pqarrow.NewFileWriter(rec.Schema(), struct{ io.Writer }{f},
			parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy)),
			pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			return err
		}
		if err := w.Write(rec); err != nil {
			w.Close()
			return err
		}
		return w.Close()
	})
	if perr != nil {
		s.log.Warn("zerobuslocal: table not written as Parquet", "table", name, "err", perr)
	}
	return nil
}

func (s *Server) writeJSONL(name string) error {
	rows := s.Rows(name)
	return writeAtomic(filepath.Join(s.opts.DataDir, name+".jsonl"), func(f *os.File) error {
		bw := bufio.NewWriter(f)
		var buf bytes.Buffer
		for _, r := range rows {
			buf.Reset()
			if err := json.Compact(&buf, r.Raw); err != nil {
				return fmt.Errorf("row %d: %w", r.Seq, err)
			}
			buf.WriteByte('\n')
			if _, err := bw.Write(buf.Bytes()); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

func writeAtomic(path string, write func(*os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err := write(f); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
