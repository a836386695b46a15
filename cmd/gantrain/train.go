package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/evaluate"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/gantrain/gantrain/internal/train"
	"github.com/spf13/cobra"
)

type trainOptions struct {
	*streams
	ConfigPath string
	Sets       []string
	Resume     string
	Force      bool
}

func newTrainCmd(s *streams) *cobra.Command {
	o := &trainOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "train [--config FILE] [--set key=value]... [--resume RUN]",
		Short: "Train a GAN",
		Long: `Train a GAN from a YAML configuration.

The run directory (output.dir, default runs/<model>-<time>) receives
config.yaml, metrics.jsonl, samples/step-NNNNNN.png and
checkpoints/step-NNNNNN/. Progress goes to stderr; the run directory is
printed on stdout at the end.

--set key=value overrides any key (repeatable), as does the environment
(GANTRAIN_TRAIN_STEPS=200 sets train.steps). --resume RUN continues a run
from its newest checkpoint with the run's saved config (plus --set).

Everything (config, data, model against data, output directory) is checked
before anything is written. An output.dir that holds a run is refused
unless --force: then the old run is moved aside (.<dir>.replaced-* beside
it), deleted once the new run has written a checkpoint, and put back if
the new run fails before.

Ctrl-C (SIGINT) or SIGTERM finishes the current step, writes a checkpoint
and exits with status 130 or 143; a second Ctrl-C exits at once.`,
		Example: `  gantrain train --config configs/dcgan.yaml
  gantrain train --config configs/dcgan.yaml --set train.steps=30 --set output.dir=runs/smoke
  gantrain train --resume runs/smoke --set train.steps=60`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrain(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "YAML configuration file (default: built-in DCGAN defaults)")
	f.StringArrayVar(&o.Sets, "set", nil, "override a configuration key: --set train.steps=200 (repeatable)")
	f.StringVar(&o.Resume, "resume", "", "continue the run in this directory from its newest checkpoint")
	f.BoolVar(&o.Force, "force", false, "start a new run in an output.dir that already holds one (the old run is deleted once the new one has a checkpoint)")
	return cmd
}

// trainPlan is a checked training run: everything train.Run needs, with
// nothing written yet.
type trainPlan struct {
	cfg     config.Config
	runDir  string
	resume  *checkpoint.Checkpoint
	data    *data.Dataset
	ev      *evaluate.Evaluator
	test    *data.Dataset // sgan: the test split measured every eval.every steps
	note    string
	replace bool // runDir holds a run that --force replaces
}

func runTrain(ctx context.Context, o *trainOptions) error {
	p, err := prepareTrain(o)
	if err != nil {
		return err
	}
	if p.ev != nil {
		defer p.ev.Close()
	}
	return p.run(ctx, o)
}

// prepareTrain checks the configuration, the checkpoint to resume, the
// data, the model against the data and the output directory. It writes
// nothing.
func prepareTrain(o *trainOptions) (*trainPlan, error) {
	src := configSources{File: o.ConfigPath, Sets: o.Sets}
	p := &trainPlan{}
	if o.Resume != "" {
		if o.ConfigPath != "" {
			return nil, usagef("--resume uses the run's own config.yaml; leave out --config (override keys with --set)")
		}
		if o.Force {
			return nil, usagef("--resume and --force contradict each other")
		}
		src.File = filepath.Join(o.Resume, "config.yaml")
		if _, err := os.Stat(src.File); err != nil {
			return nil, usagef("--resume %s: not a run directory (no config.yaml)", o.Resume)
		}
	}
	cfg, err := loadConfig(src)
	if err != nil {
		return nil, err
	}
	if o.Resume != "" {
		dir, err := checkpoint.Latest(o.Resume)
		if err != nil {
			return nil, err
		}
		if p.resume, err = checkpoint.Read(dir); err != nil {
			return nil, err
		}
		if p.resume.State.Model != cfg.Model {
			return nil, usagef("--resume %s: the checkpoint is for model %s, the config says %s", o.Resume, p.resume.State.Model, cfg.Model)
		}
		cfg.Output.Dir = o.Resume
	}

	ds, err := loadData(&cfg, o.streams)
	if err != nil {
		return nil, err
	}
	if err := checkTrainable(cfg, ds); err != nil {
		return nil, err
	}
	if p.resume != nil {
		// The checkpoint records the shape it was trained on.
		rc := p.resume.State.Config
		size, ch, width := rc.Data.Size, rc.Data.Channels, rc.Width
		if size == 0 { // recorded since issue 11; older runs are MNIST's
			size, ch = 28, 1
		}
		if width == 0 { // recorded since issue 12
			width = models.DefaultWidth
		}
		if size != ds.H || ch != ds.C || width != cfg.Width {
			return nil, usagef("--resume %s: the checkpoint is a %d×%d×%d model of width %d; the data gives %d×%d×%d images and the config says width %d",
				o.Resume, ch, size, size, width, ds.C, ds.H, ds.W, cfg.Width)
		}
	}
	if cfg.Output.Dir == "" {
		cfg.Output.Dir = filepath.Join("runs", fmt.Sprintf("%s-%s", cfg.Model, time.Now().Format("20060102-150405")))
	}
	if o.Resume == "" {
		if p.replace, err = checkRunDir(cfg.Output.Dir, o.Force); err != nil {
			return nil, err
		}
	}
	dataDir := ds.Source
	if fi, err := os.Stat(dataDir); err == nil && !fi.IsDir() {
		dataDir = filepath.Dir(dataDir)
	}
	if data.Inside(cfg.Output.Dir, dataDir) {
		return nil, usagef("output.dir %s is inside the data directory %s; data folders are never written", cfg.Output.Dir, dataDir)
	}
	if p.ev, p.note, err = trainingEvaluator(cfg, ds, o.ConfigPath); err != nil {
		return nil, err
	}
	if spec, _ := models.Lookup(cfg.Model); spec.Classifier && cfg.Eval.Every > 0 && train.TotalSteps(cfg, ds.N/cfg.Train.BatchSize) >= cfg.Eval.Every {
		if p.test, err = data.LoadTest(cfg.Data); err != nil {
			p.note = strings.TrimPrefix(p.note+"; no test accuracy during training (eval.every): "+err.Error(), "; ")
		}
	}
	p.cfg, p.runDir, p.data = cfg, cfg.Output.Dir, ds
	return p, nil
}

