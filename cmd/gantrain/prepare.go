package main

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Every command first prepares — checks its configuration, data, model and
// outputs, writing nothing — and only then runs. The checks of outputs
// live here.

// checkOutFile checks that a file can be written at path: it is not a
// directory, and its directory exists and is writable.
func checkOutFile(flag, path string) error {
	if path == "" {
		return usagef("%s: empty file name", flag)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return usagef("%s %s: is a directory", flag, path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return usagef("%s %s: directory %s does not exist", flag, path, dir)
	case err != nil:
		return usagef("%s %s: %v", flag, path, unwrapPathErr(err))
	case !fi.IsDir():
		return usagef("%s %s: %s is not a directory", flag, path, dir)
	}
	if err := unix.Access(dir, unix.W_OK); err != nil {
		return usagef("%s %s: cannot write in %s: %v", flag, path, dir, err)
	}
	return nil
}

// checkOutDir checks that path is a directory or can be made one: the
// nearest existing ancestor is a writable directory.
func checkOutDir(flag, path string) error {
	if path == "" {
		return usagef("%s: empty directory name", flag)
	}
	p := path
	for {
		fi, err := os.Stat(p)
		if err == nil {
			if !fi.IsDir() {
				if p == path {
					return usagef("%s %s: exists and is not a directory", flag, path)
				}
				return usagef("%s %s: %s is not a directory", flag, path, p)
			}
			if err := unix.Access(p, unix.W_OK); err != nil {
				return usagef("%s %s: cannot write in %s: %v", flag, path, p, err)
			}
			return nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return usagef("%s %s: %v", flag, path, unwrapPathErr(err))
		}
		parent := filepath.Dir(p)
		if parent == p {
			return usagef("%s %s: no existing parent directory", flag, path)
		}
		p = parent
	}
}
