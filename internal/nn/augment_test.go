package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/rng"
)

// augGraph builds Σ R ⊙ DiffAugment(x) over a learnable x (C, H, W, B)
// with a's current parameters and returns the augmented images and ∂/∂x.
func augGraph(t *testing.T, a *DiffAugment, x, r []float32) (out, grad []float32) {
	t.Helper()
	p := NewParam("x", a.C, a.H, a.W, a.B)
	copy(p.Data(), x)
	g := NewGraph(true, p)
	y := g.DiffAugment(g.Param(p), a)
	if g.Err() != nil {
		t.Fatal(g.Err())
	}
	_, ys := weightedSum(g, y, r)
	m, err := g.Compile()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	grads, err := m.Grads()
	if err != nil {
		t.Fatal(err)
	}
	return *ys, append([]float32(nil), grads[0]...)
}

// batchLast lays out images given image after image, each (C, H, W),
// batch-last: (C, H, W, B).
func batchLast(imgs ...[]float32) []float32 {
	b, n := len(imgs), len(imgs[0])
	out := make([]float32, b*n)
	for i, img := range imgs {
		for k, v := range img {
			out[k*b+i] = v
		}
	}
	return out
}

func newAug(t *testing.T, policy []string, c, h, w, b int) *DiffAugment {
	t.Helper()
	a, err := NewDiffAugment(policy, c, h, w, b)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func checkValues(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	bad, worst := 0, 0.0
	for i := range want {
		d := math.Abs(float64(got[i] - want[i]))
		worst = max(worst, d)
		if d > tol {
			if bad < 5 {
				t.Errorf("%s[%d] = %v, want %v", what, i, got[i], want[i])
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values off, largest difference %.3g", what, bad, len(want), worst)
	}
}

// color by hand: one 3-channel image of two pixels (R, G, B planes),
// b = 0.1, s = 0.5, c = 1.5. Brightness: R (0.3, −0.3), G (0.7, 0.1), B
// (−0.1, 1.1). Saturation around the pixels' channel means 0.3 and 0.3:
// R (0.3, 0), G (0.5, 0.2), B (0.1, 0.7). Contrast around the image mean
// 0.3: y = 1.5·v − 0.15. A second image with b = 0, s = 1, c = 1 stays as
// it is.
func TestDiffAugmentColorByHand(t *testing.T) {
	a := newAug(t, []string{"color"}, 3, 1, 2, 2)
	img := []float32{0.2, -0.4, 0.6, 0, -0.2, 1}
	a.Brightness[0], a.Saturation[0], a.Contrast[0] = 0.1, 0.5, 1.5
	out, _ := augGraph(t, a, batchLast(img, img), make([]float32, 12))
	want := batchLast([]float32{0.3, -0.15, 0.6, 0.15, 0, 0.9}, img)
	checkValues(t, "color", out, want, 1e-6)

	// Saturation leaves a gray image alone: the channel mean is the pixel.
	g := newAug(t, []string{"color"}, 1, 1, 3, 1)
	g.Saturation[0] = 1.7
	out, _ = augGraph(t, g, []float32{-1, 0, 0.5}, make([]float32, 3))
	checkValues(t, "gray saturation", out, []float32{-1, 0, 0.5}, 1e-7)
}

// translation by hand: a 4×4 image 1…16 (shift up to int(4/8 + ½) = 1)
// moved by ShiftY = 1, ShiftX = −1: y(i, j) = x(i + 1, j − 1), zero
// outside. The second image has the opposite shift.
func TestDiffAugmentTranslationByHand(t *testing.T) {
	a := newAug(t, []string{"translation"}, 1, 4, 4, 2)
	img := make([]float32, 16)
	for i := range img {
		img[i] = float32(i + 1)
	}
	a.ShiftY[0], a.ShiftX[0] = 1, -1
	a.ShiftY[1], a.ShiftX[1] = -1, 1
	out, _ := augGraph(t, a, batchLast(img, img), make([]float32, 32))
	want := batchLast(
		[]float32{0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 0, 0, 0},
		[]float32{0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0, 10, 11, 12, 0})
	checkValues(t, "translation", out, want, 0)
}

// cutout by hand: 4×4 images (a 2×2 square), two channels. Offsets (1, 4)
// zero rows 0–1 and columns 3–4, clipped to column 3; offsets (2, 2) zero
// rows 1–2, columns 1–2; both channels alike. A 5×5 image has a 3×3
// square: offsets (0, 4) zero rows −1–1 and columns 3–5, clipped.
func TestDiffAugmentCutoutByHand(t *testing.T) {
	a := newAug(t, []string{"cutout"}, 2, 4, 4, 2)
	img := make([]float32, 32)
	for i := range img {
		img[i] = float32(i + 1)
	}
	a.CutY[0], a.CutX[0] = 1, 4
	a.CutY[1], a.CutX[1] = 2, 2
	out, _ := augGraph(t, a, batchLast(img, img), make([]float32, 64))
	want0 := append([]float32(nil), img...)
	want1 := append([]float32(nil), img...)
	for c := 0; c < 2; c++ {
		for _, k := range []int{3, 7} {
			want0[c*16+k] = 0
		}
		for _, k := range []int{5, 6, 9, 10} {
			want1[c*16+k] = 0
		}
	}
	checkValues(t, "cutout", out, batchLast(want0, want1), 0)

	odd := newAug(t, []string{"cutout"}, 1, 5, 5, 1)
	odd.CutY[0], odd.CutX[0] = 0, 4
	img5 := make([]float32, 25)
	for i := range img5 {
		img5[i] = 1
	}
	out, _ = augGraph(t, odd, img5, make([]float32, 25))
	want := append([]float32(nil), img5...)
	for _, k := range []int{3, 4, 8, 9} {
		want[k] = 0
	}
	checkValues(t, "cutout 5×5", out, want, 0)
}

// augmentRef is an independent float64 reference, written from
// DiffAugment_pytorch.py in NCHW with the padded-index form of its
// translation (x padded by one zero pixel, indices clamped into the
// padding) and its clamped cutout grid.
func augmentRef(a *DiffAugment, x []float64) []float64 {
	C, H, W, B := a.C, a.H, a.W, a.B
	at := func(n, c, i, j int) int { return ((n*C+c)*H+i)*W + j } // NCHW
	// x arrives batch-last: reorder.
	y := make([]float64, len(x))
	for n := 0; n < B; n++ {
		for c := 0; c < C; c++ {
			for i := 0; i < H; i++ {
				for j := 0; j < W; j++ {
					y[at(n, c, i, j)] = x[((c*H+i)*W+j)*B+n]
				}
			}
		}
	}
	clamp := func(v, lo, hi int) int { return min(max(v, lo), hi) }
	for _, p := range a.Policy {
		next := make([]float64, len(y))
		switch p {
		case "color":
			for n := 0; n < B; n++ {
				for k := at(n, 0, 0, 0); k < at(n+1, 0, 0, 0); k++ {
					y[k] += float64(a.Brightness[n])
				}
				for i := 0; i < H; i++ {
					for j := 0; j < W; j++ {
						var m float64
						for c := 0; c < C; c++ {
							m += y[at(n, c, i, j)] / float64(C)
						}
						for c := 0; c < C; c++ {
							y[at(n, c, i, j)] = (y[at(n, c, i, j)]-m)*float64(a.Saturation[n]) + m
						}
					}
				}
				var m float64
				for k := at(n, 0, 0, 0); k < at(n+1, 0, 0, 0); k++ {
					m += y[k] / float64(C*H*W)
				}
				for k := at(n, 0, 0, 0); k < at(n+1, 0, 0, 0); k++ {
					y[k] = (y[k]-m)*float64(a.Contrast[n]) + m
				}
			}
			next = y
		case "translation":
			for n := 0; n < B; n++ {
				for c := 0; c < C; c++ {
					for i := 0; i < H; i++ {
						for j := 0; j < W; j++ {
							gi := clamp(i+a.ShiftY[n]+1, 0, H+1) // index into the padded image
							gj := clamp(j+a.ShiftX[n]+1, 0, W+1)
							if gi >= 1 && gi <= H && gj >= 1 && gj <= W {
								next[at(n, c, i, j)] = y[at(n, c, gi-1, gj-1)]
							}
						}
					}
				}
			}
		case "cutout":
			ch, cw := int(float64(H)*0.5+0.5), int(float64(W)*0.5+0.5)
			mask := make([]float64, B*H*W)
			for i := range mask {
				mask[i] = 1
			}
			for n := 0; n < B; n++ {
				for gi := 0; gi < ch; gi++ {
					for gj := 0; gj < cw; gj++ {
						i := clamp(gi+a.CutY[n]-ch/2, 0, H-1)
						j := clamp(gj+a.CutX[n]-cw/2, 0, W-1)
						mask[(n*H+i)*W+j] = 0
					}
				}
			}
			for n := 0; n < B; n++ {
				for c := 0; c < C; c++ {
					for i := 0; i < H; i++ {
						for j := 0; j < W; j++ {
							next[at(n, c, i, j)] = y[at(n, c, i, j)] * mask[(n*H+i)*W+j]
						}
					}
				}
			}
		}
		y = next
	}
	// Back to batch-last.
	out := make([]float64, len(y))
	for n := 0; n < B; n++ {
		for c := 0; c < C; c++ {
			for i := 0; i < H; i++ {
				for j := 0; j < W; j++ {
					out[((c*H+i)*W+j)*B+n] = y[at(n, c, i, j)]
				}
			}
		}
	}
	return out
}

// The forward pass against the reference, and ∂(Σ R ⊙ y)/∂x against its
// float64 central differences, for each transform alone and for whole
// policies in two orders, on RGB images with drawn parameters.
func TestDiffAugmentFiniteDifferences(t *testing.T) {
	const c, h, w, b = 3, 8, 7, 4
	r := rng.New(21, 1)
	for _, policy := range [][]string{{"color"}, {"translation"}, {"cutout"}, {"color", "translation", "cutout"}, {"cutout", "translation", "color"}} {
		t.Run(fmt.Sprint(policy), func(t *testing.T) {
			a := newAug(t, policy, c, h, w, b)
			a.Draw(r)
			x := make([]float32, c*h*w*b)
			r.FillNormal(x, 0, 0.5)
			rw := make([]float32, len(x))
			r.FillNormal(rw, 0, 1)
			out, grad := augGraph(t, a, x, rw)
			xd := make([]float64, len(x))
			for i, v := range x {
				xd[i] = float64(v)
			}
			ref := augmentRef(a, xd)
			want := make([]float32, len(ref))
			for i, v := range ref {
				want[i] = float32(v)
			}
			checkValues(t, "forward", out, want, 2e-6)
			num := numGrad(xd, float64s(rw), func(v []float64) []float64 { return augmentRef(a, v) })
			fd := make([]float32, len(num))
			for i, v := range num {
				fd[i] = float32(v)
			}
			checkValues(t, "∂/∂x", grad, fd, 1e-5)
		})
	}
}

func float64s(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// Draw's parameters stay in the official ranges and reach both ends: at
// 28 px shifts of −4…4, cutout offsets 0…28 (a 14-pixel square); at 5 px
// shifts of −1…1, offsets 0…4 (a 3-pixel square). The same seed draws the
// same parameters.
func TestDiffAugmentDrawRanges(t *testing.T) {
	for _, size := range []struct{ px, shift, maxOff int }{{28, 4, 28}, {5, 1, 4}} {
		a := newAug(t, []string{"color", "translation", "cutout"}, 3, size.px, size.px, 2000)
		a.Draw(rng.New(5, 1))
		inRange := func(name string, v []float32, lo, hi float32) {
			mn, mx := v[0], v[0]
			for _, e := range v {
				mn, mx = min(mn, e), max(mx, e)
			}
			if mn < lo || mx >= hi || mn > lo+0.01 || mx < hi-0.01 {
				t.Errorf("%d px: %s spans [%v, %v], want [%v, %v)", size.px, name, mn, mx, lo, hi)
			}
		}
		inRange("brightness", a.Brightness, -0.5, 0.5)
		inRange("saturation", a.Saturation, 0, 2)
		inRange("contrast", a.Contrast, 0.5, 1.5)
		ints := func(name string, v []int, lo, hi int) {
			seen := map[int]bool{}
			for _, e := range v {
				if e < lo || e > hi {
					t.Fatalf("%d px: %s %d outside [%d, %d]", size.px, name, e, lo, hi)
				}
				seen[e] = true
			}
			if len(seen) != hi-lo+1 {
				t.Errorf("%d px: %s takes %d of the %d values %d…%d", size.px, name, len(seen), hi-lo+1, lo, hi)
			}
		}
		ints("ShiftY", a.ShiftY, -size.shift, size.shift)
		ints("ShiftX", a.ShiftX, -size.shift, size.shift)
		ints("CutY", a.CutY, 0, size.maxOff)
		ints("CutX", a.CutX, 0, size.maxOff)
		again := newAug(t, a.Policy, 3, size.px, size.px, 2000)
		again.Draw(rng.New(5, 1))
		for i := range a.CutX {
			if a.Brightness[i] != again.Brightness[i] || a.ShiftX[i] != again.ShiftX[i] || a.CutX[i] != again.CutX[i] {
				t.Fatalf("%d px: the same seed drew different parameters at %d", size.px, i)
			}
		}
	}
	if _, err := NewDiffAugment([]string{"rotate"}, 1, 4, 4, 2); err == nil {
		t.Error("an unknown transform was accepted")
	}
}

// One DiffAugment pass with every transform, forward and backward, over
// a batch of 64 MNIST-sized images (three such passes a training step).
func BenchmarkDiffAugment(b *testing.B) {
	a, err := NewDiffAugment([]string{"translation", "cutout", "color"}, 1, 28, 28, 64)
	if err != nil {
		b.Fatal(err)
	}
	a.Draw(rng.New(1, 1))
	x := make([]float32, 28*28*64)
	rng.New(2, 1).FillNormal(x, 0, 0.5)
	y, dx := make([]float32, len(x)), make([]float32, len(x))
	for b.Loop() {
		a.translate(x, y, 1)
		a.cutout(y, y)
		a.brightness(y, y)
		a.saturation(y, y)
		a.contrast(y, y)
		a.contrast(y, dx)
		a.saturation(dx, dx)
		a.cutout(dx, dx)
		a.translate(dx, y, -1)
	}
}
