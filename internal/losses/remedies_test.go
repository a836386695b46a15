package losses

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/nn"
	"gorgonia.org/gorgonia"
)

// Worked out by hand. Hinge, D on real: max(0, 1 − x); on fake: max(0, 1 + x).
// LSGAN: ½(x − t)².
func TestHingeAndLSGANHandComputed(t *testing.T) {
	x := []float32{-2, -0.5, 0.25, 3}
	cases := []struct {
		name  string
		build func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat)
		loss  float64
		grad  []float64 // d mean / dx_i
	}{
		// real: terms 3, 1.5, 0.75, 0 → mean 5.25/4; grad −1/4 where 1 − x > 0.
		{"hinge real", func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat) { return Hinge(g, "l", x, 1) },
			5.25 / 4, []float64{-0.25, -0.25, -0.25, 0}},
		// fake: terms 0, 0.5, 1.25, 4 → mean 5.75/4; grad +1/4 where 1 + x > 0.
		{"hinge fake", func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat) { return Hinge(g, "l", x, -1) },
			5.75 / 4, []float64{0, 0.25, 0.25, 0.25}},
		// target 1: ½(9, 2.25, 0.5625, 4) → 7.90625/4; grad (x − 1)/4.
		{"lsgan 1", func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat) { return LeastSquares(g, "l", x, 1) },
			7.90625 / 4, []float64{-3.0 / 4, -1.5 / 4, -0.75 / 4, 2.0 / 4}},
		// target 0: ½(4, 0.25, 0.0625, 9) → 6.65625/4; grad x/4.
		{"lsgan 0", func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat) { return LeastSquares(g, "l", x, 0) },
			6.65625 / 4, []float64{-0.5, -0.125, 0.0625, 0.75}},
	}
	for _, c := range cases {
		loss, st, grad := runLoss(t, x, c.build)
		if !near(loss, c.loss, 1e-7) || !near(st.Loss, c.loss, 1e-12) || !near(st.Mean, 0.1875, 1e-12) {
			t.Errorf("%s: loss %.10g (stat %.10g, mean %g), want %.10g (mean 0.1875)", c.name, loss, st.Loss, st.Mean, c.loss)
		}
		for i := range grad {
			if !near(float64(grad[i]), c.grad[i], 1e-7) {
				t.Errorf("%s: grad[%d] = %g, want %g", c.name, i, grad[i], c.grad[i])
			}
		}
	}
}

// The ops' gradients against float64 central differences of the mean loss,
// away from the hinge's kink.
func TestHingeAndLSGANFiniteDifferences(t *testing.T) {
	x := []float32{-1.7, -0.3, 0.4, 0.9, 1.6, 2.2}
	fs := []struct {
		name  string
		elem  func(float64) (float64, float64)
		build func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat)
	}{
		{"hinge real", func(v float64) (float64, float64) { return HingeElem(v, 1) },
			func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat) { return Hinge(g, "l", x, 1) }},
		{"hinge fake", func(v float64) (float64, float64) { return HingeElem(v, -1) },
			func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat) { return Hinge(g, "l", x, -1) }},
		{"lsgan 1", func(v float64) (float64, float64) { return LSElem(v, 1) },
			func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat) { return LeastSquares(g, "l", x, 1) }},
		{"lsgan 0", func(v float64) (float64, float64) { return LSElem(v, 0) },
			func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat) { return LeastSquares(g, "l", x, 0) }},
	}
	for _, f := range fs {
		mean := func(v []float64) float64 {
			var s float64
			for _, e := range v {
				l, _ := f.elem(e)
				s += l
			}
			return s / float64(len(v))
		}
		_, _, grad := runLoss(t, x, f.build)
		const h = 1e-6
		for i := range x {
			v := make([]float64, len(x))
			for j := range x {
				v[j] = float64(x[j])
			}
			v[i] += h
			up := mean(v)
			v[i] -= 2 * h
			fd := (up - mean(v)) / (2 * h)
			if math.Abs(float64(grad[i])-fd) > 1e-6 {
				t.Errorf("%s: grad[%d] = %.8g, finite difference %.8g", f.name, i, grad[i], fd)
			}
		}
	}
}
