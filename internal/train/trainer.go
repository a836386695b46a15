// Package train runs GAN training: the graphs and optimisers of one step
// (Trainer) and the loop around it with logging, samples and checkpoints
// (Run).
package train

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/losses"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/optim"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Trainer owns the two training graphs of a model. Both read the same
// parameter tensors, so an optimiser step on one is seen by the other:
//
//	D graph: z → G → fake (no gradient);  real, fake → D → loss_D → ∂/∂θ_D
//	G graph: z → G → fake → D (weights fixed) → loss_G → ∂/∂θ_G
//
// Step runs one iteration in the order it reads: the D step(s), each with
// its weight clip, then the G step. Neither graph runs the other.
//
// With n_critic = 1 (DCGAN, CGAN, GAN) one fake batch serves both steps, as
// in PyTorch's DCGAN example: the G step reuses the D step's z and labels,
// and G's weights have not changed in between, so the G graph's generator
// pass recomputes bit for bit the batch D was trained on (it then leaves
// G's batch-norm running statistics alone: the D graph's pass counted this
// batch already). With n_critic > 1 (WGAN) every critic step and the G step
// draw fresh noise.
//
// With train.augment (DiffAugment) the images D sees pass through the
// augmentation first: real and fake in the D graph, fake in the G graph,
// whose gradient flows through it to G. Each of the three has its own
// random parameters, drawn from Noise before every run (real, then fake,
// then the G step's), so the checkpointed noise state covers them.
//
// The gradient penalties add to D's loss a function of D's input gradient,
// which a D without batch norm writes out as graph nodes
// (models.InputGradNet): WGAN-GP's λ·mean_b (‖∇D(x̂_b)‖ − 1)² on x̂ =
// ε·x + (1−ε)·G(z), ε ~ U(0, 1) per image drawn from Noise after z (the
// images D sees: augmented, with train.augment), in a third D pass; R1's
// (γ/2)·mean_b ‖∇D(x_b)‖² on the real pass itself.
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
	// sgan: the labelled batch (C, H, W, B) and its labels (B); Real is
	// the unlabelled batch.
	Labeled, LabeledLabels []float32
	supervisedOnly         bool
	z                      []float32 // (Z, B), shared by both graphs
	fakeLabels             []float32 // (B), shared by both graphs

	// What the loss ops saw in the last runs.
	dReal, dFake, gFake *losses.Stat
	sup                 *losses.Stat // sgan: the labelled batch's cross-entropy and accuracy

	// EMA is the moving average of G's weights (train.ema > 0), updated
	// after every G step; nil when off. It shares no tensor with G.
	EMA     models.Net
	emaBeta float32

	// WGAN-GP: the interpolation weights ε (B), drawn before every D run
	// (nil without the penalty), and what the penalty ops saw.
	eps    []float32
	gp, r1 *losses.Stat

	// DiffAugment of D's real and fake inputs in the D step and of the
	// fake ones in the G step; nil without train.augment.
	augReal, augFake, augG *nn.DiffAugment

	Noise *rng.RNG
	bf16  bool // train.precision: bf16 for the steps' matrix products
	// Time spent in D steps (with their generator passes) and G steps.
	TimeD, TimeG time.Duration
}

// Option changes how a Trainer is built.
type Option func(*options)

type options struct{ plain bool }

// Plain builds the graphs from the straightforward ops the speed work must
// agree with: unfused activations and no shared im2col (nn.Graph.SetPlain).
func Plain() Option { return func(o *options) { o.plain = true } }

