package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gantrain/gantrain/internal/oneline"
)

// golden is one F32 tensor "a" of shape [2] holding 1.0, 2.0, no metadata,
// written out byte by byte from the spec.
var golden = []byte{
	// header size N = 56, little-endian uint64
	0x38, 0, 0, 0, 0, 0, 0, 0,
	// {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} (54 bytes) ...
	'{', '"', 'a', '"', ':',
	'{', '"', 'd', 't', 'y', 'p', 'e', '"', ':', '"', 'F', '3', '2', '"', ',',
	'"', 's', 'h', 'a', 'p', 'e', '"', ':', '[', '2', ']', ',',
	'"', 'd', 'a', 't', 'a', '_', 'o', 'f', 'f', 's', 'e', 't', 's', '"', ':', '[', '0', ',', '8', ']',
	'}', '}',
	// ... padded with 2 spaces so that 8+N = 64 is a multiple of 8
	' ', ' ',
	// 1.0f = 0x3f800000, 2.0f = 0x40000000, little-endian
	0x00, 0x00, 0x80, 0x3f,
	0x00, 0x00, 0x00, 0x40,
}

func TestGolden(t *testing.T) {
	a, err := FromFloat32("a", []int{2}, []float32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Marshal([]Tensor{a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, golden) {
		t.Fatalf("Marshal:\n got %q\nwant %q", got, golden)
	}
	f, err := Parse(golden)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata != nil || !slices.Equal(f.Names(), []string{"a"}) {
		t.Fatalf("Parse: names %q metadata %v", f.Names(), f.Metadata)
	}
	ta, ok := f.Get("a")
	if !ok || ta.DType != F32 || !slices.Equal(ta.Shape, []int{2}) {
		t.Fatalf("Parse: %+v", ta)
	}
	v, err := ta.Float32s()
	if err != nil || !slices.Equal(v, []float32{1, 2}) {
		t.Fatalf("Float32s = %v, %v", v, err)
	}
}

// The reference writer's output for no tensors and {"framework": "pt"}.
func TestGoldenMetadataOnly(t *testing.T) {
	want := append([]byte{40, 0, 0, 0, 0, 0, 0, 0},
		`{"__metadata__":{"framework":"pt"}}     `...)
	got, err := Marshal(nil, map[string]string{"framework": "pt"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	empty, err := Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]byte{8, 0, 0, 0, 0, 0, 0, 0}, "{}      "...); !bytes.Equal(empty, want) {
		t.Fatalf("empty: got %q want %q", empty, want)
	}
	for _, b := range [][]byte{got, empty} {
		if _, err := Parse(b); err != nil {
			t.Fatal(err)
		}
	}
}

func sampleTensors(t testing.TB) []Tensor {
	w, err := FromFloat32("gen.fc1.weight", []int{2, 3}, []float32{0.5, -1, float32(math.Inf(1)), 3e-38, 0, -0})
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromFloat32("scalar", nil, []float32{42})
	if err != nil {
		t.Fatal(err)
	}
	f64 := make([]byte, 16)
	binary.LittleEndian.PutUint64(f64, math.Float64bits(math.Pi))
	binary.LittleEndian.PutUint64(f64[8:], math.Float64bits(-2.5))
	return []Tensor{
		w,
		s,
		{Name: "step", DType: I64, Shape: []int{}, Data: []byte{7, 0, 0, 0, 0, 0, 0, 0}},
		{Name: "mask", DType: BOOL, Shape: []int{3}, Data: []byte{1, 0, 1}},
		{Name: "f64", DType: F64, Shape: []int{2, 1}, Data: f64},
		{Name: "half", DType: F16, Shape: []int{1}, Data: []byte{0x00, 0x3c}},
		{Name: "bf", DType: BF16, Shape: []int{2}, Data: []byte{0x80, 0x3f, 0, 0}},
		{Name: "i32", DType: I32, Shape: []int{1}, Data: []byte{1, 2, 3, 4}},
		{Name: "i16", DType: I16, Shape: []int{1}, Data: []byte{1, 2}},
		{Name: "i8", DType: I8, Shape: []int{1, 1, 1}, Data: []byte{0xff}},
		{Name: "u8", DType: U8, Shape: []int{5}, Data: []byte("hello")},
		{Name: "empty", DType: F32, Shape: []int{0, 4}, Data: []byte{}},
		{Name: "empty2", DType: U8, Shape: []int{3, 0}, Data: nil},
		{Name: "ünïcode \"quoted\" \\ \n\t\r\b\f\x01\x1f\x7f name", DType: U8, Shape: []int{1}, Data: []byte{9}},
		{Name: "", DType: U8, Shape: []int{1}, Data: []byte{8}},
	}
}

var sampleMeta = map[string]string{
	"format":   "pt",
	"epoch":    "12",
	"":         "empty key",
	"esc\"\\":  "line\nbreak\ttab\x00nul \u2028 é <&>",
	"zz_empty": "",
}

// sameContent reports how a and b differ as sets of named tensors.
func sameContent(a, b *File) error {
	if len(a.Tensors) != len(b.Tensors) {
		return fmt.Errorf("%d tensors vs %d", len(a.Tensors), len(b.Tensors))
	}
	for _, ta := range a.Tensors {
		tb, ok := b.Get(ta.Name)
		if !ok {
			return fmt.Errorf("tensor %q missing", ta.Name)
		}
		if ta.DType != tb.DType || !slices.Equal(ta.Shape, tb.Shape) || !bytes.Equal(ta.Data, tb.Data) {
			return fmt.Errorf("tensor %q: %s %v %x vs %s %v %x", ta.Name, ta.DType, ta.Shape, ta.Data, tb.DType, tb.Shape, tb.Data)
		}
	}
	if len(a.Metadata) != len(b.Metadata) {
		return fmt.Errorf("metadata %q vs %q", a.Metadata, b.Metadata)
	}
	for k, v := range a.Metadata {
		if w, ok := b.Metadata[k]; !ok || v != w {
			return fmt.Errorf("metadata %q vs %q", a.Metadata, b.Metadata)
		}
	}
	return nil
}

func TestRoundTrip(t *testing.T) {
	tensors := sampleTensors(t)
	out, err := Marshal(tensors, sampleMeta)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameContent(&File{Tensors: tensors, Metadata: sampleMeta}, f); err != nil {
		t.Fatal(err)
	}

	// Deterministic: again, in another input order, and through Encode.
	again, err := Marshal(tensors, sampleMeta)
	if err != nil {
		t.Fatal(err)
	}
	rev := slices.Clone(tensors)
	slices.Reverse(rev)
	reversed, err := Marshal(rev, sampleMeta)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, rev, sampleMeta); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, again) || !bytes.Equal(out, reversed) || !bytes.Equal(out, buf.Bytes()) {
		t.Fatal("output is not deterministic")
	}
	// Re-marshalling what was parsed gives the same bytes.
	re, err := Marshal(f.Tensors, f.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, re) {
		t.Fatal("Marshal(Parse(out)) != out")
	}

	n := binary.LittleEndian.Uint64(out)
	if (8+n)%8 != 0 {
		t.Fatalf("header size %d leaves the data unaligned", n)
	}
	// Every tensor's data is aligned to its element size within the buffer,
	// and Tensors is in buffer order.
	buffer := out[8+n:]
	pos := 0
	for _, tn := range f.Tensors {
		if len(tn.Data) > 0 && &buffer[pos] != &tn.Data[0] {
			t.Fatalf("tensor %q not at buffer position %d", tn.Name, pos)
		}
		if pos%tn.DType.Size() != 0 {
			t.Fatalf("tensor %q (%s) at unaligned offset %d", tn.Name, tn.DType, pos)
		}
		pos += len(tn.Data)
	}
	if cap(f.Tensors[0].Data) != len(f.Tensors[0].Data) {
		t.Fatal("Data capacity not clipped")
	}

	w, err := mustGet(t, f, "gen.fc1.weight").Float32s()
	if err != nil || !slices.Equal(w, []float32{0.5, -1, float32(math.Inf(1)), 3e-38, 0, -0}) {
		t.Fatalf("Float32s = %v, %v", w, err)
	}
	if s := mustGet(t, f, "scalar"); len(s.Data) != 4 || len(s.Shape) != 0 {
		t.Fatalf("scalar: %+v", s)
	}
	if _, ok := f.Get("nope"); ok {
		t.Fatal("Get found a missing tensor")
	}
}

