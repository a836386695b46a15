package train

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/losses"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/parallel"
	"github.com/gantrain/gantrain/internal/rng"
)

// A whole-model gradient check for every model: the gradients gorgonia
// assembles from the layers' ops (with D's weights shared by the real and
// the fake pass, G's gradient flowing through D, and for cgan the label
// embeddings, products and concatenation) against central differences of
// the loss, coordinate by coordinate and along each parameter's gradient.
func TestModelGradientsMatchFiniteDifferences(t *testing.T) {
	if testing.Short() {
		t.Skip("hundreds of forward passes; run without -short")
	}
	for _, name := range []string{"gan", "dcgan", "wgan", "cgan", "sgan"} {
		t.Run(name, func(t *testing.T) { gradientCheck(t, name, models.MNIST(100)) })
	}
	// The semi-supervised GAN's other losses: G's non-saturating loss
	// through the log-sum-exp, and D alone on the labelled batch.
	t.Run("sgan-non-saturating", func(t *testing.T) {
		gradientCheck(t, "sgan", models.MNIST(100), func(c *config.Config) { c.SGAN.GLoss = "non_saturating" })
	})
	t.Run("sgan-supervised-only", func(t *testing.T) {
		gradientCheck(t, "sgan", models.MNIST(100), func(c *config.Config) { c.Train.SupervisedOnly = true })
	})
	// The losses of the config key loss on the DCGAN networks.
	for _, loss := range []string{"hinge", "lsgan"} {
		t.Run("dcgan-"+loss, func(t *testing.T) {
			gradientCheck(t, "dcgan", models.MNIST(100), func(c *config.Config) { c.Loss = loss })
		})
	}
	// Spectral normalisation of D: every weight matrix read as W/σ.
	sn := models.MNIST(100)
	sn.SpectralNorm = true
	t.Run("dcgan-spectral-norm", func(t *testing.T) { gradientCheck(t, "dcgan", sn) })
	t.Run("cgan-spectral-norm-hinge", func(t *testing.T) {
		gradientCheck(t, "cgan", sn, func(c *config.Config) { c.Loss = "hinge" })
	})
	t.Run("gan-spectral-norm", func(t *testing.T) { gradientCheck(t, "gan", sn) })
	// The minibatch standard-deviation layer in D, in both layouts.
	mb := models.MNIST(100)
	mb.MinibatchStd = true
	t.Run("dcgan-minibatch-std", func(t *testing.T) { gradientCheck(t, "dcgan", mb) })
	mb32 := models.Shape{Latent: 100, C: 3, H: 32, W: 32, Classes: 5, Width: 4, MinibatchStd: true}
	t.Run("cgan-minibatch-std-32px-rgb", func(t *testing.T) { gradientCheck(t, "cgan", mb32) })
	// DiffAugment before D: G's gradient flows through it in the G
	// graph; fixed parameters, drawn once, for the differences.
	aug := func(c *config.Config) { c.Train.Augment = []string{"color", "translation", "cutout"} }
	t.Run("dcgan-augment", func(t *testing.T) { gradientCheck(t, "dcgan", models.MNIST(100), aug) })
	t.Run("cgan-augment-32px-rgb", func(t *testing.T) {
		gradientCheck(t, "cgan", models.Shape{Latent: 100, C: 3, H: 32, W: 32, Classes: 5, Width: 4}, aug)
	})
	t.Run("cgan-hinge", func(t *testing.T) {
		gradientCheck(t, "cgan", models.MNIST(100), func(c *config.Config) { c.Loss = "hinge" })
	})
	// The gradient penalties: WGAN-GP's on interpolates (its critic
	// without batch norm, at 28 px and in pytorch/examples' layout), R1 on
	// real images; the penalty's weight gradient runs through the
	// critic's written-out input gradient.
	// The penalty jumps where a LeakyReLU unit of the interpolates' pass
	// changes sides (its mask is piecewise constant): a narrow critic has
	// fewer units to cross within a finite difference's step.
	narrow := models.MNIST(100)
	narrow.Width = 8
	t.Run("wgan-gp", func(t *testing.T) { gradientCheck(t, "wgan-gp", narrow) })
	t.Run("wgan-gp-32px-rgb", func(t *testing.T) {
		gradientCheck(t, "wgan-gp", models.Shape{Latent: 100, C: 3, H: 32, W: 32, Width: 4})
	})
	// γ large enough that the penalty's part of the gradient exceeds the
	// tolerance: at γ = 10, on gan's initial D, halving it went unseen.
	t.Run("gan-r1", func(t *testing.T) {
		gradientCheck(t, "gan", models.MNIST(100), func(c *config.Config) { c.Train.R1 = 1000 })
	})
	t.Run("wgan-gp-r1-hinge-augment", func(t *testing.T) {
		gradientCheck(t, "wgan-gp", narrow, aug, func(c *config.Config) { c.Train.R1, c.Loss = 5, "hinge" })
	})
	// pytorch/examples' layout at 32 px RGB (narrow, to keep it quick): the
	// 4×4 projection of z, the stride-2 stack, the 4×4 convolution to one
	// logit, and cgan's 32×32 label plane beside three channels.
	rgb32 := models.Shape{Latent: 100, C: 3, H: 32, W: 32, Classes: 5, Width: 4}
	for _, name := range []string{"gan", "dcgan", "wgan", "cgan", "sgan"} {
		t.Run(name+"-32px-rgb", func(t *testing.T) { gradientCheck(t, name, rgb32) })
	}
}

