package data

import (
	"bytes"
	"image/color"
	"os"
	"path/filepath"
	"testing"
)

// FuzzImageFile feeds arbitrary bytes to the image path of a folder load:
// header, decode, preprocess. It must never panic; an accepted header is
// within the pixel limit, and a decoded image preprocesses into the bytes
// asked for.
func FuzzImageFile(f *testing.F) {
	red := color.NRGBA{200, 30, 40, 128}
	for _, name := range []string{"a.png", "a.jpg", "a.gif", "a.bmp"} {
		f.Add(encode(f, name, solid("rgba", 7, 5, red)))
		f.Add(encode(f, name, solid("paletted", 3, 9, red)))
	}
	if b, err := os.ReadFile("../../testdata/images/rgba-20x12-lossless.webp"); err == nil {
		f.Add(b)
	}
	f.Add(bombPNG(1<<20, 1<<20))
	f.Add([]byte("GIF89a"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "img")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		h := readHeader(p)
		if h.err != "" {
			return
		}
		if h.w < 1 || h.h < 1 || int64(h.w)*int64(h.h) > MaxPixels {
			t.Fatalf("accepted a %d×%d header", h.w, h.h)
		}
		img, err := decodeFile(p)
		if err != nil {
			return
		}
		out := make([]uint8, 3*8*8+1)
		out[len(out)-1] = 0xAB
		prep{size: 8, channels: 3, bg: white}.apply(out[:3*8*8], img)
		if out[len(out)-1] != 0xAB {
			t.Fatal("preprocessing wrote past its image")
		}
	})
}

// FuzzReadCache feeds arbitrary bytes to the cache reader: it must never
// panic or believe a header's sizes before checking them against the file,
// and what it accepts is a consistent dataset.
func FuzzReadCache(f *testing.F) {
	dir := f.TempDir()
	ds := indexDataset(5)
	good := filepath.Join(dir, "good")
	if err := writeCache(good, ds, []Skip{{Path: "x.png", Reason: "bad"}}); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)-3])
	f.Add(bytes.Replace(b, []byte(`"N":5`), []byte(`"N":9999999999`), 1))
	f.Add([]byte(cacheMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(dir, "fuzz")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		got, _, err := readCache(p)
		if err != nil {
			return
		}
		if err := got.Check(); err != nil || len(got.Pixels) >= len(b) {
			t.Fatalf("accepted an inconsistent cache: %v", err)
		}
	})
}
