// Package fsutil writes files so that a crash or a full disk never leaves a
// half-written file under the final name: write to a temporary file in the
// same directory, fsync, rename, fsync the directory.
package fsutil

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteFile atomically replaces path with the bytes write produces.
func WriteFile(path string, perm os.FileMode, write func(f *os.File) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
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
	return WriteFile(path, perm, func(f *os.File) error {
		_, err := f.Write(b)
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
