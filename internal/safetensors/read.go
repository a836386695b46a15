package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gantrain/gantrain/internal/oneline"
)

// formatError reports a malformed file. Its message is one line.
type formatError struct{ msg string }

func (e *formatError) Error() string        { return "safetensors: " + e.msg }
func (e *formatError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, args ...any) error {
	return &formatError{msg: fmt.Sprintf(format, args...)}
}

// fileError is an error of ReadFile: "safetensors: <path>: <msg>".
type fileError struct {
	path string
	msg  string
	err  error
}

func (e *fileError) Error() string { return "safetensors: " + e.path + ": " + e.msg }
func (e *fileError) Unwrap() error { return e.err }

func newFileError(path string, err error) error {
	var msg string
	var fe *formatError
	var pe *fs.PathError
	switch {
	case errors.As(err, &fe):
		msg = fe.msg
	case errors.As(err, &pe):
		msg = pe.Op + ": " + pe.Err.Error()
	default:
		msg = err.Error()
	}
	return &fileError{path: oneline.Quote(path), msg: oneline.String(msg), err: err}
}

// checkHeaderSize checks the header size n against the limit and the rest
// bytes that follow the 8-byte prefix.
func checkHeaderSize(n uint64, rest int64) error {
	if n > MaxHeaderSize {
		return invalidf("header size %d exceeds the limit of %d bytes (100 MiB)", n, MaxHeaderSize)
	}
	if n > uint64(rest) {
		return invalidf("header size %d larger than the %d bytes after the size field", n, rest)
	}
	return nil
}

func tooShort(n int64) error {
	return invalidf("file too short: %d bytes, need at least 8 for the header size", n)
}

// ReadFile reads and parses the safetensors file at path. The header size is
// checked against the file's real size before anything is allocated for it.
// Every error is one line starting "safetensors: <path>: ".
func ReadFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, newFileError(path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, newFileError(path, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, newFileError(path, fmt.Errorf("not a regular file (%v)", fi.Mode().Type()))
	}
	size := fi.Size()
	if size < 8 {
		return nil, newFileError(path, tooShort(size))
	}
	var prefix [8]byte
	if _, err := io.ReadFull(f, prefix[:]); err != nil {
		return nil, newFileError(path, fmt.Errorf("reading header size: %w", err))
	}
	if err := checkHeaderSize(binary.LittleEndian.Uint64(prefix[:]), size-8); err != nil {
		return nil, newFileError(path, err)
	}
	if uint64(size) > math.MaxInt {
		return nil, newFileError(path, fmt.Errorf("file of %d bytes too large to read", size))
	}
	buf := make([]byte, int(size))
	copy(buf, prefix[:])
	if _, err := io.ReadFull(f, buf[8:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			err = errors.New("file shrank while being read")
		}
		return nil, newFileError(path, err)
	}
	var one [1]byte
	if n, _ := f.Read(one[:]); n != 0 {
		return nil, newFileError(path, errors.New("file grew while being read"))
	}
	file, err := Parse(buf)
	if err != nil {
		return nil, newFileError(path, err)
	}
	return file, nil
}

// Parse parses a whole safetensors file held in b. The tensors' Data slices
// alias b (with capacity clipped to their length), so b must not be modified
// while they are in use.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, tooShort(int64(len(b)))
	}
	n64 := binary.LittleEndian.Uint64(b)
	if err := checkHeaderSize(n64, int64(len(b)-8)); err != nil {
		return nil, err
	}
	n := int(n64)
	header := b[8 : 8+n]
	buffer := b[8+n:]

	tensors, meta, err := parseHeader(header, len(buffer))
	if err != nil {
		return nil, err
	}

	// Lay the tensors out in buffer order and require the buffer to be
	// covered exactly: no overlap, no hole, nothing after the last tensor.
	// Zero-size tensors tie on offsets; the name decides between them.
	slices.SortFunc(tensors, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.begin, b.begin), cmp.Compare(a.end, b.end), strings.Compare(a.Name, b.Name))
	})
	file := &File{Tensors: make([]Tensor, len(tensors)), Metadata: meta}
	pos := 0
	for i, e := range tensors {
		switch {
		case e.begin < pos:
			return nil, invalidf("tensor %s (data_offsets [%d,%d]) overlaps the tensor before it, which ends at %d",
				quote(e.Name), e.begin, e.end, pos)
		case e.begin > pos:
			return nil, invalidf("hole in byte buffer: bytes %d to %d belong to no tensor (next is %s at %d)",
				pos, e.begin, quote(e.Name), e.begin)
		}
		pos = e.end
		e.Data = buffer[e.begin:e.end:e.end]
		file.Tensors[i] = e.Tensor
	}
	if pos != len(buffer) {
		return nil, invalidf("byte buffer has %d trailing bytes after the last tensor (tensors end at %d, buffer is %d bytes)",
			len(buffer)-pos, pos, len(buffer))
	}
	return file, nil
}

type entry struct {
	Tensor
	begin, end int
}

