// Package fsutil is the one way gantrain writes an output file. What it
// does depends on what the name is:
//
//   - a regular file or a new name: written atomically, so that a crash or
//     a full disk never leaves a half-written file under the final name
//     (a temporary file in the same directory, fsync, rename, fsync the
//     directory);
//   - a symbolic link: the file it points to, as above; the link stays a
//     link;
//   - a character or block device (/dev/null, /dev/full, a terminal), a
//     named pipe or a Unix socket: opened (a socket: connected to) and
//     written in place, never replaced;
//   - a directory: an error.
//
// Errors are *fs.PathError values naming the path given and the problem,
// on one line: "write /dev/full: no space left on device".
package fsutil

import (
	"bufio"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// maxLinks is how many symbolic links WriteFile follows (Linux's limit).
const maxLinks = 40

// WriteFile writes the bytes write produces to path, as the package comment
// describes. A regular file is created or replaced with mode perm; on any
// error it is left as it was. A named pipe blocks until it has a reader, as
// a shell redirection does.
func WriteFile(path string, perm os.FileMode, write func(w io.Writer) error) error {
	target, fi, err := resolve(path)
	if err != nil {
		return err
	}
	switch mode := modeOf(fi); {
	case fi == nil || mode.IsRegular():
		return replace(path, target, perm, write)
	case mode.IsDir():
		return &fs.PathError{Op: "write", Path: path, Err: syscall.EISDIR}
	case mode&fs.ModeSocket != 0:
		return writeSocket(path, target, write)
	default:
		return writeInPlace(path, target, perm, write)
	}
}

// WriteBytes writes b to path as WriteFile does.
func WriteBytes(path string, b []byte, perm os.FileMode) error {
	return WriteFile(path, perm, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// WriteStream writes the bytes write produces to w, an open stream such as
// the standard output, buffered; name (e.g. "stdout") names it in errors.
func WriteStream(w io.Writer, name string, write func(w io.Writer) error) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := write(bw); err != nil {
		return &fs.PathError{Op: "write", Path: name, Err: cause(err)}
	}
	if err := bw.Flush(); err != nil {
		return &fs.PathError{Op: "write", Path: name, Err: cause(err)}
	}
	return nil
}

// Check reports, without writing anything, whether WriteFile could write
// path: not a directory, and a new or replaced file's directory exists and
// is writable (a device, pipe or socket must be writable itself).
func Check(path string) error {
	target, fi, err := resolve(path)
	if err != nil {
		return err
	}
	mode := modeOf(fi)
	if fi != nil && mode.IsDir() {
		return &fs.PathError{Op: "write", Path: path, Err: syscall.EISDIR}
	}
	if fi != nil && !mode.IsRegular() {
		if err := writable(target); err != nil {
			return &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return nil
	}
	dir := filepath.Dir(target)
	di, err := os.Stat(dir)
	switch {
	case err != nil:
		return &fs.PathError{Op: "create", Path: path, Err: cause(err)}
	case !di.IsDir():
		return &fs.PathError{Op: "create", Path: path, Err: syscall.ENOTDIR}
	}
	if err := writable(dir); err != nil {
		return &fs.PathError{Op: "create", Path: path, Err: err}
	}
	return nil
}

// InPlace reports whether WriteFile writes path in place: a device, named
// pipe or socket, after symbolic links.
func InPlace(path string) bool {
	_, fi, err := resolve(path)
	return err == nil && fi != nil && !fi.Mode().IsRegular() && !fi.IsDir()
}

// SyncDir fsyncs a directory so that renames in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return &fs.PathError{Op: "sync", Path: dir, Err: cause(err)}
	}
	return nil
}

// resolve follows symbolic links from path to the name that is written and
// returns it with its Lstat info (nil if it does not exist yet).
func resolve(path string) (string, fs.FileInfo, error) {
	p := path
	for range maxLinks {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return p, nil, nil
		}
		if err != nil {
			return "", nil, &fs.PathError{Op: "write", Path: path, Err: cause(err)}
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			return p, fi, nil
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", nil, &fs.PathError{Op: "write", Path: path, Err: cause(err)}
		}
		if !filepath.IsAbs(dest) {
			// Not filepath.Join: cleaning "dirlink/../x" lexically would
			// differ from what the kernel resolves.
			dest = filepath.Dir(p) + string(filepath.Separator) + dest
		}
		p = dest
	}
	return "", nil, &fs.PathError{Op: "write", Path: path, Err: syscall.ELOOP}
}

func modeOf(fi fs.FileInfo) fs.FileMode {
	if fi == nil {
		return 0
	}
	return fi.Mode()
}

// replace atomically replaces target (path after symbolic links) with what
// write writes.
func replace(path, target string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(target)
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return &fs.PathError{Op: "create", Path: path, Err: cause(err)}
	}
	tmp := f.Name()
	op := "write"
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
			err = &fs.PathError{Op: op, Path: path, Err: cause(err)}
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err = write(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return err
	}
	op = "sync"
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	op = "rename"
	if err = os.Rename(tmp, target); err != nil {
		return err
	}
	op = "sync"
	return SyncDir(dir)
}

// writeInPlace opens an existing device or named pipe and writes to it.
func writeInPlace(path, target string, perm os.FileMode, write func(w io.Writer) error) error {
	f, err := os.OpenFile(target, os.O_WRONLY, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: path, Err: cause(err)}
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		// Replaced by a regular file since resolve looked: write that
		// atomically instead of into it.
		f.Close()
		return replace(path, target, perm, write)
	}
	err = WriteStream(f, path, write)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &fs.PathError{Op: "close", Path: path, Err: cause(cerr)}
	}
	return err
}

// writeSocket connects to a Unix stream socket and writes to it.
func writeSocket(path, target string, write func(w io.Writer) error) error {
	c, err := net.Dial("unix", target)
	if err != nil {
		return &fs.PathError{Op: "connect", Path: path, Err: cause(err)}
	}
	err = WriteStream(c, path, write)
	if cerr := c.Close(); err == nil && cerr != nil {
		err = &fs.PathError{Op: "close", Path: path, Err: cause(cerr)}
	}
	return err
}

// cause is the operating system's error number behind err if it has one
// ("no space left on device", not the temporary file's name), else err.
func cause(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}
