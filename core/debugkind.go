package core

import (
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/zerobus-wrapper/zerobus-wrapper/core/internal/debugfile"
)

// DebugFileKind tells which reader a debug file needs, by its name (rotated
// files keep the extension): "arrow" for ".arrow" (ReadDebugArrowFile),
// "proto" for ".proto" (ReadDebugProtoFile, with the descriptor sidecar
// beside it). A descriptor sidecar or any other file is an error saying what
// to pass. `zerobus debug read` and zerobus_py.debug.read_file both decide
// with it.
func DebugFileKind(path string) (string, error) { return debugfile.KindOf(path) }

// ListDebugFiles returns every debug data file (a DebugFileKind) under dir,
// at any depth, in lexical order; sidecars are left out. A dir that does
// not exist holds none (nil, nil). zerobus_py.debug.list_files lists with
// it.
func ListDebugFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if _, kindErr := debugfile.KindOf(path); kindErr == nil && d.Type().IsRegular() {
			out = append(out, path)
		}
		return nil
	})
	return out, err
}
