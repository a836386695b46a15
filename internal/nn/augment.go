package nn

import (
	"fmt"

	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DiffAugment is differentiable augmentation (Zhao et al. 2020,
// "Differentiable Augmentation for Data-Efficient GAN Training") of one
// batch of images (C, H, W, B) in [−1, 1], as the official
// DiffAugment_pytorch.py defines it, with one set of random parameters per
// image:
//
//   - color: brightness x + b, b ~ U(−0.5, 0.5); then saturation
//     (x − m)·s + m, m the pixel's mean over the channels, s ~ U(0, 2)
//     (the identity for gray images); then contrast (x − m)·c + m, m the
//     image's mean over channels and pixels, c ~ U(0.5, 1.5).
//   - translation: the image shifted by up to ⌊H/8 + ½⌋ rows and ⌊W/8 + ½⌋
//     columns each way, uniformly, filled with zeros (mid-gray in [−1, 1],
//     as in the official code).
//   - cutout: a square of ⌊H/2 + ½⌋ × ⌊W/2 + ½⌋ pixels set to zero in every
//     channel, its centre uniform over the image (clipped at the edges).
//
// Transforms apply in the order of the policy, as the official code does.
// Each is affine in x for fixed parameters, so its backward pass is its
// adjoint: the same map for saturation, contrast and cutout, the opposite
// shift for translation, the identity for brightness.
//
// Draw sets the parameters before each run; the forward and backward ops
// of that run read them.
type DiffAugment struct {
	Policy     []string
	C, H, W, B int

	Brightness []float32 // (B) b
	Saturation []float32 // (B) s
	Contrast   []float32 // (B) c
	// ShiftY, ShiftX (B): the output pixel (i, j) is the input's (i + ShiftY,
	// j + ShiftX), or 0 outside the image.
	ShiftY, ShiftX []int
	// CutY, CutX (B): the cutout's offsets as the official code draws them,
	// in [0, H + 1 − size%2); it zeroes rows CutY − size/2 to CutY − size/2 +
	// size − 1 (clipped to the image), and likewise columns.
	CutY, CutX []int
}

// NewDiffAugment prepares policy (a list of translation, cutout, color) for batches
// of b images of c×h×w, with parameters that leave the images unchanged
// until the first Draw (no cutout).
func NewDiffAugment(policy []string, c, h, w, b int) (*DiffAugment, error) {
	if c < 1 || h < 1 || w < 1 || b < 1 {
		return nil, fmt.Errorf("nn: diffaugment: images %d×%d×%d, batch %d", c, h, w, b)
	}
	seen := map[string]bool{}
	for _, p := range policy {
		if seen[p] {
			return nil, fmt.Errorf("nn: diffaugment: %s listed twice", p)
		}
		seen[p] = true
		switch p {
		case "translation", "cutout", "color":
		default:
			return nil, fmt.Errorf("nn: diffaugment: unknown transform %q (known: translation, cutout, color)", p)
		}
	}
	a := &DiffAugment{Policy: append([]string(nil), policy...), C: c, H: h, W: w, B: b,
		Brightness: make([]float32, b), Saturation: make([]float32, b), Contrast: make([]float32, b),
		ShiftY: make([]int, b), ShiftX: make([]int, b), CutY: make([]int, b), CutX: make([]int, b)}
	for i := range b {
		a.Saturation[i], a.Contrast[i] = 1, 1
		a.CutY[i], a.CutX[i] = -h, -w // far outside: no cutout
	}
	return a, nil
}

// shift is the largest translation of a side of n pixels: int(n·⅛ + ½).
func shift(n int) int { return int(float64(n)*0.125 + 0.5) }

// cutSize is the cutout's side for a side of n pixels: int(n·½ + ½).
func cutSize(n int) int { return int(float64(n)*0.5 + 0.5) }

// Draw draws new parameters from r, transform after transform in the
// policy's order and, within one, in the official code's order
// (brightness, saturation, contrast; rows, then columns), each for the
// whole batch.
func (a *DiffAugment) Draw(r *rng.RNG) {
	for _, p := range a.Policy {
		switch p {
		case "color":
			for i := range a.Brightness {
				a.Brightness[i] = float32(r.Float64() - 0.5)
			}
			for i := range a.Saturation {
				a.Saturation[i] = float32(r.Float64() * 2)
			}
			for i := range a.Contrast {
				a.Contrast[i] = float32(r.Float64() + 0.5)
			}
		case "translation":
			sy, sx := shift(a.H), shift(a.W)
			for i := range a.ShiftY {
				a.ShiftY[i] = r.IntN(2*sy+1) - sy
			}
			for i := range a.ShiftX {
				a.ShiftX[i] = r.IntN(2*sx+1) - sx
			}
		case "cutout":
			ch, cw := cutSize(a.H), cutSize(a.W)
			for i := range a.CutY {
				a.CutY[i] = r.IntN(a.H + 1 - ch%2)
			}
			for i := range a.CutX {
				a.CutX[i] = r.IntN(a.W + 1 - cw%2)
			}
		}
	}
}

// DiffAugment applies a's policy to x (C, H, W, B) with a's current
// parameters; the gradient flows back to x where x needs one.
func (g *Graph) DiffAugment(x *gorgonia.Node, a *DiffAugment) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	if s := shapeOf(x); !s.Eq(tensor.Shape{a.C, a.H, a.W, a.B}) {
		g.fail(fmt.Errorf("nn: diffaugment: input %v, want (%d, %d, %d, %d)", s, a.C, a.H, a.W, a.B))
		return nil
	}
	for _, p := range a.Policy {
		switch p {
		case "color":
			x = g.augOp("augment_brightness", x, a.brightness, nil)
			x = g.augOp("augment_saturation", x, a.saturation, a.saturation)
			x = g.augOp("augment_contrast", x, a.contrast, a.contrast)
		case "translation":
			x = g.augOp("augment_translation", x,
				func(x, y []float32) { a.translate(x, y, 1) },
				func(dy, dx []float32) { a.translate(dy, dx, -1) })
		case "cutout":
			x = g.augOp("augment_cutout", x, a.cutout, a.cutout)
		}
	}
	return x
}

// augOp adds a shape-preserving op y = fwd(x) whose gradient is dx =
// bwd(dy); a nil bwd is the identity.
func (g *Graph) augOp(name string, x *gorgonia.Node, fwd, bwd func(in, out []float32)) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	s := shapeOf(x)
	n, _ := g.Apply(OpSpec{
		Name: name, In: []tensor.Shape{s}, Out: s, DiffWRT: []bool{true},
		Forward: func(v [][]float32, y []float32) error {
			fwd(v[0], y)
			return nil
		},
		Backward: func(_ []bool, _ gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			if bwd == nil {
				return gorgonia.Nodes{dy}, nil
			}
			dx, _ := g.Apply(OpSpec{
				Name: name + "_grad", In: []tensor.Shape{s}, Out: s,
				Forward: func(v [][]float32, dx []float32) error {
					bwd(v[0], dx)
					return nil
				},
			}, dy)
			return gorgonia.Nodes{dx}, g.err
		},
	}, x)
	return n
}

