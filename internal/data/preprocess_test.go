package data

import (
	"image"
	"image/color"
	"math"
	"testing"
)

// run preprocesses img with the given options.
func run(img image.Image, size, channels int, bg color.RGBA) []uint8 {
	out := make([]uint8, channels*size*size)
	prep{size: size, channels: channels, bg: bg}.apply(out, img)
	return out
}

var white = color.RGBA{255, 255, 255, 255}

// near fails when got and want differ by more than tol.
func near(t *testing.T, what string, got uint8, want float64, tol float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > tol {
		t.Errorf("%s = %d, want %.2f ± %g", what, got, want, tol)
	}
}

// A constant image stays exactly constant through crop, resize (down and
// up, Catmull-Rom's weights sum to one) and conversion.
func TestConstantStaysConstant(t *testing.T) {
	gray := image.NewGray(image.Rect(0, 0, 37, 53))
	for i := range gray.Pix {
		gray.Pix[i] = 97
	}
	rgb := image.NewNRGBA(image.Rect(3, 5, 40, 26)) // not at the origin
	for i := 0; i < len(rgb.Pix); i += 4 {
		rgb.Pix[i], rgb.Pix[i+1], rgb.Pix[i+2], rgb.Pix[i+3] = 30, 140, 220, 255
	}
	for _, size := range []int{8, 21, 37, 64} {
		for i, v := range run(gray, size, 1, white) {
			if v != 97 {
				t.Fatalf("gray to %d px: pixel %d = %d, want 97", size, i, v)
			}
		}
		out := run(rgb, size, 3, white)
		for c, want := range []uint8{30, 140, 220} {
			for i, v := range out[c*size*size : (c+1)*size*size] {
				if v != want {
					t.Fatalf("RGB to %d px: channel %d pixel %d = %d, want %d", size, c, i, v, want)
				}
			}
		}
	}
}

// A linear ramp stays a linear ramp, with the slope scaled, away from the
// borders (where the filter's support leaves the image).
func TestRampStaysRamp(t *testing.T) {
	const n = 60
	img := image.NewGray(image.Rect(0, 0, n, n))
	for y := range n {
		for x := range n {
			img.Pix[y*n+x] = uint8(20 + 3*x) // 20 … 197
		}
	}
	for _, size := range []int{15, 30, 45, 120} {
		out := run(img, size, 1, white)
		k := float64(n) / float64(size)
		border := int(math.Ceil(2 * max(1, k) / k * 2)) // output pixels the kernel reaches past the edge
		for y := range size {
			for x := border; x < size-border; x++ {
				// Output pixel centre x+½ samples source position (x+½)·k, whose
				// pixel-centred coordinate is (x+½)·k − ½.
				want := 20 + 3*((float64(x)+0.5)*k-0.5)
				near(t, "ramp", out[y*size+x], want, 1)
			}
		}
	}
}

// Without resizing, the centre crop starts at ⌊excess/2⌋.
func TestCropOffsets(t *testing.T) {
	for _, tc := range []struct{ w, h, dx, dy int }{
		{40, 28, 6, 0},   // wide: excess 12
		{28, 41, 0, 6},   // tall: excess 13, the odd pixel is left at the bottom
		{28, 28, 0, 0},   // square
		{35, 28, 3, 0},   // excess 7
		{28, 100, 0, 36}, // excess 72
	} {
		img := image.NewGray(image.Rect(0, 0, tc.w, tc.h))
		for y := range tc.h {
			for x := range tc.w {
				img.Pix[y*tc.w+x] = uint8(x*5 + y*2)
			}
		}
		out := run(img, 28, 1, white)
		for y := range 28 {
			for x := range 28 {
				if want := uint8((x+tc.dx)*5 + (y+tc.dy)*2); out[y*28+x] != want {
					t.Fatalf("%d×%d: pixel (%d,%d) = %d, want %d (offset %d,%d)", tc.w, tc.h, x, y, out[y*28+x], want, tc.dx, tc.dy)
				}
			}
		}
	}
}

// Transparent pixels are composited onto the background: out = α·c + (1−α)·bg.
func TestAlphaCompositing(t *testing.T) {
	for _, tc := range []struct {
		c  color.NRGBA
		bg color.RGBA
	}{
		{color.NRGBA{255, 0, 0, 128}, white},
		{color.NRGBA{255, 0, 0, 128}, color.RGBA{0, 0, 0, 255}},
		{color.NRGBA{10, 200, 90, 64}, color.RGBA{0x33, 0x66, 0x99, 255}},
		{color.NRGBA{10, 200, 90, 0}, color.RGBA{0x33, 0x66, 0x99, 255}},
		{color.NRGBA{10, 200, 90, 255}, color.RGBA{0x33, 0x66, 0x99, 255}},
	} {
		img := image.NewNRGBA(image.Rect(0, 0, 6, 6))
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = tc.c.R, tc.c.G, tc.c.B, tc.c.A
		}
		a := float64(tc.c.A) / 255
		want := [3]float64{
			a*float64(tc.c.R) + (1-a)*float64(tc.bg.R),
			a*float64(tc.c.G) + (1-a)*float64(tc.bg.G),
			a*float64(tc.c.B) + (1-a)*float64(tc.bg.B),
		}
		for _, size := range []int{6, 4} { // copied, and resized
			out := run(img, size, 3, tc.bg)
			for c := range 3 {
				near(t, "composited channel", out[c*size*size], want[c], 1)
			}
			gray := run(img, size, 1, tc.bg)
			near(t, "composited gray", gray[0], 0.299*want[0]+0.587*want[1]+0.114*want[2], 1.5)
		}
	}
}

// Gray → RGB repeats the value; RGB → gray is BT.601 luma.
func TestGrayRGBConversion(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range g.Pix {
		g.Pix[i] = uint8(17 * i)
	}
	out := run(g, 4, 3, white)
	for i := range 16 {
		for c := range 3 {
			if out[c*16+i] != g.Pix[i] {
				t.Fatalf("gray→RGB: channel %d pixel %d = %d, want %d", c, i, out[c*16+i], g.Pix[i])
			}
		}
	}
	pal := image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Gray{0}, color.Gray{77}, color.Gray{255}})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	for i, v := range run(pal, 4, 1, white) {
		if want := []uint8{0, 77, 255}[i%3]; v != want {
			t.Fatalf("gray palette → gray: pixel %d = %d, want %d", i, v, want)
		}
	}
	for _, c := range []color.RGBA{{255, 0, 0, 255}, {0, 255, 0, 255}, {0, 0, 255, 255}, {10, 200, 30, 255}, {255, 255, 255, 255}} {
		img := image.NewRGBA(image.Rect(0, 0, 2, 2))
		for i := 0; i < len(img.Pix); i += 4 {
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
		}
		near(t, "luma", run(img, 2, 1, white)[0], 0.299*float64(c.R)+0.587*float64(c.G)+0.114*float64(c.B), 0.5)
	}
}

func TestIsGrayModel(t *testing.T) {
	for _, tc := range []struct {
		m    color.Model
		gray bool
	}{
		{color.GrayModel, true}, {color.Gray16Model, true}, {color.RGBAModel, false}, {color.NRGBAModel, false},
		{color.YCbCrModel, false},
		{color.Palette{color.Gray{3}, color.RGBA{9, 9, 9, 255}}, true},
		{color.Palette{color.Gray{3}, color.RGBA{9, 9, 10, 255}}, false},
	} {
		if got := isGrayModel(tc.m); got != tc.gray {
			t.Errorf("isGrayModel(%T %v) = %v", tc.m, tc.m, got)
		}
	}
}
