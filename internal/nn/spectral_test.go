package nn

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/rng"
	"gonum.org/v1/gonum/mat"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// snGraph builds Σ R ⊙ (W/σ) over a learnable W under spectral norm.
func snGraph(t *testing.T, p *Param, sn *SpectralNorm, update bool, r []float32) (*Machine, *gorgonia.Node) {
	t.Helper()
	g := NewGraph(true, p)
	g.SpectralNorm(update, sn)
	w := g.Param(p)
	shape := w.Shape().Clone()
	cost, _ := g.Apply(OpSpec{
		Name: "weighted_sum", In: []tensor.Shape{shape}, DiffWRT: []bool{true},
		Forward: func(in [][]float32, out []float32) error {
			var s float64
			for i, x := range in[0] {
				s += float64(r[i]) * float64(x)
			}
			out[0] = float32(s)
			return nil
		},
		Backward: func(need []bool, in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			d, _ := g.Apply(OpSpec{Name: "weighted_sum_grad", In: []tensor.Shape{nil}, Out: shape,
				Forward: func(in [][]float32, out []float32) error {
					for i := range out {
						out[i] = in[0][0] * r[i]
					}
					return nil
				}}, grad)
			return gorgonia.Nodes{d}, g.Err()
		},
	}, w)
	g.Backward(cost)
	m, err := g.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return m, w
}

// largestSV is W's (m, n) largest singular value by gonum's SVD.
func largestSV(t *testing.T, w []float32, m, n int) float64 {
	t.Helper()
	d := make([]float64, len(w))
	for i, v := range w {
		d[i] = float64(v)
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(m, n, d), mat.SVDNone) {
		t.Fatal("SVD failed")
	}
	return svd.Values(nil)[0]
}

// Power iteration run by run converges to the largest singular value of
// gonum's SVD, and the normalised weight then has spectral norm 1.
func TestSpectralNormMatchesSVD(t *testing.T) {
	for _, shape := range [][]int{{6, 12}, {8, 3, 4, 4}, {1, 50}, {5, 2}} {
		p := NewParam("w", shape...)
		r := rng.New(7, uint64(len(shape)))
		r.FillNormal(p.Data(), 0, 0.3)
		sn := NewSpectralNorm(p, r)
		m := shape[0]
		n := len(p.Data()) / m
		want := largestSV(t, p.Data(), m, n)
		machine, w := snGraph(t, p, sn, true, make([]float32, len(p.Data())))
		var sigma float64
		for i := 0; i < 200; i++ {
			if err := machine.Run(); err != nil {
				t.Fatal(err)
			}
			sigma, _, _ = PowerIteration(p.Data(), m, n, sn.U)
		}
		if math.Abs(sigma-want) > 1e-5*want {
			t.Errorf("%v: σ after 200 steps %.8g, SVD %.8g", shape, sigma, want)
		}
		out := w.Value().Data().([]float32)
		if got := largestSV(t, out, m, n); math.Abs(got-1) > 1e-5 {
			t.Errorf("%v: W/σ has largest singular value %.8g, want 1", shape, got)
		}
		machine.Close()
	}
}

// One run is one power iteration, checked with gonum's matrix products:
// v = Wᵀu/‖Wᵀu‖, u' = Wv/‖Wv‖, and W/σ with σ = ‖Wv‖. A graph without
// update leaves u alone.
func TestSpectralNormOneIteration(t *testing.T) {
	p := NewParam("w", 4, 2, 3, 3)
	r := rng.New(8, 1)
	r.FillNormal(p.Data(), 0, 0.5)
	sn := NewSpectralNorm(p, r)
	m, n := 4, 18
	wd := make([]float64, m*n)
	for i, v := range p.Data() {
		wd[i] = float64(v)
	}
	W := mat.NewDense(m, n, wd)
	u0 := make([]float64, m)
	for i, v := range sn.U {
		u0[i] = float64(v)
	}
	var v, wv mat.VecDense
	v.MulVec(W.T(), mat.NewVecDense(m, u0))
	v.ScaleVec(1/mat.Norm(&v, 2), &v)
	wv.MulVec(W, &v)
	sigma := mat.Norm(&wv, 2)

	frozen, wf := snGraph(t, p, sn, false, make([]float32, m*n))
	defer frozen.Close()
	if err := frozen.Run(); err != nil {
		t.Fatal(err)
	}
	for i, x := range sn.U {
		if float64(x) != u0[i] {
			t.Fatalf("a graph without update changed u[%d]", i)
		}
	}
	for i, x := range wf.Value().Data().([]float32) {
		if math.Abs(float64(x)-wd[i]/sigma) > 1e-6 {
			t.Fatalf("W/σ[%d] = %v, want %v", i, x, wd[i]/sigma)
		}
	}
	machine, _ := snGraph(t, p, sn, true, make([]float32, m*n))
	defer machine.Close()
	if err := machine.Run(); err != nil {
		t.Fatal(err)
	}
	for i, x := range sn.U {
		if want := wv.AtVec(i) / sigma; math.Abs(float64(x)-want) > 1e-6 {
			t.Errorf("u[%d] = %v after one iteration, want %v", i, x, want)
		}
	}
}

// The gradient of Σ R ⊙ W/σ(W), σ(W) = uᵀWv with u, v held (as PyTorch
// holds them), against float64 central differences.
func TestSpectralNormGradientFiniteDifferences(t *testing.T) {
	for _, shape := range [][]int{{3, 5}, {4, 2, 2, 2}, {1, 7}} {
		p := NewParam("w", shape...)
		r := rng.New(9, uint64(len(shape)))
		r.FillNormal(p.Data(), 0, 0.4)
		sn := NewSpectralNorm(p, r)
		m := shape[0]
		n := len(p.Data()) / m
		rw := make([]float32, len(p.Data()))
		r.FillNormal(rw, 0, 1)
		_, u, v := PowerIteration(p.Data(), m, n, sn.U)
		machine, _ := snGraph(t, p, sn, false, rw)
		if err := machine.Run(); err != nil {
			t.Fatal(err)
		}
		grads, err := machine.Grads()
		if err != nil {
			t.Fatal(err)
		}
		machine.Close()
		w := make([]float64, len(p.Data()))
		for i, x := range p.Data() {
			w[i] = float64(x)
		}
		f := func(w []float64) float64 {
			var sigma, s float64
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					sigma += u[i] * w[i*n+j] * v[j]
				}
			}
			for i, x := range w {
				s += float64(rw[i]) * x / sigma
			}
			return s
		}
		const h = 1e-6
		for k := range w {
			old := w[k]
			w[k] = old + h
			up := f(w)
			w[k] = old - h
			fd := (up - f(w)) / (2 * h)
			w[k] = old
			if math.Abs(float64(grads[0][k])-fd) > 1e-5*(1+math.Abs(fd)) {
				t.Errorf("%v: ∂/∂W[%d] = %.8g, finite difference %.8g", shape, k, grads[0][k], fd)
			}
		}
	}
}