func gradientCheck(t *testing.T, name string, shape models.Shape, edit ...func(*config.Config)) {
	cfg := config.Default()
	cfg.Model = name
	cfg.Train.BatchSize = 4
	if name == "wgan" || name == "wgan-gp" {
		cfg.Train.NCritic = 5
	}
	for _, e := range edit {
		e(&cfg)
	}
	model, err := models.Build(name, shape, rng.New(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Loss != "" {
		model.Loss = models.LossNames[cfg.Loss] // as models.ForConfig does
	}
	if shape.MinibatchStd {
		// D's weights on the standard-deviation plane start as small as
		// the others, and the plane's gradient is spread over every
		// feature of the batch: make it weigh, so that the check sees it.
		ps := model.D.Params()
		w := ps[len(ps)-1]
		if w.Name == "d.fc.bias" {
			w = ps[len(ps)-2]
		}
		d, k := w.Data(), w.Shape()
		per := len(d) / k[0] // inputs per output
		plane := 16          // one 4×4 channel (pytorch/examples' layout)
		if len(k) == 2 {
			plane = 49 // a 7×7 plane of d.fc's inputs (28 px)
		}
		for o := 0; o < k[0]; o++ {
			for j := per - plane; j < per; j++ {
				d[o*per+j] = 0.2
			}
		}
	}
	if model.GP {
		// The penalty jumps where a LeakyReLU unit of the critic changes
		// sides (its slope, a factor of the input gradient, is piecewise
		// constant). At DCGAN's initial scale (0.02) the pre-activations
		// crowd around the biases, and a difference's step moves dozens
		// of them across 0; ten times larger weights spread them out.
		for _, p := range model.D.Params() {
			if len(p.Shape()) > 1 {
				for i := range p.Data() {
					p.Data()[i] *= 10
				}
			}
		}
	}
	tr, err := NewTrainer(cfg, model, rng.New(4, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	tr.drawAugment(tr.augReal, tr.augFake, tr.augG)
	r := rng.New(5, 1)
	r.FillNormal(tr.Real, 0, 0.5)
	r.FillNormal(tr.z, 0, 1)
	for i := range tr.fakeLabels {
		tr.fakeLabels[i] = float32(r.IntN(model.Classes))
		tr.RealLabels[i] = float32(r.IntN(model.Classes))
	}
	for i := range tr.eps { // wgan-gp's interpolation weights
		tr.eps[i] = float32(r.Float64())
	}
	sgan := model.Loss == models.SemiSupervised
	if sgan {
		r.FillNormal(tr.Labeled, 0, 0.5)
		for i := range tr.LabeledLabels {
			tr.LabeledLabels[i] = float32(r.IntN(model.Classes))
		}
	}

	if len(model.SN) > 0 {
		// Each D run is a power iteration that moves u; converged, a
		// small change of W moves σ only to second order through u (σ is
		// stationary at the top singular vectors), so the loss is a
		// fixed function of the weights for the differences below.
		for i := 0; i < 60; i++ {
			if err := tr.dm.Run(); err != nil {
				t.Fatal(err)
			}
		}
		for _, g := range mustGrads(t, tr.dm) {
			clear(g)
		}
	}
	// The sgan's noise layers draw at every run: each run of the check
	// starts from the same noise state, so the loss is a function of the
	// weights alone.
	noiseState, err := tr.Noise.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	run := func(m *nn.Machine) error {
		if err := tr.Noise.UnmarshalBinary(noiseState); err != nil {
			return err
		}
		return m.Run()
	}
	check := func(part string, m *nn.Machine, loss func() float64) {
		if err := run(m); err != nil {
			t.Fatal(err)
		}
		grads, err := m.Grads()
		if err != nil {
			t.Fatal(err)
		}
		if part == "D" {
			// Exact: BCE: ∂L/∂(fc bias) = Σ(σ(real) − 1)/B + Σσ(fake)/B;
			// Wasserstein: −1 + 1 = 0. LSGAN: Σ(D(x) − 1)/B + ΣD(G(z))/B,
			// the BCE formula with raw outputs as the means.
			// Hinge: not from the means; not checked here.
			// sgan: the K biases' gradients sum to the same: the
			// cross-entropy's softmax − onehot sums to 0 over the
			// classes, the unsupervised terms' (σ(LSE) − t)·softmax to
			// σ(LSE) − t.
			want := (tr.dReal.Mean - 1) + tr.dFake.Mean
			if model.Loss == models.Wasserstein || tr.supervisedOnly {
				want = 0
			}
			for i, p := range m.Params() {
				if model.Loss == models.Hinge {
					break
				}
				if (p.Name == "d.fc.bias" || p.Name == "d.fc4.bias") && !sgan || p.Name == "d.fc6.bias" && sgan {
					var sum float64
					for _, v := range grads[i] {
						sum += float64(v)
					}
					if math.Abs(sum-want) > 1e-6 {
						t.Errorf("%s gradient %.8g, want %.8g", p.Name, sum, want)
					}
				}
			}
		}
		ana := make([][]float32, len(grads))
		for i := range grads {
			ana[i] = append([]float32(nil), grads[i]...)
			clear(grads[i])
		}
		checked, kinks, fine := 0, 0, 0
		pick := rng.New(6, 1)
		eval := func() float64 {
			if err := run(m); err != nil {
				t.Fatal(err)
			}
			return loss()
		}
		// diff returns the central difference of the loss at d + s·u for
		// s = ±h; whether a ReLU/LeakyReLU kink lies within ±h: one-sided
		// slopes that disagree (no derivative there); and the difference's
		// resolution: the loss is a float32, so a few of its ulps over 2h.
		diff := func(d, u []float32, h float32) (num float64, kink bool, res float64) {
			old := append([]float32(nil), d...)
			move := func(s float32) float64 {
				for i := range d {
					d[i] = old[i] + s*u[i]
				}
				return eval()
			}
			l0 := eval()
			lp, lm := move(h), move(-h)
			copy(d, old)
			hh := float64(h)
			fwd, bwd := (lp-l0)/hh, (l0-lm)/hh
			num = (lp - lm) / (2 * hh)
			res = 4 * math.Max(math.Abs(l0), 1e-3) * 0x1p-23 / (2 * hh)
			return num, math.Abs(fwd-bwd) > 0.04*math.Abs(num)+4e-4+2*res, res
		}
		// Kinks further down the network still bend the loss a little
		// inside ±h; a wiring bug (a lost or doubled path) is off by far
		// more than 10%, at every step size.
		agree := func(num, a, res float64) bool { return math.Abs(num-a) <= 0.1*math.Abs(a)+3e-4+res }
		// Where many kinks lie close together (a first-layer bias moves
		// every pixel), a step of 2e-3 averages over them: retry with
		// steps a third as long, whose resolution the tolerance includes.
		test := func(what string, d, u []float32, a float64) {
			num, kink, res := diff(d, u, 2e-3)
			if kink || !agree(num, a, res) {
				fine++
				num, kink, res = diff(d, u, 6e-4)
			}
			// LSGAN's D loss bends more between kinks, and the gradient
			// penalties' more still (they are quadratic in the weights,
			// whose curvature the kink test mistakes for a kink at the
			// longer steps): a third step, a third as long again.
			if kink || !agree(num, a, res) {
				num, kink, res = diff(d, u, 2e-4)
			}
			if kink {
				kinks++
				return
			}
			checked++
			if !agree(num, a, res) {
				t.Errorf("%s: %s: analytic %.6g, finite difference %.6g", part, what, a, num)
			}
		}
		for pi, p := range m.Params() {
			d := p.Data()
			// Along the gradient: the slope must be |∇|, which sums every
			// coordinate's error, so even tiny gradients are checked.
			u := make([]float32, len(d))
			var norm float64
			for _, v := range ana[pi] {
				norm += float64(v) * float64(v)
			}
			norm = math.Sqrt(norm)
			if norm > 0 {
				for j, v := range ana[pi] {
					u[j] = float32(float64(v) / norm)
				}
				test(p.Name+" along its gradient", d, u, norm)
			}
			// Single coordinates, half of them where a gradient flows
			// (used embedding rows, …).
			var nonzero []int
			for j, v := range ana[pi] {
				if v != 0 {
					nonzero = append(nonzero, j)
				}
			}
			for k := 0; k < 6; k++ {
				j := pick.IntN(len(d))
				if k%2 == 0 && len(nonzero) > 0 {
					j = nonzero[pick.IntN(len(nonzero))]
				}
				clear(u)
				u[j] = 1
				test(fmt.Sprintf("%s[%d]", p.Name, j), d, u, float64(ana[pi][j]))
			}
		}
		for _, g := range grads {
			clear(g)
		}
		if kinks > checked/3 {
			t.Errorf("%s: %d checks skipped at kinks, only %d made", part, kinks, checked)
		}
		t.Logf("%s: %d checks (%d with the finer step), %d skipped at kinks", part, checked, fine, kinks)
	}
	if sgan {
		check("D", tr.dm, func() float64 { return tr.sup.Loss + tr.dReal.Loss + tr.dFake.Loss })
		if !tr.supervisedOnly {
			check("G", tr.gm, func() float64 { return tr.gFake.Loss })
		}
		return
	}
	check("D", tr.dm, func() float64 { return tr.dReal.Loss + tr.dFake.Loss + penalties(tr) })
	check("G", tr.gm, func() float64 { return tr.gFake.Loss })
}

// penalties returns the values of the gradient penalties in the last D
// run (0 without them).
func penalties(tr *Trainer) float64 {
	var p float64
	for _, s := range []*losses.Stat{tr.gp, tr.r1} {
		if s != nil {
			p += s.Loss
		}
	}
	return p
}

func mustGrads(t *testing.T, m *nn.Machine) [][]float32 {
	t.Helper()
	g, err := m.Grads()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// WGAN: after every critic step every critic weight — not the gradient —
// lies in [−clip, clip], and the generator is untouched.
func TestWeightClamp(t *testing.T) {
	cfg := config.Default()
	cfg.Model, cfg.Train.BatchSize, cfg.Train.NCritic = "wgan", 8, 5
	cfg.Optim.D = config.OptimSpec{Name: "rmsprop", LR: 5e-5, Alpha: 0.99, Eps: 1e-8}
	cfg.Optim.G = cfg.Optim.D
	model, err := models.New("wgan", cfg.LatentDim, rng.New(3, 1))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(cfg, model, rng.New(4, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	rng.New(5, 1).FillNormal(tr.Real, 0, 0.5)
	before := map[string][]float32{}
	outside := 0
	for _, p := range model.G.Params() {
		before[p.Name] = append([]float32(nil), p.Data()...)
	}
	for _, p := range model.D.Params() {
		for _, v := range p.Data() {
			if v > 0.01 || v < -0.01 {
				outside++
			}
		}
	}
	if outside == 0 {
		t.Fatal("initial critic weights already inside the clip range: the test proves nothing")
	}
	if err := tr.runD(); err != nil {
		t.Fatal(err)
	}
	tr.clipD()
	for _, p := range model.D.Params() {
		for i, v := range p.Data() {
			if v > 0.01 || v < -0.01 {
				t.Fatalf("%s[%d] = %v after a critic step", p.Name, i, v)
			}
		}
	}
	for _, p := range model.G.Params() {
		for i, v := range p.Data() {
			if v != before[p.Name][i] {
				t.Fatalf("critic step changed generator weight %s[%d]", p.Name, i)
			}
		}
	}
	// A full iteration: five critic steps and a generator step.
	if err := tr.Step(func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, p := range model.D.Params() {
		for i, v := range p.Data() {
			if v > 0.01 || v < -0.01 {
				t.Fatalf("%s[%d] = %v after an iteration", p.Name, i, v)
			}
		}
	}
	if l := tr.Last(); l.EarthMover != l.DReal-l.DFake || l.LossD != -l.EarthMover {
		t.Errorf("earth mover %v, loss_d %v, C(real) %v, C(fake) %v", l.EarthMover, l.LossD, l.DReal, l.DFake)
	}
}

// The speed work (fused ops, shared im2col) must not change results: the
// same seed gives the same losses and weights as the straightforward path.
func TestFastPathMatchesPlainPath(t *testing.T) {
	for _, name := range []string{"dcgan", "cgan", "wgan", "sgan"} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Model, cfg.Train.BatchSize = name, 16
			if name == "wgan" {
				cfg.Train.NCritic = 2
			}
			run := func(opts ...Option) ([]Losses, *models.GAN) {
				model, err := models.New(name, cfg.LatentDim, rng.New(3, 1))
				if err != nil {
					t.Fatal(err)
				}
				tr, err := NewTrainer(cfg, model, rng.New(4, 1), opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				next := syntheticBatches(tr, cfg.Train.BatchSize)
				var out []Losses
				for i := 0; i < 5; i++ {
					if err := tr.Step(next); err != nil {
						t.Fatal(err)
					}
					out = append(out, tr.Last())
				}
				return out, model
			}
			fast, mf := run()
			plain, mp := run(Plain())
			for i := range fast {
				a, b := fast[i], plain[i]
				for _, pair := range [][2]float64{{a.LossD, b.LossD}, {a.LossG, b.LossG}, {a.DReal, b.DReal}, {a.DFake, b.DFake}} {
					if math.Abs(pair[0]-pair[1]) > 1e-5*(1+math.Abs(pair[1])) {
						t.Fatalf("step %d: fast %+v, plain %+v", i+1, a, b)
					}
				}
			}
			pp := mp.Params()
			for i, p := range mf.Params() {
				for j, v := range p.Data() {
					if w := pp[i].Data()[j]; math.Abs(float64(v-w)) > 1e-5*(1+math.Abs(float64(w))) {
						t.Fatalf("%s[%d]: fast %v, plain %v", p.Name, j, v, w)
					}
				}
			}
		})
	}
}

// A weight that became NaN stops the step with an error that names the
// loss it spoiled; the run's error adds the step and the advice.
func TestNaNStopsTheStep(t *testing.T) {
	cfg := config.Default()
	cfg.Train.BatchSize = 8
	model, _ := models.New("dcgan", cfg.LatentDim, rng.New(3, 1))
	tr, err := NewTrainer(cfg, model, rng.New(4, 1))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for _, p := range model.D.Params() {
		if p.Name == "d.fc.bias" {
			p.Data()[0] = float32(math.NaN())
		}
	}
	err = tr.Step(func() error { return nil })
	if err == nil || !strings.Contains(err.Error(), "D loss on") || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("step error %v: want one naming the D loss and NaN", err)
	}
	msg := stepError(57, err, "runs/x/checkpoints/step-000050").Error()
	for _, want := range []string{"step 57", "NaN", "runs/x/checkpoints/step-000050", "lower learning rate"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
	if err := Finite(model.Params()); err == nil || !strings.Contains(err.Error(), "d.fc.bias[0] (discriminator)") {
		t.Errorf("Finite: %v", err)
	}
}

// Training results do not depend on the number of threads: every loop
// split across goroutines either writes disjoint outputs or reduces in an
// order fixed by the shapes alone. One and two threads end with the same
// weights and batch-norm statistics, bit for bit, so a run resumes exactly
// on a machine with another core count.
func TestThreadCountDoesNotChangeResults(t *testing.T) {
	if testing.Short() {
		t.Skip("six short training runs; run without -short")
	}
	if strings.HasPrefix(blas.Name(), "OpenBLAS") {
		t.Skip("OpenBLAS's results depend on the thread count; there a resume on another count warns (TestThreadWarning)")
	}
	defer parallel.SetThreads(parallel.Threads())
	for _, name := range []string{"dcgan", "cgan", "gan", "sgan"} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Model, cfg.Train.BatchSize = name, 32
			run := func(threads int) *models.GAN {
				parallel.SetThreads(threads)
				model, err := models.New(name, cfg.LatentDim, rng.New(3, 1))
				if err != nil {
					t.Fatal(err)
				}
				tr, err := NewTrainer(cfg, model, rng.New(4, 1))
				if err != nil {
					t.Fatal(err)
				}
				defer tr.Close()
				next := syntheticBatches(tr, cfg.Train.BatchSize)
				for i := 0; i < 2; i++ {
					if err := tr.Step(next); err != nil {
						t.Fatal(err)
					}
				}
				return model
			}
			one, two := run(1), run(2)
			differ := 0
			for i, p := range one.Params() {
				q := two.Params()[i]
				for j, v := range p.Data() {
					if math.Float32bits(v) != math.Float32bits(q.Data()[j]) {
						if differ < 5 {
							t.Errorf("%s[%d]: %v with 1 thread, %v with 2", p.Name, j, v, q.Data()[j])
						}
						differ++
					}
				}
			}
			bs := two.Buffers()
			for i, b := range one.Buffers() {
				for j, v := range b.Data {
					if math.Float32bits(v) != math.Float32bits(bs[i].Data[j]) {
						if differ < 5 {
							t.Errorf("%s[%d]: %v with 1 thread, %v with 2", b.Name, j, v, bs[i].Data[j])
						}
						differ++
					}
				}
			}
			if differ > 0 {
				t.Errorf("%d values differ", differ)
			}
		})
	}
}

// syntheticBatches returns a batch source for tr: images N(0, 0.5²) and
// labels 0–9, drawn from a fixed seed, so that runs compare bit for bit.
func syntheticBatches(tr *Trainer, batch int) func() error {
	data := rng.New(5, 1)
	imgs := make([]float32, len(tr.Real))
	labels := make([]int, batch)
	return func() error {
		data.FillNormal(imgs, 0, 0.5)
		for i := range labels {
			labels[i] = data.IntN(10)
		}
		tr.SetBatch(imgs, labels)
		if tr.Labeled != nil { // sgan: another batch, labelled
			data.FillNormal(imgs, 0, 0.5)
			tr.SetLabeledBatch(imgs, labels)
		}
		return nil
	}
}
