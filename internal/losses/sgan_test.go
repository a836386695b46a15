package losses

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/nn"
)

// Hand-computed values of the semi-supervised GAN's losses, one sample
// (B = 1) each. With L = LSE(l): real −log D = softplus(−L), fake
// −log(1 − D) = softplus(L), D = σ(L); the gradient is (σ(L) − t)·softmax.
func TestSGANLossesHandComputed(t *testing.T) {
	ln2, ln10 := math.Ln2, math.Log(10)
	cases := []struct {
		name   string
		logits []float32
		// L, the losses on real (t = 1) and fake (t = 0), D
		lse, real, fake, d float64
		softmax            []float64
	}{
		// Z = 10: D = 10/11, −log D = log 1.1, −log(1 − D) = log 11.
		{"ten zeros", make([]float32, 10), ln10, math.Log(1.1), math.Log(11), 10.0 / 11, []float64{.1, .1, .1, .1, .1, .1, .1, .1, .1, .1}},
		// exp l = (2, 3, 5): Z = 10 again, softmax (0.2, 0.3, 0.5).
		{"ln 2, ln 3, ln 5", []float32{float32(ln2), float32(math.Log(3)), float32(math.Log(5))}, ln10, math.Log(1.1), math.Log(11), 10.0 / 11, []float64{.2, .3, .5}},
		// Z = e^−30: D ≈ e^−30, −log D = 30 + log(1 + e^−30).
		{"one logit −30", []float32{-30}, -30, 30 + math.Log1p(math.Exp(-30)), math.Log1p(math.Exp(-30)), 1 / (1 + math.Exp(30)), []float64{1}},
		// Logits of ±1000: exp overflows (or underflows) in any naive form.
		{"1000, 1000", []float32{1000, 1000}, 1000 + ln2, 0, 1000 + ln2, 1, []float64{.5, .5}},
		{"−1000, −1000", []float32{-1000, -1000}, -1000 + ln2, 1000 - ln2, 0, 0, []float64{.5, .5}},
		{"1000, −1000", []float32{1000, -1000}, 1000, 0, 1000, 1, []float64{1, 0}},
		{"−1000, 1000, 0", []float32{-1000, 1000, 0}, 1000, 0, 1000, 1, []float64{0, 1, 0}},
	}
	for _, c := range cases {
		k := len(c.logits)
		p := make([]float64, k)
		if got := LSE(c.logits, k, 1, 0, p); !near(got, c.lse, 1e-7) {
			t.Errorf("%s: LSE %.12g, want %.12g", c.name, got, c.lse)
		}
		for i := range p {
			if !near(p[i], c.softmax[i], 1e-7) {
				t.Errorf("%s: softmax[%d] %.9g, want %.9g", c.name, i, p[i], c.softmax[i])
			}
		}
		for _, tc := range []struct {
			target, want float64
		}{{1, c.real}, {0, c.fake}} {
			dx := make([]float32, k)
			loss, d := SGANBCE(c.logits, k, tc.target, 1, dx)
			if !near(loss, tc.want, 1e-7) || !near(d, c.d, 1e-7) {
				t.Errorf("%s, target %g: loss %.12g, D %.9g; want %.12g, %.9g", c.name, tc.target, loss, d, tc.want, c.d)
			}
			for i := range dx {
				want := (c.d - tc.target) * c.softmax[i]
				if !near(float64(dx[i]), want, 1e-6) || math.IsNaN(float64(dx[i])) {
					t.Errorf("%s, target %g: grad[%d] %.9g, want %.9g", c.name, tc.target, i, dx[i], want)
				}
			}
		}
	}
}

// The loss ops in a graph: batch means, the gradient scaled by 1/B, the
// feature-major layout (K, B), and the same values as SGANBCE.
func TestSGANOp(t *testing.T) {
	// K = 2, B = 3: columns (0, 0), (1000, 1000), (ln 3, 0).
	x := []float32{0, 1000, float32(math.Log(3)), 0, 1000, 0}
	for _, target := range []float64{0, 1} {
		p := nn.NewParam("x", 2, 3)
		copy(p.Data(), x)
		g := nn.NewGraph(true, p)
		cost, st := SGAN(g, "loss", g.Param(p), target)
		g.Backward(cost)
		m, err := g.Compile()
		if err != nil {
			t.Fatal(err)
		}
		if err := m.Run(); err != nil {
			t.Fatal(err)
		}
		grads, _ := m.Grads()
		// Column by column: L = ln 2, 1000 + ln 2, ln 4.
		lse := []float64{math.Ln2, 1000 + math.Ln2, math.Log(4)}
		soft := [][2]float64{{.5, .5}, {.5, .5}, {.75, .25}}
		var want, wantD float64
		for j, l := range lse {
			sp := math.Log1p(math.Exp(-math.Abs(l))) + math.Max(l, 0) // softplus(L)
			if target == 1 {
				sp -= l
			}
			want += sp / 3
			dj := 1 / (1 + math.Exp(-l))
			wantD += dj / 3
			for c := 0; c < 2; c++ {
				if gv := float64(grads[0][c*3+j]); !near(gv, (dj-target)*soft[j][c]/3, 1e-6) {
					t.Errorf("target %g: grad[%d, %d] = %.9g, want %.9g", target, c, j, gv, (dj-target)*soft[j][c]/3)
				}
			}
		}
		if got := float64(cost.Value().Data().(float32)); !near(got, want, 1e-6) || !near(st.Loss, want, 1e-8) || !near(st.Mean, wantD, 1e-8) {
			t.Errorf("target %g: loss %.9g (stat %.12g), D %.9g; want %.12g, %.9g", target, got, st.Loss, st.Mean, want, wantD)
		}
		m.Close()
	}
}

// ‖mean a − mean b‖² by hand: F = 2, B = 2, a = [[1, 3], [0, 0]],
// b = [[0, 0], [1, 1]]: means (2, 0) and (0, 1), distance 4 + 1 = 5;
// ∂/∂a = 2(μa − μb)/B = (2, −1) per row, ∂/∂b its negative.
func TestFeatureDistanceHandComputed(t *testing.T) {
	a := []float32{1, 3, 0, 0}
	b := []float32{0, 0, 1, 1}
	da, db := make([]float32, 4), make([]float32, 4)
	if got := FeatureDistance(a, b, 2, 1, da, db); got != 5 {
		t.Errorf("distance %v, want 5", got)
	}
	wantA := []float32{2, 2, -1, -1}
	for i := range da {
		if da[i] != wantA[i] || db[i] != -wantA[i] {
			t.Errorf("grad[%d]: a %v, b %v; want %v, %v", i, da[i], db[i], wantA[i], -wantA[i])
		}
	}
	// In a graph, differentiating the fake side only (G's features).
	pa, pb := nn.NewParam("a", 2, 2), nn.NewParam("b", 2, 2)
	copy(pa.Data(), a)
	copy(pb.Data(), b)
	g := nn.NewGraph(true, pb)
	cost, st := FeatureMatching(g, g.Param(pa), g.Param(pb))
	g.Backward(cost)
	m, err := g.Compile()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	grads, _ := m.Grads()
	if st.Loss != 5 || len(grads) != 1 {
		t.Fatalf("loss %v, %d gradients", st.Loss, len(grads))
	}
	for i, v := range grads[0] {
		if v != -wantA[i] {
			t.Errorf("graph grad[%d] %v, want %v", i, v, -wantA[i])
		}
	}
}
