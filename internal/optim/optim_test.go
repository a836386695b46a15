package optim

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
)

// adamRef is the textbook Adam of Kingma & Ba (2015), Algorithm 1, in float64.
func adamRef(p, m, v []float64, g []float64, t int, lr, b1, b2, eps float64) {
	for i := range p {
		m[i] = b1*m[i] + (1-b1)*g[i]
		v[i] = b2*v[i] + (1-b2)*g[i]*g[i]
		mh := m[i] / (1 - math.Pow(b1, float64(t)))
		vh := v[i] / (1 - math.Pow(b2, float64(t)))
		p[i] -= lr * mh / (math.Sqrt(vh) + eps)
	}
}

func TestAdamMatchesTextbook(t *testing.T) {
	a, err := New(config.OptimSpec{Name: "adam", LR: 0.01, Betas: []float64{0.5, 0.999}, Eps: 1e-8})
	if err != nil {
		t.Fatal(err)
	}
	p := []float32{1, -2, 0.5}
	ref := []float64{1, -2, 0.5}
	m, v := make([]float64, 3), make([]float64, 3)
	gradSeq := [][]float64{{0.1, -0.3, 0}, {0.2, 0.1, -1e-3}, {-0.5, 0.25, 2}, {0.05, 0.05, 0.05}}
	for step, gs := range gradSeq {
		g := []float32{float32(gs[0]), float32(gs[1]), float32(gs[2])}
		if err := a.Step([][]float32{p}, [][]float32{g}); err != nil {
			t.Fatal(err)
		}
		adamRef(ref, m, v, gs, step+1, 0.01, 0.5, 0.999, 1e-8)
		for i := range p {
			if math.Abs(float64(p[i])-ref[i]) > 1e-6 {
				t.Fatalf("step %d: p[%d] = %.8g, textbook %.8g", step+1, i, p[i], ref[i])
			}
			if g[i] != 0 {
				t.Fatalf("step %d: gradient not zeroed", step+1)
			}
		}
	}
	// The first Adam step moves each weight by lr·sign(g) (for |g| ≫ ε).
	b, _ := New(config.OptimSpec{Name: "adam", LR: 0.1, Betas: []float64{0.9, 0.999}, Eps: 1e-8})
	q := []float32{1, -2}
	_ = b.Step([][]float32{q}, [][]float32{{0.1, -0.3}})
	if math.Abs(float64(q[0])-0.9) > 1e-6 || math.Abs(float64(q[1])+1.9) > 1e-6 {
		t.Fatalf("first step gave %v, want [0.9 -1.9]", q)
	}
}

func TestRMSPropHandComputed(t *testing.T) {
	r, err := New(config.OptimSpec{Name: "rmsprop", LR: 5e-5, Alpha: 0.99, Eps: 1e-8})
	if err != nil {
		t.Fatal(err)
	}
	p := []float32{0.01, -0.01}
	g := []float32{2, -0.5}
	if err := r.Step([][]float32{p}, [][]float32{g}); err != nil {
		t.Fatal(err)
	}
	// s = 0.01·g², √s = 0.1·|g|, so each weight moves by 10·lr·sign(g).
	want := []float64{0.01 - 5e-4, -0.01 + 5e-4}
	for i := range p {
		if math.Abs(float64(p[i])-want[i]) > 1e-8 {
			t.Fatalf("p = %v, want %v", p, want)
		}
	}
	// Second step, g = (1, 1): s = 0.99·0.01·g₁² + 0.01·1.
	_ = r.Step([][]float32{p}, [][]float32{{1, 1}})
	s0 := 0.99*0.04 + 0.01
	s1 := 0.99*0.0025 + 0.01
	want[0] -= 5e-5 / (math.Sqrt(s0) + 1e-8)
	want[1] -= 5e-5 / (math.Sqrt(s1) + 1e-8)
	for i := range p {
		if math.Abs(float64(p[i])-want[i]) > 1e-7 {
			t.Fatalf("second step p = %v, want %v", p, want)
		}
	}
}

// Saving state after k steps and restoring into a fresh optimiser continues
// bit for bit.
func TestStateRoundTrip(t *testing.T) {
	for _, spec := range []config.OptimSpec{
		{Name: "adam", LR: 2e-4, Betas: []float64{0.5, 0.999}, Eps: 1e-8},
		{Name: "rmsprop", LR: 5e-5, Alpha: 0.99, Eps: 1e-8},
	} {
		grad := func(k int) [][]float32 {
			return [][]float32{{float32(k) * 0.1, -0.2}, {float32(k%3) - 1}}
		}
		a, _ := New(spec)
		pa := [][]float32{{1, 2}, {3}}
		for k := 0; k < 6; k++ {
			_ = a.Step(pa, grad(k))
		}
		b, _ := New(spec)
		pb := [][]float32{{1, 2}, {3}}
		for k := 0; k < 3; k++ {
			_ = b.Step(pb, grad(k))
		}
		step, bufs := b.State()
		copied := map[string][]float32{}
		for k, v := range bufs {
			copied[k] = append([]float32(nil), v...)
		}
		c, _ := New(spec)
		if err := c.SetState(step, copied); err != nil {
			t.Fatal(err)
		}
		for k := 3; k < 6; k++ {
			_ = c.Step(pb, grad(k))
		}
		for i := range pa {
			for j := range pa[i] {
				if pa[i][j] != pb[i][j] {
					t.Fatalf("%s: resumed %v, uninterrupted %v", spec.Name, pb, pa)
				}
			}
		}
	}
}

func TestShapeMismatch(t *testing.T) {
	a, _ := New(config.OptimSpec{Name: "adam", LR: 1e-3, Betas: []float64{0.9, 0.999}, Eps: 1e-8})
	if err := a.Step([][]float32{{1, 2}}, [][]float32{{1}}); err == nil {
		t.Fatal("mismatched gradient accepted")
	}
	if _, err := New(config.OptimSpec{Name: "sgd"}); err == nil {
		t.Fatal("unknown optimiser accepted")
	}
}
