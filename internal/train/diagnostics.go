package train

import (
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/evaluate"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/models"
)

// Thresholds of the training diagnostics.
const (
	// dWinsBelow and dWinsWindow: mean D(G(z)) below this for that many
	// consecutive steps means the discriminator wins and the generator's
	// gradients vanish (the BCE failure WGAN answers).
	dWinsBelow  = 0.05
	dWinsWindow = 200
	// collapseKL: a digit histogram this far from uniform (nats) is
	// reported as possible mode collapse; log 10 ≈ 2.3 is one digit only.
	collapseKL = 0.5
	// explodeAt: a loss of this size stops training.
	explodeAt = 1e4
)

// diagnostics watches training for the failures the GAN lecture describes
// and reports each once, in plain words.
type diagnostics struct {
	warn     func(string)
	lowSince int // first step of the current run of low D(G(z)), 0 if none
	warned   map[string]bool
}

func (d *diagnostics) once(key, msg string) {
	if d.warned == nil {
		d.warned = map[string]bool{}
	}
	if !d.warned[key] {
		d.warned[key] = true
		d.warn(msg)
	}
}

// step checks one step's losses; an error stops training.
func (d *diagnostics) step(step int, l Losses, loss models.Loss) error {
	// sgan's feature matching is a squared distance summed over D's
	// thousands of features (hundreds in a healthy run), not a
	// log-probability: only D's loss is held to the limit there.
	lossG := l.LossG
	if loss == models.SemiSupervised {
		lossG = 0
	}
	if math.Abs(l.LossD) > explodeAt || math.Abs(lossG) > explodeAt {
		return fmt.Errorf("the losses exploded (loss_d %.4g, loss_g %.4g): training diverged", l.LossD, l.LossG)
	}
	if loss != models.BCE {
		return nil
	}
	if l.DFake >= dWinsBelow {
		d.lowSince = 0
		return nil
	}
	if d.lowSince == 0 {
		d.lowSince = step
	}
	if step-d.lowSince+1 >= dWinsWindow {
		d.once("dwins", fmt.Sprintf("the discriminator is winning: D(G(z)) has stayed below %.2f for %d steps (step %d). "+
			"The generator's gradients vanish when D is this sure; lower optim.d.lr, or try the WGAN (configs/wgan.yaml).",
			dWinsBelow, dWinsWindow, step))
	}
	return nil
}

// eval checks a quick evaluation.
func (d *diagnostics) eval(step int, r *evaluate.Report, n int) {
	if r.Modes == nil || r.KLUniform == nil {
		return // a rotation classifier: no classes to count
	}
	if *r.Modes < r.Classes || *r.KLUniform > collapseKL {
		d.once("collapse", fmt.Sprintf("possible mode collapse at step %d: %d of %d classes each make up at least 1%% of %d samples, "+
			"and the class histogram is %.2f nats from uniform (0 is balanced, %.1f is one class).", step, *r.Modes, r.Classes, n, *r.KLUniform, math.Log(float64(r.Classes))))
	}
}

// evalStream is the rng stream of the quick evaluations' fixed noise.
const evalStream = 0x6576616c // "eval"

// quickEval generates cfg.Eval.N samples from fixed noise and measures them
// (without precision/recall, the slower part).
func quickEval(ev *evaluate.Evaluator, s *gen.Sampler, m *models.GAN, cfg config.Config) (*evaluate.Report, error) {
	z := gen.Noise(cfg.Seed^evalStream, cfg.Eval.N, m.Latent)
	var labels []int
	if m.Conditional {
		for i := 0; i < cfg.Eval.N; i++ {
			labels = append(labels, i%m.Classes)
		}
	}
	imgs, err := s.Generate(z, labels)
	if err != nil {
		return nil, err
	}
	return ev.Evaluate(imgs, labels, false)
}
