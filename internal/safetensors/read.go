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
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
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

// headerParser walks the header's JSON token by token, which is how it sees
// duplicate keys (encoding/json's Unmarshal silently keeps the last one).
type headerParser struct {
	dec *json.Decoder
}

func (p *headerParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, invalidf("invalid JSON in header: unexpected end of header")
		}
		return nil, invalidf("invalid JSON in header: %s", oneLine(err.Error()))
	}
	return tok, nil
}

// delim reads a token and requires it to be d; what names the value for the
// error message.
func (p *headerParser) delim(d json.Delim, what string) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != d {
		kind := "an object"
		if d == '[' {
			kind = "an array"
		}
		return invalidf("%s must be %s, got %s", what, kind, describe(tok))
	}
	return nil
}

// describe names a JSON token for an error message.
func describe(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		switch v {
		case '{':
			return "an object"
		case '[':
			return "an array"
		}
		return strconv.Quote(v.String())
	case string:
		return "string " + quote(v)
	case json.Number:
		return "number " + quote(string(v))
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// parseHeader parses and checks the JSON header; bufLen is the size of the
// byte buffer that follows it. The entries come back in header order.
func parseHeader(header []byte, bufLen int) ([]entry, map[string]string, error) {
	if !utf8.Valid(header) {
		return nil, nil, invalidf("header is not valid UTF-8")
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, invalidf("header is not a JSON object: it must start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	dec.UseNumber()
	p := &headerParser{dec: dec}
	if err := p.delim('{', "header"); err != nil {
		return nil, nil, err
	}
	var (
		tensors  []entry
		meta     map[string]string
		haveMeta bool
		seen     = make(map[string]struct{})
	)
	for dec.More() {
		tok, err := p.token()
		if err != nil {
			return nil, nil, err
		}
		name, ok := tok.(string)
		if !ok { // the decoder only yields strings in key position
			return nil, nil, invalidf("invalid JSON in header: object key is %s", describe(tok))
		}
		if name == "__metadata__" {
			if haveMeta {
				return nil, nil, invalidf("duplicate key \"__metadata__\" in header")
			}
			haveMeta = true
			if meta, err = p.metadata(); err != nil {
				return nil, nil, err
			}
			continue
		}
		if _, dup := seen[name]; dup {
			return nil, nil, invalidf("duplicate tensor name %s in header", quote(name))
		}
		seen[name] = struct{}{}
		e, err := p.tensor(name, bufLen)
		if err != nil {
			return nil, nil, err
		}
		tensors = append(tensors, e)
	}
	if err := p.delim('}', "header"); err != nil {
		return nil, nil, err
	}
	rest := header[dec.InputOffset():]
	if i := bytes.IndexFunc(rest, func(r rune) bool { return r != ' ' }); i >= 0 {
		return nil, nil, invalidf("trailing data after the header's JSON object at header byte %d (only space padding is allowed)",
			int(dec.InputOffset())+i)
	}
	return tensors, meta, nil
}

func (p *headerParser) metadata() (map[string]string, error) {
	const what = `"__metadata__"`
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, invalidf("%s must be an object of strings, got %s", what, describe(tok))
	}
	meta := make(map[string]string)
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		if _, dup := meta[key]; dup {
			return nil, invalidf("duplicate key %s in %s", quote(key), what)
		}
		tok, err = p.token()
		if err != nil {
			return nil, err
		}
		val, ok := tok.(string)
		if !ok {
			return nil, invalidf("%s must be an object of strings: value of %s is %s", what, quote(key), describe(tok))
		}
		meta[key] = val
	}
	if _, err := p.token(); err != nil { // the closing '}'
		return nil, err
	}
	return meta, nil
}

// tensor parses one tensor entry {"dtype":…,"shape":[…],"data_offsets":[b,e]}
// and checks it on its own; bufLen is the byte buffer's size.
func (p *headerParser) tensor(name string, bufLen int) (entry, error) {
	e := entry{Tensor: Tensor{Name: name}}
	qn := quote(name)
	if err := p.delim('{', "entry of tensor "+qn); err != nil {
		return e, err
	}
	var haveDType, haveShape, haveOffsets bool
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return e, err
		}
		field, _ := tok.(string)
		switch field {
		case "dtype":
			if haveDType {
				return e, invalidf("duplicate field \"dtype\" in tensor %s", qn)
			}
			haveDType = true
			tok, err := p.token()
			if err != nil {
				return e, err
			}
			s, ok := tok.(string)
			if !ok {
				return e, invalidf("dtype of tensor %s must be a string, got %s", qn, describe(tok))
			}
			e.DType = DType(s)
			if e.DType.Size() == 0 {
				return e, invalidf("unknown dtype %s for tensor %s", quote(s), qn)
			}
		case "shape":
			if haveShape {
				return e, invalidf("duplicate field \"shape\" in tensor %s", qn)
			}
			haveShape = true
			if err := p.delim('[', "shape of tensor "+qn); err != nil {
				return e, err
			}
			e.Shape = []int{}
			for p.dec.More() {
				d, err := p.integer("shape of tensor " + qn)
				if err != nil {
					return e, err
				}
				if d < 0 {
					return e, invalidf("negative dimension %d in shape of tensor %s", d, qn)
				}
				e.Shape = append(e.Shape, d)
			}
			if _, err := p.token(); err != nil { // the closing ']'
				return e, err
			}
		case "data_offsets":
			if haveOffsets {
				return e, invalidf("duplicate field \"data_offsets\" in tensor %s", qn)
			}
			haveOffsets = true
			what := "data_offsets of tensor " + qn
			bad := invalidf("%s must be two non-negative integers [begin, end]", what)
			if err := p.delim('[', what); err != nil {
				return e, bad
			}
			var offs []int
			for p.dec.More() {
				v, err := p.integer(what)
				if err != nil {
					return e, err
				}
				if v < 0 || len(offs) == 2 {
					return e, bad
				}
				offs = append(offs, v)
			}
			if _, err := p.token(); err != nil { // the closing ']'
				return e, err
			}
			if len(offs) != 2 {
				return e, bad
			}
			e.begin, e.end = offs[0], offs[1]
		default:
			return e, invalidf("unknown field %s in tensor %s", quote(field), qn)
		}
	}
	if _, err := p.token(); err != nil { // the closing '}'
		return e, err
	}
	switch {
	case !haveDType:
		return e, invalidf("tensor %s has no \"dtype\" field", qn)
	case !haveShape:
		return e, invalidf("tensor %s has no \"shape\" field", qn)
	case !haveOffsets:
		return e, invalidf("tensor %s has no \"data_offsets\" field", qn)
	}
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

// integer reads a JSON number that must be an integer fitting in an int.
func (p *headerParser) integer(what string) (int, error) {
	tok, err := p.token()
	if err != nil {
		return 0, err
	}
	num, ok := tok.(json.Number)
	if !ok {
		return 0, invalidf("%s must hold integers, got %s", what, describe(tok))
	}
	v, err := strconv.ParseInt(string(num), 10, 0)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, invalidf("%s: integer %s overflows", what, quote(string(num)))
		}
		return 0, invalidf("%s must hold integers, got %s", what, quote(string(num)))
	}
	return int(v), nil
}
