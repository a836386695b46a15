package mnist

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte)
// and the number of dimensions.
const (
	imageMagic = 0x00000803
	labelMagic = 0x00000801
)

// Limits on what a header may claim before it is believed.
const (
	// maxSide is the largest accepted number of image rows or columns.
	maxSide = 4096
	// maxElems is the largest accepted number of data bytes in one file.
	maxElems = min(1<<31, math.MaxInt)
	// firstChunk is the initial buffer size when the data size cannot be
	// checked against the file size (gzip streams, pipes).
	firstChunk = 1 << 20
)

// idxKind describes one of the two IDX layouts gantrain reads.
type idxKind struct {
	name  string // "image" or "label", for messages
	an    string // the article before name
	magic uint32
	ndims int
}

var (
	imageKind = idxKind{name: "image", an: "an", magic: imageMagic, ndims: 3}
	labelKind = idxKind{name: "label", an: "a", magic: labelMagic, ndims: 1}
)

// ReadImages reads an IDX3 image file (raw or gzip-compressed, detected from
// the content). It returns the n·rows·cols pixels, image after image, each
// image row-major, and the dimensions. Errors are one line and name path.
func ReadImages(path string) (imgs []uint8, n, rows, cols int, err error) {
	dims, data, err := readIDX(path, imageKind)
	if err != nil {
		return nil, 0, 0, 0, err
	}
	return data, dims[0], dims[1], dims[2], nil
}

// ReadLabels reads an IDX1 label file (raw or gzip-compressed, detected from
// the content) and returns one byte per label. Errors are one line and name
// path.
func ReadLabels(path string) ([]uint8, error) {
	_, data, err := readIDX(path, labelKind)
	return data, err
}

// fileErrorf returns an error "mnist: <path>: <message>"; %w in format wraps.
func fileErrorf(path, format string, args ...any) error {
	return fmt.Errorf("mnist: %s: %w", path, fmt.Errorf(format, args...))
}

// readIDX opens path, decompresses it if it starts with the gzip magic and
// parses an IDX file of the given kind.
func readIDX(path string, kind idxKind) (dims []int, data []byte, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, openError(path, err)
	}
	defer f.Close()
	size, err := fileSize(path, f)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(f)
	if isGzip(br) {
		return readGzipIDX(path, br, kind)
	}
	return parseIDX(path, br, size, kind)
}

// fileSize returns the size of a regular file, or -1 for other readable
// files (pipes, devices), and an error for a directory.
func fileSize(path string, f *os.File) (int64, error) {
	st, err := f.Stat()
	switch {
	case err != nil:
		return 0, fileErrorf(path, "cannot stat: %w", unwrapPath(err))
	case st.IsDir():
		return 0, fileErrorf(path, "is a directory, not an IDX file")
	case st.Mode().IsRegular():
		return st.Size(), nil
	}
	return -1, nil
}

// openError reports a failed os.Open without repeating the path.
func openError(path string, err error) error {
	return fileErrorf(path, "cannot open: %w", unwrapPath(err))
}

// isGzip reports whether the stream starts with the gzip magic 0x1f 0x8b.
func isGzip(br *bufio.Reader) bool {
	b, err := br.Peek(2)
	return err == nil && b[0] == 0x1f && b[1] == 0x8b
}

// readGzipIDX parses a gzip-compressed IDX stream.
func readGzipIDX(path string, r io.Reader, kind idxKind) ([]int, []byte, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, nil, fileErrorf(path, "bad gzip data: %w", err)
	}
	defer zr.Close()
	return parseIDX(path, zr, -1, kind)
}

// parseIDX reads the header and data of an IDX stream. size is the number of
// bytes in the stream if known (raw regular files), else -1.
func parseIDX(path string, r io.Reader, size int64, kind idxKind) ([]int, []byte, error) {
	dims, want, err := readHeader(path, r, kind)
	if err != nil {
		return nil, nil, err
	}
	hint := int64(firstChunk)
	if size >= 0 {
		if err := checkSize(path, size-headerLen(kind), want); err != nil {
			return nil, nil, err
		}
		hint = want + 1 // plausible now: the file really is this large
	}
	data, err := readData(path, r, want, hint)
	if err != nil {
		return nil, nil, err
	}
	return dims, data, nil
}

// headerLen is the number of header bytes: magic plus one uint32 per dimension.
func headerLen(kind idxKind) int64 { return 4 + 4*int64(kind.ndims) }

