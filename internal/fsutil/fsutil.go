// Package fsutil writes files so that a crash or a full disk never leaves a
// half-written file under the final name: write to a temporary file in the
// same directory, fsync, rename, fsync the directory.
package fsutil

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
)

// WriteFile atomically replaces path with the bytes write produces. On any
// error the temporary file is removed and path is left as it was.
func WriteFile(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		if pe, ok := err.(*os.PathError); ok {
			return fmt.Errorf("create a temporary file in %s: %w", dir, pe.Err)
		}
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	var w io.Writer = f
	if limit := faultLimit.Load(); limit > 0 {
		w = &faultWriter{w: f, left: limit}
	}
	if err = write(w); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return SyncDir(dir)
}

// WriteBytes atomically replaces path with b.
func WriteBytes(path string, b []byte, perm os.FileMode) error {
	return WriteFile(path, perm, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// SyncDir fsyncs a directory so that renames in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}

// faultLimit, when > 0, makes every WriteFile fail with ENOSPC after that
// many bytes: tests use it to show what a full disk does.
var faultLimit atomic.Int64

// SimulateFullDisk makes writes through WriteFile fail with "no space left
// on device" after limit bytes per file, until the returned function is
// called. For tests.
func SimulateFullDisk(limit int64) (restore func()) {
	faultLimit.Store(limit)
	return func() { faultLimit.Store(0) }
}

type faultWriter struct {
	w    io.Writer
	left int64
}

func (f *faultWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > f.left {
		n, _ := f.w.Write(p[:f.left])
		f.left = 0
		return n, &os.PathError{Op: "write", Path: "(simulated full disk)", Err: syscall.ENOSPC}
	}
	f.left -= int64(len(p))
	return f.w.Write(p)
}
