package cli

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ipcMetadataRanges returns the byte ranges [from, to) of the flatbuffer
// metadata in an Arrow IPC file or stream: every message's metadata and,
// for a file, the footer. Bodies are left out.
func ipcMetadataRanges(t *testing.T, data []byte, file bool) [][2]int {
	t.Helper()
	var rs [][2]int
	pos, end := 0, len(data)
	if file {
		pos = 8
		flen := int(binary.LittleEndian.Uint32(data[len(data)-10:]))
		end = len(data) - 10 - flen
		rs = append(rs, [2]int{end, len(data) - 10})
	}
	for pos+8 <= end {
		if binary.LittleEndian.Uint32(data[pos:]) != 0xFFFFFFFF {
			t.Fatalf("no continuation marker at %d", pos)
		}
		mlen := int(binary.LittleEndian.Uint32(data[pos+4:]))
		if mlen == 0 {
			break // end of stream
		}
		meta := data[pos+8 : pos+8+mlen]
		rs = append(rs, [2]int{pos + 8, pos + 8 + mlen})
		pos += 8 + mlen + int(messageBodyLength(t, meta))
	}
	return rs
}

// messageBodyLength reads Message.bodyLength (field 3, a long) from the
// flatbuffer of a message's metadata.
func messageBodyLength(t *testing.T, fb []byte) int64 {
	t.Helper()
	root := int(binary.LittleEndian.Uint32(fb))
	vt := root - int(int32(binary.LittleEndian.Uint32(fb[root:])))
	vtLen := int(binary.LittleEndian.Uint16(fb[vt:]))
	const field = 3
	if 4+2*field+2 > vtLen {
		return 0
	}
	off := int(binary.LittleEndian.Uint16(fb[vt+4+2*field:]))
	if off == 0 {
		return 0
	}
	return int64(binary.LittleEndian.Uint64(fb[root+off:]))
}

// TestCorruptIPCMetadata flips random bytes in the flatbuffer metadata of
// Arrow IPC files and streams and reads them as `zerobus send` does, in a
// child process whose address space may grow by at most 2 GiB: every outcome is
// the rows or an error naming the file, never a crash or a runaway
// allocation.
func TestCorruptIPCMetadata(t *testing.T) {
	if dir := os.Getenv("ZEROBUS_TEST_IPC_FLIPS_DIR"); dir != "" {
		ipcFlipsChild(t, dir)
		return
	}
	dir := t.TempDir()
	rec := mixedBatch(memory.DefaultAllocator, 0, 40)
	defer rec.Release()
	for _, stream := range []bool{false, true} {
		ext := ".arrow"
		if stream {
			ext = ".arrows"
		}
		clean := filepath.Join(dir, "clean"+ext)
		writeArrow(t, clean, stream, mixedSchema, []arrow.RecordBatch{rec, rec})
		data, err := os.ReadFile(clean)
		if err != nil {
			t.Fatal(err)
		}
		rs := ipcMetadataRanges(t, data, !stream)
		if len(rs) < 3 {
			t.Fatalf("%d metadata ranges in %s", len(rs), clean)
		}
		for seed := range flipSeeds {
			rng := rand.New(rand.NewPCG(uint64(seed), 11))
			d := append([]byte(nil), data...)
			for range 1 + seed%4 {
				r := rs[rng.IntN(len(rs))]
				d[r[0]+rng.IntN(r[1]-r[0])] = byte(rng.Uint32())
			}
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("flip-%03d%s", seed, ext)), d, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		os.Remove(clean)
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestCorruptIPCMetadata$", "-test.v")
	cmd.Env = append(os.Environ(), "ZEROBUS_TEST_IPC_FLIPS_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("reading corrupt IPC files crashed the reader: %v\n%s", err, crashReport(string(out)))
	}
	if !strings.Contains(string(out), "ipc flips: ") {
		t.Fatalf("child did not run:\n%s", out)
	}
	stats := string(out[strings.Index(string(out), "ipc flips: "):])
	stats = stats[:strings.IndexByte(stats, '\n')]
	t.Log(stats)

	var files, failed int
	if _, err := fmt.Sscanf(stats, "ipc flips: %d files, %d failed", &files, &failed); err != nil || files != 2*flipSeeds || failed < flipSeeds/2 {
		t.Errorf("%s: want %d files, most failing (the flips must reach the metadata)", stats, 2*flipSeeds)
	}
}

// crashReport is the file being read when the child died and the first
// lines of the crash.
func crashReport(out string) string {
	i := strings.Index(out, "fatal error")
	if j := strings.Index(out, "panic:"); i < 0 || j >= 0 && j < i {
		i = j
	}
	if i < 0 {
		return out[max(0, len(out)-3000):]
	}
	file := out[:i]
	if k := strings.LastIndex(file, "reading flip-"); k >= 0 {
		file = file[k:]
	}
	return file + out[i:min(len(out), i+2500)]
}

// ipcFlipsChild reads every file in dir with the address space capped.
func ipcFlipsChild(t *testing.T, dir string) {
	capAddressSpace(t)
	names, err := filepath.Glob(filepath.Join(dir, "flip-*"))
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, p := range names {
		fmt.Println("reading", filepath.Base(p))
		err := readWholeInput(p)
		if err != nil {
			failed++
			if !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name the file", err)
			}
		}
	}
	fmt.Printf("ipc flips: %d files, %d failed with an error\n", len(names), failed)
}

// flipSeeds corrupted copies are made of each of an IPC file and stream.
var flipSeeds = 400
