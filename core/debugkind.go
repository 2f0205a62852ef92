package core

import (
	"fmt"
	"strings"
)

// DebugFileKind tells which reader a debug file needs, by its name (rotated
// files keep the extension): "arrow" for ".arrow" (ReadDebugArrowFile),
// "proto" for ".proto" (ReadDebugProtoFile, with the descriptor sidecar
// beside it). A descriptor sidecar or any other file is an error saying what
// to pass. `zerobus debug read` and zerobus_py.debug.read_file both decide
// with it.
func DebugFileKind(path string) (string, error) {
	switch {
	case strings.HasSuffix(path, ".arrow"):
		return "arrow", nil
	case strings.HasSuffix(path, ".proto"):
		return "proto", nil
	case strings.HasSuffix(path, ".descriptor.pb") || strings.HasSuffix(path, ".descriptor.textproto"):
		return "", fmt.Errorf("%s is a descriptor sidecar; pass the .proto file beside it", path)
	}
	return "", fmt.Errorf("%s: not a debug file; expected a .arrow or .proto file", path)
}