// run trains. With --force the old run is set aside first, deleted once the
// new run has a checkpoint and put back if it fails before.
func (p *trainPlan) run(ctx context.Context, o *trainOptions) error {
	var old *replacedRun
	if p.replace {
		var err error
		if old, err = setAside(p.runDir); err != nil {
			return err
		}
		fmt.Fprintf(o.ErrOut, "gantrain: --force: the old run is kept in %s until this run's first checkpoint\n", old.aside)
		defer onHardExit(func() { old.settle() })()
		stop := old.watch()
		defer stop()
	} else if err := os.MkdirAll(p.runDir, 0o755); err != nil {
		return err
	}
	res, err := train.Run(ctx, train.Options{
		Config: p.cfg, RunDir: p.runDir, Data: p.data, Resume: p.resume,
		ErrOut: o.ErrOut, Bar: o.IsTerminal, Version: version(), Evaluator: p.ev, Note: p.note, Test: p.test,
	})
	if old != nil {
		restored, serr := old.settle()
		if restored {
			fmt.Fprintf(o.ErrOut, "gantrain: --force: the new run failed before its first checkpoint; the old run is back in %s\n", p.runDir)
		}
		if serr != nil && err == nil {
			err = serr
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "gantrain: %d steps (%.2f epochs) in %s, %.0f real images/s; checkpoint %s\n",
		res.Step, res.Epoch, res.Elapsed.Round(time.Second), res.ImgsPerSec, res.Checkpoint)
	fmt.Fprintln(o.Out, p.runDir)
	if res.Interrupted {
		fmt.Fprintf(o.ErrOut, "gantrain: interrupted; continue with: gantrain train --resume %s\n", p.runDir)
		return context.Cause(ctx)
	}
	return nil
}

// runEntries are what a run consists of in its directory.
var runEntries = []string{"config.yaml", "metrics.jsonl", "checkpoints", "samples", "plots"}

// checkRunDir checks the output directory of a new run: it reports whether
// it holds a run that --force replaces, and refuses one without --force.
func checkRunDir(dir string, force bool) (replace bool, err error) {
	if err := checkOutDir("output.dir", dir); err != nil {
		return false, err
	}
	for _, name := range runEntries {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			replace = true
		}
	}
	if replace && !force {
		return false, usagef("output.dir %s already holds a run; continue it with --resume %s, or start over with --force", dir, dir)
	}
	return replace, nil
}

// A replacedRun is the old run that train --force replaces, moved into a
// hidden directory beside the run directory (same file system: renames).
type replacedRun struct {
	dir, aside string
	moved      []string // the entries moved aside
	mu         sync.Mutex
	settled    bool
}

