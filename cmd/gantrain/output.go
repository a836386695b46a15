package main

import (
	"errors"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/gantrain/gantrain/internal/fsutil"
)

// stdoutName is the --out value that means the standard output.
const stdoutName = "-"

// checkOut checks an output flag before any work: "-" is the standard
// output, which must not be a terminal; a name must be writable as
// fsutil.WriteFile writes it (not a directory, in a directory that exists).
func (s *streams) checkOut(flag, path string) error {
	if path == stdoutName {
		if isTerminal(s.Out) {
			return usagef("%s -: stdout is a terminal; pipe it into a program or redirect it to a file", flag)
		}
		return nil
	}
	if err := fsutil.Check(path); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		if errors.Is(err, fs.ErrNotExist) {
			return usagef("%s %s: directory %s does not exist", flag, path, filepath.Dir(path))
		}
		return usagef("%s %s: %v", flag, path, err)
	}
	return nil
}

// writeOut writes one output: to the standard output for "-", else to the
// file, atomically, or in place for a device or named pipe (internal/fsutil).
func (s *streams) writeOut(path string, write func(io.Writer) error) error {
	if path == stdoutName {
		return fsutil.WriteStream(s.Out, "stdout", write)
	}
	return fsutil.WriteFile(path, 0o644, write)
}
