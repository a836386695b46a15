package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/evaluate"
	"github.com/gantrain/gantrain/internal/fsutil"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/imgio"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/parallel"
	"github.com/gantrain/gantrain/internal/plots"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/schollz/progressbar/v3"
	"go.yaml.in/yaml/v3"
)

// Options configure a training run.
type Options struct {
	Config config.Config // validated
	RunDir string
	Data   *data.Dataset
	// Resume, when set, continues from this checkpoint.
	Resume *checkpoint.Checkpoint
	// ErrOut receives progress and messages.
	ErrOut io.Writer
	// Bar draws a progress bar (ErrOut is a terminal); otherwise plain lines.
	Bar     bool
	Version string
	// Evaluator, when set, runs a quick evaluation every eval.every steps.
	Evaluator *evaluate.Evaluator
	// Note is printed once training starts, if not empty.
	Note string
	// Test, for a classifier model (sgan), is the labelled test split
	// whose accuracy is measured every eval.every steps.
	Test *data.Dataset
}

// Result summarises a finished (or interrupted) run.
type Result struct {
	Step        int
	Epoch       float64 // epochs of data seen
	Checkpoint  string  // directory of the last checkpoint written
	Interrupted bool
	Elapsed     time.Duration
	ImgsPerSec  float64
	// StepSeconds is the mean time of one training step (the D steps
	// with their generator passes, and the G step) over the steps this
	// call ran, without logging, samples, evaluations or checkpoints.
	StepSeconds float64
}

// Metrics is one line of metrics.jsonl.
type Metrics struct {
	Step       int      `json:"step"`
	Epoch      float64  `json:"epoch"`
	LossD      float64  `json:"loss_d"`
	LossG      float64  `json:"loss_g"`
	DReal      float64  `json:"d_real"`
	DFake      float64  `json:"d_fake"`
	EarthMover *float64 `json:"em,omitempty"`
	// The gradient penalties (part of loss_d) and the mean norm of the
	// input gradients each saw: wgan-gp's, and train.r1's.
	GP     *float64 `json:"gp,omitempty"`
	GPNorm *float64 `json:"gp_grad_norm,omitempty"`
	R1     *float64 `json:"r1,omitempty"`
	R1Norm *float64 `json:"r1_grad_norm,omitempty"`
	// sgan: the labelled batch's cross-entropy (part of loss_d) and accuracy.
	LossSup    *float64 `json:"loss_sup,omitempty"`
	AccLabeled *float64 `json:"acc_labeled,omitempty"`
	ImgsPerSec float64  `json:"imgs_per_s"`
	ElapsedS   float64  `json:"elapsed_s"`
	// A quick evaluation (every eval.every steps), when there is one.
	FCD             *float64 `json:"fcd,omitempty"`
	ClassifierScore *float64 `json:"classifier_score,omitempty"`
	Modes           *int     `json:"modes,omitempty"`
	KLUniform       *float64 `json:"kl_uniform,omitempty"`
	CondAcc         *float64 `json:"cond_acc,omitempty"`
	// sgan: the discriminator's accuracy on the test split (every
	// eval.every steps).
	TestAcc *float64 `json:"test_acc,omitempty"`
}

// TotalSteps is the number of generator updates a config asks for.
func TotalSteps(cfg config.Config, batchesPerEpoch int) int {
	if cfg.Train.Steps > 0 {
		return cfg.Train.Steps
	}
	return max(1, cfg.Train.Epochs*batchesPerEpoch/cfg.Train.NCritic)
}