func setAside(dir string) (*replacedRun, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	aside, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".replaced-")
	if err != nil {
		return nil, fmt.Errorf("--force: setting the old run aside: %w", err)
	}
	r := &replacedRun{dir: dir, aside: aside}
	for _, name := range runEntries {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			continue
		}
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(aside, name)); err != nil {
			r.restore()
			return nil, fmt.Errorf("--force: setting the old run aside: %w", err)
		}
		r.moved = append(r.moved, name)
	}
	return r, nil
}

// watch settles as soon as the new run has a checkpoint, so that a long
// run does not keep the old one on disk; the returned func stops watching.
func (r *replacedRun) watch() (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if steps, _ := checkpoint.List(r.dir); len(steps) > 0 {
					r.settle()
					return
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// settle deletes the old run if the new one has a checkpoint, and puts it
// back otherwise (restored). Only the first call acts.
func (r *replacedRun) settle() (restored bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.settled {
		return false, nil
	}
	r.settled = true
	if steps, _ := checkpoint.List(r.dir); len(steps) > 0 {
		return false, os.RemoveAll(r.aside)
	}
	return true, r.restore()
}

// restore removes what the new run wrote and moves the old run back.
func (r *replacedRun) restore() error {
	var errs []error
	for _, name := range runEntries {
		errs = append(errs, os.RemoveAll(filepath.Join(r.dir, name)))
	}
	for _, name := range r.moved {
		errs = append(errs, os.Rename(filepath.Join(r.aside, name), filepath.Join(r.dir, name)))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("--force: putting the old run back from %s: %w", r.aside, err)
	}
	return os.Remove(r.aside)
}

// trainingEvaluator prepares the quick evaluations of eval.every: MNIST
// with its shipped classifier, other data with the classifier that
// `gantrain classifier train` stored for it (a note naming the command to
// run, and no evaluations, when there is none).
func trainingEvaluator(cfg config.Config, ds *data.Dataset, cfgFile string) (*evaluate.Evaluator, string, error) {
	if cfg.Eval.Every == 0 || train.TotalSteps(cfg, ds.N/cfg.Train.BatchSize) < cfg.Eval.Every {
		return nil, "", nil // no evaluation would happen
	}
	if cfg.Train.SupervisedOnly {
		return nil, "", nil // the generator is not trained
	}
	if !usesShippedClassifier(cfg.Data, ds) {
		if cfgFile == "" {
			cfgFile = filepath.Join(cfg.Output.Dir, "config.yaml") // --resume
		}
		ev, _, err := dataEvaluator(cfg.Data, ds, cfg.Output.Dir, cfgFile)
		if errors.Is(err, classifier.ErrNotStored) {
			return nil, "no evaluation during training (eval.every): " + err.Error(), nil
		}
		return ev, "", err
	}
	test, err := mnist.Load(filepath.Dir(ds.Source), "test")
	if err != nil {
		return nil, "", fmt.Errorf("eval.every: %w (set eval.every: 0 to train without evaluations)", err)
	}
	ev, err := evaluate.New(test, test.N)
	return ev, "", err
}

// loadData reads and preprocesses the configured training data (the
// skipped files and decoding progress go to ErrOut) and records in cfg the
// size and channels it settled on.
func loadData(cfg *config.Config, s *streams) (*data.Dataset, error) {
	ds, _, err := data.Load(cfg.Data, data.LoadOptions{BatchSize: cfg.Train.BatchSize, Progress: s.ErrOut, Bar: s.IsTerminal})
	if err != nil {
		return nil, err
	}
	cfg.Data.Size, cfg.Data.Channels = ds.H, ds.C
	return ds, nil
}

// checkTrainable refuses, before anything is written, data the model cannot
// train on (models.Sizes; conditional models need labels).
func checkTrainable(cfg config.Config, ds *data.Dataset) error {
	if cfg.Train.Precision == "bf16" {
		if err := blas.CheckBF16(); err != nil {
			return usagef("train.precision: bf16 cannot run here: %v", err)
		}
	}
	model, err := models.ForConfig(cfg, ds.NumClasses(), rng.New(cfg.Seed, gen.WeightsStream))
	if err != nil {
		hint := ""
		if errors.Is(err, models.ErrSize) {
			hint = " (set data.size to one of them to resize the images)"
		}
		return usagef("data: %s gives %d×%d×%d images (channels×height×width): %v%s", ds.Source, ds.C, ds.H, ds.W, err, hint)
	}
	if err := train.CheckData(model, ds); err != nil {
		return usageError{err}
	}
	if model.Classifier && cfg.Data.Labeled > 0 {
		if _, err := data.PickLabeled(ds, cfg.Data.Labeled, cfg.Seed); err != nil {
			return usageError{err}
		}
	}
	return nil
}
