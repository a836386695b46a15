package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// goldenF32 is what numpy.save writes for
// np.array([[1, 2, 3], [4, 5, 6]], dtype=np.float32), spelt out from the
// format: 10 bytes of preamble, then a 118-byte header (59 bytes of dict,
// 58 spaces, '\n': 10+118 = 128, a multiple of 64), then the data.
var goldenF32 = bytes.Join([][]byte{
	{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0},
	[]byte("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }" +
		"                                                          \n"),
	{
		0x00, 0x00, 0x80, 0x3f, // 1.0
		0x00, 0x00, 0x00, 0x40, // 2.0
		0x00, 0x00, 0x40, 0x40, // 3.0
		0x00, 0x00, 0x80, 0x40, // 4.0
		0x00, 0x00, 0xa0, 0x40, // 5.0
		0x00, 0x00, 0xc0, 0x40, // 6.0
	},
}, nil)

// goldenI64 is what numpy.save writes for np.array([7, 0, 9]) (int64): a
// 57-byte dict and 60 spaces.
var goldenI64 = bytes.Join([][]byte{
	{0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0},
	[]byte("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }" +
		"                                                            \n"),
	{
		7, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		9, 0, 0, 0, 0, 0, 0, 0,
	},
}, nil)

func TestGolden(t *testing.T) {
	if len(goldenF32) != 128+24 || len(goldenI64) != 128+24 {
		t.Fatalf("golden literals have %d and %d bytes", len(goldenF32), len(goldenI64))
	}
	checkGolden(t, goldenF32, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}, WriteFloat32, decodeFloat32)
	checkGolden(t, goldenI64, []int{3}, []int64{7, 0, 9}, WriteInt64, decodeInt64)
}

// checkGolden checks that write gives golden for shape and data, and that
// reading golden gives them back.
func checkGolden[T comparable](t *testing.T, golden []byte, shape []int, data []T, write func(io.Writer, []int, []T) error, dec decoder[T]) {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b, shape, data); err != nil || !bytes.Equal(b.Bytes(), golden) {
		t.Fatalf("write %v: %v\n got %q\nwant %q", data, err, b.Bytes(), golden)
	}
	s, d, err := read(bytes.NewReader(golden), -1, dec)
	if err != nil || !slices.Equal(s, shape) || !slices.Equal(d, data) {
		t.Fatalf("read: shape %v, data %v, %v; want %v, %v", s, d, err, shape, data)
	}
}

