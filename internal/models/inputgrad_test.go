package models_test

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
)

// inputGradRunner builds D's forward pass and its written-out input
// gradient on a batch input x (C, H, W, B), with D.Forward beside it.
type inputGradRunner struct {
	m              *nn.Machine
	x              []float32
	out, fwd, grad *gorgonia.Node
}

func newInputGradRunner(t *testing.T, m *models.GAN, b int) *inputGradRunner {
	t.Helper()
	d, ok := m.D.(models.InputGradNet)
	if !ok {
		t.Fatalf("%s: D is not an InputGradNet", m.Name)
	}
	g := nn.NewGraph(true)
	r := &inputGradRunner{}
	var x *gorgonia.Node
	x, r.x = g.Input("x", m.C, m.H, m.W, b)
	r.out, r.grad = d.ForwardInputGrad(g, x, nil)
	r.fwd = m.D.Forward(g, x, nil)
	var err error
	if r.m, err = g.Compile(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.m.Close() })
	return r
}

func values(n *gorgonia.Node) []float64 {
	f := n.Value().Data().([]float32)
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out
}

// run returns D's outputs (B) and input gradients (C, H, W, B) at x.
func (r *inputGradRunner) run(t *testing.T) (out, grad []float64) {
	t.Helper()
	if err := r.m.Run(); err != nil {
		t.Fatal(err)
	}
	out, fwd := values(r.out), values(r.fwd)
	for i := range out {
		if out[i] != fwd[i] {
			t.Fatalf("output %d: %v beside the input gradient, %v from Forward", i, out[i], fwd[i])
		}
	}
	return out, values(r.grad)
}

// The critics' written-out input gradients against central differences of
// D(x) with respect to x, pixel by pixel (all samples at once: each output
// depends on its own sample alone) and along a random direction per
// sample. D is piecewise linear in x, so away from a LeakyReLU's kink the
// difference is exact but for float32 rounding; where one-sided
// differences disagree, a kink lies within the step and the pixel is
// skipped.
func TestInputGradientMatchesFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name  string
		model string
		shape models.Shape
	}{
		{"wgan-gp-28px", "wgan-gp", models.Shape{Latent: 8, C: 1, H: 28, W: 28, Width: 8}},
		{"wgan-gp-32px-rgb", "wgan-gp", models.Shape{Latent: 8, C: 3, H: 32, W: 32, Width: 4}},
		{"wgan-gp-16px", "wgan-gp", models.Shape{Latent: 8, C: 1, H: 16, W: 16, Width: 4}},
		{"gan", "gan", models.Shape{Latent: 8, C: 1, H: 28, W: 28}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := models.Build(tc.model, tc.shape, rng.New(7, 1))
			if err != nil {
				t.Fatal(err)
			}
			const b = 3
			// Ten times DCGAN's initial scale: larger gradients, and
			// pre-activations of both signs.
			for _, p := range m.D.Params() {
				if len(p.Shape()) > 1 && tc.model == "wgan-gp" {
					for i := range p.Data() {
						p.Data()[i] *= 10
					}
				}
			}
			r := newInputGradRunner(t, m, b)
			src := rng.New(8, 1)
			src.FillNormal(r.x, 0, 0.5)
			x0 := append([]float32(nil), r.x...)
			c0, grad := r.run(t)
			var norm float64
			for _, v := range grad {
				norm += v * v
			}
			if norm == 0 {
				t.Fatal("the input gradient is zero: the test proves nothing")
			}
			const h = 2e-3
			// diff moves sample j's values along u[j] by ±h and returns
			// the central and the two one-sided differences per sample.
			diff := func(u [][]float32) (c, fwd, bwd []float64) {
				at := func(s float32) []float64 {
					copy(r.x, x0)
					for j := range u {
						for i, v := range u[j] {
							r.x[i*b+j] += s * v
						}
					}
					out, _ := r.run(t)
					return out
				}
				p, q := at(h), at(-h)
				copy(r.x, x0)
				for j := 0; j < b; j++ {
					c = append(c, (p[j]-q[j])/(2*h))
					fwd = append(fwd, (p[j]-c0[j])/h)
					bwd = append(bwd, (c0[j]-q[j])/h)
				}
				return c, fwd, bwd
			}
			n := len(r.x) / b
			checked, kinks := 0, 0
			compare := func(what string, j int, num, fwd, bwd, ana, scale float64) {
				// A few float32 ulps of D's output over the step, and a
				// little of the gradient's size.
				res := 4 * 0x1p-24 * math.Max(math.Abs(c0[j]), 1e-3) / h
				tol := 1e-3*scale + 2e-3*math.Abs(ana) + res
				if math.Abs(fwd-bwd) > 2*tol {
					kinks++
					return
				}
				checked++
				if math.Abs(num-ana) > tol {
					t.Errorf("%s, sample %d: analytic %.6g, finite difference %.6g", what, j, ana, num)
				}
			}
			scale := math.Sqrt(norm / b)
			pick := rng.New(9, 1)
			for k := 0; k < 40; k++ {
				i := pick.IntN(n)
				u := make([][]float32, b)
				for j := range u {
					u[j] = make([]float32, n)
					u[j][i] = 1
				}
				c, fwd, bwd := diff(u)
				for j := 0; j < b; j++ {
					compare("pixel", j, c[j], fwd[j], bwd[j], grad[i*b+j], scale/math.Sqrt(float64(n)))
				}
			}
			// Along a random unit direction per sample: the slope is
			// ⟨∇, u⟩, which sums every pixel's error.
			u := make([][]float32, b)
			ana := make([]float64, b)
			for j := range u {
				u[j] = make([]float32, n)
				pick.FillNormal(u[j], 0, 1)
				var s float64
				for _, v := range u[j] {
					s += float64(v) * float64(v)
				}
				for i := range u[j] {
					u[j][i] = float32(float64(u[j][i]) / math.Sqrt(s))
					ana[j] += float64(u[j][i]) * grad[i*b+j]
				}
			}
			c, fwd, bwd := diff(u)
			for j := 0; j < b; j++ {
				compare("along a random direction", j, c[j], fwd[j], bwd[j], ana[j], scale)
			}
			if kinks > checked/4 {
				t.Errorf("%d checks skipped at kinks, only %d made", kinks, checked)
			}
			t.Logf("%d checks, %d skipped at kinks; rms gradient %.3g, |D| %.3g", checked, kinks, scale/math.Sqrt(float64(n)), math.Abs(c0[0]))
		})
	}
}

