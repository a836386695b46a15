// Package train runs GAN training: the graphs and optimisers of one step
// (Trainer) and the loop around it with logging, samples and checkpoints
// (Run).
package train

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/losses"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/optim"
	"github.com/gantrain/gantrain/internal/rng"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Trainer owns the two training graphs of a model. Both read the same
// parameter tensors, so an optimiser step on one is seen by the other.
//
// With n_critic = 1 (DCGAN, CGAN, GAN) one fake batch serves both steps, as
// in PyTorch's DCGAN example, and the generator runs once per iteration:
//
//	G graph: z → G → fake → [D step] → D (weights fixed) → loss_G → ∂/∂θ_G
//	D graph: real, fake (an input) → D → loss_D → ∂/∂θ_D
//
// where [D step] is an op that hands the fake batch to the D graph, runs it
// and updates D before the G graph continues (its gradient is the identity).
//
// With n_critic > 1 (WGAN) every critic step draws fresh noise, so the D
// graph has its own generator pass (no gradient), and the G step draws
// fresh noise too:
//
//	D graph: z → G → fake;  real, fake → D → loss_D → ∂/∂θ_D
//	G graph: z → G → D (weights fixed) → loss_G → ∂/∂θ_G
type Trainer struct {
	Model   *models.GAN
	Batch   int
	NCritic int

	dm, gm     *nn.Machine
	OptD, OptG optim.Optimizer
	clip       float32 // WGAN weight clip, 0 for none

	// Input buffers, filled before each run (SetBatch).
	Real       []float32 // (C, H, W, B): the real batch
	RealLabels []float32 // (B)
	z          []float32 // (Z, B), shared by both graphs
	fakeLabels []float32 // (B), shared by both graphs
	fake       []float32 // (C, H, W, B): the D graph's fake input (shared mode)

	// What the loss ops saw in the last runs.
	dReal, dFake, gFake *losses.Stat

	Noise *rng.RNG
	// Time spent in D steps and G steps (excluding the D step) so far.
	TimeD, TimeG time.Duration
	nextBatch    func() error
	// inner is what the D-step op does (tests replace it to hold D fixed).
	inner    func() error
	innerErr error // the D step's error, when the G graph failed because of it
	plain    bool
}

// Option changes how a Trainer is built.
type Option func(*options)

type options struct{ plain bool }

// Plain builds the straightforward path the speed work must agree with:
// unfused ops (nn.Graph.SetPlain) and, with n_critic = 1, a D graph with
// its own generator pass instead of the shared one (the G graph then
// reuses the D step's noise and leaves the batch-norm statistics alone).
func Plain() Option { return func(o *options) { o.plain = true } }

// NewTrainer builds and compiles the graphs for batches of cfg.Train.BatchSize.
func NewTrainer(cfg config.Config, model *models.GAN, noise *rng.RNG, opts ...Option) (*Trainer, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	b := cfg.Train.BatchSize
	t := &Trainer{Model: model, Batch: b, NCritic: cfg.Train.NCritic, Noise: noise, plain: o.plain}
	t.inner = func() error {
		if err := t.nextBatch(); err != nil {
			return err
		}
		return t.runD()
	}
	shared := t.NCritic == 1 && !o.plain
	if model.Loss == models.Wasserstein {
		t.clip = float32(cfg.WGAN.Clip)
	}
	var err error
	if t.OptD, err = optim.New(cfg.Optim.D); err != nil {
		return nil, err
	}
	if t.OptG, err = optim.New(cfg.Optim.G); err != nil {
		return nil, err
	}
	zT := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(model.Latent, b))
	t.z = zT.Data().([]float32)
	var yT *tensor.Dense
	if model.Conditional {
		yT = tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(b))
		t.fakeLabels = yT.Data().([]float32)
	}

	// D graph.
	gd := nn.NewGraph(true, model.D.Params()...)
	gd.SetPlain(o.plain)
	var yFake, yReal *G.Node
	if model.Conditional {
		yFake = gd.InputFrom("fake_labels", yT)
		yReal, t.RealLabels = gd.Input("real_labels", b)
	}
	var x, fake *G.Node
	x, t.Real = gd.Input("real", model.C, model.H, model.W, b)
	if shared {
		fake, t.fake = gd.Input("fake", model.C, model.H, model.W, b)
	} else {
		fake = model.G.Forward(gd, gd.InputFrom("z", zT), yFake)
	}
	outReal := model.D.Forward(gd, x, yReal)
	outFake := model.D.Forward(gd, fake, yFake)
	var lossReal, lossFake *G.Node
	switch model.Loss {
	case models.BCE:
		lossReal, t.dReal = losses.BCE(gd, "D loss on real images", outReal, 1)
		lossFake, t.dFake = losses.BCE(gd, "D loss on fake images", outFake, 0)
	case models.Wasserstein:
		lossReal, t.dReal = losses.Mean(gd, "critic mean on real images", outReal, -1)
		lossFake, t.dFake = losses.Mean(gd, "critic mean on fake images", outFake, +1)
	}
	gd.Backward(losses.Sum(gd, lossReal, lossFake))
	if t.dm, err = gd.Compile(); err != nil {
		return nil, fmt.Errorf("train: D graph: %w", err)
	}

	// G graph.
	gg := nn.NewGraph(true, model.G.Params()...)
	gg.SetPlain(o.plain)
	if o.plain && t.NCritic == 1 {
		// The D graph's generator pass has updated the statistics already.
		gg.FreezeStats(model.G.BatchNorms()...)
	}
	yFake = nil
	if model.Conditional {
		yFake = gg.InputFrom("fake_labels", yT)
	}
	fake = model.G.Forward(gg, gg.InputFrom("z", zT), yFake)
	if shared {
		fake = t.dStepOp(gg, fake)
	}
	outFake = model.D.Forward(gg, fake, yFake)
	var lossG *G.Node
	switch model.Loss {
	case models.BCE:
		lossG, t.gFake = losses.BCE(gg, "G loss", outFake, 1) // non-saturating: −log D(G(z))
	case models.Wasserstein:
		lossG, t.gFake = losses.Mean(gg, "G loss", outFake, -1)
	}
	gg.Backward(lossG)
	if t.gm, err = gg.Compile(); err != nil {
		return nil, fmt.Errorf("train: G graph: %w", err)
	}
	return t, nil
}