// parseHeader parses and checks the JSON header; bufLen is the size of the
// byte buffer that follows it.
func parseHeader(header []byte, bufLen int) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, invalidf("header is not valid UTF-8")
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, invalidf("header is not a JSON object: it must start with '{'")
	}
	end, err := checkKeys(header)
	if err != nil {
		return nil, nil, err
	}
	if i := bytes.IndexFunc(header[end:], func(r rune) bool { return r != ' ' }); i >= 0 {
		return nil, nil, invalidf("trailing data after the header's JSON object at header byte %d (only space padding is allowed)", end+i)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(header[:end], &top); err != nil {
		return nil, nil, invalidf("invalid JSON in header: %s", oneline.Error(err))
	}
	var meta map[string]string
	var tensors []entry
	for name, raw := range top {
		if name == "__metadata__" {
			if err := json.Unmarshal(raw, &meta); err != nil || meta == nil {
				return nil, nil, invalidf("\"__metadata__\" must be an object of strings, got %s", snippet(raw))
			}
			continue
		}
		e, err := parseTensor(name, raw, bufLen)
		if err != nil {
			return nil, nil, err
		}
		tensors = append(tensors, e)
	}
	return tensors, meta, nil
}

// checkKeys checks that header starts with one JSON value in which no object
// has a key twice (encoding/json's Unmarshal would keep the last), and
// returns the offset where that value ends.
func checkKeys(header []byte) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(header))
	var objs []map[string]bool // the open objects and arrays (nil)
	wantKey := false
	for {
		tok, err := dec.Token()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, invalidf("invalid JSON in header: unexpected end of header")
			}
			return 0, invalidf("invalid JSON in header: %s", oneline.Error(err))
		}
		if k, ok := tok.(string); ok && wantKey {
			if objs[len(objs)-1][k] {
				return 0, invalidf("duplicate key %s in the header", quote(k))
			}
			objs[len(objs)-1][k], wantKey = true, false
			continue
		}
		switch tok {
		case json.Delim('{'):
			objs, wantKey = append(objs, map[string]bool{}), true
			continue
		case json.Delim('['):
			objs, wantKey = append(objs, nil), false
			continue
		case json.Delim('}'), json.Delim(']'):
			objs = objs[:len(objs)-1]
		}
		if len(objs) == 0 {
			return int(dec.InputOffset()), nil
		}
		wantKey = objs[len(objs)-1] != nil // a value ended; in an object a key comes next
	}
}

// snippet renders a JSON value for an error message: compacted onto one
// line and cut short if long.
func snippet(raw []byte) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return quote(string(raw))
	}
	if s := b.String(); len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return b.String()
}

// parseTensor parses one tensor entry {"dtype":…,"shape":[…],"data_offsets":[b,e]}
// and checks it on its own; bufLen is the byte buffer's size.
func parseTensor(name string, raw json.RawMessage, bufLen int) (entry, error) {
	e := entry{Tensor: Tensor{Name: name}}
	qn := quote(name)
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return e, invalidf("entry of tensor %s must be an object, got %s", qn, snippet(raw))
	}
	for f := range fields {
		if f != "dtype" && f != "shape" && f != "data_offsets" {
			return e, invalidf("unknown field %s in tensor %s", quote(f), qn)
		}
	}
	var dtype string
	var offsets []int
	for _, f := range []struct {
		name, want string
		v          any
	}{{"dtype", "a string", &dtype}, {"shape", "an array of integers", &e.Shape}, {"data_offsets", "an array of integers", &offsets}} {
		v, ok := fields[f.name]
		if !ok {
			return e, invalidf("tensor %s has no %q field", qn, f.name)
		}
		if err := json.Unmarshal(v, f.v); err != nil || string(bytes.TrimSpace(v)) == "null" {
			return e, invalidf("%s of tensor %s must be %s, got %s", f.name, qn, f.want, snippet(v))
		}
	}
	e.DType = DType(dtype)
	if e.DType.Size() == 0 {
		return e, invalidf("unknown dtype %s for tensor %s", quote(dtype), qn)
	}
	if e.Shape == nil {
		e.Shape = []int{}
	}
	if len(offsets) != 2 || offsets[0] < 0 || offsets[1] < 0 {
		return e, invalidf("data_offsets of tensor %s must be two non-negative integers [begin, end]", qn)
	}
	e.begin, e.end = offsets[0], offsets[1]
	size, err := byteSize(e.Shape, e.DType)
	if err != nil {
		return e, invalidf("tensor %s: %v", qn, err)
	}
	switch {
	case e.begin > e.end:
		return e, invalidf("data_offsets of tensor %s: begin %d > end %d", qn, e.begin, e.end)
	case e.end > bufLen:
		return e, invalidf("data_offsets of tensor %s: end %d beyond the byte buffer of %d bytes", qn, e.end, bufLen)
	case e.end-e.begin != size:
		return e, invalidf("data_offsets of tensor %s span %d bytes, but shape %v of %s needs %d",
			qn, e.end-e.begin, e.Shape, e.DType, size)
	}
	return e, nil
}