// A fully connected D whose LeakyReLUs all see one sign is linear, and its
// input gradient has a closed form: W₁ᵀW₂ᵀW₃ᵀw₄ᵀ where every
// pre-activation is positive, 0.2³ times that where every one is negative.
// Non-negative inputs, weights and biases give the first; hidden weights
// and biases of the first layer negated, and those after it non-negative
// with non-positive biases, the second.
func TestInputGradientClosedForm(t *testing.T) {
	for _, tc := range []struct {
		name  string
		slope float64
	}{{"positive", 1}, {"negative", 0.2 * 0.2 * 0.2}} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := models.Build("gan", models.Shape{Latent: 8, C: 1, H: 28, W: 28}, rng.New(7, 1))
			if err != nil {
				t.Fatal(err)
			}
			ps := m.D.Params() // d.fc1.weight, d.fc1.bias, …, d.fc4.weight, d.fc4.bias
			for k, p := range ps[:6] {
				first := k < 2
				for i, v := range p.Data() {
					v = float32(math.Abs(float64(v)))
					if tc.slope != 1 && (first || k%2 == 1) {
						v = -v
					}
					p.Data()[i] = v
				}
			}
			const b = 2
			r := newInputGradRunner(t, m, b)
			for i := range r.x {
				r.x[i] = float32(i%7) / 7
			}
			_, grad := r.run(t)
			// v = W₁ᵀ(W₂ᵀ(W₃ᵀ w₄ᵀ)), in float64 from the weights.
			v := []float64{}
			for _, x := range ps[6].Data() {
				v = append(v, float64(x))
			}
			for k := 2; k >= 0; k-- {
				w, sh := ps[2*k].Data(), ps[2*k].Shape() // (out, in)
				next := make([]float64, sh[1])
				for o := 0; o < sh[0]; o++ {
					for i := 0; i < sh[1]; i++ {
						next[i] += float64(w[o*sh[1]+i]) * v[o]
					}
				}
				v = next
			}
			var worst float64
			for i, want := range v {
				want *= tc.slope
				for j := 0; j < b; j++ {
					got := grad[i*b+j]
					if d := math.Abs(got - want); d > worst {
						worst = d
					}
					if math.Abs(got-want) > 1e-5*math.Abs(want)+1e-7 {
						t.Fatalf("∂D/∂x[%d] of sample %d: %.8g, closed form %.8g", i, j, got, want)
					}
				}
			}
			t.Logf("largest difference %.3g", worst)
		})
	}
}

// wgan-gp is the DCGAN without batch norm in D, its convolutions with a
// bias instead, and no weight clipping; the other models keep theirs.
func TestWGANGPCritic(t *testing.T) {
	for _, s := range []models.Shape{models.MNIST(100), {Latent: 100, C: 3, H: 64, W: 64, Width: 8}} {
		m, err := models.Build("wgan-gp", s, rng.New(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		if !m.GP || m.Loss != models.Wasserstein || len(m.D.BatchNorms()) != 0 || len(m.D.Buffers()) != 0 {
			t.Errorf("%d px: GP %v, loss %v, %d batch norms in D", s.H, m.GP, m.Loss, len(m.D.BatchNorms()))
		}
		for _, p := range m.D.Params() {
			if p.Name == "d.conv2_bn.weight" || p.Name == "d.main.3.weight" {
				t.Errorf("%d px: D has %s", s.H, p.Name)
			}
		}
		w, _ := models.Build("wgan", s, rng.New(1, 1))
		if w.GP || len(w.D.BatchNorms()) == 0 {
			t.Errorf("%d px: wgan changed: GP %v, %d batch norms", s.H, w.GP, len(w.D.BatchNorms()))
		}
	}
}