// dStepOp passes the fake batch through unchanged; on the way it copies it
// into the D graph's input and performs the D step.
func (t *Trainer) dStepOp(g *nn.Graph, fake *G.Node) *G.Node {
	s := fake.Shape().Clone()
	n, _ := g.Apply(nn.OpSpec{
		Name: "discriminator_step", In: []tensor.Shape{s}, Out: s, DiffWRT: []bool{true},
		Forward: func(v [][]float32, out []float32) error {
			copy(t.fake, v[0])
			if err := t.inner(); err != nil {
				t.innerErr = err
				return err
			}
			copy(out, v[0])
			return nil
		},
		Backward: func(_ []bool, _ G.Nodes, _, dy *G.Node) (G.Nodes, error) {
			return G.Nodes{dy}, nil
		},
	}, fake)
	return n
}

// Close releases the machines.
func (t *Trainer) Close() {
	t.dm.Close()
	t.gm.Close()
}

func (t *Trainer) drawNoise() {
	t.Noise.FillNormal(t.z, 0, 1)
	for i := range t.fakeLabels {
		t.fakeLabels[i] = float32(t.Noise.IntN(t.Model.Classes))
	}
}

// Step runs one training iteration: NCritic discriminator (critic) steps,
// each on a real batch that next loads (with SetBatch), then one generator
// step.
func (t *Trainer) Step(next func() error) error {
	t.nextBatch = next
	if t.NCritic == 1 && !t.plain {
		// One fake batch: the D step runs inside the G graph (dStepOp).
		t.drawNoise()
		start, d0 := time.Now(), t.TimeD
		t.innerErr = nil
		err := t.runG()
		t.TimeG += time.Since(start) - (t.TimeD - d0)
		if t.innerErr != nil {
			return t.innerErr
		}
		return err
	}
	for k := 0; k < t.NCritic; k++ {
		if err := next(); err != nil {
			return err
		}
		t.drawNoise()
		if err := t.runD(); err != nil {
			return err
		}
	}
	start := time.Now()
	if t.NCritic > 1 {
		t.drawNoise() // with n_critic = 1 the G step reuses the D step's noise
	}
	err := t.runG()
	t.TimeG += time.Since(start)
	return err
}

// runG runs the G graph and updates G.
func (t *Trainer) runG() error {
	if err := t.gm.Run(); err != nil {
		return fmt.Errorf("generator step: %w", err)
	}
	if err := step(t.OptG, t.gm); err != nil {
		return fmt.Errorf("generator update: %w", err)
	}
	return nil
}

// runD runs the D graph on the loaded batch and noise and updates D.
func (t *Trainer) runD() error {
	start := time.Now()
	defer func() { t.TimeD += time.Since(start) }()
	if err := t.dm.Run(); err != nil {
		return fmt.Errorf("discriminator step: %w", err)
	}
	if err := step(t.OptD, t.dm); err != nil {
		return fmt.Errorf("discriminator update: %w", err)
	}
	if t.clip > 0 {
		for _, p := range t.Model.D.Params() {
			d := p.Data()
			for i, v := range d {
				d[i] = min(max(v, -t.clip), t.clip)
			}
		}
	}
	return nil
}

// SetBatch loads a real batch given image after image (B, C·H·W), as the
// data set stores it, into the graph's (C, H, W, B) input; labels may be nil
// for unconditional models.
func (t *Trainer) SetBatch(imgs []float32, labels []int) {
	kernels.ToBatchLast(imgs, t.Real, len(t.Real)/t.Batch, t.Batch)
	for i := range t.RealLabels {
		t.RealLabels[i] = float32(labels[i])
	}
}

func step(o optim.Optimizer, m *nn.Machine) error {
	grads, err := m.Grads()
	if err != nil {
		return err
	}
	params := make([][]float32, len(grads))
	for i, p := range m.Params() {
		params[i] = p.Data()
	}
	return o.Step(params, grads)
}

// Losses are the values of the last D and G steps.
type Losses struct {
	LossD, LossG   float64
	DReal, DFake   float64 // BCE: mean D(x) and D(G(z)); WGAN: mean critic values
	EarthMover     float64 // WGAN: mean C(real) − mean C(fake)
	LossDR, LossDF float64
}

// Last reports the values seen by the loss ops in the last steps.
func (t *Trainer) Last() Losses {
	l := Losses{
		LossD:  t.dReal.Loss + t.dFake.Loss,
		LossG:  t.gFake.Loss,
		DReal:  t.dReal.Mean,
		DFake:  t.dFake.Mean,
		LossDR: t.dReal.Loss, LossDF: t.dFake.Loss,
	}
	if t.Model.Loss == models.Wasserstein {
		l.EarthMover = t.dReal.Mean - t.dFake.Mean
	}
	return l
}

// Finite reports the first parameter holding a NaN or an infinity.
func Finite(params []*nn.Param) error {
	for _, p := range params {
		for i, v := range p.Data() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				part := "generator"
				if strings.HasPrefix(p.Name, "d.") {
					part = "discriminator"
				}
				return fmt.Errorf("%s[%d] (%s) is %v", p.Name, i, part, v)
			}
		}
	}
	return nil
}
