package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

const magic = "\x93NUMPY"

// chunkSize is the unit in which data is read and decoded; a multiple of
// every element size.
const chunkSize = 64 << 10

// ReadFloat32 reads a .npy array of little-endian float32 ('<f4') from r,
// which must end where the array's data ends.
func ReadFloat32(r io.Reader) (*Array, error) {
	shape, data, err := read(r, -1, decodeFloat32)
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
	shape, data, err := read(r, -1, decodeInt64)
	if err != nil {
		return nil, err
	}
	return &IntArray{Shape: shape, Data: data}, nil
}

// ReadFloat32File reads a float32 .npy file as ReadFloat32 does. Its errors
// are one line starting "npy: <path>: ".
func ReadFloat32File(path string) (*Array, error) {
	shape, data, err := readFile(path, decodeFloat32)
	if err != nil {
		return nil, err
	}
	return &Array{Shape: shape, Data: data}, nil
}

// ReadInt64File reads an integer .npy file as ReadInt64 does. Its errors are
// one line starting "npy: <path>: ".
func ReadInt64File(path string) (*IntArray, error) {
	shape, data, err := readFile(path, decodeInt64)
	if err != nil {
		return nil, err
	}
	return &IntArray{Shape: shape, Data: data}, nil
}

// A decoder picks, for a descr, the element size and a function that decodes
// len(dst) elements from src; size 0 means the descr is not accepted, and
// want then says what is.
type decoder[T any] func(descr string) (size int, decode func(dst []T, src []byte), want string)

func decodeFloat32(descr string) (int, func([]float32, []byte), string) {
	if descr != "<f4" {
		return 0, nil, "want <f4 (float32)"
	}
	return 4, func(dst []float32, src []byte) {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:]))
		}
	}, ""
}

// intDescrs maps the integer descrs ReadInt64 accepts to their size and
// signedness.
var intDescrs = map[string]struct {
	size   int
	signed bool
}{
	"<i8": {8, true}, "<i4": {4, true}, "<u4": {4, false}, "<i2": {2, true}, "<u2": {2, false},
	"|i1": {1, true}, "<i1": {1, true}, "|u1": {1, false}, "<u1": {1, false},
}

func decodeInt64(descr string) (int, func([]int64, []byte), string) {
	t, ok := intDescrs[descr]
	if !ok {
		return 0, nil, "want <i8 (int64), <i4 (int32) or another integer dtype of at most 4 bytes (<u4, <i2, <u2, |i1, |u1)"
	}
	return t.size, func(dst []int64, src []byte) {
		for i := range dst {
			var b [8]byte
			copy(b[:], src[i*t.size:(i+1)*t.size])
			v := binary.LittleEndian.Uint64(b[:])
			if shift := 64 - 8*t.size; t.signed {
				dst[i] = int64(v<<shift) >> shift // sign-extend
			} else {
				dst[i] = int64(v)
			}
		}
	}, ""
}

// readFile opens path and reads it with read, passing its size, or -1 for a
// file that is not a regular file (a pipe, say), read as a stream.
func readFile[T any](path string, dec decoder[T]) ([]int, []T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, newFileError(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, newFileError(path, err)
	}
	size := fi.Size()
	switch {
	case fi.IsDir():
		return nil, nil, newFileError(path, errors.New("is a directory"))
	case !fi.Mode().IsRegular():
		size = -1
	}
	shape, data, err := read(f, size, dec)
	if err != nil {
		return nil, nil, newFileError(path, err)
	}
	return shape, data, nil
}

