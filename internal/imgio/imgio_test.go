package imgio

import (
	"image"
	"image/gif"
	"os"
	"path/filepath"
	"testing"
)

func TestGrayMapping(t *testing.T) {
	for _, c := range []struct {
		v    float32
		want uint8
	}{{-1, 0}, {1, 255}, {0, 128}, {-2, 0}, {3, 255}} {
		if got := ToGray(c.v); got != c.want {
			t.Errorf("ToGray(%v) = %d, want %d", c.v, got, c.want)
		}
	}
}

func TestGridLayout(t *testing.T) {
	// Three 2×2 images, two per row: a 2-row grid with 2-pixel borders.
	imgs := []float32{1, 1, 1, 1, -1, -1, -1, -1, 1, -1, -1, 1}
	gi, err := Grid(imgs, 3, 1, 2, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	g := gi.(*image.Gray)
	if b := g.Bounds(); b.Dx() != 2*(2+Pad)+Pad || b.Dy() != 2*(2+Pad)+Pad {
		t.Fatalf("bounds %v", b)
	}
	if g.GrayAt(Pad, Pad).Y != 255 || g.GrayAt(Pad+2+Pad, Pad).Y != 0 || g.GrayAt(0, 0).Y != 0 {
		t.Error("images in the wrong cells")
	}
	if g.GrayAt(Pad+1, 2*Pad+2).Y != 0 || g.GrayAt(Pad+1, 2*Pad+3).Y != 255 {
		t.Error("third image wrong")
	}
	if _, err := Grid(imgs[:5], 3, 1, 2, 2, 2); err == nil {
		t.Error("wrong length accepted")
	}
}

func TestGIFRoundTrip(t *testing.T) {
	a, b := Single([]float32{-1, 1, 1, -1}, 1, 2, 2), Single([]float32{1, -1, -1, 1}, 1, 2, 2)
	p := filepath.Join(t.TempDir(), "x.gif")
	if err := WriteGIF(p, []image.Image{Scale(a, 3), Scale(b, 3)}, []int{5, 20}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(p)
	defer f.Close()
	anim, err := gif.DecodeAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(anim.Image) != 2 || anim.Delay[1] != 20 || anim.LoopCount != 0 || anim.Image[0].Bounds().Dx() != 6 {
		t.Fatalf("frames %d, delays %v, loop %d", len(anim.Image), anim.Delay, anim.LoopCount)
	}
	if r, _, _, _ := anim.Image[0].At(3, 0).RGBA(); r>>8 != 255 {
		t.Errorf("pixel (3,0) of frame 0 = %d, want white", r>>8)
	}
	if err := WriteGIF(p, []image.Image{a, Scale(b, 2)}, []int{1, 1}); err == nil {
		t.Error("frames of different sizes accepted")
	}
}

// An RGB image's three planes become the red, green and blue of its pixels.
func TestGridColour(t *testing.T) {
	// Two 1×2 RGB images (planes R, G, B): the first red then blue, the
	// second white then black.
	imgs := []float32{1, -1, -1, -1, -1, 1, 1, -1, 1, -1, 1, -1}
	gi, err := Grid(imgs, 2, 3, 1, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	g := gi.(*image.RGBA)
	want := map[image.Point][3]uint8{
		{Pad, Pad}: {255, 0, 0}, {Pad + 1, Pad}: {0, 0, 255},
		{2*Pad + 2, Pad}: {255, 255, 255}, {2*Pad + 3, Pad}: {0, 0, 0}, {0, 0}: {0, 0, 0},
	}
	for p, c := range want {
		got := g.RGBAAt(p.X, p.Y)
		if got.R != c[0] || got.G != c[1] || got.B != c[2] || got.A != 255 {
			t.Errorf("pixel %v = %v, want %v", p, got, c)
		}
	}
	if _, err := Grid(imgs, 2, 2, 1, 2, 2); err == nil {
		t.Error("2 channels accepted")
	}
}