// TestHeaderLikeNumPy checks headers against what numpy.save (1.24) writes:
// the dict, 21 minus the digits of the first dimension spaces of room to
// grow, then padding to 64.
func TestHeaderLikeNumPy(t *testing.T) {
	for _, c := range []struct {
		shape []int
		dict  string
		total int
	}{
		{nil, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 128},
		{[]int{5}, "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", 128},
		{[]int{0, 123456789012}, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 123456789012), }", 128},
		{[]int{100000, 2}, "{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 2), }", 128},
		// 32 dimensions: 96+20 spaces, past 128.
		{slices.Repeat([]int{1}, 32), "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
			strings.Repeat("1, ", 31) + "1), }", 192},
	} {
		h, err := encodeHeader("<f4", c.shape)
		if err != nil {
			t.Fatal(err)
		}
		text := string(h[10:])
		spaces := 0
		if len(c.shape) > 0 {
			spaces = 21 - len(formatShape(c.shape[:1])) + 3 // "(d,)" has 3 more bytes than d
		}
		if len(h) != c.total || !strings.HasPrefix(text, c.dict+strings.Repeat(" ", spaces)) ||
			strings.TrimLeft(text[len(c.dict):], " ") != "\n" || int(binary.LittleEndian.Uint16(h[8:])) != len(text) {
			t.Errorf("shape %v: header %q (%d bytes), want %q, %d spaces to grow, %d bytes in all",
				c.shape, h, len(h), c.dict, spaces, c.total)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.Copysign(0, -1)), math.SmallestNonzeroFloat32, math.MaxFloat32}
	for _, shape := range [][]int{{}, {1}, {5}, {2, 3}, {2, 3, 4, 5}, {0}, {3, 0}, {0, 3, 2}, {1, 1, 1}, {70000}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		labels := make([]int64, n)
		for i := range data {
			data[i] = float32(i)*0.25 - 3
			labels[i] = int64(i)*1e15 - 5
			if i < len(special) {
				data[i] = special[i]
			}
		}
		name := strings.Trim(formatShape(shape), "()")

		var b bytes.Buffer
		if err := WriteFloat32(&b, shape, data); err != nil {
			t.Fatalf("%v: %v", shape, err)
		}
		if b.Len()%64 != (n*4)%64 {
			t.Errorf("%v: data does not start at a multiple of 64", shape)
		}
		for _, r := range []io.Reader{bytes.NewReader(b.Bytes()), iotest.OneByteReader(bytes.NewReader(b.Bytes()))} {
			a, err := ReadFloat32(r)
			if err != nil {
				t.Fatalf("%v: %v", shape, err)
			}
			checkSame(t, a, shape, data)
		}
		path := filepath.Join(dir, "f"+name+".npy")
		if err := WriteFloat32File(path, shape, data); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, b.Bytes()) {
			t.Errorf("%v: WriteFloat32File and WriteFloat32 differ", shape)
		}
		a, err := ReadFloat32File(path)
		if err != nil {
			t.Fatalf("%v: %v", shape, err)
		}
		checkSame(t, a, shape, data)

		path = filepath.Join(dir, "i"+name+".npy")
		if err := WriteInt64File(path, shape, labels); err != nil {
			t.Fatal(err)
		}
		l, err := ReadInt64File(path)
		if err != nil {
			t.Fatalf("%v: %v", shape, err)
		}
		if !slices.Equal(l.Shape, shape) || !slices.Equal(l.Data, labels) {
			t.Errorf("%v: int64 round trip gave shape %v, %d values", shape, l.Shape, len(l.Data))
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "f2, 3.npy")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("written file: %v, %v", fi.Mode(), err)
	}
}

func checkSame(t *testing.T, a *Array, shape []int, data []float32) {
	t.Helper()
	if !slices.Equal(a.Shape, shape) || len(a.Data) != len(data) {
		t.Fatalf("shape %v, %d values; want %v, %d", a.Shape, len(a.Data), shape, len(data))
	}
	for i := range data {
		if math.Float32bits(a.Data[i]) != math.Float32bits(data[i]) {
			t.Fatalf("shape %v: value %d is %v, want %v", shape, i, a.Data[i], data[i])
		}
	}
}

// npyBytes builds a .npy stream with the given version and header text used
// as is (no padding), followed by data.
func npyBytes(major byte, header string, data []byte) []byte {
	b := []byte(magic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(header)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(header)))
	}
	return append(append(b, header...), data...)
}

var data2x3 = goldenF32[128:]

