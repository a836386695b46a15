package safetensors

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that its errors are one line,
// and that whatever it accepts survives Marshal → Parse unchanged (and that
// Marshal is then a fixed point).
//
// Mutations that change the JSON's length would almost always break the
// 8-byte header size, so each input is also tried with the size rewritten to
// end the header at its last '}'.
func FuzzParse(f *testing.F) {
	valid, err := Marshal(sampleTensors(f), sampleMeta)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(golden)
	empty, _ := Marshal(nil, nil)
	f.Add(empty)
	meta, _ := Marshal(nil, map[string]string{"framework": "pt"})
	f.Add(meta)
	buf8 := make([]byte, 8)
	for _, seed := range [][]byte{
		nil,
		{1, 2, 3},
		sizeOnly(1<<60, 8),
		sizeOnly(100, 10),
		hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, buf8),
		hdr(`{"a":{"dtype":"I32","shape":[2,9223372036854775807],"data_offsets":[0,16]}}`, make([]byte, 16)),
		hdr(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, buf8),
		hdr(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, buf8),
		hdr(`{"__metadata__":{"k":"v","k2":"\u00e9\n"},"z":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}   `, nil),
		hdr(`{"a":{"dtype":"BF16","shape":[],"data_offsets":[0,2]},"b":{"dtype":"F64","shape":[0,3],"data_offsets":[2,2]}}`, []byte{1, 2}),
		hdr(`{"__metadata__":{"k":1}}`, nil),
		hdr("{}\n", nil),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		check(t, b)
		if len(b) > 8 {
			if i := bytes.LastIndexByte(b[8:], '}'); i >= 0 {
				fixed := bytes.Clone(b)
				binary.LittleEndian.PutUint64(fixed, uint64(i+1))
				check(t, fixed)
			}
		}
	})
}

func check(t *testing.T, b []byte) {
	file, err := Parse(b)
	if err != nil {
		if msg := err.Error(); !strings.HasPrefix(msg, "safetensors: ") || strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("bad error message %q", msg)
		}
		return
	}
	out, err := Marshal(file.Tensors, file.Metadata)
	if err != nil {
		t.Fatalf("Marshal of a parsed file: %v", err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse of Marshal output: %v\n%q", err, out)
	}
	if err := sameContent(file, again); err != nil {
		t.Fatalf("round trip changed content: %v", err)
	}
	out2, err := Marshal(again.Tensors, again.Metadata)
	if err != nil || !bytes.Equal(out, out2) {
		t.Fatalf("Marshal is not a fixed point: %v", err)
	}
}