// read parses a .npy stream from r whose total size is size bytes, or -1 if
// unknown, and returns its shape and data, decoded as dec says.
func read[T any](r io.Reader, size int64, dec decoder[T]) ([]int, []T, error) {
	descr, shape, off, err := readHeader(r, size)
	if err != nil {
		return nil, nil, err
	}
	esize, decode, want := dec(descr)
	if esize == 0 {
		return nil, nil, invalidf("dtype %s, %s", describeDescr(descr), want)
	}
	n, err := numElements(shape, esize)
	if err != nil {
		return nil, nil, invalidf("header: %v", err)
	}
	need := int64(n) * int64(esize)
	what := fmt.Sprintf("shape %s of %s", formatShape(shape), descr)

	// A file's size is checked before anything is allocated; a stream's
	// data grows with the bytes received.
	capacity := min(n, chunkSize/esize)
	if size >= 0 {
		switch rest := size - off; {
		case rest < need:
			return nil, nil, invalidf("data truncated: %s needs %d bytes, the file has %d after the header", what, need, rest)
		case rest > need:
			return nil, nil, invalidf("%d trailing bytes after the %d bytes of data of %s", rest-need, need, what)
		}
		capacity = n
	}
	data := make([]T, 0, capacity)
	buf := make([]byte, min(need, chunkSize))
	for left := need; left > 0; {
		k := int(min(left, int64(len(buf))))
		m, err := io.ReadFull(r, buf[:k])
		m -= m % esize
		data = append(data, make([]T, m/esize)...)
		decode(data[len(data)-m/esize:], buf[:m])
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
	return shape, data, nil
}

// readHeader reads the magic, version, header length and header from r,
// whose total size is size bytes (or -1 if unknown), and returns the
// header's descr and shape and the offset of the data.
func readHeader(r io.Reader, size int64) (descr string, shape []int, off int64, err error) {
	var pre [12]byte
	m, err := io.ReadFull(r, pre[:8])
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return "", nil, 0, fmt.Errorf("npy: read: %w", err)
	}
	got := pre[:m]
	switch {
	case m == 0:
		return "", nil, 0, invalidf("not a .npy file: it is empty")
	case bytes.HasPrefix(got, []byte("PK\x03\x04")):
		return "", nil, 0, invalidf("not a .npy file: it is a zip archive (a .npz file?); extract the .npy files from it first")
	case !strings.HasPrefix(magic, string(got[:min(m, len(magic))])):
		return "", nil, 0, invalidf("not a .npy file: it does not start with the magic \\x93NUMPY (found %q)", got[:min(m, len(magic))])
	case m < 8:
		return "", nil, 0, invalidf("truncated header: %d bytes, want at least 10", m)
	}
	major, minor := pre[6], pre[7]
	if major < 1 || major > 3 || minor != 0 {
		return "", nil, 0, invalidf("unsupported .npy format version %d.%d (supported: 1.0, 2.0 and 3.0)", major, minor)
	}
	lenSize := 4
	if major == 1 {
		lenSize = 2
	}
	if m, err := io.ReadFull(r, pre[8:8+lenSize]); err != nil {
		if err == io.ErrUnexpectedEOF || err == io.EOF {
			return "", nil, 0, invalidf("truncated header: %d bytes, want at least %d", 8+m, 8+lenSize)
		}
		return "", nil, 0, fmt.Errorf("npy: read: %w", err)
	}
	hlen := int64(binary.LittleEndian.Uint16(pre[8:]))
	if lenSize == 4 {
		hlen = int64(binary.LittleEndian.Uint32(pre[8:]))
	}
	off = int64(8 + lenSize)
	if size >= 0 && hlen > size-off {
		return "", nil, 0, invalidf("header length %d goes beyond the end of the file (%d bytes after the %d-byte preamble)", hlen, size-off, off)
	}
	if hlen > maxHeaderSize {
		return "", nil, 0, invalidf("header length %d exceeds the limit of %d bytes", hlen, maxHeaderSize)
	}
	var text bytes.Buffer
	if n, err := io.CopyN(&text, r, hlen); err != nil {
		if err != io.EOF {
			return "", nil, 0, fmt.Errorf("npy: read: %w", err)
		}
		if size >= 0 {
			return "", nil, 0, invalidf("truncated header: the file shrank while being read")
		}
		return "", nil, 0, invalidf("header length %d goes beyond the end of the input (only %d bytes follow the %d-byte preamble)", hlen, n, off)
	}
	descr, shape, err = parseHeader(text.String(), major)
	return descr, shape, off + hlen, err
}

// entryRE matches, at the start of its input, one "key: value" of the
// header's dict and what follows it: ',' or '}'. Values are strings without
// escapes, names (True, False, ...), integers (with Python 2's L) and tuples
// of integers: () or a comma after each element but perhaps the last.
var entryRE = regexp.MustCompile(`^\s*(?:'([^'\\\n\r]*)'|"([^"\\\n\r]*)")\s*:\s*` +
	`('[^'\\\n\r]*'|"[^"\\\n\r]*"|[A-Za-z_]\w*|[-+]?\d+[lL]?|\(\s*\)|\(\s*(?:[-+]?(?:0|[1-9]\d*)[lL]?\s*,\s*)+(?:[-+]?(?:0|[1-9]\d*)[lL]?\s*)?\))` +
	`\s*(,\s*\}|,|\})`)