// brightness: y = x + b per image.
func (a *DiffAugment) brightness(x, y []float32) {
	b := a.B
	for k, v := range x {
		y[k] = v + a.Brightness[k%b]
	}
}

// saturation: y = (x − m)·s + m, m the mean over the channels of each
// pixel of each image. It is symmetric (s·I + (1 − s)·mean), its own
// adjoint.
func (a *DiffAugment) saturation(x, y []float32) {
	plane := a.H * a.W * a.B // one channel of the batch
	for p := 0; p < plane; p++ {
		var m float64
		for c := 0; c < a.C; c++ {
			m += float64(x[c*plane+p])
		}
		m /= float64(a.C)
		s := float64(a.Saturation[p%a.B])
		for c := 0; c < a.C; c++ {
			y[c*plane+p] = float32((float64(x[c*plane+p])-m)*s + m)
		}
	}
}

// contrast: y = (x − m)·c + m, m the mean of each image over channels and
// pixels. Symmetric too.
func (a *DiffAugment) contrast(x, y []float32) {
	b := a.B
	n := len(x) / b // values per image
	m := make([]float64, b)
	for k, v := range x {
		m[k%b] += float64(v)
	}
	for i := range m {
		m[i] /= float64(n)
	}
	for k, v := range x {
		c := float64(a.Contrast[k%b])
		y[k] = float32((float64(v)-m[k%b])*c + m[k%b])
	}
}

// translate: y(i, j) = x(i + dir·ShiftY, j + dir·ShiftX), 0 outside. dir
// −1 is the adjoint (the gradient).
func (a *DiffAugment) translate(x, y []float32, dir int) {
	h, w, b := a.H, a.W, a.B
	for c := 0; c < a.C; c++ {
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				out := ((c*h+i)*w + j) * b
				for n := 0; n < b; n++ {
					si, sj := i+dir*a.ShiftY[n], j+dir*a.ShiftX[n]
					if si < 0 || si >= h || sj < 0 || sj >= w {
						y[out+n] = 0
						continue
					}
					y[out+n] = x[((c*h+si)*w+sj)*b+n]
				}
			}
		}
	}
}

// cutout: y = x·mask, the mask 0 on each image's square and 1 elsewhere.
func (a *DiffAugment) cutout(x, y []float32) {
	h, w, b := a.H, a.W, a.B
	ch, cw := cutSize(h), cutSize(w)
	for c := 0; c < a.C; c++ {
		for i := 0; i < h; i++ {
			for j := 0; j < w; j++ {
				k := ((c*h+i)*w + j) * b
				for n := 0; n < b; n++ {
					y0, x0 := a.CutY[n]-ch/2, a.CutX[n]-cw/2
					if i >= y0 && i < y0+ch && j >= x0 && j < x0+cw {
						y[k+n] = 0
					} else {
						y[k+n] = x[k+n]
					}
				}
			}
		}
	}
}
