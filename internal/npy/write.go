package npy

import (
	"github.com/gantrain/gantrain/internal/fsutil"

	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strings"
)

// growthDigits is NumPy's GROWTH_AXIS_MAX_DIGITS: numpy.save leaves room in
// the header for the first dimension to grow to 21 digits.
const growthDigits = 21

// WriteFloat32 writes data, of the given shape (empty or nil for a scalar),
// to w as a .npy array of little-endian float32, byte for byte as numpy.save
// writes it. len(data) must be the product of shape.
func WriteFloat32(w io.Writer, shape []int, data []float32) error {
	return write(w, "<f4", 4, shape, data, func(dst []byte, src []float32) {
		for i, v := range src {
			binary.LittleEndian.PutUint32(dst[4*i:], math.Float32bits(v))
		}
	})
}

// WriteInt64 writes data as WriteFloat32 does, as little-endian int64
// ('<i8').
func WriteInt64(w io.Writer, shape []int, data []int64) error {
	return write(w, "<i8", 8, shape, data, func(dst []byte, src []int64) {
		for i, v := range src {
			binary.LittleEndian.PutUint64(dst[8*i:], uint64(v))
		}
	})
}

// WriteFloat32File writes a float32 .npy file as WriteFloat32 does,
// through internal/fsutil: a file is written under a temporary name in the
// same directory, fsynced and renamed to path (mode 0644), so that a failed
// write never leaves a partial file at path; a device or named pipe is
// written in place. Its errors are one line starting "npy: <path>: ".
func WriteFloat32File(path string, shape []int, data []float32) error {
	if err := checkData(shape, 4, len(data)); err != nil {
		return newFileError(path, err)
	}
	return writeFile(path, func(w io.Writer) error { return WriteFloat32(w, shape, data) })
}

// WriteInt64File writes an int64 .npy file as WriteInt64 does, atomically as
// WriteFloat32File does.
func WriteInt64File(path string, shape []int, data []int64) error {
	if err := checkData(shape, 8, len(data)); err != nil {
		return newFileError(path, err)
	}
	return writeFile(path, func(w io.Writer) error { return WriteInt64(w, shape, data) })
}

// checkData checks that shape is valid and holds n elements of size bytes.
func checkData(shape []int, size, n int) error {
	want, err := numElements(shape, size)
	if err != nil {
		return fmt.Errorf("npy: %v", err)
	}
	if n != want {
		return fmt.Errorf("npy: shape %s needs %d values, got %d", formatShape(shape), want, n)
	}
	return nil
}

func write[T any](w io.Writer, descr string, size int, shape []int, data []T, encode func(dst []byte, src []T)) error {
	if err := checkData(shape, size, len(data)); err != nil {
		return err
	}
	hdr, err := encodeHeader(descr, shape)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("npy: write: %w", err)
	}
	per := chunkSize / size
	buf := make([]byte, min(len(data), per)*size)
	for len(data) > 0 {
		k := min(len(data), per)
		encode(buf, data[:k])
		if _, err := w.Write(buf[:k*size]); err != nil {
			return fmt.Errorf("npy: write: %w", err)
		}
		data = data[k:]
	}
	return nil
}

// encodeHeader returns the magic, version, header length and header that
// numpy.save writes for a C-ordered array of the given descr and shape.
func encodeHeader(descr string, shape []int) ([]byte, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, formatShape(shape))
	if len(shape) > 0 {
		b.WriteString(strings.Repeat(" ", max(0, growthDigits-len(fmt.Sprint(shape[0])))))
	}
	text := b.String()
	for _, v := range []struct {
		major   byte
		lenSize int
		maxLen  int
	}{{1, 2, math.MaxUint16}, {2, 4, maxHeaderSize}} {
		pre := len(magic) + 2 + v.lenSize
		hlen := len(text) + 1 // the final '\n'
		pad := 64 - (pre+hlen)%64
		if hlen+pad > v.maxLen {
			continue
		}
		out := make([]byte, 0, pre+hlen+pad)
		out = append(out, magic...)
		out = append(out, v.major, 0)
		if v.lenSize == 2 {
			out = binary.LittleEndian.AppendUint16(out, uint16(hlen+pad))
		} else {
			out = binary.LittleEndian.AppendUint32(out, uint32(hlen+pad))
		}
		out = append(out, text...)
		for range pad {
			out = append(out, ' ')
		}
		return append(out, '\n'), nil
	}
	return nil, fmt.Errorf("npy: the header for shape of %d dimensions would exceed %d bytes", len(shape), maxHeaderSize)
}

// writeFile writes path through internal/fsutil.
func writeFile(path string, write func(w io.Writer) error) error {
	if err := fsutil.WriteFile(path, 0o644, write); err != nil {
		return newFileError(path, err)
	}
	return nil
}