// parseHeader parses the header's dict literal: its three keys, in any
// order, with any spacing and either quote, and nothing else.
func parseHeader(text string, major byte) (descr string, shape []int, err error) {
	if major >= 3 && !utf8.ValidString(text) {
		return "", nil, invalidf("header is not valid UTF-8")
	}
	rest := strings.TrimLeft(text, " \t\n\r\f")
	if !strings.HasPrefix(rest, "{") {
		return "", nil, invalidf("header is not a dict literal: it starts with %s", cut(rest))
	}
	rest = rest[1:]
	values := map[string]string{}
	if r := strings.TrimLeft(rest, " \t\n\r\f"); strings.HasPrefix(r, "}") {
		rest = r[1:]
	} else {
		for more := true; more; {
			m := entryRE.FindStringSubmatch(rest)
			if m == nil {
				return "", nil, invalidf("header is not a dict of 'descr', 'fortran_order' and 'shape' with literal values: at byte %d: %s",
					len(text)-len(rest), cut(rest))
			}
			key := m[1] + m[2]
			if key != "descr" && key != "fortran_order" && key != "shape" {
				return "", nil, invalidf("header: unknown key '%s' (want 'descr', 'fortran_order' and 'shape')", cut(key))
			}
			if _, dup := values[key]; dup {
				return "", nil, invalidf("header: duplicate key '%s'", cut(key))
			}
			values[key] = m[3]
			rest, more = rest[len(m[0]):], m[4] == ","
		}
	}
	if after := strings.TrimLeft(rest, " \t\n\r\f"); after != "" {
		return "", nil, invalidf("unexpected %s after the header's closing '}'", cut(after))
	}
	for _, key := range []string{"descr", "fortran_order", "shape"} {
		if _, ok := values[key]; !ok {
			return "", nil, invalidf("header: missing key '%s'", key)
		}
	}
	d, f, s := values["descr"], values["fortran_order"], values["shape"]
	switch {
	case d[0] != '\'' && d[0] != '"':
		return "", nil, invalidf("header: descr must be a string, got %s", cut(d))
	case f != "True" && f != "False":
		return "", nil, invalidf("header: fortran_order must be True or False, got %s", cut(f))
	case f == "True":
		return "", nil, invalidf("Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
	case s[0] != '(':
		return "", nil, invalidf("header: shape must be a tuple of integers, got %s", cut(s))
	case major >= 3 && strings.ContainsAny(s, "lL"):
		return "", nil, invalidf("header: shape %s: Python 2 long integers in a version 3.0 header", cut(s))
	}
	for _, dim := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("(), \t\n\r\f", r) }) {
		n, err := strconv.Atoi(strings.TrimRight(dim, "lL"))
		switch {
		case err != nil:
			return "", nil, invalidf("header: shape %s: dimension %s is too large", cut(s), dim)
		case n < 0:
			return "", nil, invalidf("header: shape %s has a negative dimension", cut(s))
		}
		shape = append(shape, n)
	}
	return d[1 : len(d)-1], shape, nil
}

// cut returns the header text s for a message: cut short if long, and
// quoted Go-style if it holds anything but printable ASCII.
func cut(s string) string {
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return strconv.Quote(s)
		}
	}
	return s
}

var descrRE = regexp.MustCompile(`^([<>|=]?)([fiucb])(\d{1,2})$`)

// describeDescr renders a descr for a message, with its type in words when
// it is a plain number type: "<f8 (float64)", ">f4 (big-endian float32)".
func describeDescr(d string) string {
	m := descrRE.FindStringSubmatch(d)
	if m == nil {
		return cut(d)
	}
	bits, _ := strconv.Atoi(m[3])
	name := map[string]string{"f": "float", "i": "int", "u": "uint", "c": "complex", "b": "bool"}[m[2]] + strconv.Itoa(8*bits)
	if m[2] == "b" {
		name = "bool"
	}
	if m[1] == ">" && bits > 1 {
		name = "big-endian " + name
	}
	return d + " (" + name + ")"
}
