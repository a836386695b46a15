// Package imgio turns generated images into PNG files: grids of samples,
// one file per image, animated GIFs.
package imgio

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"github.com/gantrain/gantrain/internal/fsutil"
)

// Pad is the border between grid cells, in pixels (torchvision's default).
const Pad = 2

// ToGray maps a value in [−1, 1] to a gray level, clamping outside values.
func ToGray(v float32) uint8 {
	x := (float64(v) + 1) / 2 * 255
	if !(x > 0) { // also NaN
		return 0
	}
	if x >= 255 {
		return 255
	}
	return uint8(math.Round(x))
}

// Grid lays out n images of c×h×w (values in [−1, 1], image after image,
// channel planes in order) in rows of nrow, with a Pad-pixel black border,
// like torchvision's make_grid: a gray image for c = 1, RGB for c = 3.
func Grid(imgs []float32, n, c, h, w, nrow int) (image.Image, error) {
	if n < 1 || h < 1 || w < 1 || (c != 1 && c != 3) || len(imgs) != n*c*h*w {
		return nil, fmt.Errorf("imgio: %d values for %d images of %d×%d×%d", len(imgs), n, c, h, w)
	}
	if nrow < 1 {
		nrow = int(math.Ceil(math.Sqrt(float64(n))))
	}
	cols := min(nrow, n)
	rows := (n + nrow - 1) / nrow
	r := image.Rect(0, 0, cols*(w+Pad)+Pad, rows*(h+Pad)+Pad)
	if c == 1 {
		img := image.NewGray(r)
		for k := 0; k < n; k++ {
			draw.Draw(img, image.Rect(0, 0, w, h).Add(cell(k, nrow, h, w)), Single(imgs[k*h*w:(k+1)*h*w], 1, h, w), image.Point{}, draw.Src)
		}
		return img, nil
	}
	img := image.NewRGBA(r)
	draw.Draw(img, r, image.NewUniform(color.Black), image.Point{}, draw.Src)
	for k := 0; k < n; k++ {
		draw.Draw(img, image.Rect(0, 0, w, h).Add(cell(k, nrow, h, w)), Single(imgs[k*c*h*w:(k+1)*c*h*w], c, h, w), image.Point{}, draw.Src)
	}
	return img, nil
}

// cell is the top-left corner of grid cell k.
func cell(k, nrow, h, w int) image.Point {
	return image.Pt(Pad+(k%nrow)*(w+Pad), Pad+(k/nrow)*(h+Pad))
}

// EncodePNG writes img as PNG.
func EncodePNG(w io.Writer, img image.Image) error {
	bw := bufio.NewWriter(w)
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(bw, img); err != nil {
		return err
	}
	return bw.Flush()
}

// WritePNG writes img to path as PNG (through internal/fsutil: atomically
// for a file).
func WritePNG(path string, img image.Image) error {
	if err := fsutil.WriteFile(path, 0o644, func(w io.Writer) error { return EncodePNG(w, img) }); err != nil {
		return fmt.Errorf("imgio: %w", err)
	}
	return nil
}

// WriteGrid writes a grid of images to path as PNG.
func WriteGrid(path string, imgs []float32, n, c, h, w, nrow int) error {
	img, err := Grid(imgs, n, c, h, w, nrow)
	if err != nil {
		return err
	}
	return WritePNG(path, img)
}

// Single turns one c×h×w image (values in [−1, 1], channel planes in
// order) into a gray (c = 1) or RGB (c = 3) image.
func Single(vals []float32, c, h, w int) image.Image {
	if c == 1 {
		img := image.NewGray(image.Rect(0, 0, w, h))
		for i, v := range vals[:h*w] {
			img.Pix[i] = ToGray(v)
		}
		return img
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	hw := h * w
	for i := 0; i < hw; i++ {
		img.Pix[4*i] = ToGray(vals[i])
		img.Pix[4*i+1] = ToGray(vals[hw+i])
		img.Pix[4*i+2] = ToGray(vals[2*hw+i])
		img.Pix[4*i+3] = 255
	}
	return img
}