// NewTrainer builds and compiles the graphs for batches of cfg.Train.BatchSize.
func NewTrainer(cfg config.Config, model *models.GAN, noise *rng.RNG, opts ...Option) (*Trainer, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	b := cfg.Train.BatchSize
	t := &Trainer{Model: model, Batch: b, NCritic: cfg.Train.NCritic, Noise: noise, bf16: cfg.Train.Precision == "bf16"}
	if t.bf16 {
		if err := blas.CheckBF16(); err != nil {
			return nil, fmt.Errorf("train.precision: bf16: %v", err)
		}
	}
	if model.Loss == models.Wasserstein && !model.GP {
		t.clip = float32(cfg.WGAN.Clip)
	}
	gpOn, r1 := model.GP && cfg.WGAN.GPLambda > 0, cfg.Train.R1
	var critic models.InputGradNet
	if gpOn || r1 > 0 {
		var ok bool
		if critic, ok = model.D.(models.InputGradNet); !ok || len(model.D.BatchNorms()) > 0 || model.MinibatchStd || model.Conditional {
			return nil, fmt.Errorf("train: model %s: the gradient penalties need a D without batch norm, minibatch_std or labels (models %s, or %s with d_norm: none)", model.Name, strings.Join(config.R1Models, ", "), strings.Join(config.DNormModels, ", "))
		}
	}
	var err error
	if t.OptD, err = optim.New(cfg.Optim.D); err != nil {
		return nil, err
	}
	if t.OptG, err = optim.New(cfg.Optim.G); err != nil {
		return nil, err
	}
	if cfg.Train.EMA > 0 {
		// A second generator of the same shape, holding a copy of G.
		twin, err := models.Build(model.Name, model.Shape(), rng.New(0, 0))
		if err != nil {
			return nil, fmt.Errorf("train: the moving average of G: %w", err)
		}
		t.EMA, t.emaBeta = twin.G, float32(cfg.Train.EMA)
		copyNet(t.EMA, model.G)
	}
	if model.Loss == models.SemiSupervised {
		if len(cfg.Train.Augment) > 0 {
			return nil, fmt.Errorf("train: train.augment is not available for %s", model.Name)
		}
		return newSGANTrainer(cfg, t, o)
	}
	if len(cfg.Train.Augment) > 0 {
		for _, a := range []**nn.DiffAugment{&t.augReal, &t.augFake, &t.augG} {
			if *a, err = nn.NewDiffAugment(cfg.Train.Augment, model.C, model.H, model.W, b); err != nil {
				return nil, fmt.Errorf("train: %w", err)
			}
		}
	}
	zT := tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(model.Latent, b))
	t.z = zT.Data().([]float32)
	var yT *tensor.Dense
	if model.Conditional {
		yT = tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(b))
		t.fakeLabels = yT.Data().([]float32)
	}

	// D graph: only D's params are differentiated, so no gradient reaches G.
	dGraph := nn.NewGraph(true, model.D.Params()...)
	dGraph.SetPlain(o.plain)
	dGraph.SpectralNorm(true, model.SN...) // this graph's run is the step's power iteration
	var yFake, yReal *gorgonia.Node
	if model.Conditional {
		yFake = dGraph.InputFrom("fake_labels", yT)
		yReal, t.RealLabels = dGraph.Input("real_labels", b)
	}
	var x *gorgonia.Node
	x, t.Real = dGraph.Input("real", model.C, model.H, model.W, b)
	fake := model.G.Forward(dGraph, dGraph.InputFrom("z", zT), yFake)
	// D's batch norm sees the real batch, then the fake one, and updates its
	// running statistics in that order, as PyTorch's DCGAN example does:
	// the two passes share no data, so the order is left to gorgonia's sort,
	// which keeps the build order here (checked by instrumenting the op).
	// Another order would change those statistics only, not the gradients.
	seenReal, seenFake := augment(dGraph, x, t.augReal), augment(dGraph, fake, t.augFake)
	var outReal, gradReal *gorgonia.Node
	if r1 > 0 {
		outReal, gradReal = critic.ForwardInputGrad(dGraph, seenReal, yReal)
	} else {
		outReal = model.D.Forward(dGraph, seenReal, yReal)
	}
	outFake := model.D.Forward(dGraph, seenFake, yFake)
	var lossReal, lossFake *gorgonia.Node
	switch model.Loss {
	case models.BCE:
		lossReal, t.dReal = losses.BCE(dGraph, "D loss on real images", outReal, 1)
		lossFake, t.dFake = losses.BCE(dGraph, "D loss on fake images", outFake, 0)
	case models.Wasserstein:
		lossReal, t.dReal = losses.Mean(dGraph, "critic mean on real images", outReal, -1)
		lossFake, t.dFake = losses.Mean(dGraph, "critic mean on fake images", outFake, +1)
	case models.Hinge:
		lossReal, t.dReal = losses.Hinge(dGraph, "D hinge loss on real images", outReal, +1)
		lossFake, t.dFake = losses.Hinge(dGraph, "D hinge loss on fake images", outFake, -1)
	case models.LSGAN:
		lossReal, t.dReal = losses.LeastSquares(dGraph, "D least-squares loss on real images", outReal, 1)
		lossFake, t.dFake = losses.LeastSquares(dGraph, "D least-squares loss on fake images", outFake, 0)
	default:
		return nil, fmt.Errorf("train: model %s: no losses for loss kind %v", model.Name, model.Loss)
	}
	lossD := losses.Sum(dGraph, lossReal, lossFake)
	if gpOn {
		var eps *gorgonia.Node
		eps, t.eps = dGraph.Input("gp_eps", b)
		_, gradHat := critic.ForwardInputGrad(dGraph, dGraph.Interpolate(seenReal, seenFake, eps), nil)
		var pen *gorgonia.Node
		pen, t.gp = losses.GradientPenalty(dGraph, "gradient penalty", gradHat, cfg.WGAN.GPLambda)
		lossD = losses.Sum(dGraph, lossD, pen)
	}
	if r1 > 0 {
		var pen *gorgonia.Node
		pen, t.r1 = losses.R1(dGraph, "R1 penalty", gradReal, r1)
		lossD = losses.Sum(dGraph, lossD, pen)
	}
	dGraph.Backward(lossD)
	if t.dm, err = dGraph.Compile(); err != nil {
		return nil, fmt.Errorf("train: D graph: %w", err)
	}

	// G graph.
	gGraph := nn.NewGraph(true, model.G.Params()...)
	gGraph.SetPlain(o.plain)
	gGraph.SpectralNorm(false, model.SN...) // D's σ as the D step left its u
	if t.NCritic == 1 {
		// The D graph's generator pass has counted this batch already.
		gGraph.FreezeStats(model.G.BatchNorms()...)
	}
	yFake = nil
	if model.Conditional {
		yFake = gGraph.InputFrom("fake_labels", yT)
	}
	fake = model.G.Forward(gGraph, gGraph.InputFrom("z", zT), yFake)
	outFake = model.D.Forward(gGraph, augment(gGraph, fake, t.augG), yFake)
	var lossG *gorgonia.Node
	switch model.Loss {
	case models.BCE:
		lossG, t.gFake = losses.BCE(gGraph, "G loss", outFake, 1) // non-saturating: −log D(G(z))
	case models.Wasserstein, models.Hinge:
		lossG, t.gFake = losses.Mean(gGraph, "G loss", outFake, -1)
	case models.LSGAN:
		lossG, t.gFake = losses.LeastSquares(gGraph, "G loss", outFake, 1)
	}
	gGraph.Backward(lossG)
	if t.gm, err = gGraph.Compile(); err != nil {
		return nil, fmt.Errorf("train: G graph: %w", err)
	}
	return t, nil
}