func TestReadVariants(t *testing.T) {
	for _, c := range []struct {
		name  string
		input []byte
	}{
		{"v2.0", npyBytes(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }                                                        \n", data2x3)},
		{"v3.0", npyBytes(3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", data2x3)},
		{"double quotes, other order and spacing, no trailing comma",
			npyBytes(1, "{\"shape\":(2,3),\t\"fortran_order\" :False,\n \"descr\": \"<f4\"}", data2x3)},
		{"mixed quotes, trailing comma in the tuple", npyBytes(1, "  {'fortran_order': False, \"descr\": '<f4', 'shape': (2, 3,),}\r\n\f", data2x3)},
		{"Python 2 long integers", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n", data2x3)},
		{"16-byte alignment (old NumPy)", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }  \n", data2x3)},
	} {
		for _, r := range []io.Reader{bytes.NewReader(c.input), iotest.HalfReader(bytes.NewReader(c.input))} {
			a, err := ReadFloat32(r)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			checkSame(t, a, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
		}
	}
}

// A header longer than 65535 bytes makes the writer use version 2.0, as
// numpy.save does.
func TestWriteVersion2(t *testing.T) {
	shape := slices.Repeat([]int{1}, 30000)
	var b bytes.Buffer
	if err := WriteFloat32(&b, shape, []float32{42}); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	hlen := int(binary.LittleEndian.Uint32(out[8:]))
	if out[6] != 2 || out[7] != 0 || 12+hlen != len(out)-4 || (12+hlen)%64 != 0 || out[12+hlen-1] != '\n' {
		t.Fatalf("version %d.%d, header length %d, %d bytes in all", out[6], out[7], hlen, len(out))
	}
	a, err := ReadFloat32(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, a, shape, []float32{42})

	if err := WriteFloat32(io.Discard, slices.Repeat([]int{1}, 400000), []float32{1}); err == nil ||
		!strings.Contains(err.Error(), "would exceed") {
		t.Errorf("header over the limit: %v", err)
	}
}

func TestReadInt64Types(t *testing.T) {
	for _, c := range []struct {
		descr string
		data  []byte
		want  []int64
	}{
		{"<i8", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 0, 0, 0}, []int64{-1, 2}},
		{"<i4", []byte{0xfe, 0xff, 0xff, 0xff, 9, 0, 0, 0}, []int64{-2, 9}},
		{"<u4", []byte{0xfe, 0xff, 0xff, 0xff, 9, 0, 0, 0}, []int64{0xfffffffe, 9}},
		{"<i2", []byte{0xfe, 0xff, 9, 0}, []int64{-2, 9}},
		{"<u2", []byte{0xfe, 0xff, 9, 0}, []int64{0xfffe, 9}},
		{"|u1", []byte{0xfe, 9}, []int64{254, 9}},
		{"|i1", []byte{0xfe, 9}, []int64{-2, 9}},
	} {
		in := npyBytes(1, "{'descr': '"+c.descr+"', 'fortran_order': False, 'shape': (2,), }\n", c.data)
		a, err := ReadInt64(bytes.NewReader(in))
		if err != nil || !slices.Equal(a.Data, c.want) || !slices.Equal(a.Shape, []int{2}) {
			t.Errorf("%s: %+v, %v", c.descr, a, err)
		}
	}
	_, err := ReadInt64(bytes.NewReader(goldenF32))
	if err == nil || !strings.Contains(err.Error(), "dtype <f4 (float32), want <i8 (int64), <i4 (int32)") {
		t.Errorf("float32 read as labels: %v", err)
	}
	_, err = ReadInt64(bytes.NewReader(npyBytes(1, "{'descr': '<u8', 'fortran_order': False, 'shape': (), }", make([]byte, 8))))
	if err == nil || !strings.Contains(err.Error(), "dtype <u8 (uint64), want") {
		t.Errorf("uint64 read as labels: %v", err)
	}
}

func hdr(descr, fortran, shape string) string {
	return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }\n"
}

func TestCorrupt(t *testing.T) {
	ok := hdr("'<f4'", "False", "(2, 3)")
	for _, c := range []struct {
		name  string
		input []byte
		want  string
	}{
		{"empty", nil, "not a .npy file: it is empty"},
		{"text", []byte("hello, world\n"), `not a .npy file: it does not start with the magic \x93NUMPY (found "hello,")`},
		{"npz", []byte("PK\x03\x04\x14\x00\x00\x00"), "not a .npy file: it is a zip archive (a .npz file?)"},
		{"magic only", []byte(magic), "truncated header: 6 bytes, want at least 10"},
		{"short magic", []byte("\x93NUM"), "truncated header: 4 bytes"},
		{"version 4.0", npyBytes(4, ok, data2x3), "unsupported .npy format version 4.0 (supported: 1.0, 2.0 and 3.0)"},
		{"version 1.1", append([]byte(magic), 1, 1, 0, 0), "unsupported .npy format version 1.1"},
		{"version 0.0", append([]byte(magic), 0, 0, 0, 0), "unsupported .npy format version 0.0"},
		{"no header length", append([]byte(magic), 1, 0, 118), "truncated header: 9 bytes, want at least 10"},
		{"v2 short header length", append([]byte(magic), 2, 0, 1, 0, 0), "truncated header: 11 bytes, want at least 12"},
		{"header beyond the end", goldenF32[:100], "header length 118 goes beyond the end of the"},
		{"v2 header length 4 GiB", append([]byte(magic), 2, 0, 0xff, 0xff, 0xff, 0xff, '{'), "header length 4294967295 "},
		{"empty header", npyBytes(1, "", nil), "header is not a dict literal: it starts with "},
		{"list header", npyBytes(1, "[1, 2]\n", nil), "header is not a dict literal: it starts with \"[1, 2]\\n\""},
		{"garbage after dict", npyBytes(1, strings.TrimSpace(ok)+" x\n", data2x3), "unexpected \"x\\n\" after the header's closing '}'"},
		{"NUL after dict", npyBytes(1, strings.TrimSpace(ok)+"\x00", data2x3), "unexpected \"\\x00\" after the header's closing '}'"},
		{"unclosed dict", npyBytes(1, "{'descr': '<f4'", nil), "with literal values: at byte 1: 'descr': '<f4'"},
		{"missing colon", npyBytes(1, "{'descr' '<f4'}", nil), "with literal values: at byte 1: 'descr' '<f4'}"},
		{"missing comma", npyBytes(1, "{'descr': '<f4' 'shape': ()}", nil), "with literal values: at byte 1: 'descr': '<f4' 'shape': ()}"},
		{"unterminated string", npyBytes(1, "{'descr': '<f4}\n", nil), "with literal values: at byte 1: "},
		{"escape", npyBytes(1, `{'descr': '\x3cf4'}`, nil), "with literal values: at byte 1: 'descr': '\\x3cf4'}"},
		{"non-string key", npyBytes(1, "{1: 2}", nil), "with literal values: at byte 1: 1: 2}"},
		{"None", npyBytes(1, hdr("None", "False", "()"), nil), "header: descr must be a string, got None"},
		{"float", npyBytes(1, hdr("'<f4'", "False", "(1.5,)"), nil), "with literal values: at byte 40: "},
		{"hex", npyBytes(1, hdr("'<f4'", "False", "(0x10,)"), nil), "with literal values: at byte 40: "},
		{"leading zero", npyBytes(1, hdr("'<f4'", "False", "(07,)"), nil), "with literal values: at byte 40: "},
		{"L in version 3.0", npyBytes(3, hdr("'<f4'", "False", "(2L, 3L)"), data2x3), "header: shape (2L, 3L): Python 2 long integers in a version 3.0 header"},
		{"missing shape", npyBytes(1, "{'descr': '<f4', 'fortran_order': False}", nil), "header: missing key 'shape'"},
		{"missing descr", npyBytes(1, "{'shape': (), 'fortran_order': False}", nil), "header: missing key 'descr'"},
		{"duplicate key", npyBytes(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", nil), "header: duplicate key 'descr'"},
		{"unknown key", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), 'foo': 1}", nil), "header: unknown key 'foo' (want 'descr', 'fortran_order' and 'shape')"},
		{"float64", npyBytes(1, hdr("'<f8'", "False", "(2,)"), make([]byte, 16)), "dtype <f8 (float64), want <f4 (float32)"},
		{"big-endian", npyBytes(1, hdr("'>f4'", "False", "(2,)"), make([]byte, 8)), "dtype >f4 (big-endian float32), want <f4 (float32)"},
		{"odd descr", npyBytes(1, hdr("'x\\ty'", "False", "(2,)"), nil), "with literal values: at byte 1: "},
		{"unprintable descr", npyBytes(1, hdr("'a\tb'", "False", "(2,)"), nil), `dtype "a\tb", want <f4 (float32)`},
		{"structured dtype", npyBytes(1, hdr("[('x', '<f4')]", "False", "(2,)"), nil), "with literal values: at byte 1: 'descr': [('x', '<f4')]"},
		{"descr not a string", npyBytes(1, hdr("4", "False", "(2,)"), nil), "header: descr must be a string, got 4"},
		{"fortran order", npyBytes(1, hdr("'<f4'", "True", "(2, 3)"), data2x3), "Fortran-ordered arrays are not supported; save with np.ascontiguousarray"},
		{"fortran_order 0", npyBytes(1, hdr("'<f4'", "0", "(2, 3)"), data2x3), "header: fortran_order must be True or False, got 0"},
		{"shape not a tuple", npyBytes(1, hdr("'<f4'", "False", "6"), data2x3), "header: shape must be a tuple of integers, got 6"},
		{"shape in parentheses", npyBytes(1, hdr("'<f4'", "False", "(6)"), data2x3), "with literal values: at byte 40: "},
		{"shape a string", npyBytes(1, hdr("'<f4'", "False", "'(2, 3)'"), data2x3), "header: shape must be a tuple of integers, got '(2, 3)'"},
		{"negative dimension", npyBytes(1, hdr("'<f4'", "False", "(2, -3)"), data2x3), "header: shape (2, -3) has a negative dimension"},
		{"string dimension", npyBytes(1, hdr("'<f4'", "False", "('a', 3)"), data2x3), "with literal values: at byte 40: "},
		{"bool dimension", npyBytes(1, hdr("'<f4'", "False", "(True, 6)"), data2x3), "with literal values: at byte 40: "},
		{"tuple dimension", npyBytes(1, hdr("'<f4'", "False", "((2, 3),)"), data2x3), "with literal values: at byte 40: "},
		{"huge dimension", npyBytes(1, hdr("'<f4'", "False", "(99999999999999999999,)"), data2x3), "header: shape (99999999999999999999,): dimension 99999999999999999999 is too large"},
		{"element count overflow", npyBytes(1, hdr("'<f4'", "False", "(4294967296, 4294967296)"), data2x3), "header: shape (4294967296, 4294967296) is too large: its element count overflows"},
		{"byte count overflow", npyBytes(1, hdr("'<f4'", "False", "(4611686018427387904,)"), data2x3), "is too large: its data would exceed"},
		{"parenthesised dimension", npyBytes(1, hdr("'<f4'", "False", "((2), +3)"), data2x3), "with literal values: at byte 40: "},
		{"deep nesting", npyBytes(1, hdr("'<f4'", "False", strings.Repeat("(", 40)+"1"+strings.Repeat(")", 40)), nil), "with literal values: at byte 40: "},
		{"bad UTF-8 in v3", npyBytes(3, "{'descr': '\xff', 'fortran_order': False, 'shape': ()}", nil), "header is not valid UTF-8"},
		{"truncated data", goldenF32[:len(goldenF32)-1], "data truncated: "},
		{"no data", goldenF32[:128], "data truncated: "},
		{"trailing bytes", append(slices.Clone(goldenF32), 0), "trailing bytes after the 24 bytes of data of shape (2, 3) of <f4"},
		{"two arrays", append(slices.Clone(goldenF32), goldenF32...), "trailing bytes after the 24 bytes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadFloat32(bytes.NewReader(c.input))
			checkErr(t, err, "npy: ", c.want)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q is not ErrInvalid", err)
			}
			path := filepath.Join(t.TempDir(), "x.npy")
			if err := os.WriteFile(path, c.input, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = ReadFloat32File(path)
			checkErr(t, err, "npy: "+path+": ", c.want)
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q is not ErrInvalid", err)
			}
		})
	}
}

func checkErr(t *testing.T, err error, prefix, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, want) || strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error %q, want one line starting %q containing %q", msg, prefix, want)
	}
}

