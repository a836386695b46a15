package npy

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"slices"
	"strings"
	"testing"
)

// FuzzRead checks that the readers never panic, that their errors are one
// line, and that whatever they accept survives Write → Read unchanged.
//
// Mutations that change the header's length would almost always break the
// header length field, so each input is also tried with that field rewritten
// to end the header at its last '\n' (or at the end of the input).
func FuzzRead(f *testing.F) {
	f.Add(goldenF32)
	f.Add(goldenI64)
	for _, seed := range [][]byte{
		nil,
		[]byte(magic),
		[]byte("PK\x03\x04\x14\x00\x00\x00"),
		goldenF32[:100],
		goldenF32[:140],
		append(slices.Clone(goldenF32), 0),
		npyBytes(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", data2x3),
		npyBytes(3, "{\"shape\":(2,3),\t\"fortran_order\" :False,\n \"descr\": \"<f4\"}", data2x3),
		npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }\n", data2x3),
		npyBytes(1, hdr("'<f4'", "False", "()"), []byte{0, 0, 0xc0, 0x7f}),
		npyBytes(1, hdr("'<f4'", "False", "(0, 5)"), nil),
		npyBytes(1, hdr("'<i4'", "False", "(2,)"), []byte{0xfe, 0xff, 0xff, 0xff, 9, 0, 0, 0}),
		npyBytes(1, hdr("'|u1'", "False", "(3,)"), []byte{1, 2, 3}),
		npyBytes(1, hdr("'<f8'", "False", "(1,)"), make([]byte, 8)),
		npyBytes(1, hdr("'<f4'", "True", "(2, 3)"), data2x3),
		npyBytes(1, hdr("'<f4'", "False", "(1099511627776, 1048576)"), make([]byte, 16)),
		npyBytes(1, hdr("'<f4'", "False", "(99999999999999999999, -1, 'a')"), nil),
		npyBytes(1, hdr("'<f4'", "False", "((((1,),),),)"), nil),
		npyBytes(1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", nil),
		npyBytes(3, "{'descr': '\xff', 'fortran_order': False, 'shape': ()}", nil),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkInput(t, b)
		if len(b) >= 10 && string(b[:6]) == magic {
			fixed := bytes.Clone(b)
			off := 10
			if b[6] != 1 {
				off = 12
			}
			if len(b) >= off {
				end := len(b)
				if i := bytes.LastIndexByte(b[off:], '\n'); i >= 0 {
					end = off + i + 1
				}
				if off == 10 {
					binary.LittleEndian.PutUint16(fixed[8:], uint16(end-off))
				} else {
					binary.LittleEndian.PutUint32(fixed[8:], uint32(end-off))
				}
				checkInput(t, fixed)
			}
		}
	})
}

func checkInput(t *testing.T, b []byte) {
	a, err := ReadFloat32(bytes.NewReader(b))

	// The path of the file readers, which know the size up front, must
	// agree with the stream's.
	shape, data, ferr := read(bytes.NewReader(b), int64(len(b)), decodeFloat32)
	if (err == nil) != (ferr == nil) {
		t.Fatalf("stream and sized reads disagree: %v, %v", err, ferr)
	}
	if ferr != nil {
		checkMsg(t, ferr)
	} else if !slices.Equal(shape, a.Shape) || len(data) != len(a.Data) {
		t.Fatalf("stream and sized reads disagree: %v, %v", a.Shape, shape)
	}
	if err != nil {
		checkMsg(t, err)
	} else {
		checkRoundTrip(t, a.Shape, a.Data, WriteFloat32, decodeFloat32,
			func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
	}

	l, err := ReadInt64(bytes.NewReader(b))
	if err != nil {
		checkMsg(t, err)
	} else {
		checkRoundTrip(t, l.Shape, l.Data, WriteInt64, decodeInt64, func(x, y int64) bool { return x == y })
	}
}

// checkRoundTrip checks that write and then read give back shape and data.
func checkRoundTrip[T any](t *testing.T, shape []int, data []T, write func(io.Writer, []int, []T) error, dec decoder[T], same func(x, y T) bool) {
	var out bytes.Buffer
	if err := write(&out, shape, data); err != nil {
		t.Fatalf("writing a parsed array: %v", err)
	}
	shape2, data2, err := read(bytes.NewReader(out.Bytes()), -1, dec)
	if err != nil {
		t.Fatalf("reading what the writer wrote: %v\n%q", err, out.Bytes())
	}
	if !slices.Equal(shape, shape2) || !slices.EqualFunc(data, data2, same) {
		t.Fatalf("round trip changed shape %v to %v or the values", shape, shape2)
	}
}

func checkMsg(t *testing.T, err error) {
	if msg := err.Error(); !strings.HasPrefix(msg, "npy: ") || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("bad error message %q", msg)
	}
}