// augment returns x through a's augmentation, or x itself when a is nil.
func augment(g *nn.Graph, x *gorgonia.Node, a *nn.DiffAugment) *gorgonia.Node {
	if a == nil {
		return x
	}
	return g.DiffAugment(x, a)
}

// drawAugment draws new augmentation parameters (a no-op without
// train.augment).
func (t *Trainer) drawAugment(as ...*nn.DiffAugment) {
	for _, a := range as {
		if a != nil {
			a.Draw(t.Noise)
		}
	}
}

// Close releases the machines.
func (t *Trainer) Close() {
	t.dm.Close()
	if t.gm != nil {
		t.gm.Close()
	}
}

func (t *Trainer) drawNoise() {
	t.Noise.FillNormal(t.z, 0, 1)
	for i := range t.fakeLabels {
		t.fakeLabels[i] = float32(t.Noise.IntN(t.Model.Classes))
	}
}

// drawEps draws WGAN-GP's interpolation weights ε ~ U(0, 1), one per
// image (a no-op without the penalty).
func (t *Trainer) drawEps() {
	for i := range t.eps {
		t.eps[i] = float32(t.Noise.Float64())
	}
}

// Step runs one training iteration. next loads a real batch (with SetBatch).
func (t *Trainer) Step(next func() error) error {
	if t.bf16 {
		defer blas.BF16()()
	}
	if t.Model.Loss == models.SemiSupervised {
		return t.stepSGAN(next)
	}
	// (1) D step(s): a real batch, fresh noise, D's update, the clip.
	start := time.Now()
	for k := 0; k < t.NCritic; k++ {
		if err := next(); err != nil {
			return err
		}
		t.drawNoise()
		t.drawEps()
		t.drawAugment(t.augReal, t.augFake)
		if err := t.runD(); err != nil {
			return err
		}
		t.clipD()
	}
	// (2) G step, against the updated D. With n_critic = 1 it keeps the D
	// step's z and labels: the same fake batch.
	mid := time.Now()
	t.TimeD += mid.Sub(start)
	if t.NCritic > 1 {
		t.drawNoise()
	}
	t.drawAugment(t.augG)
	err := t.runG()
	t.TimeG += time.Since(mid)
	return err
}

