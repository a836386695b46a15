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
	g, err := Grid(imgs, 3, 2, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := g.Bounds(); b.Dx() != 2*(2+Pad)+Pad || b.Dy() != 2*(2+Pad)+Pad {
		t.Fatalf("bounds %v", b)
	}
	if g.GrayAt(Pad, Pad).Y != 255 || g.GrayAt(Pad+2+Pad, Pad).Y != 0 || g.GrayAt(0, 0).Y != 0 {
		t.Error("images in the wrong cells")
	}
	if g.GrayAt(Pad+1, 2*Pad+2).Y != 0 || g.GrayAt(Pad+1, 2*Pad+3).Y != 255 {
		t.Error("third image wrong")
	}
	if _, err := Grid(imgs[:5], 3, 2, 2, 2); err == nil {
		t.Error("wrong length accepted")
	}
}

func TestGIFRoundTrip(t *testing.T) {
	a, b := Single([]float32{-1, 1, 1, -1}, 2, 2), Single([]float32{1, -1, -1, 1}, 2, 2)
	p := filepath.Join(t.TempDir(), "x.gif")
	if err := WriteGIF(p, []*image.Gray{Scale(a, 3), Scale(b, 3)}, []int{5, 20}); err != nil {
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
	if err := WriteGIF(p, []*image.Gray{a, Scale(b, 2)}, []int{1, 1}); err == nil {
		t.Error("frames of different sizes accepted")
	}
}
