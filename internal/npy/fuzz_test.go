package npy

import (
	"bytes"
	"encoding/binary"
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
		var out bytes.Buffer
		if err := WriteFloat32(&out, a.Shape, a.Data); err != nil {
			t.Fatalf("WriteFloat32 of a parsed array: %v", err)
		}
		again, err := ReadFloat32(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("ReadFloat32 of WriteFloat32's output: %v\n%q", err, out.Bytes())
		}
		if !slices.Equal(a.Shape, again.Shape) || len(a.Data) != len(again.Data) {
			t.Fatalf("round trip changed shape %v to %v", a.Shape, again.Shape)
		}
		for i := range a.Data {
			if math.Float32bits(a.Data[i]) != math.Float32bits(again.Data[i]) {
				t.Fatalf("round trip changed value %d", i)
			}
		}
	}

	l, err := ReadInt64(bytes.NewReader(b))
	if err != nil {
		checkMsg(t, err)
	} else {
		var out bytes.Buffer
		if err := WriteInt64(&out, l.Shape, l.Data); err != nil {
			t.Fatalf("WriteInt64 of a parsed array: %v", err)
		}
		again, err := ReadInt64(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("ReadInt64 of WriteInt64's output: %v\n%q", err, out.Bytes())
		}
		if !slices.Equal(l.Shape, again.Shape) || !slices.Equal(l.Data, again.Data) {
			t.Fatalf("round trip changed shape %v to %v or the values", l.Shape, again.Shape)
		}
	}
}

func checkMsg(t *testing.T, err error) {
	if msg := err.Error(); !strings.HasPrefix(msg, "npy: ") || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("bad error message %q", msg)
	}
}