// runG runs the G graph, updates G and its moving average.
func (t *Trainer) runG() error {
	if err := t.gm.Run(); err != nil {
		return fmt.Errorf("generator step: %w", err)
	}
	if err := step(t.OptG, t.gm); err != nil {
		return fmt.Errorf("generator update: %w", err)
	}
	t.updateEMA()
	return nil
}

// updateEMA moves the average towards G: θ_ema ← β·θ_ema + (1−β)·θ, in
// float32, and copies G's batch-norm statistics (a no-op without EMA).
func (t *Trainer) updateEMA() {
	if t.EMA == nil {
		return
	}
	b := t.emaBeta
	c := 1 - b
	src := t.Model.G.Params()
	for i, p := range t.EMA.Params() {
		e, g := p.Data(), src[i].Data()
		for j := range e {
			e[j] = b*e[j] + c*g[j]
		}
	}
	copyBuffers(t.EMA, t.Model.G)
}

// copyNet copies src's params and buffers into dst, a net of the same shape.
func copyNet(dst, src models.Net) {
	sp := src.Params()
	for i, p := range dst.Params() {
		copy(p.Data(), sp[i].Data())
	}
	copyBuffers(dst, src)
}

func copyBuffers(dst, src models.Net) {
	sb := src.Buffers()
	for i, b := range dst.Buffers() {
		if b.Count != nil {
			*b.Count = *sb[i].Count
		} else {
			copy(b.Data, sb[i].Data)
		}
	}
}

// runD runs the D graph on the loaded batch and noise and updates D.
func (t *Trainer) runD() error {
	if err := t.dm.Run(); err != nil {
		return fmt.Errorf("discriminator step: %w", err)
	}
	if err := step(t.OptD, t.dm); err != nil {
		return fmt.Errorf("discriminator update: %w", err)
	}
	return nil
}

// clipD clamps D's weights to [−clip, clip] (WGAN; a no-op without a clip).
func (t *Trainer) clipD() {
	if t.clip == 0 {
		return
	}
	for _, p := range t.Model.D.Params() {
		d := p.Data()
		for i, v := range d {
			d[i] = min(max(v, -t.clip), t.clip)
		}
	}
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
	DReal, DFake   float64 // BCE: mean D(x) and D(G(z)); WGAN, hinge, LSGAN: mean raw outputs
	EarthMover     float64 // WGAN: mean C(real) − mean C(fake)
	LossDR, LossDF float64
	// The gradient penalties (part of LossD; 0 when off): WGAN-GP's and
	// R1's values and the mean norms of the input gradients they saw.
	GP, GPNorm, R1, R1Norm float64
	// sgan: the labelled batch's cross-entropy (part of LossD) and
	// accuracy.
	LossSup, AccLabeled float64
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
	if t.sup != nil {
		l.LossSup, l.AccLabeled = t.sup.Loss, t.sup.Mean
		l.LossD += t.sup.Loss
	}
	if t.gp != nil {
		l.GP, l.GPNorm = t.gp.Loss, t.gp.Mean
		l.LossD += t.gp.Loss
	}
	if t.r1 != nil {
		l.R1, l.R1Norm = t.r1.Loss, t.r1.Mean
		l.LossD += t.r1.Loss
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
