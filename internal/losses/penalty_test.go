package losses

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/nn"
	"gorgonia.org/gorgonia"
)

// The penalties against values worked out by hand. Two samples,
// batch-last: g₀ = (3, 4, 0), ‖g₀‖ = 5; g₁ = (0, 0.6, 0.8), ‖g₁‖ = 1.
// WGAN-GP, λ = 10: 10·((5 − 1)² + (1 − 1)²)/2 = 80.
// R1, γ = 10: (10/2)·(25 + 1)/2 = 65.
func TestPenaltyHandValues(t *testing.T) {
	gx := []float32{3, 0, 4, 0.6, 0, 0.8} // (3, B=2)
	g := nn.NewGraph(true)
	x, buf := g.Input("gx", 3, 2)
	copy(buf, gx)
	gp, gpStat := GradientPenalty(g, "gp", x, 10)
	r1, r1Stat := R1(g, "r1", x, 10)
	_ = gorgonia.Must(gorgonia.Add(gp, r1))
	m, err := g.Compile()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what      string
		got, want float64
	}{
		{"gradient penalty", gpStat.Loss, 80}, {"its mean norm", gpStat.Mean, 3},
		{"R1", r1Stat.Loss, 65}, {"its mean norm", r1Stat.Mean, 3},
	} {
		if math.Abs(c.got-c.want) > 1e-6*c.want {
			t.Errorf("%s: %.9g, want %.9g", c.what, c.got, c.want)
		}
	}
	// The gradients' factors: WGAN-GP 2λ(‖g‖ − 1)/(‖g‖·B) = 8 and 0;
	// R1 γ/B = 5; and WGAN-GP's 0 where the norm is 0.
	coef := make([]float64, 2)
	if GPValue(gx, 2, 10, coef); math.Abs(coef[0]-8) > 1e-6 || math.Abs(coef[1]) > 1e-6 {
		t.Errorf("gradient penalty factors %v, want [8 0]", coef)
	}
	if R1Value(gx, 2, 10, coef); coef[0] != 5 || coef[1] != 5 {
		t.Errorf("R1 factors %v, want [5 5]", coef)
	}
	if p, _ := GPValue([]float32{0, 0}, 1, 10, coef); p != 10 || coef[0] != 0 {
		t.Errorf("zero gradient: penalty %v, factor %v; want 10, 0", p, coef[0])
	}
}

// The ops' gradients against central differences of their values.
func TestPenaltyGradients(t *testing.T) {
	gx := []float32{0.3, -1.2, 0.4, 0.9, -0.5, 0.05, 1.1, 0.2, -0.7} // (3, B=3)
	for _, pen := range []struct {
		name string
		f    func(v []float32) float64
	}{
		{"gp", func(v []float32) float64 { p, _ := GPValue(v, 3, 10, nil); return p }},
		{"r1", func(v []float32) float64 { p, _ := R1Value(v, 3, 4, nil); return p }},
	} {
		coef := make([]float64, 3)
		if pen.name == "gp" {
			GPValue(gx, 3, 10, coef)
		} else {
			R1Value(gx, 3, 4, coef)
		}
		v := append([]float32(nil), gx...)
		for i := range gx {
			ana := coef[i%3] * float64(gx[i])
			const h = 1e-3
			v[i] = gx[i] + h
			p := pen.f(v)
			v[i] = gx[i] - h
			q := pen.f(v)
			v[i] = gx[i]
			if num := (p - q) / (2 * h); math.Abs(num-ana) > 1e-3*math.Abs(ana)+1e-4 {
				t.Errorf("%s: ∂/∂g[%d]: analytic %.6g, finite difference %.6g", pen.name, i, ana, num)
			}
		}
	}
}