func mustGet(t *testing.T, f *File, name string) Tensor {
	t.Helper()
	tn, ok := f.Get(name)
	if !ok {
		t.Fatalf("no tensor %q", name)
	}
	return tn
}

// The header lists tensors sorted by name, "__metadata__" first, without
// spaces; the buffer holds the largest element size first.
func TestLayout(t *testing.T) {
	tensors := []Tensor{
		{Name: "b", DType: U8, Shape: []int{1}, Data: []byte{1}},
		{Name: "a", DType: U8, Shape: []int{1}, Data: []byte{2}},
		{Name: "c", DType: F64, Shape: []int{1}, Data: make([]byte, 8)},
	}
	out, err := Marshal(tensors, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"__metadata__":{"k":"v"},` +
		`"a":{"dtype":"U8","shape":[1],"data_offsets":[8,9]},` +
		`"b":{"dtype":"U8","shape":[1],"data_offsets":[9,10]},` +
		`"c":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}`
	n := binary.LittleEndian.Uint64(out)
	if got := strings.TrimRight(string(out[8:8+n]), " "); got != want {
		t.Fatalf("header\n got %s\nwant %s", got, want)
	}
	if len(out) != 8+int(n)+10 || string(out[8+n+8:]) != "\x02\x01" {
		t.Fatalf("buffer %q", out[8+n:])
	}
}

func hdr(json string, buffer []byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(json)))
	return append(append(b, json...), buffer...)
}

func sizeOnly(n uint64, rest int) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, n), make([]byte, rest)...)
}

const f32a = `"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`

func TestParseValid(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []byte
		names []string
	}{
		{"no tensors", hdr(`{}`, nil), []string{}},
		{"no padding", hdr(`{`+f32a+`}`, make([]byte, 8)), []string{"a"}},
		{"inner JSON whitespace, any key order", hdr("{ \"a\" :\n{\"data_offsets\": [0, 8],\t\"shape\":[2], \"dtype\":\"F32\"} }  ", make([]byte, 8)), []string{"a"}},
		{"offsets out of header order", hdr(`{"b":{"dtype":"U8","shape":[1],"data_offsets":[1,2]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1, 2}), []string{"a", "b"}},
		{"zero-size tensors", hdr(`{"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},"y":{"dtype":"I64","shape":[3,0],"data_offsets":[4,4]},"s":{"dtype":"I32","shape":[],"data_offsets":[0,4]},"x":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, make([]byte, 4)), []string{"x", "s", "y", "z"}},
		{"escaped names", hdr(`{"\u00e9\n":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, []byte{1}), []string{"é\n"}},
		{"empty metadata", hdr(`{"__metadata__":{}}`, nil), []string{}},
		{"huge dims with a zero", hdr(`{"a":{"dtype":"F64","shape":[0,9223372036854775807],"data_offsets":[0,0]}}`, nil), []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(f.Names(), tc.names) {
				t.Fatalf("names %q, want %q", f.Names(), tc.names)
			}
		})
	}
}

func TestParseCorrupt(t *testing.T) {
	buf8 := make([]byte, 8)
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"empty file", nil, "too short"},
		{"7 bytes", make([]byte, 7), "too short"},
		{"header over 100 MiB", sizeOnly(100<<20+1, 16), "exceeds the limit"},
		{"header size 2^64-1", sizeOnly(math.MaxUint64, 16), "exceeds the limit"},
		{"header longer than file", sizeOnly(100, 10), "header size 100 larger than the 10 bytes"},
		{"invalid UTF-8", hdr("{\"\xff\":1}", nil), "not valid UTF-8"},
		{"empty header", hdr(``, nil), "not a JSON object"},
		{"array header", hdr(`[]`, nil), "not a JSON object"},
		{"leading space", hdr(` {}`, nil), "not a JSON object"},
		{"truncated JSON", hdr(`{"a":{"dtype"`, nil), "unexpected end"},
		{"syntax error", hdr(`{"a" 1}`, nil), "invalid JSON"},
		{"trailing comma", hdr(`{`+f32a+`,}`, buf8), "invalid JSON"},
		{"garbage after object", hdr(`{}x`, nil), "trailing data after the header"},
		{"newline padding", hdr("{}\n", nil), "trailing data after the header"},
		{"second object", hdr(`{} {}`, nil), "trailing data after the header"},
		{"NUL padding", hdr("{}\x00", nil), "trailing data after the header"},
		{"duplicate tensor", hdr(`{`+f32a+`,`+f32a+`}`, buf8), `duplicate key "a" in the header`},
		{"duplicate via escape", hdr(`{`+f32a+`,"\u0061":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, buf8), `duplicate key "a" in the header`},
		{"unknown dtype", hdr(`{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, buf8[:1]), `unknown dtype "F8_E4M3"`},
		{"lower-case dtype", hdr(`{"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}}`, buf8[:4]), `unknown dtype "f32"`},
		{"dtype not a string", hdr(`{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}`, buf8[:4]), "dtype of tensor \"a\" must be a string"},
		{"negative dimension", hdr(`{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, buf8), "negative dimension -2"},
		{"element count overflow", hdr(`{"a":{"dtype":"I32","shape":[2,9223372036854775807],"data_offsets":[0,16]}}`, make([]byte, 16)), "element count overflows"},
		{"byte size overflow", hdr(`{"a":{"dtype":"F64","shape":[4611686018427387904],"data_offsets":[0,16]}}`, make([]byte, 16)), "byte size overflows"},
		{"dimension beyond int64", hdr(`{"a":{"dtype":"I32","shape":[2,18446744073709551614],"data_offsets":[0,16]}}`, make([]byte, 16)), "shape of tensor \"a\" must be an array of integers, got [2,18446744073709551614]"},
		{"fractional dimension", hdr(`{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,8]}}`, buf8), "shape of tensor \"a\" must be an array of integers, got [1.5]"},
		{"shape not an array", hdr(`{"a":{"dtype":"F32","shape":2,"data_offsets":[0,8]}}`, buf8), "shape of tensor \"a\" must be an array"},
		{"one offset", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[8]}}`, buf8), "two non-negative integers"},
		{"three offsets", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,8]}}`, buf8), "two non-negative integers"},
		{"negative offset", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[-1,7]}}`, buf8), "two non-negative integers"},
		{"offsets not an array", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":"0,8"}}`, buf8), `data_offsets of tensor "a" must be an array of integers, got "0,8"`},
		{"string offset", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":["0",8]}}`, buf8), `data_offsets of tensor "a" must be an array of integers, got ["0",8]`},
		{"begin after end", hdr(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[8,4]}}`, buf8), "begin 8 > end 4"},
		{"size mismatch", hdr(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, buf8), "span 8 bytes, but shape [3] of F32 needs 12"},
		{"offsets beyond buffer", hdr(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, buf8), "end 16 beyond the byte buffer of 8 bytes"},
		{"truncated buffer", hdr(`{`+f32a+`}`, buf8[:6]), "beyond the byte buffer"},
		{"overlap", hdr(`{`+f32a+`,"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, make([]byte, 12)), `tensor "b" (data_offsets [4,12]) overlaps`},
		{"same offsets twice", hdr(`{`+f32a+`,"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, buf8), "overlaps"},
		{"empty tensor inside another", hdr(`{`+f32a+`,"b":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}`, buf8), "overlaps"},
		{"hole at start", hdr(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, buf8), "hole in byte buffer: bytes 0 to 4"},
		{"hole between", hdr(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, make([]byte, 12)), "hole in byte buffer: bytes 4 to 8"},
		{"trailing bytes", hdr(`{`+f32a+`}`, make([]byte, 10)), "2 trailing bytes"},
		{"buffer without tensors", hdr(`{}`, []byte{0}), "1 trailing bytes"},
		{"metadata number", hdr(`{"__metadata__":1}`, nil), `"__metadata__" must be an object of strings`},
		{"metadata null", hdr(`{"__metadata__":null}`, nil), `"__metadata__" must be an object of strings`},
		{"metadata array", hdr(`{"__metadata__":["a"]}`, nil), `"__metadata__" must be an object of strings`},
		{"metadata non-string value", hdr(`{"__metadata__":{"epoch":3}}`, nil), `"__metadata__" must be an object of strings, got {"epoch":3}`},
		{"metadata nested", hdr(`{"__metadata__":{"a":{}}}`, nil), `"__metadata__" must be an object of strings`},
		{"metadata twice", hdr(`{"__metadata__":{},"__metadata__":{}}`, nil), `duplicate key "__metadata__"`},
		{"metadata duplicate key", hdr(`{"__metadata__":{"k":"1","k":"2"}}`, nil), `duplicate key "k" in the header`},
		{"unknown field", hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"strides":[1]}}`, buf8), `unknown field "strides" in tensor "a"`},
		{"missing dtype", hdr(`{"a":{"shape":[2],"data_offsets":[0,8]}}`, buf8), `tensor "a" has no "dtype" field`},
		{"missing shape", hdr(`{"a":{"dtype":"F32","data_offsets":[0,8]}}`, buf8), `tensor "a" has no "shape" field`},
		{"missing offsets", hdr(`{"a":{"dtype":"F32","shape":[2]}}`, buf8), `tensor "a" has no "data_offsets" field`},
		{"duplicate field", hdr(`{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, buf8), `duplicate key "dtype" in the header`},
		{"entry not an object", hdr(`{"a":[1]}`, nil), `entry of tensor "a" must be an object, got [1]`},
		{"entry null", hdr(`{"a":null}`, nil), `entry of tensor "a" must be an object, got null`},
		{"long name shortened", hdr(`{"`+strings.Repeat("n", 1000)+`":{"dtype":"X","shape":[],"data_offsets":[0,0]}}`, nil), `unknown dtype "X" for tensor "nnnn`},
		{"newline in name", hdr(`{"a\nb":{"dtype":"X"}}`, nil), `tensor "a\nb" has no "shape" field`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse succeeded: %q", f.Names())
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q does not mention %q", msg, tc.want)
			}
			if !strings.HasPrefix(msg, "safetensors: ") || strings.ContainsAny(msg, "\r\n") || len(msg) > 400 {
				t.Fatalf("error is not one short line starting \"safetensors: \": %q", msg)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %q is not ErrInvalid", msg)
			}
		})
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	tensors := sampleTensors(t)
	out, err := Marshal(tensors, sampleMeta)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.safetensors")
	if err := os.WriteFile(good, out, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameContent(&File{Tensors: tensors, Metadata: sampleMeta}, f); err != nil {
		t.Fatal(err)
	}

	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		path    string
		want    string
		invalid bool
	}{
		{filepath.Join(dir, "missing"), "open: no such file or directory", false},
		{dir, "not a regular file", false},
		{write("short", []byte{1, 2, 3}), "too short: 3 bytes", true},
		{write("trailing", append(slices.Clone(out), 0)), "1 trailing bytes", true},
		{write("big header", sizeOnly(1000, 8)), "header size 1000 larger than the 8 bytes", true},
		{write("bad\nname", hdr(`{"a":1}`, nil)), "must be an object", true},
	} {
		_, err := ReadFile(tc.path)
		if err == nil {
			t.Fatalf("%s: no error", tc.path)
		}
		msg := err.Error()
		prefix := "safetensors: " + oneline.Quote(tc.path) + ": "
		if !strings.HasPrefix(msg, prefix) || strings.Count(msg, "safetensors:") != 1 || strings.ContainsAny(msg, "\r\n") {
			t.Errorf("error %q: want one line starting %q", msg, prefix)
		}
		if !strings.Contains(msg, tc.want) {
			t.Errorf("error %q does not mention %q", msg, tc.want)
		}
		if errors.Is(err, ErrInvalid) != tc.invalid {
			t.Errorf("error %q: errors.Is(ErrInvalid) = %v", msg, !tc.invalid)
		}
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v is not fs.ErrNotExist", err)
	}
}

// A header size of 2^60 must be refused from the file's size alone, before
// any header-sized allocation.
func TestReadFileHugeHeader(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.safetensors")
	for _, n := range []uint64{1 << 60, 100 << 20} { // over the limit; under it but over the file
		if err := os.WriteFile(p, sizeOnly(n, 64), 0o644); err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := ReadFile(p)
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.HasPrefix(err.Error(), "safetensors: "+p+": header size ") {
			t.Fatalf("n=%d: error %v", n, err)
		}
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Fatalf("n=%d: ReadFile allocated %d bytes", n, alloc)
		}
		if elapsed > time.Second {
			t.Fatalf("n=%d: ReadFile took %v", n, elapsed)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	a, _ := FromFloat32("a", []int{1}, []float32{1})
	for _, tc := range []struct {
		name    string
		tensors []Tensor
		meta    map[string]string
		want    string
	}{
		{"duplicate", []Tensor{a, a}, nil, `duplicate tensor name "a"`},
		{"reserved name", []Tensor{{Name: "__metadata__", DType: U8, Shape: []int{0}}}, nil, "reserved"},
		{"unknown dtype", []Tensor{{Name: "x", DType: "F8", Shape: []int{0}}}, nil, `unknown dtype "F8"`},
		{"short data", []Tensor{{Name: "x", DType: F32, Shape: []int{2}, Data: make([]byte, 7)}}, nil, "has 7 data bytes"},
		{"negative dim", []Tensor{{Name: "x", DType: F32, Shape: []int{-1}}}, nil, "negative dimension"},
		{"overflow", []Tensor{{Name: "x", DType: F32, Shape: []int{math.MaxInt, 2}}}, nil, "overflows"},
		{"bad UTF-8 name", []Tensor{{Name: "\xff", DType: U8, Shape: []int{0}}}, nil, "not valid UTF-8"},
		{"bad UTF-8 metadata", nil, map[string]string{"k": "\xff"}, "not valid UTF-8"},
	} {
		_, err := Marshal(tc.tensors, tc.meta)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "safetensors: ") {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if err := Encode(&bytes.Buffer{}, tc.tensors, tc.meta); err == nil {
			t.Errorf("%s: Encode succeeded", tc.name)
		}
	}
}

func TestTensorHelpers(t *testing.T) {
	if _, err := FromFloat32("w", []int{2, 2}, []float32{1, 2, 3}); err == nil || !strings.Contains(err.Error(), "3 values for shape [2 2]") {
		t.Errorf("FromFloat32 length mismatch: %v", err)
	}
	if _, err := FromFloat32("w", []int{-1}, nil); err == nil {
		t.Error("FromFloat32 accepted a negative dimension")
	}
	shape := []int{2}
	w, err := FromFloat32("w", shape, []float32{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	shape[0] = 5
	if w.Shape[0] != 2 {
		t.Error("FromFloat32 did not copy shape")
	}
	u := Tensor{Name: "u", DType: U8, Shape: []int{4}, Data: make([]byte, 4)}
	if _, err := u.Float32s(); err == nil || !strings.Contains(err.Error(), `dtype "U8", not F32`) {
		t.Errorf("Float32s on U8: %v", err)
	}
	bad := Tensor{Name: "b", DType: F32, Shape: []int{3}, Data: make([]byte, 8)}
	if _, err := bad.Float32s(); err == nil {
		t.Error("Float32s accepted data that does not match the shape")
	}
	for _, d := range []struct {
		d    DType
		size int
	}{{F64, 8}, {F32, 4}, {F16, 2}, {BF16, 2}, {I64, 8}, {I32, 4}, {I16, 2}, {I8, 1}, {U8, 1}, {BOOL, 1}, {"U16", 0}, {"", 0}} {
		if d.d.Size() != d.size {
			t.Errorf("%q.Size() = %d, want %d", d.d, d.d.Size(), d.size)
		}
	}
}
