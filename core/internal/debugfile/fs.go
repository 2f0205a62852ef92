package debugfile

import (
	"io"
	"os"
)

// FS is the file system a Writer uses. The default is the operating system
// (the os package); tests replace it to simulate a full disk. Paths use the
// host's separators.
type FS interface {
	// MkdirAll creates a directory and its parents, like os.MkdirAll.
	MkdirAll(path string, perm os.FileMode) error
	// OpenFile opens a file, like os.OpenFile.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Rename moves a file, like os.Rename.
	Rename(oldpath, newpath string) error
	// Remove deletes a file, like os.Remove.
	Remove(name string) error
	// Stat describes a file, like os.Stat.
	Stat(name string) (os.FileInfo, error)
	// ReadDir lists a directory, like os.ReadDir.
	ReadDir(name string) ([]os.DirEntry, error)
}

// File is an open file of an FS.
type File interface {
	io.Writer
	// Sync commits the file's contents to stable storage.
	Sync() error
	// Close closes the file.
	Close() error
}

// allocFile is a File that can reserve disk blocks ahead of its data (the
// os file system's files, on ext4; see bufWriter.reserve).
type allocFile interface {
	File
	// Allocate reserves the blocks of bytes [off, off+n) without changing
	// the file's size.
	Allocate(off, n int64) error
	// TrimAlloc frees the blocks reserved beyond the file's size.
	TrimAlloc() error
}

// osFS is the operating system's file system.
type osFS struct{}

func (osFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }
func (osFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // not a typed nil File
	}
	return osFile{f}, nil
}

// osFile is an os file that can switch to direct I/O (directFile).
type osFile struct{ *os.File }

func (f osFile) SetDirect(on bool) error                { return setDirect(f.File, on) }
func (f osFile) Allocate(off, n int64) error            { return falloc(f.File, off, n) }
func (f osFile) TrimAlloc() error                       { return trimAlloc(f.File) }
func (osFS) Rename(oldpath, newpath string) error       { return os.Rename(oldpath, newpath) }
func (osFS) Remove(name string) error                   { return os.Remove(name) }
func (osFS) Stat(name string) (os.FileInfo, error)      { return os.Stat(name) }
func (osFS) ReadDir(name string) ([]os.DirEntry, error) { return os.ReadDir(name) }
