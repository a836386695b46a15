package data

import (
	"path/filepath"
	"strings"
	"testing"
)

// tinyDir holds the committed fixture: the first 320 MNIST training and the
// first 100 test images with their labels.
var tinyDir = filepath.Join("..", "..", "testdata", "mnist-tiny")

// wantErr fails unless err is a one-line error containing every phrase.
func wantErr(t *testing.T, err error, phrases ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", phrases)
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

// indexDataset returns a dataset of n gray images of 2×2 pixels whose first
// two pixels encode the image index (little-endian) and whose label is
// index mod 10.
func indexDataset(n int) *Dataset {
	ds := &Dataset{N: n, C: 1, H: 2, W: 2, Classes: numberedClasses(10), Source: "index"}
	ds.Pixels = make([]uint8, 4*n)
	ds.Labels = make([]uint8, n)
	for i := range n {
		ds.Pixels[4*i] = uint8(i)
		ds.Pixels[4*i+1] = uint8(i >> 8)
		ds.Labels[i] = uint8(i % 10)
	}
	return ds
}

// decodeIndex recovers the image index from a scaled 2×2 image.
func decodeIndex(img []float32) int {
	return unscale(img[0]) | unscale(img[1])<<8
}

// unscale maps a scaled pixel back to its byte.
func unscale(v float32) int {
	for p, s := range pixelScale {
		if s == v {
			return p
		}
	}
	return -1
}