// readHeader reads and validates the magic number and dimensions and returns
// the dimensions and the number of data bytes they imply. The magic number is
// checked first, so a file of the wrong kind is named as such even if it is
// shorter than the expected header.
func readHeader(path string, r io.Reader, kind idxKind) ([]int, int64, error) {
	hdr := make([]byte, headerLen(kind))
	if n, err := io.ReadFull(r, hdr[:4]); err != nil {
		return nil, 0, headerReadError(path, kind, n, len(hdr), err)
	}
	if magic := binary.BigEndian.Uint32(hdr); magic != kind.magic {
		return nil, 0, magicError(path, kind, magic)
	}
	if n, err := io.ReadFull(r, hdr[4:]); err != nil {
		return nil, 0, headerReadError(path, kind, 4+n, len(hdr), err)
	}
	dims := make([]int, kind.ndims)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(hdr[4+4*i:]))
	}
	want, err := checkDims(path, kind, dims)
	return dims, want, err
}

// headerReadError reports a short or failed header read.
func headerReadError(path string, kind idxKind, got, want int, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fileErrorf(path, "truncated header: %d of %d bytes of an IDX %s file", got, want, kind.name)
	}
	return fileErrorf(path, "reading header: %w", err)
}

// magicError reports a wrong magic number, naming the other file kind when
// that is what was found.
func magicError(path string, kind idxKind, magic uint32) error {
	hint := ""
	switch {
	case kind.magic == imageMagic && magic == labelMagic:
		hint = "; this looks like a label file"
	case kind.magic == labelMagic && magic == imageMagic:
		hint = "; this looks like an image file"
	case magic>>16 == 0x1f8b:
		hint = "; this looks like gzip data inside gzip data"
	}
	return fileErrorf(path, "bad magic number 0x%08x (want 0x%08x for %s %s file)%s",
		magic, kind.magic, kind.an, kind.name, hint)
}

// checkDims rejects empty or absurd dimensions and returns the data size.
func checkDims(path string, kind idxKind, dims []int) (int64, error) {
	if dims[0] == 0 {
		return 0, fileErrorf(path, "header says the file holds 0 %ss", kind.name)
	}
	total := int64(dims[0])
	for _, d := range dims[1:] {
		if d == 0 || d > maxSide {
			return 0, fileErrorf(path, "absurd image size %dx%d in header (each side must be 1..%d)",
				dims[1], dims[2], maxSide)
		}
		total *= int64(d) // ≤ 2^32 · 2^12 · 2^12: no overflow
	}
	if total > maxElems {
		return 0, fileErrorf(path, "absurd dimensions %v in header: %d bytes of data (limit %d)",
			dims, total, int64(maxElems))
	}
	return total, nil
}

// checkSize compares the data size the header claims with the bytes present.
func checkSize(path string, have, want int64) error {
	switch {
	case have < want:
		return truncatedError(path, want, have)
	case have > want:
		return fileErrorf(path, "%d trailing byte(s) after the %d bytes of data the header describes", have-want, want)
	}
	return nil
}

// truncatedError reports data shorter than the header promises.
func truncatedError(path string, want, have int64) error {
	return fileErrorf(path, "truncated data: header promises %d bytes, found %d", want, have)
}

// readData reads exactly want bytes and checks that the stream then ends.
// The buffer starts at hint bytes and grows only as data actually arrives,
// so a lying header cannot force a large allocation.
func readData(path string, r io.Reader, want, hint int64) ([]byte, error) {
	buf, err := readAtMost(r, want+1, hint)
	have := int64(len(buf))
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fileErrorf(path, "truncated data: stream ends after %d of %d bytes: %w", have, want, err)
	}
	if err != nil {
		return nil, fileErrorf(path, "reading data: %w", err)
	}
	if have < want {
		return nil, truncatedError(path, want, have)
	}
	if have > want {
		return nil, fileErrorf(path, "trailing bytes after the %d bytes of data the header describes", want)
	}
	return buf[:want:want], nil
}

// readAtMost reads until EOF or until limit bytes have been read, starting
// with a buffer of hint bytes and doubling it as needed.
func readAtMost(r io.Reader, limit, hint int64) ([]byte, error) {
	lr := io.LimitReader(r, limit)
	buf := make([]byte, 0, max(min(hint, limit), 512))
	for {
		if len(buf) == cap(buf) {
			grow := min(int64(cap(buf)), limit-int64(len(buf)))
			buf = slices.Grow(buf, int(max(grow, 1)))
		}
		n, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}