// The exact messages that differ between a stream and a file.
func TestTruncationMessages(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		input          []byte
		stream, inFile string
	}{
		{goldenF32[:140], "data truncated: shape (2, 3) of <f4 needs 24 bytes, got 12",
			"data truncated: shape (2, 3) of <f4 needs 24 bytes, the file has 12 after the header"},
		{append(slices.Clone(goldenF32), "abc"...), "trailing bytes after the 24 bytes of data of shape (2, 3) of <f4",
			"3 trailing bytes after the 24 bytes of data of shape (2, 3) of <f4"},
		{goldenF32[:20], "header length 118 goes beyond the end of the input (only 10 bytes follow the 10-byte preamble)",
			"header length 118 goes beyond the end of the file (10 bytes after the 10-byte preamble)"},
	} {
		_, err := ReadFloat32(bytes.NewReader(c.input))
		if err == nil || err.Error() != "npy: "+c.stream {
			t.Errorf("stream: %v, want %q", err, c.stream)
		}
		path := filepath.Join(dir, "t.npy")
		os.WriteFile(path, c.input, 0o644)
		_, err = ReadFloat32File(path)
		if err == nil || err.Error() != "npy: "+path+": "+c.inFile {
			t.Errorf("file: %v, want %q", err, c.inFile)
		}
	}
}

