package train

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
)

// positiveCritic makes every weight and bias of D non-negative and each
// bias at least floor, so that on inputs bounded by 1 every LeakyReLU sees
// a positive pre-activation: D is then affine, C(x) = ⟨v, x⟩ + c, with the
// same input gradient v at every image.
func positiveCritic(m *models.GAN, floor float32) {
	for _, p := range m.D.Params() {
		for i, v := range p.Data() {
			v = float32(math.Abs(float64(v)))
			if len(p.Shape()) == 1 {
				v += floor
			}
			p.Data()[i] = v
		}
	}
}

// criticGradient returns v of an affine D from its outputs alone: v_i =
// (C(s·e_i) − C(0))/s, all in one batch of the scaled unit images and the
// zero image; s = 100 keeps float32's cancellation small. The images are
// non-negative, so positiveCritic's D stays affine on them.
func criticGradient(t *testing.T, m *models.GAN) []float64 {
	t.Helper()
	n := m.C * m.H * m.W
	g := nn.NewGraph(true)
	x, buf := g.Input("x", m.C, m.H, m.W, n+1)
	out := m.D.Forward(g, x, nil)
	for i := 0; i < n; i++ {
		buf[i*(n+1)+i] = 100 // sample i is 100·e_i; sample n is 0
	}
	mach, err := g.Compile()
	if err != nil {
		t.Fatal(err)
	}
	defer mach.Close()
	if err := mach.Run(); err != nil {
		t.Fatal(err)
	}
	c := out.Value().Data().([]float32)
	v := make([]float64, n)
	for i := range v {
		v[i] = (float64(c[i]) - float64(c[n])) / 100
	}
	return v
}

// The penalties of a whole D step against values worked out from D's
// outputs alone, for critics that are affine where the step looks: R1
// on gan's D is (γ/2)·‖v‖², WGAN-GP's λ·(‖v‖ − 1)² whatever ε and the
// fake images are. The reported loss_d adds them to the critic's loss.
func TestPenaltiesOfAffineCritics(t *testing.T) {
	for _, tc := range []struct {
		model string
		shape models.Shape
		edit  func(*config.Config)
		floor float32
		want  func(norm float64) float64
		get   func(l Losses) float64
	}{
		{"gan", models.Shape{Latent: 8, C: 1, H: 28, W: 28}, func(c *config.Config) { c.Train.R1 = 3 }, 0,
			func(n float64) float64 { return 3.0 / 2 * n * n }, func(l Losses) float64 { return l.R1 }},
		{"wgan-gp", models.Shape{Latent: 8, C: 1, H: 28, W: 28, Width: 4}, func(c *config.Config) {}, 1,
			func(n float64) float64 { return 10 * (n - 1) * (n - 1) }, func(l Losses) float64 { return l.GP }},
	} {
		t.Run(tc.model, func(t *testing.T) {
			cfg := config.Default()
			cfg.Model, cfg.Train.BatchSize = tc.model, 4
			tc.edit(&cfg)
			m, err := models.Build(tc.model, tc.shape, rng.New(3, 1))
			if err != nil {
				t.Fatal(err)
			}
			positiveCritic(m, tc.floor)
			v := criticGradient(t, m)
			var sq float64
			for _, x := range v {
				sq += x * x
			}
			want := tc.want(math.Sqrt(sq))
			tr, err := NewTrainer(cfg, m, rng.New(4, 1))
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			r := rng.New(5, 1)
			for i := range tr.Real {
				tr.Real[i] = float32(r.Float64()) // in [0, 1): the critic stays affine
			}
			r.FillNormal(tr.z, 0, 1)
			tr.drawEps()
			if err := tr.dm.Run(); err != nil {
				t.Fatal(err)
			}
			l := tr.Last()
			if got := tc.get(l); math.Abs(got-want) > 1e-4*want {
				t.Errorf("penalty %.8g, from D's outputs %.8g", got, want)
			}
			if d := l.LossD - (l.LossDR + l.LossDF + l.GP + l.R1); math.Abs(d) > 1e-9 {
				t.Errorf("loss_d %v is not the losses %v + %v plus the penalties %v + %v", l.LossD, l.LossDR, l.LossDF, l.GP, l.R1)
			}
			t.Logf("‖v‖ = %.6g, penalty %.6g", math.Sqrt(sq), want)
		})
	}
}
