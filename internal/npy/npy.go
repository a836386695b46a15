// Package npy reads and writes NumPy's .npy format, so that gantrain can load
// data sets saved with numpy.save and write arrays that numpy.load reads.
//
// A .npy file is the magic "\x93NUMPY", a major and a minor version byte, the
// length of the header (uint16 little-endian in version 1.0, uint32 in 2.0
// and 3.0), the header itself, a Python dict literal such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (10, 100), }
//
// padded with spaces and ended by '\n' so that the data starts at a multiple
// of 64 bytes, and then the raw array data in C (row-major) order.
//
// Only what gantrain needs is supported: little-endian float32 arrays, and
// integer arrays (labels) of at most 8 bytes per element, in C order. The
// readers accept versions 1.0, 2.0 and 3.0 and the headers other writers
// produce (either quote, any key order, any spacing, an optional trailing
// comma, Python 2's "3L" integers), and reject everything else with a
// one-line error. They are safe on untrusted input: they never panic, and
// they never allocate on the word of the header's shape: a file's shape is
// checked against its size before anything is allocated, and data from an
// io.Reader is read in bounded chunks, so that memory grows only with the
// bytes actually received.
//
// The writers produce exactly the bytes numpy.save writes for the same
// array: version 1.0, or 2.0 when the header would not fit in 65535 bytes.
//
// codeberg.org/sbinet/npyio was considered and not used: on hostile headers
// it panics (keys in another order, no '\n'), it allocates whatever the
// shape claims (a fatal out-of-memory error), and it accepts negative
// dimensions and trailing bytes.
package npy

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/gantrain/gantrain/internal/oneline"
)

// Array is a float32 array: its shape (empty for a scalar) and its values in
// C order.
type Array struct {
	Shape []int
	Data  []float32
}

// IntArray is an int64 array, such as class labels.
type IntArray struct {
	Shape []int
	Data  []int64
}

// ErrInvalid is matched (errors.Is) by every error that reports malformed or
// unsupported .npy input, as opposed to an I/O error or bad arguments.
var ErrInvalid = errors.New("npy: invalid .npy data")

// maxHeaderSize bounds the header read or written (1 MiB). NumPy itself
// refuses to read headers over 10000 bytes unless told to trust the file;
// the limit here only keeps memory bounded on hostile input.
const maxHeaderSize = 1 << 20

// Check2D checks that a is a matrix with cols columns and returns its number
// of rows. Its error reads like "shape (3, 99), want (N, 100)", with no
// prefix, for the caller to put the file name in front.
func (a *Array) Check2D(cols int) (rows int, err error) {
	if len(a.Shape) != 2 || a.Shape[1] != cols {
		return 0, fmt.Errorf("shape %s, want (N, %d)", formatShape(a.Shape), cols)
	}
	return a.Shape[0], nil
}

// formatError reports malformed or unsupported input in one line.
type formatError struct{ msg string }

func (e *formatError) Error() string        { return "npy: " + e.msg }
func (e *formatError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &formatError{msg: oneline.String(fmt.Sprintf(format, args...))}
}

// fileError is an error of a file function: "npy: <path>: <msg>".
type fileError struct {
	path, msg string
	err       error
}

func (e *fileError) Error() string { return "npy: " + e.path + ": " + e.msg }
func (e *fileError) Unwrap() error { return e.err }

func newFileError(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "npy: ")
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		msg = pe.Op + ": " + pe.Err.Error()
	case errors.As(err, &le):
		msg = le.Op + ": " + le.Err.Error()
	}
	return &fileError{path: oneline.Quote(path), msg: oneline.String(msg), err: err}
}

// formatShape writes a shape as Python writes a tuple: (), (5,), (2, 3).
func formatShape(shape []int) string {
	s := make([]string, len(shape))
	for i, d := range shape {
		s[i] = strconv.Itoa(d)
	}
	if len(shape) == 1 {
		return "(" + s[0] + ",)"
	}
	return "(" + strings.Join(s, ", ") + ")"
}

// numElements returns the product of shape, or an error if a dimension is
// negative or the data would not fit in an int's worth of bytes (elements of
// size bytes each).
func numElements(shape []int, size int) (int, error) {
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %s has a negative dimension", formatShape(shape))
		}
	}
	n := 1
	if slices.Contains(shape, 0) {
		return 0, nil
	}
	for _, d := range shape {
		if n > math.MaxInt/d {
			return 0, fmt.Errorf("shape %s is too large: its element count overflows", formatShape(shape))
		}
		n *= d
	}
	if n > math.MaxInt/size {
		return 0, fmt.Errorf("shape %s is too large: its data would exceed %d bytes", formatShape(shape), math.MaxInt)
	}
	return n, nil
}