// A header that claims an enormous shape over a few bytes of data fails
// fast, without allocating for the shape.
func TestHugeShapeAllocatesLittle(t *testing.T) {
	input := npyBytes(1, hdr("'<f4'", "False", "(1099511627776, 1048576)"), make([]byte, 16))
	path := filepath.Join(t.TempDir(), "huge.npy")
	if err := os.WriteFile(path, input, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		read func() error
	}{
		{"stream", func() error { _, err := ReadFloat32(bytes.NewReader(input)); return err }},
		{"slow stream", func() error { _, err := ReadFloat32(iotest.OneByteReader(bytes.NewReader(input))); return err }},
		{"file", func() error { _, err := ReadFloat32File(path); return err }},
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		err := c.read()
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		checkErr(t, err, "npy: ", "data truncated: shape (1099511627776, 1048576) of <f4 needs 4611686018427387904 bytes")
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc >= 1<<20 {
			t.Errorf("%s: allocated %d bytes", c.name, alloc)
		}
		if elapsed > time.Second {
			t.Errorf("%s: took %v", c.name, elapsed)
		}
	}
}

func TestReadErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, r := range []io.Reader{
		iotest.ErrReader(boom),
		io.MultiReader(bytes.NewReader(goldenF32[:5]), iotest.ErrReader(boom)),
		io.MultiReader(bytes.NewReader(goldenF32[:9]), iotest.ErrReader(boom)),
		io.MultiReader(bytes.NewReader(goldenF32[:50]), iotest.ErrReader(boom)),
		io.MultiReader(bytes.NewReader(goldenF32[:130]), iotest.ErrReader(boom)),
		io.MultiReader(bytes.NewReader(goldenF32), iotest.ErrReader(boom)),
	} {
		_, err := ReadFloat32(r)
		if !errors.Is(err, boom) || errors.Is(err, ErrInvalid) || !strings.HasPrefix(err.Error(), "npy: read: ") {
			t.Errorf("got %v", err)
		}
	}
	// DataErrReader returns the last bytes together with io.EOF.
	a, err := ReadFloat32(iotest.DataErrReader(bytes.NewReader(goldenF32)))
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, a, []int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
}

