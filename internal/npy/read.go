package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const magic = "\x93NUMPY"

// chunkSize is the unit in which data is read and decoded; a multiple of
// every element size.
const chunkSize = 64 << 10

// dtype is an element type the readers accept, with its decoder.
type dtype[T any] struct {
	descr  string
	size   int
	decode func(dst []T, src []byte) // len(src) == len(dst)*size
}

var float32Types = []dtype[float32]{
	{"<f4", 4, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}},
}

var int64Types = []dtype[int64]{
	{"<i8", 8, func(dst []int64, src []byte) {
		for i := range dst {
			dst[i] = int64(binary.LittleEndian.Uint64(src[8*i:]))
		}
	}},
	{"<i4", 4, func(dst []int64, src []byte) {
		for i := range dst {
			dst[i] = int64(int32(binary.LittleEndian.Uint32(src[4*i:])))
		}
	}},
	{"<u4", 4, func(dst []int64, src []byte) {
		for i := range dst {
			dst[i] = int64(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}},
	{"<i2", 2, func(dst []int64, src []byte) {
		for i := range dst {
			dst[i] = int64(int16(binary.LittleEndian.Uint16(src[2*i:])))
		}
	}},
	{"<u2", 2, func(dst []int64, src []byte) {
		for i := range dst {
			dst[i] = int64(binary.LittleEndian.Uint16(src[2*i:]))
		}
	}},
	{"|i1", 1, decodeI1},
	{"<i1", 1, decodeI1},
	{"|u1", 1, decodeU1},
	{"<u1", 1, decodeU1},
}

func decodeI1(dst []int64, src []byte) {
	for i := range dst {
		dst[i] = int64(int8(src[i]))
	}
}

func decodeU1(dst []int64, src []byte) {
	for i := range dst {
		dst[i] = int64(src[i])
	}
}

const (
	wantFloat32 = "want <f4 (float32)"
	wantInt     = "want <i8 (int64), <i4 (int32) or another integer dtype of at most 4 bytes (<u4, <i2, <u2, |i1, |u1)"
)

// ReadFloat32 reads a .npy array of little-endian float32 ('<f4') from r,
// which must end where the array's data ends.
func ReadFloat32(r io.Reader) (*Array, error) {
	shape, data, err := read(r, -1, float32Types, wantFloat32)
	if err != nil {
		return nil, err
	}
	return &Array{Shape: shape, Data: data}, nil
}

// ReadInt64 reads a .npy array of integers from r, which must end where the
// array's data ends. It accepts int64 ('<i8'), int32 ('<i4') and the smaller
// integer types that convert exactly (uint32, int16, uint16, int8, uint8:
// labels are often saved as uint8), all little-endian.
func ReadInt64(r io.Reader) (*IntArray, error) {
	shape, data, err := read(r, -1, int64Types, wantInt)
	if err != nil {
		return nil, err
	}
	return &IntArray{Shape: shape, Data: data}, nil
}

// ReadFloat32File reads a float32 .npy file as ReadFloat32 does. Its errors
// are one line starting "npy: <path>: ".
func ReadFloat32File(path string) (*Array, error) {
	var a *Array
	err := readFile(path, func(f *os.File, size int64) error {
		shape, data, err := read(f, size, float32Types, wantFloat32)
		a = &Array{Shape: shape, Data: data}
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ReadInt64File reads an integer .npy file as ReadInt64 does. Its errors are
// one line starting "npy: <path>: ".
func ReadInt64File(path string) (*IntArray, error) {
	var a *IntArray
	err := readFile(path, func(f *os.File, size int64) error {
		shape, data, err := read(f, size, int64Types, wantInt)
		a = &IntArray{Shape: shape, Data: data}
		return err
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// readFile opens path and calls read with the file and its size, or -1 for
// a file that is not a regular file (a pipe, say), read as a stream.
func readFile(path string, read func(f *os.File, size int64) error) error {
	f, err := os.Open(path)
	if err != nil {
		return newFileError(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return newFileError(path, err)
	}
	size := fi.Size()
	switch {
	case fi.IsDir():
		return newFileError(path, errors.New("is a directory"))
	case !fi.Mode().IsRegular():
		size = -1
	}
	if err := read(f, size); err != nil {
		return newFileError(path, err)
	}
	return nil
}

// read parses a .npy stream from r whose total size is size bytes, or -1 if
// unknown, and returns its shape and data, decoded with the dtype among
// types that the header names.
func read[T any](r io.Reader, size int64, types []dtype[T], want string) ([]int, []T, error) {
	h, off, err := readHeader(r, size)
	if err != nil {
		return nil, nil, err
	}
	var dt *dtype[T]
	for i := range types {
		if types[i].descr == h.descr {
			dt = &types[i]
			break
		}
	}
	if dt == nil {
		return nil, nil, invalidf("dtype %s, %s", describeDescr(h.descr), want)
	}
	n, err := numElements(h.shape, dt.size)
	if err != nil {
		return nil, nil, invalidf("header: %v", err)
	}
	need := int64(n) * int64(dt.size)
	what := fmt.Sprintf("shape %s of %s", formatShape(h.shape), dt.descr)

	var data []T
	if size >= 0 {
		// A file: check its size before allocating anything.
		switch rest := size - off; {
		case rest < need:
			return nil, nil, invalidf("data truncated: %s needs %d bytes, the file has %d after the header", what, need, rest)
		case rest > need:
			return nil, nil, invalidf("%d trailing bytes after the %d bytes of data of %s", rest-need, need, what)
		}
		data = make([]T, 0, n)
	} else {
		data = make([]T, 0, min(n, chunkSize/dt.size))
	}
	buf := make([]byte, min(need, chunkSize))
	for left := need; left > 0; {
		k := int(min(left, int64(len(buf))))
		m, err := io.ReadFull(r, buf[:k])
		m -= m % dt.size
		data = grow(data, m/dt.size)
		dt.decode(data[len(data)-m/dt.size:], buf[:m])
		if err != nil {
			if err != io.ErrUnexpectedEOF && err != io.EOF {
				return nil, nil, fmt.Errorf("npy: read: %w", err)
			}
			got := need - left + int64(m)
			if size >= 0 {
				return nil, nil, invalidf("data truncated: the file shrank while being read (%d of %d bytes of data)", got, need)
			}
			return nil, nil, invalidf("data truncated: %s needs %d bytes, got %d", what, need, got)
		}
		left -= int64(k)
	}
	var one [1]byte
	if m, err := io.ReadFull(r, one[:]); m > 0 {
		if size >= 0 {
			return nil, nil, invalidf("the file grew while being read")
		}
		return nil, nil, invalidf("trailing bytes after the %d bytes of data of %s", need, what)
	} else if err != io.EOF {
		return nil, nil, fmt.Errorf("npy: read: %w", err)
	}
	return h.shape, data, nil
}

// grow extends s by k elements, growing its capacity geometrically.
func grow[T any](s []T, k int) []T {
	if len(s)+k <= cap(s) {
		return s[:len(s)+k]
	}
	return append(s, make([]T, k)...)
}

// readHeader reads the magic, version, header length and header from r,
// whose total size is size bytes (or -1 if unknown), and returns the parsed
// header and the offset of the data.
func readHeader(r io.Reader, size int64) (*header, int64, error) {
	var pre [12]byte
	m, err := io.ReadFull(r, pre[:8])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, 0, fmt.Errorf("npy: read: %w", err)
	}
	got := pre[:m]
	switch {
	case m == 0:
		return nil, 0, invalidf("not a .npy file: it is empty")
	case m >= 4 && string(got[:4]) == "PK\x03\x04":
		return nil, 0, invalidf("not a .npy file: it is a zip archive (a .npz file?); extract the .npy files from it first")
	case !strings.HasPrefix(magic, string(got[:min(m, len(magic))])):
		return nil, 0, invalidf("not a .npy file: it does not start with the magic \\x93NUMPY (found %q)", got[:min(m, len(magic))])
	case m < 8:
		return nil, 0, invalidf("truncated header: %d bytes, want at least 10", m)
	}
	major, minor := pre[6], pre[7]
	if major < 1 || major > 3 || minor != 0 {
		return nil, 0, invalidf("unsupported .npy format version %d.%d (supported: 1.0, 2.0 and 3.0)", major, minor)
	}
	lenSize := 4
	if major == 1 {
		lenSize = 2
	}
	if m, err := io.ReadFull(r, pre[8:8+lenSize]); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return nil, 0, invalidf("truncated header: %d bytes, want at least %d", 8+m, 8+lenSize)
		}
		return nil, 0, fmt.Errorf("npy: read: %w", err)
	}
	var hlen int64
	if lenSize == 2 {
		hlen = int64(binary.LittleEndian.Uint16(pre[8:]))
	} else {
		hlen = int64(binary.LittleEndian.Uint32(pre[8:]))
	}
	off := int64(8 + lenSize)
	if size >= 0 && hlen > size-off {
		return nil, 0, invalidf("header length %d goes beyond the end of the file (%d bytes after the %d-byte preamble)", hlen, size-off, off)
	}
	if hlen > maxHeaderSize {
		return nil, 0, invalidf("header length %d exceeds the limit of %d bytes", hlen, maxHeaderSize)
	}
	var text bytes.Buffer
	text.Grow(int(min(hlen, chunkSize)))
	if n, err := io.CopyN(&text, r, hlen); err != nil {
		if err != io.EOF {
			return nil, 0, fmt.Errorf("npy: read: %w", err)
		}
		if size >= 0 {
			return nil, 0, invalidf("truncated header: the file shrank while being read")
		}
		return nil, 0, invalidf("header length %d goes beyond the end of the input (only %d bytes follow the %d-byte preamble)", hlen, n, off)
	}
	h, err := parseHeader(text.Bytes(), major)
	if err != nil {
		return nil, 0, err
	}
	return h, off + hlen, nil
}

// describeDescr renders a descr for a message, with its type in words when
// known: "<f8 (float64)", ">f4 (big-endian float32)".
func describeDescr(d string) string {
	plain := d != "" && len(d) <= 16
	for i := 0; i < len(d) && plain; i++ {
		c := d[i]
		plain = c == '<' || c == '>' || c == '|' || c == '=' || (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'z')
	}
	if !plain {
		return pyQuote(d)
	}
	order, code := "", d
	if c := d[0]; c == '<' || c == '>' || c == '|' || c == '=' {
		order, code = d[:1], d[1:]
	}
	names := map[string]string{
		"f2": "float16", "f4": "float32", "f8": "float64", "f16": "float128",
		"i1": "int8", "i2": "int16", "i4": "int32", "i8": "int64",
		"u1": "uint8", "u2": "uint16", "u4": "uint32", "u8": "uint64",
		"b1": "bool", "c8": "complex64", "c16": "complex128", "O": "Python objects",
	}
	name, ok := names[code]
	switch {
	case !ok && len(code) > 1 && (code[0] == 'U' || code[0] == 'S'):
		name, ok = "string", true
	case !ok && len(code) > 1 && (code[0] == 'M' || code[0] == 'm'):
		name, ok = "datetime", true
	}
	if !ok {
		return d
	}
	if order == ">" && code[len(code)-1] != '1' {
		name = "big-endian " + name
	}
	return d + " (" + name + ")"
}

// fileError is an error of a file function: "npy: <path>: <msg>".
type fileError struct {
	path, msg string
	err       error
}

func (e *fileError) Error() string { return "npy: " + e.path + ": " + e.msg }
func (e *fileError) Unwrap() error { return e.err }

func newFileError(path string, err error) error {
	var msg string
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		msg = pe.Op + ": " + pe.Err.Error()
	case errors.As(err, &le):
		msg = le.Op + ": " + le.Err.Error()
	default:
		msg = strings.TrimPrefix(err.Error(), "npy: ")
	}
	return &fileError{path: printablePath(path), msg: oneLine(msg), err: err}
}

// printablePath keeps an ordinary path as it is and quotes one with control
// or other unprintable characters, so that messages stay on one line.
func printablePath(p string) string {
	for _, r := range p {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return strconv.Quote(p)
		}
	}
	return p
}
