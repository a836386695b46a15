// Package imgio turns generated images into PNG files: grids of samples,
// one file per image, animated GIFs.
package imgio

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
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

// Grid lays out n images of h×w (values in [−1, 1], image after image) in
// rows of nrow, with a Pad-pixel black border, like torchvision's make_grid.
func Grid(imgs []float32, n, h, w, nrow int) (*image.Gray, error) {
	if n < 1 || h < 1 || w < 1 || len(imgs) != n*h*w {
		return nil, fmt.Errorf("imgio: %d values for %d images of %dx%d", len(imgs), n, h, w)
	}
	if nrow < 1 {
		nrow = int(math.Ceil(math.Sqrt(float64(n))))
	}
	cols := min(nrow, n)
	rows := (n + nrow - 1) / nrow
	img := image.NewGray(image.Rect(0, 0, cols*(w+Pad)+Pad, rows*(h+Pad)+Pad))
	for k := 0; k < n; k++ {
		x0, y0 := Pad+(k%nrow)*(w+Pad), Pad+(k/nrow)*(h+Pad)
		src := imgs[k*h*w : (k+1)*h*w]
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				img.SetGray(x0+x, y0+y, color.Gray{Y: ToGray(src[y*w+x])})
			}
		}
	}
	return img, nil
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
func WriteGrid(path string, imgs []float32, n, h, w, nrow int) error {
	img, err := Grid(imgs, n, h, w, nrow)
	if err != nil {
		return err
	}
	return WritePNG(path, img)
}

// Single turns one h×w image (values in [−1, 1]) into a gray image.
func Single(vals []float32, h, w int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i, v := range vals[:h*w] {
		img.Pix[i] = ToGray(v)
	}
	return img
}
