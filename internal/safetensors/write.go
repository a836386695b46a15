package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Encode writes tensors and metadata (nil or empty for none) to w in the
// safetensors format. The output is deterministic: the JSON header has
// "__metadata__" first (with its keys sorted), then the tensors sorted by
// name, and is padded with spaces so that the data starts at a multiple of 8.
// In the byte buffer the tensors are laid out by decreasing element size,
// then by name, as the reference writer does so that every tensor's data is
// aligned to its element size (for files of one dtype that is name order).
// Names must be unique, valid UTF-8 and not "__metadata__"; each tensor's
// Data must match its dtype and shape.
func Encode(w io.Writer, tensors []Tensor, metadata map[string]string) error {
	header, order, err := buildHeader(tensors, metadata)
	if err != nil {
		return err
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("safetensors: write: %w", err)
	}
	for _, i := range order {
		if len(tensors[i].Data) == 0 {
			continue
		}
		if _, err := w.Write(tensors[i].Data); err != nil {
			return fmt.Errorf("safetensors: write: %w", err)
		}
	}
	return nil
}

// Marshal returns what Encode writes.
func Marshal(tensors []Tensor, metadata map[string]string) ([]byte, error) {
	header, order, err := buildHeader(tensors, metadata)
	if err != nil {
		return nil, err
	}
	size := len(header)
	for _, t := range tensors {
		size += len(t.Data)
	}
	out := make([]byte, 0, size)
	out = append(out, header...)
	for _, i := range order {
		out = append(out, tensors[i].Data...)
	}
	return out, nil
}

// buildHeader checks the tensors and returns the 8-byte size field plus the
// padded JSON header, and the order of the tensors in the byte buffer.
func buildHeader(tensors []Tensor, metadata map[string]string) ([]byte, []int, error) {
	for k, v := range metadata {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return nil, nil, fmt.Errorf("safetensors: metadata key %s or its value is not valid UTF-8", quote(k))
		}
	}
	byName := make([]int, len(tensors))
	for i, t := range tensors {
		byName[i] = i
		switch {
		case !utf8.ValidString(t.Name):
			return nil, nil, fmt.Errorf("safetensors: tensor name %s is not valid UTF-8", quote(t.Name))
		case t.Name == "__metadata__":
			return nil, nil, fmt.Errorf("safetensors: tensor name \"__metadata__\" is reserved")
		case t.DType.Size() == 0:
			return nil, nil, fmt.Errorf("safetensors: tensor %s: unknown dtype %s", quote(t.Name), quote(string(t.DType)))
		}
		size, err := byteSize(t.Shape, t.DType)
		if err != nil {
			return nil, nil, fmt.Errorf("safetensors: tensor %s: %v", quote(t.Name), err)
		}
		if len(t.Data) != size {
			return nil, nil, fmt.Errorf("safetensors: tensor %s has %d data bytes, but shape %v of %s needs %d",
				quote(t.Name), len(t.Data), t.Shape, t.DType, size)
		}
	}
	slices.SortFunc(byName, func(a, b int) int { return cmp.Compare(tensors[a].Name, tensors[b].Name) })
	for k := 1; k < len(byName); k++ {
		if tensors[byName[k]].Name == tensors[byName[k-1]].Name {
			return nil, nil, fmt.Errorf("safetensors: duplicate tensor name %s", quote(tensors[byName[k]].Name))
		}
	}

	order := slices.Clone(byName)
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(tensors[b].DType.Size(), tensors[a].DType.Size()) })
	begin := make([]int, len(tensors))
	off := 0
	for _, i := range order {
		begin[i] = off
		off += len(tensors[i].Data)
	}

	h := make([]byte, 8, 64+64*len(tensors))
	h = append(h, '{')
	if len(metadata) > 0 {
		h = appendString(h, "__metadata__")
		h = append(h, ':', '{')
		keys := make([]string, 0, len(metadata))
		for k := range metadata {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for j, k := range keys {
			if j > 0 {
				h = append(h, ',')
			}
			h = appendString(h, k)
			h = append(h, ':')
			h = appendString(h, metadata[k])
		}
		h = append(h, '}')
	}
	for j, i := range byName {
		t := tensors[i]
		if j > 0 || len(metadata) > 0 {
			h = append(h, ',')
		}
		h = appendString(h, t.Name)
		h = append(h, `:{"dtype":`...)
		h = appendString(h, string(t.DType))
		h = append(h, `,"shape":[`...)
		for k, d := range t.Shape {
			if k > 0 {
				h = append(h, ',')
			}
			h = strconv.AppendInt(h, int64(d), 10)
		}
		h = append(h, `],"data_offsets":[`...)
		h = strconv.AppendInt(h, int64(begin[i]), 10)
		h = append(h, ',')
		h = strconv.AppendInt(h, int64(begin[i]+len(t.Data)), 10)
		h = append(h, ']', '}')
	}
	h = append(h, '}')
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	n := len(h) - 8
	if n > MaxHeaderSize {
		return nil, nil, fmt.Errorf("safetensors: header of %d bytes exceeds the limit of %d bytes", n, MaxHeaderSize)
	}
	binary.LittleEndian.PutUint64(h, uint64(n))
	return h, order, nil
}

// appendString appends s, valid UTF-8, as a JSON string; like the reference
// writer (serde_json) it leaves '<', '>' and '&' unescaped.
func appendString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // cannot fail for a string
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}
