package debugfile

import (
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// stampLayout formats rotation times in rotated file names; it sorts
// lexicographically in time order (always UTC).
const stampLayout = "20060102T150405.000Z"

// maxBaseLen bounds the table part of file names (file names are limited to
// 255 bytes on common file systems; rotation adds about 30).
const maxBaseLen = 160

// Extensions of the debug data files; rotated files keep them.
const (
	ArrowExt = ".arrow"
	ProtoExt = ".proto"
)

// KindOf tells which reader a debug file needs, by its name: "arrow" for
// ArrowExt (ReadArrowFile), "proto" for ProtoExt (ReadProtoFile, with the
// descriptor sidecar beside it). A sidecar or any other file is an error
// saying what to pass.
func KindOf(path string) (string, error) {
	switch {
	case strings.HasSuffix(path, ArrowExt):
		return "arrow", nil
	case strings.HasSuffix(path, ProtoExt):
		return "proto", nil
	case strings.HasSuffix(path, descriptorSuffix) || strings.HasSuffix(path, textprotoSuffix):
		return "", fmt.Errorf("%s is a descriptor sidecar; pass the %s file beside it", path, ProtoExt)
	}
	return "", fmt.Errorf("%s: not a debug file; expected a %s or %s file", path, ArrowExt, ProtoExt)
}

// Sidecar suffixes of a protobuf debug file (replacing its ".proto").
const (
	descriptorSuffix = ".descriptor.pb"
	textprotoSuffix  = ".descriptor.textproto"
	// dropsSuffix names the sidecar recording dropped writes (any kind).
	dropsSuffix = ".drops.jsonl"
)

// SafeName returns the file-name form of a table name: ASCII letters,
// digits, '_' and '.' are kept, anything else becomes '_'. When that changes
// the name (or it is empty, starts with '.', is a reserved Windows device
// name, or is too long) an '_' and 8 hex digits of a hash of the original
// are appended, so distinct tables never share files. The result never
// contains '-', which separates the timestamp in rotated names, so one
// table's rotated files can never be mistaken for another's.
func SafeName(table string) string {
	var b strings.Builder
	changed := table == ""
	for i := 0; i < len(table); i++ {
		c := table[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' && i > 0
		if ok {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
			changed = true
		}
	}
	s := b.String()
	if isReservedWindowsName(s) {
		s = "_" + s
		changed = true
	}
	if len(s) > maxBaseLen {
		s = s[:maxBaseLen]
		changed = true
	}
	if changed {
		h := fnv.New32a()
		h.Write([]byte(table))
		s = fmt.Sprintf("%s_%08x", s, h.Sum32())
	}
	return s
}

// isReservedWindowsName reports whether the part of s before its first dot
// is a device name Windows refuses as a file name (CON, NUL, COM1, ...).
func isReservedWindowsName(s string) bool {
	stem, _, _ := strings.Cut(s, ".")
	switch strings.ToUpper(stem) {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(stem) == 4 {
		p := strings.ToUpper(stem[:3])
		if (p == "COM" || p == "LPT") && stem[3] >= '1' && stem[3] <= '9' {
			return true
		}
	}
	return false
}

// rotatedStem is the name, without extension, of a file of table base
// rotated at t with sequence number seq by the writer holding the table's
// canonical active name (wid empty) or by another writer wid (see
// extraStem): then "-<wid>" follows, so writers rotating in the same
// millisecond never pick the same name.
func rotatedStem(base string, t time.Time, seq int, wid ...string) string {
	s := fmt.Sprintf("%s-%s-%04d", base, t.UTC().Format(stampLayout), seq)
	if len(wid) > 0 && wid[0] != "" {
		s += "-" + wid[0]
	}
	return s
}

// extraStem is the active name, without extension, of writer wid of table
// base when another writer holds the canonical name base: "<base>-<wid>".
// wid is "<pid>_<n>"; the '-' keeps it apart from every table's active
// name (SafeName never contains '-'), and it is not a rotated name.
func extraStem(base, wid string) string { return base + "-" + wid }

// errLocked: another writer holds the lock (lockFile).
var errLocked = errors.New("debugfile: locked by another writer")

// isWID reports whether s is a writer id: digits and '_', not empty.
func isWID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && s[i] != '_' {
			return false
		}
	}
	return true
}

// rotatedParts splits stem, a file name without its extension, as a
// rotated file's (rotatedStem: <base>-<stamp>-<seq>[-<wid>], a writer id
// holding '_', a sequence number of 4 or more digits); ok is false when
// stem is not one. The one reading of rotated names: retention, sorting
// and the readers' "is this an active file" all use it.
func rotatedParts(stem string) (base, stamp, seq, wid string, ok bool) {
	i := strings.LastIndexByte(stem, '-')
	if i >= 0 && strings.IndexByte(stem[i+1:], '_') >= 0 { // a writer id (a seq is digits only)
		if wid = stem[i+1:]; !isWID(wid) {
			return "", "", "", "", false
		}
		stem = stem[:i]
		i = strings.LastIndexByte(stem, '-')
	}
	if i < 0 {
		return "", "", "", "", false
	}
	seq = stem[i+1:]
	if len(seq) < 4 || strings.Trim(seq, "0123456789") != "" {
		return "", "", "", "", false
	}
	j := strings.LastIndexByte(stem[:i], '-')
	if j < 0 {
		return "", "", "", "", false
	}
	stamp = stem[j+1 : i]
	if _, err := time.Parse(stampLayout, stamp); err != nil {
		return "", "", "", "", false
	}
	return stem[:j], stamp, seq, wid, true
}

// parseRotated reports whether name is a rotated data file of table base
// with extension ext (of any writer), and returns its stem.
func parseRotated(name, base, ext string) (stem string, ok bool) {
	if !strings.HasSuffix(name, ext) {
		return "", false
	}
	stem = name[:len(name)-len(ext)]
	b, _, _, _, ok := rotatedParts(stem)
	if !ok || b != base {
		return "", false
	}
	return stem, true
}

// splitRotated splits a rotated stem into its part up to the stamp, its
// sequence number and its writer id (empty for the canonical writer).
func splitRotated(stem string) (head, seq, wid string) {
	base, stamp, seq, wid, _ := rotatedParts(stem)
	return base + "-" + stamp, seq, wid
}

// sortRotated sorts rotated stems oldest first. Names order by time; the
// sequence number breaks ties, compared numerically in case it outgrows
// its four digits, then the writer id.
func sortRotated(stems []string) {
	sort.Slice(stems, func(i, j int) bool {
		ah, as, aw := splitRotated(stems[i])
		bh, bs, bw := splitRotated(stems[j])
		if ah != bh {
			return ah < bh
		}
		if len(as) != len(bs) {
			return len(as) < len(bs)
		}
		if as != bs {
			return as < bs
		}
		return aw < bw
	})
}