func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.npy")
	_, err := ReadFloat32File(missing)
	checkErr(t, err, "npy: "+missing+": ", "open: no such file or directory")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v is not fs.ErrNotExist", err)
	}
	_, err = ReadInt64File(dir)
	checkErr(t, err, "npy: "+dir+": ", "is a directory")

	odd := filepath.Join(dir, "a\nb.npy")
	_, err = ReadFloat32File(odd)
	checkErr(t, err, `npy: "`+dir+`/a\nb.npy": `, "no such file")
}

func TestWriteFileFailures(t *testing.T) {
	root := t.TempDir()

	// A directory that does not exist.
	path := filepath.Join(root, "no", "such", "dir", "x.npy")
	err := WriteFloat32File(path, []int{2}, []float32{1, 2})
	checkErr(t, err, "npy: "+path+": ", "create: no such file or directory")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%v is not fs.ErrNotExist", err)
	}
	err = WriteInt64File(path, []int{2}, []int64{1, 2})
	checkErr(t, err, "npy: "+path+": ", "no such file or directory")

	// Bad arguments, with a file already at path: it is left alone.
	path = filepath.Join(root, "x.npy")
	if err := WriteFloat32File(path, []int{2}, []float32{1, 2}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	err = WriteFloat32File(path, []int{2, 3}, []float32{1, 2})
	checkErr(t, err, "npy: "+path+": ", "shape (2, 3) needs 6 values, got 2")
	err = WriteInt64File(path, []int{-1}, nil)
	checkErr(t, err, "npy: "+path+": ", "shape (-1,) has a negative dimension")
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("failed writes changed the file")
	}

	// A directory where the file should be is refused, and no temporary
	// file is left.
	sub := filepath.Join(root, "sub.npy")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, "keep"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err = WriteFloat32File(sub, []int{1}, []float32{1})
	checkErr(t, err, "npy: "+sub+": ", "write: is a directory")

	var names []string
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		names = append(names, strings.TrimPrefix(p, root))
		return err
	})
	if want := []string{"", "/sub.npy", "/sub.npy/keep", "/x.npy"}; !slices.Equal(names, want) {
		t.Errorf("files left: %q, want %q", names, want)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	for _, c := range []struct {
		shape []int
		n     int
		want  string
	}{
		{[]int{2, 3}, 5, "npy: shape (2, 3) needs 6 values, got 5"},
		{nil, 0, "npy: shape () needs 1 values, got 0"},
		{[]int{3, -2}, 0, "npy: shape (3, -2) has a negative dimension"},
		{[]int{1 << 62, 1 << 62}, 0, "npy: shape (4611686018427387904, 4611686018427387904) is too large"},
		{[]int{1 << 62}, 0, "npy: shape (4611686018427387904,) is too large: its data would exceed"},
	} {
		err := WriteFloat32(io.Discard, c.shape, make([]float32, c.n))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%v, %d values: %v, want %q", c.shape, c.n, err, c.want)
		}
	}
	for _, n := range []int{0, 100, 128 + 1000} {
		err := WriteFloat32(&failWriter{n: n}, []int{1000}, make([]float32, 1000))
		if err == nil || err.Error() != "npy: write: disk full" {
			t.Errorf("writer failing after %d bytes: %v", n, err)
		}
	}
}

func TestCheck2D(t *testing.T) {
	a := &Array{Shape: []int{7, 100}, Data: make([]float32, 700)}
	if rows, err := a.Check2D(100); rows != 7 || err != nil {
		t.Errorf("Check2D = %d, %v", rows, err)
	}
	for _, c := range []struct {
		shape []int
		want  string
	}{
		{[]int{3, 99}, "shape (3, 99), want (N, 100)"},
		{[]int{100}, "shape (100,), want (N, 100)"},
		{[]int{}, "shape (), want (N, 100)"},
		{[]int{2, 10, 10}, "shape (2, 10, 10), want (N, 100)"},
	} {
		if _, err := (&Array{Shape: c.shape}).Check2D(100); err == nil || err.Error() != c.want {
			t.Errorf("%v: %v, want %q", c.shape, err, c.want)
		}
	}
}
