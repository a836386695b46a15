// Package safetensors reads and writes the Hugging Face safetensors format,
// the format in which gantrain saves weights so that they load into PyTorch
// with safetensors.torch.load_file.
//
// A file is an 8-byte little-endian header size N, N bytes of UTF-8 JSON
// describing the tensors (name → dtype, shape, data_offsets) plus an optional
// "__metadata__" object of strings, and then the byte buffer holding the
// tensors' data, little-endian and row-major, exactly covered by the tensors'
// data_offsets.
//
// The reader is strict (it rejects everything the reference implementation
// rejects, and a little more: duplicate JSON keys, unknown fields, padding
// other than spaces) and is safe on untrusted input: it never panics and never
// allocates more than a small multiple of its input. The writer is
// deterministic: the same tensors and metadata always give the same bytes.
//
// The JSON is parsed by encoding/json; this package adds what the format
// needs on top: the size checks, duplicate keys (which Unmarshal would
// silently resolve), and the byte-buffer layout. No well-kept Go library
// does this: github.com/nlpodyssey/safetensors, the one port there is, has
// no release, and its errors cannot be told apart from I/O errors.
package safetensors

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// MaxHeaderSize is the largest JSON header accepted or written (100 MiB).
const MaxHeaderSize = 100 << 20

// ErrInvalid is matched (errors.Is) by every error that reports a malformed
// file or header, as opposed to an I/O error or bad arguments to the writer.
var ErrInvalid = errors.New("safetensors: invalid file")

// DType is a tensor's element type, spelt as in the file ("F32", …).
type DType string

// The element types this package reads and writes.
const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	I64  DType = "I64"
	I32  DType = "I32"
	I16  DType = "I16"
	I8   DType = "I8"
	U8   DType = "U8"
	BOOL DType = "BOOL"
)

// Size returns the size in bytes of one element, or 0 for an unknown dtype.
func (d DType) Size() int {
	switch d {
	case F64, I64:
		return 8
	case F32, I32:
		return 4
	case F16, BF16, I16:
		return 2
	case I8, U8, BOOL:
		return 1
	}
	return 0
}

// Tensor is one named tensor: its element type, its shape (empty for a
// scalar) and its raw little-endian, row-major bytes.
type Tensor struct {
	Name  string
	DType DType
	Shape []int
	Data  []byte
}

// Float32s decodes the data of an F32 tensor.
func (t Tensor) Float32s() ([]float32, error) {
	if err := t.checkData(F32); err != nil {
		return nil, err
	}
	v := make([]float32, len(t.Data)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return v, nil
}

func (t Tensor) checkData(want DType) error {
	if t.DType != want {
		return fmt.Errorf("safetensors: tensor %s has dtype %s, not %s", quote(t.Name), quote(string(t.DType)), want)
	}
	n, err := numElements(t.Shape)
	if err != nil {
		return fmt.Errorf("safetensors: tensor %s: %v", quote(t.Name), err)
	}
	if len(t.Data)/want.Size() != n || len(t.Data)%want.Size() != 0 {
		return fmt.Errorf("safetensors: tensor %s has %d data bytes, shape %v needs %d elements of %d bytes",
			quote(t.Name), len(t.Data), t.Shape, n, want.Size())
	}
	return nil
}

// FromFloat32 makes an F32 tensor of the given shape from v, which must hold
// exactly prod(shape) values in row-major order. shape is copied.
func FromFloat32(name string, shape []int, v []float32) (Tensor, error) {
	n, err := numElements(shape)
	if err != nil {
		return Tensor{}, fmt.Errorf("safetensors: tensor %s: %v", quote(name), err)
	}
	if len(v) != n {
		return Tensor{}, fmt.Errorf("safetensors: tensor %s: %d values for shape %v, which has %d elements",
			quote(name), len(v), shape, n)
	}
	data := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(x))
	}
	return Tensor{Name: name, DType: F32, Shape: append([]int{}, shape...), Data: data}, nil
}

// File is the content of a safetensors file.
type File struct {
	// Tensors in the order of their data in the byte buffer.
	Tensors []Tensor
	// Metadata is the "__metadata__" object, nil if the file has none.
	Metadata map[string]string
}

// Get returns the tensor called name.
func (f *File) Get(name string) (Tensor, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return Tensor{}, false
}

// Names returns the tensors' names in the order of f.Tensors.
func (f *File) Names() []string {
	names := make([]string, len(f.Tensors))
	for i, t := range f.Tensors {
		names[i] = t.Name
	}
	return names
}

// numElements is the checked product of shape's dimensions.
func numElements(shape []int) (int, error) {
	n := uint64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape", d)
		}
		hi, lo := bits.Mul64(n, uint64(d))
		if hi != 0 || lo > math.MaxInt {
			return 0, errors.New("shape's element count overflows")
		}
		n = lo
	}
	return int(n), nil
}

// byteSize is numElements × dtype size, checked.
func byteSize(shape []int, d DType) (int, error) {
	n, err := numElements(shape)
	if err != nil {
		return 0, err
	}
	hi, lo := bits.Mul64(uint64(n), uint64(d.Size()))
	if hi != 0 || lo > math.MaxInt {
		return 0, errors.New("shape's byte size overflows")
	}
	return int(lo), nil
}

// quote quotes s for an error message, shortened if long, so that the
// message stays one readable line whatever the file holds.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// Int64s decodes the data of an I64 tensor.
func (t Tensor) Int64s() ([]int64, error) {
	if err := t.checkData(I64); err != nil {
		return nil, err
	}
	v := make([]int64, len(t.Data)/8)
	for i := range v {
		v[i] = int64(binary.LittleEndian.Uint64(t.Data[8*i:]))
	}
	return v, nil
}

// FromInt64 makes an I64 tensor of the given shape from v (see FromFloat32).
func FromInt64(name string, shape []int, v []int64) (Tensor, error) {
	n, err := numElements(shape)
	if err != nil {
		return Tensor{}, fmt.Errorf("safetensors: tensor %s: %v", quote(name), err)
	}
	if len(v) != n {
		return Tensor{}, fmt.Errorf("safetensors: tensor %s: %d values for shape %v, which has %d elements",
			quote(name), len(v), shape, n)
	}
	data := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(data[8*i:], uint64(x))
	}
	return Tensor{Name: name, DType: I64, Shape: append([]int{}, shape...), Data: data}, nil
}
