//go:build ignore

// Writes a hostile folder of about 500 images for trying `gantrain data`
// and `train` on messy data (the acceptance demo of "train on your own
// images"):
//
//	go run scripts/mixedfolder.go DIR
//
// Three class folders (circles, squares, stripes) of shapes in PNG, JPEG,
// GIF, BMP and WebP (WebP through Debian's cwebp, when it is installed;
// else the committed testdata/images WebP files are copied), in gray, RGB,
// RGBA and paletted colour, sized from 17×40 to 300×200; plus 5 corrupt
// files, 1 decompression bomb (a PNG header declaring 20000×20000 pixels)
// and 1 text file. DIR must not exist.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/image/bmp"
)

const good = 493 // + 5 corrupt + 1 bomb + 1 text = 500 files

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go run scripts/mixedfolder.go DIR")
		os.Exit(2)
	}
	dir := os.Args[1]
	if _, err := os.Stat(dir); err == nil {
		fail(fmt.Errorf("%s exists", dir))
	}
	r := rand.New(rand.NewPCG(1, 2))
	classes := []string{"circles", "squares", "stripes"}
	sizes := [][2]int{{17, 40}, {300, 200}, {64, 64}, {40, 17}, {120, 90}, {28, 28}, {200, 300}, {33, 47}}
	formats := []string{"png", "jpg", "gif", "bmp", "webp"}
	kinds := []string{"gray", "rgb", "rgba", "paletted"}
	_, cwebpErr := exec.LookPath("cwebp")
	counts := map[string]int{}
	for i := range good {
		class := classes[i%3]
		sz := sizes[r.IntN(len(sizes))]
		if i < len(sizes) {
			sz = sizes[i] // every listed size at least once
		}
		format, kind := formats[i%5], kinds[(i/5)%4]
		img := draw1(class, kind, sz[0], sz[1], r)
		path := filepath.Join(dir, class, fmt.Sprintf("%03d-%s-%dx%d.%s", i, kind, sz[0], sz[1], format))
		must(os.MkdirAll(filepath.Dir(path), 0o755))
		if format == "webp" {
			if cwebpErr != nil {
				src := []string{"lossless", "lossy"}[i%2]
				b, err := os.ReadFile(filepath.Join("testdata", "images", "rgba-20x12-"+src+".webp"))
				must(err)
				must(os.WriteFile(path, b, 0o644))
			} else {
				tmp := path + ".png"
				must(os.WriteFile(tmp, encode("png", img), 0o644))
				out, err := exec.Command("cwebp", "-quiet", "-q", "85", tmp, "-o", path).CombinedOutput()
				if err != nil {
					fail(fmt.Errorf("cwebp: %v: %s", err, out))
				}
				must(os.Remove(tmp))
			}
		} else {
			must(os.WriteFile(path, encode(format, img), 0o644))
		}
		counts[format+"/"+kind]++
	}
	ok := encode("png", draw1("circles", "rgb", 40, 40, r))
	jp := encode("jpg", draw1("squares", "rgb", 80, 60, r))
	bad := map[string][]byte{
		"circles/corrupt-truncated.png": ok[:len(ok)/2],
		"squares/corrupt-truncated.jpg": jp[:len(jp)/3],
		"stripes/corrupt-garbage.gif":   []byte("GIF89a\x00\x00garbage that is not a gif"),
		"circles/corrupt-empty.bmp":     {},
		"squares/corrupt-checksum.png":  flipped(ok),
		"stripes/bomb.png":              bombPNG(20000, 20000),
		"circles/readme.txt":            []byte("not an image: ignored\n"),
	}
	for name, b := range bad {
		must(os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	fmt.Printf("wrote %d images (%v) and %d broken or other files in %s\n", good, counts, len(bad), dir)
}

// draw1 draws a shape of the class on a random background.
func draw1(class, kind string, w, h int, r *rand.Rand) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	bg := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
	fg := color.NRGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
	if kind == "rgba" {
		bg.A = 0 // transparent background: composited onto data.background
	}
	cx, cy, rad := float64(w)/2, float64(h)/2, float64(min(w, h))*(0.2+0.2*r.Float64())
	period := 4 + r.IntN(8)
	for y := range h {
		for x := range w {
			dx, dy := float64(x)-cx, float64(y)-cy
			in := false
			switch class {
			case "circles":
				in = dx*dx+dy*dy < rad*rad
			case "squares":
				in = dx < rad && dx > -rad && dy < rad && dy > -rad
			case "stripes":
				in = (x/period)%2 == 0
			}
			if in {
				img.SetNRGBA(x, y, fg)
			} else {
				img.SetNRGBA(x, y, bg)
			}
		}
	}
	switch kind {
	case "gray":
		g := image.NewGray(img.Rect)
		draw.Draw(g, g.Rect, img, image.Point{}, draw.Src)
		return g
	case "rgb":
		c := image.NewRGBA(img.Rect)
		draw.Draw(c, c.Rect, img, image.Point{}, draw.Src)
		return c
	case "paletted":
		p := image.NewPaletted(img.Rect, palette.Plan9)
		draw.Draw(p, p.Rect, img, image.Point{}, draw.Src)
		return p
	}
	return img
}

func encode(format string, img image.Image) []byte {
	var b bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&b, img)
	case "jpg":
		if _, ok := img.(*image.NRGBA); ok { // JPEG has no alpha: flatten first
			flat := image.NewRGBA(img.Bounds())
			draw.Draw(flat, flat.Rect, image.White, image.Point{}, draw.Src)
			draw.Draw(flat, flat.Rect, img, image.Point{}, draw.Over)
			img = flat
		}
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	case "gif":
		err = gif.Encode(&b, img, nil)
	case "bmp":
		err = bmp.Encode(&b, img)
	}
	must(err)
	return b.Bytes()
}

// flipped is b with one byte of its image data changed (a bad checksum).
func flipped(b []byte) []byte {
	out := bytes.Clone(b)
	out[len(out)-20] ^= 0xff
	return out
}

// bombPNG is a valid PNG signature and IHDR chunk declaring w×h pixels.
func bombPNG(w, h uint32) []byte {
	var ihdr bytes.Buffer
	ihdr.WriteString("IHDR")
	binary.Write(&ihdr, binary.BigEndian, w)
	binary.Write(&ihdr, binary.BigEndian, h)
	ihdr.Write([]byte{8, 2, 0, 0, 0})
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr.Bytes())
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(ihdr.Bytes()))
	return b.Bytes()
}

func must(err error) {
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mixedfolder:", err)
	os.Exit(1)
}
