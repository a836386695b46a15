package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tinyDir holds the committed fixture: the first 320 MNIST training and the
// first 100 test images with their labels.
var tinyDir = filepath.Join("..", "..", "testdata", "mnist-tiny")

// encodeIDX builds an IDX file from a magic number, dimensions and data.
func encodeIDX(magic uint32, dims []uint32, data []byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.BigEndian, magic)
	_ = binary.Write(&b, binary.BigEndian, dims)
	b.Write(data)
	return b.Bytes()
}

// gzipBytes compresses b.
func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// writeFile writes b to dir/name and returns the path.
func writeFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeImages writes an IDX3 image file of n images rows×cols, raw or gzip.
func writeImages(t testing.TB, dir, name string, n, rows, cols int, pixels []byte, gz bool) string {
	t.Helper()
	b := encodeIDX(imageMagic, []uint32{uint32(n), uint32(rows), uint32(cols)}, pixels)
	if gz {
		b = gzipBytes(t, b)
	}
	return writeFile(t, dir, name, b)
}

// writeLabels writes an IDX1 label file, raw or gzip.
func writeLabels(t testing.TB, dir, name string, labels []byte, gz bool) string {
	t.Helper()
	b := encodeIDX(labelMagic, []uint32{uint32(len(labels))}, labels)
	if gz {
		b = gzipBytes(t, b)
	}
	return writeFile(t, dir, name, b)
}

// wantErr fails unless err is non-nil, one line, and contains every phrase.
func wantErr(t *testing.T, err error, phrases ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", phrases)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	for _, p := range phrases {
		if !strings.Contains(msg, p) {
			t.Errorf("error %q does not contain %q", msg, p)
		}
	}
}