// Run trains until the configured number of steps, or until ctx is
// cancelled (then it finishes the step, writes a checkpoint and returns
// with Interrupted set).
func Run(ctx context.Context, o Options) (*Result, error) {
	cfg := o.Config
	parallel.SetThreads(cfg.Train.Threads)

	// Everything that can be checked is checked before anything is written.
	if o.Data != nil {
		cfg.Data.Size, cfg.Data.Channels = o.Data.H, o.Data.C // recorded in every checkpoint
	}
	classes := 0
	if o.Data != nil {
		classes = o.Data.NumClasses()
	}
	model, err := models.ForConfig(cfg, classes, rng.New(cfg.Seed, gen.WeightsStream))
	if err != nil {
		return nil, err
	}
	if err := CheckData(model, o.Data); err != nil {
		return nil, err
	}
	batcher, err := data.NewBatcher(o.Data, cfg.Train.BatchSize, cfg.Seed, cfg.Data.Flip)
	if err != nil {
		return nil, err
	}
	var lab *labeledData
	var testSet *testData
	if model.Loss == models.SemiSupervised {
		if lab, err = newLabeledData(cfg, o.Data); err != nil {
			return nil, err
		}
		if o.Test != nil {
			if testSet, err = newTestData(model, o.Test); err != nil {
				return nil, err
			}
			defer testSet.close()
		}
	}
	noise := rng.New(cfg.Seed, gen.TrainStream)
	t, err := NewTrainer(cfg, model, noise)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	step := 0
	if o.Resume != nil {
		if step, err = restore(o.Resume, t, batcher); err != nil {
			return nil, err
		}
		if err := lab.restore(o.Resume); err != nil {
			return nil, err
		}
	}

	precision := ""
	if cfg.Train.Precision == "bf16" {
		precision = " with bf16 matrix products"
	}
	fmt.Fprintf(o.ErrOut, "gantrain: training %s%s on %s (%d images) into %s\n", cfg.Model, precision, o.Data.Source, o.Data.N, o.RunDir)
	if o.Resume != nil {
		fmt.Fprintf(o.ErrOut, "gantrain: resuming from %s (step %d)\n", o.Resume.Dir, step)
		if w := threadWarning(o.Resume.State.Threads, parallel.Threads(), blas.Name()); w != "" {
			fmt.Fprintln(o.ErrOut, "gantrain: warning: "+w)
		}
	}
	if o.Note != "" {
		fmt.Fprintln(o.ErrOut, "gantrain: note: "+o.Note)
	}
	if lab != nil {
		fmt.Fprintln(o.ErrOut, "gantrain: "+lab.describe(cfg))
	}
	if err := os.MkdirAll(filepath.Join(o.RunDir, "samples"), 0o755); err != nil {
		return nil, err
	}
	if err := writeConfig(filepath.Join(o.RunDir, "config.yaml"), cfg); err != nil {
		return nil, err
	}
	if o.Resume != nil {
		if err := truncateMetrics(filepath.Join(o.RunDir, "metrics.jsonl"), step); err != nil {
			return nil, err
		}
	}
	total := TotalSteps(cfg, batcher.BatchesPerEpoch())

	// Samples and evaluations come from the moving average of G when
	// there is one.
	sampled := model
	if t.EMA != nil {
		ema := *model
		ema.G = t.EMA
		sampled = &ema
	}
	sampler, err := gen.NewSampler(sampled, 64)
	if err != nil {
		return nil, err
	}
	defer sampler.Close()
	fixedZ, fixedY, nrow := gen.FixedGrid(model, cfg.Seed)

	mf, err := os.OpenFile(filepath.Join(o.RunDir, "metrics.jsonl"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	defer mf.Close()

	saveCkpt := func() (string, error) {
		if err := Finite(model.Params()); err != nil {
			return "", fmt.Errorf("step %d: not saving a checkpoint: %v", step, err)
		}
		var more []checkpoint.SaveOption
		if t.EMA != nil {
			if err := Finite(t.EMA.Params()); err != nil {
				return "", fmt.Errorf("step %d: not saving a checkpoint: moving average of G: %v", step, err)
			}
			more = append(more, checkpoint.WithEMA(t.EMA))
		}
		bs := batcher.State()
		nb, _ := noise.MarshalBinary()
		dir, err := checkpoint.Save(o.RunDir, checkpoint.State{
			Step: step, Epoch: batcher.Epoch(), Version: o.Version, Threads: parallel.Threads(),
			Config: cfg, Classes: o.Data.Classes, Batcher: &bs, RNG: map[string][]byte{"noise": nb},
			Labeled: lab.recorded(), LabeledBatcher: lab.state(),
		}, model, []checkpoint.Optim{
			{Net: "g", O: t.OptG, Params: model.G.Params()},
			{Net: "d", O: t.OptD, Params: model.D.Params()},
		}, more...)
		if err != nil {
			return "", err
		}
		return dir, checkpoint.Prune(o.RunDir, cfg.Output.Keep)
	}
	writeSamples := func() error {
		imgs, err := sampler.Generate(fixedZ, fixedY)
		if err != nil {
			return err
		}
		return imgio.WriteGrid(filepath.Join(o.RunDir, "samples", fmt.Sprintf("step-%06d.png", step)),
			imgs, len(imgs)/(model.C*model.H*model.W), model.C, model.H, model.W, nrow)
	}

	p := newProgress(o.ErrOut, o.Bar, total, step)
	diag := &diagnostics{warn: p.warn}
	res := &Result{}
	start := time.Now()
	winStart, winImgs := start, 0
	realLabels := make([]int, cfg.Train.BatchSize) // all 0 for unlabelled data
	batchLabels := realLabels
	if !o.Data.Labelled() {
		batchLabels = nil
	}
	realImgs := make([]float32, len(t.Real))
	lastCkpt := ""
	startStep := step
	for step < total {
		next := func() error {
			if _, err := batcher.Next(realImgs, batchLabels); err != nil {
				return err
			}
			t.SetBatch(realImgs, realLabels)
			winImgs += cfg.Train.BatchSize
			if lab != nil {
				if err := lab.next(t); err != nil {
					return err
				}
			}
			return nil
		}
		if err := t.Step(next); err != nil {
			return nil, stepError(step+1, err, lastCkpt)
		}
		step++
		l := t.Last()
		if step%cfg.Train.LogEvery == 0 {
			if err := Finite(model.Params()); err != nil {
				return nil, stepError(step, fmt.Errorf("weight %v", err), lastCkpt)
			}
		}
		epoch := float64(batcher.Epoch()) + float64(batcher.Pos())/float64(batcher.BatchesPerEpoch())
		quick := o.Evaluator != nil && cfg.Eval.Every > 0 && step%cfg.Eval.Every == 0
		testAcc := testSet != nil && cfg.Eval.Every > 0 && step%cfg.Eval.Every == 0
		if step%cfg.Train.LogEvery == 0 || step == total || quick || testAcc {
			now := time.Now()
			ips := float64(winImgs) / now.Sub(winStart).Seconds()
			winStart, winImgs = now, 0
			m := Metrics{Step: step, Epoch: round(epoch, 4), LossD: l.LossD, LossG: l.LossG, DReal: l.DReal, DFake: l.DFake,
				ImgsPerSec: round(ips, 1), ElapsedS: round(now.Sub(start).Seconds(), 3)}
			if model.Loss == models.Wasserstein {
				em := l.EarthMover
				m.EarthMover = &em
			}
			if t.gp != nil {
				gp, n := l.GP, l.GPNorm
				m.GP, m.GPNorm = &gp, &n
			}
			if t.r1 != nil {
				r1, n := l.R1, l.R1Norm
				m.R1, m.R1Norm = &r1, &n
			}
			if model.Loss == models.SemiSupervised {
				sup, acc := l.LossSup, l.AccLabeled
				m.LossSup, m.AccLabeled = &sup, &acc
			}
			if testAcc {
				acc, err := testSet.accuracy()
				if err != nil {
					return nil, fmt.Errorf("step %d: test accuracy: %w", step, err)
				}
				m.TestAcc = &acc
				p.note(fmt.Sprintf("step %d: test accuracy %.2f%% (%d images)", step, 100*acc, testSet.ds.N))
			}
			if quick {
				rep, err := quickEval(o.Evaluator, sampler, model, cfg)
				if err != nil {
					return nil, fmt.Errorf("step %d: evaluation: %w", step, err)
				}
				m.FCD, m.ClassifierScore, m.Modes, m.KLUniform, m.CondAcc = &rep.FCD, rep.ClassifierScore, rep.Modes, rep.KLUniform, rep.CondAcc
				diag.eval(step, rep, cfg.Eval.N)
			}
			line, err := json.Marshal(m)
			if err != nil {
				return nil, stepError(step, fmt.Errorf("metrics: %w", err), lastCkpt)
			}
			if _, err := mf.Write(append(line, '\n')); err != nil {
				return nil, fmt.Errorf("writing metrics.jsonl: %w", err)
			}
			p.update(step, epoch, cfg.Train.Epochs, l, ips, model.Loss)
		}
		if err := diag.step(step, l, model.Loss); err != nil {
			return nil, stepError(step, err, lastCkpt)
		}
		if cfg.Output.SampleEvery > 0 && step%cfg.Output.SampleEvery == 0 {
			if err := writeSamples(); err != nil {
				return nil, err
			}
		}
		if cfg.Output.CheckpointEvery > 0 && step%cfg.Output.CheckpointEvery == 0 {
			if lastCkpt, err = saveCkpt(); err != nil {
				return nil, err
			}
		}
		if ctx.Err() != nil {
			res.Interrupted = true
			break
		}
	}
	p.finish()
	if cfg.Output.SampleEvery == 0 || step%cfg.Output.SampleEvery != 0 {
		if err := writeSamples(); err != nil {
			return nil, err
		}
	}
	if cfg.Output.CheckpointEvery == 0 || step%cfg.Output.CheckpointEvery != 0 || lastCkpt == "" {
		if lastCkpt, err = saveCkpt(); err != nil {
			return nil, err
		}
	}
	if files, err := plots.All(o.RunDir); err != nil && !errors.Is(err, plots.ErrNoData) {
		fmt.Fprintf(o.ErrOut, "gantrain: warning: plots: %v\n", err)
	} else if len(files) > 0 {
		fmt.Fprintf(o.ErrOut, "gantrain: wrote %s\n", strings.Join(files, ", "))
	}
	res.Step, res.Checkpoint = step, lastCkpt
	res.Epoch = float64(batcher.Epoch()) + float64(batcher.Pos())/float64(batcher.BatchesPerEpoch())
	res.Elapsed = time.Since(start)
	res.ImgsPerSec = float64((step-startStep)*cfg.Train.NCritic*cfg.Train.BatchSize) / res.Elapsed.Seconds()
	if step > startStep {
		res.StepSeconds = (t.TimeD + t.TimeG).Seconds() / float64(step-startStep)
	}
	return res, nil
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// stepError reports a failed step. For values that became NaN or infinite
// it names the last good checkpoint and suggests a lower learning rate.
func stepError(step int, err error, lastCkpt string) error {
	msg := err.Error()
	if !strings.Contains(msg, "NaN") && !strings.Contains(msg, "Inf") {
		return fmt.Errorf("step %d: %w", step, err)
	}
	where := "no checkpoint was written before it"
	if lastCkpt != "" {
		where = "the last good checkpoint is " + lastCkpt
	}
	return fmt.Errorf("step %d: %w; training stopped (%s); try a lower learning rate (optim.d.lr, optim.g.lr)", step, err, where)
}

// CheckData says whether model can train on ds: the same image shape and,
// for a conditional model, labels that fit its classes.
func CheckData(model *models.GAN, ds *data.Dataset) error {
	if ds.C != model.C || ds.H != model.H || ds.W != model.W {
		return fmt.Errorf("data: %s gives %d×%d×%d images (channels×height×width); %s trains on %d×%d×%d: set data.channels: %d and data.size: %d",
			ds.Source, ds.C, ds.H, ds.W, model.Name, model.C, model.H, model.W, model.C, model.H)
	}
	if model.Conditional && !ds.Labelled() {
		return fmt.Errorf("data: %s is unlabelled (no class folders), but %s is conditional: it needs labels", ds.Source, model.Name)
	}
	if model.Classifier && !ds.Labelled() {
		return fmt.Errorf("data: %s is unlabelled (no class folders), but %s learns to classify: it needs labels (for data.labeled of its images)", ds.Source, model.Name)
	}
	if (model.Conditional || model.Classifier) && ds.NumClasses() > model.Classes {
		return fmt.Errorf("data: %s has %d classes, but %s has %d", ds.Source, ds.NumClasses(), model.Name, model.Classes)
	}
	return nil
}

// restore loads a checkpoint into the trainer and batcher and returns its step.
// threadWarning says why a resumed run will not match an uninterrupted one
// bit for bit, or returns "". gantrain's own kernels and GEMM give results
// independent of the thread count (TestThreadCountDoesNotChangeResults);
// OpenBLAS (-tags openblas) does not, as blas.Sgemm hands it blocks of C
// whose sizes depend on the thread count, and its kernels treat edge blocks
// differently. The checkpoints' state.json records each one's thread count.
func threadWarning(saved, now int, engine string) string {
	if saved == 0 || saved == now || !strings.HasPrefix(engine, "OpenBLAS") {
		return ""
	}
	return fmt.Sprintf("the checkpoint was written with %d threads and this run uses %d: with OpenBLAS the results then differ in the last bits from an uninterrupted run (set train.threads=%d to resume exactly)", saved, now, saved)
}

func restore(c *checkpoint.Checkpoint, t *Trainer, b *data.Batcher) (int, error) {
	if err := c.LoadModel(t.Model); err != nil {
		return 0, err
	}
	if !c.HasOptim() {
		return 0, fmt.Errorf("checkpoint: %s has no optimiser state (%s): it cannot be resumed exactly; start a new run from its weights instead", c.Dir, checkpoint.OptimFile)
	}
	if err := c.LoadOptim(checkpoint.Optim{Net: "g", O: t.OptG, Params: t.Model.G.Params()}); err != nil {
		return 0, err
	}
	if err := c.LoadOptim(checkpoint.Optim{Net: "d", O: t.OptD, Params: t.Model.D.Params()}); err != nil {
		return 0, err
	}
	if t.EMA != nil {
		if !c.HasEMA() {
			return 0, fmt.Errorf("checkpoint: %s has no moving average of G (%s): it was trained with train.ema 0; resume with train.ema=0, or start a new run", c.Dir, checkpoint.EMAFile)
		}
		if err := c.LoadEMA(t.EMA); err != nil {
			return 0, err
		}
	}
	if c.State.Batcher != nil {
		if err := b.Restore(*c.State.Batcher); err != nil {
			return 0, fmt.Errorf("checkpoint %s: %w", c.Dir, err)
		}
	}
	if nb, ok := c.State.RNG["noise"]; ok {
		if err := t.Noise.UnmarshalBinary(nb); err != nil {
			return 0, fmt.Errorf("checkpoint %s: %w", c.Dir, err)
		}
	}
	return c.State.Step, nil
}

// truncateMetrics drops the lines of metrics.jsonl past step (written
// after the checkpoint a run resumes from).
func truncateMetrics(path string, step int) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var keep []byte
	for len(b) > 0 {
		line := b
		rest := []byte(nil)
		for i, c := range b {
			if c == '\n' {
				line, rest = b[:i+1], b[i+1:]
				break
			}
		}
		b = rest
		var m struct {
			Step int `json:"step"`
		}
		if json.Unmarshal(line, &m) == nil && m.Step <= step {
			keep = append(keep, line...)
		}
	}
	return fsutil.WriteBytes(path, keep, 0o644)
}

func writeConfig(path string, cfg config.Config) error {
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	hdr := []byte("# The resolved configuration of this run (defaults, file, --set and GANTRAIN_* merged).\n")
	return fsutil.WriteBytes(path, append(hdr, b...), 0o644)
}

// progress shows training progress on stderr: a bar on a terminal, a plain
// line now and then otherwise.
type progress struct {
	w       io.Writer
	bar     *progressbar.ProgressBar
	total   int
	every   int // plain mode: steps between lines
	printed int // plain mode: last step printed
	start   int
	t0      time.Time
}

func newProgress(w io.Writer, bar bool, total, start int) *progress {
	p := &progress{w: w, total: total, every: max(1, total/50), printed: start, start: start, t0: time.Now()}
	if bar {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetWidth(20),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetRenderBlankState(true),
		)
		_ = p.bar.Set(start)
	}
	return p
}

func (p *progress) update(step int, epoch float64, epochs int, l Losses, ips float64, loss models.Loss) {
	desc := fmt.Sprintf("epoch %.2f step %d/%d  loss_d %.3f loss_g %.3f  D(x) %.3f D(G(z)) %.3f  %.0f img/s",
		epoch, step, p.total, l.LossD, l.LossG, l.DReal, l.DFake, ips)
	if loss == models.SemiSupervised {
		desc = fmt.Sprintf("epoch %.2f step %d/%d  loss_d %.3f (sup %.3f, acc %.2f) loss_g %.3f  D(x) %.3f D(G(z)) %.3f  %.0f img/s",
			epoch, step, p.total, l.LossD, l.LossSup, l.AccLabeled, l.LossG, l.DReal, l.DFake, ips)
	}
	if loss == models.Wasserstein {
		desc = fmt.Sprintf("epoch %.2f step %d/%d  loss_d %.4f loss_g %.4f  EM %.4f  %.0f img/s",
			epoch, step, p.total, l.LossD, l.LossG, l.EarthMover, ips)
	}
	if p.bar != nil {
		p.bar.Describe(desc)
		_ = p.bar.Set(step)
		return
	}
	if step-p.printed >= p.every || step == p.total {
		p.printed = step
		eta := time.Duration(float64(time.Since(p.t0)) / float64(step-p.start) * float64(p.total-step))
		fmt.Fprintf(p.w, "%s  ETA %s\n", desc, eta.Round(time.Second))
	}
}

// note prints a message without breaking the progress bar.
func (p *progress) note(msg string) {
	if p.bar != nil {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintln(p.w, "gantrain: "+msg)
}

// warn prints a warning without breaking the progress bar.
func (p *progress) warn(msg string) {
	if p.bar != nil {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintln(p.w, "gantrain: warning: "+msg)
}

func (p *progress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}
