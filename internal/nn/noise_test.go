package nn

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/rng"
)

// noiseGraph builds Σ r ⊙ GaussianNoise(x, σ) over a learnable x (n, 1) and
// runs it twice; it returns both outputs and ∂/∂x of the second run.
func noiseGraph(t *testing.T, train bool, src *rng.RNG, x, r []float32, std float64) (out1, out2, grad []float32) {
	t.Helper()
	p := NewParam("x", len(x), 1)
	copy(p.Data(), x)
	g := NewGraph(train, p)
	g.SetNoise(src)
	y := g.GaussianNoise(g.Param(p), std)
	cost, outp := weightedSum(g, y, r)
	g.Backward(cost)
	m, err := g.Compile()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for run := 0; run < 2; run++ {
		if err := m.Run(); err != nil {
			t.Fatal(err)
		}
		if run == 0 {
			out1 = *outp
			grads, _ := m.Grads()
			clear(grads[0])
		}
	}
	grads, err := m.Grads()
	if err != nil {
		t.Fatal(err)
	}
	return out1, *outp, append([]float32(nil), grads[0]...)
}

// The noise layer of a training graph adds σ·N(0, 1), fresh at each run and
// the same as the source's next draws; the gradient passes through; an
// evaluation graph, or one without a source, adds nothing.
func TestGaussianNoise(t *testing.T) {
	const n, std = 20000, 0.5
	x, r := make([]float32, n), make([]float32, n)
	rng.New(1, 1).FillNormal(x, 0, 1)
	rng.New(2, 1).FillNormal(r, 0, 1)
	out1, out2, grad := noiseGraph(t, true, rng.New(3, 1), x, r, std)
	want := make([]float32, n)
	rng.New(3, 1).FillNormal(want, 0, std) // the first run's draws
	var s, s2, same float64
	for i := range x {
		e := float64(out1[i] - x[i])
		if math.Abs(e-float64(want[i])) > 1e-6 {
			t.Fatalf("element %d: noise %v, want the source's draw %v", i, e, want[i])
		}
		s += e
		s2 += e * e
		if out1[i] == out2[i] {
			same++
		}
		if grad[i] != r[i] {
			t.Fatalf("element %d: gradient %v, want %v (the noise is additive)", i, grad[i], r[i])
		}
	}
	mean, sd := s/n, math.Sqrt(s2/n-(s/n)*(s/n))
	if math.Abs(mean) > 4*std/math.Sqrt(n) || math.Abs(sd-std) > 0.02 {
		t.Errorf("noise mean %.4f sd %.4f, want 0 and %g", mean, sd, std)
	}
	if same > 0 {
		t.Errorf("%v elements had the same noise in two runs", same)
	}
	for _, c := range []struct {
		name  string
		train bool
		src   *rng.RNG
	}{{"evaluation graph", false, rng.New(3, 1)}, {"no source", true, nil}} {
		o, _, _ := noiseGraph(t, c.train, c.src, x, r, std)
		for i := range x {
			if o[i] != x[i] {
				t.Fatalf("%s: element %d changed: %v → %v", c.name, i, x[i], o[i])
			}
		}
	}
}
