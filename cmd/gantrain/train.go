package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gantrain/gantrain/internal/checkpoint"
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
	f.BoolVar(&o.Force, "force", false, "start a new run in an output.dir that already holds one, deleting it")
	return cmd
}

func runTrain(ctx context.Context, o *trainOptions) error {
	src := configSources{File: o.ConfigPath, Sets: o.Sets}
	var ckpt *checkpoint.Checkpoint
	runDir := ""
	if o.Resume != "" {
		if o.ConfigPath != "" {
			return usagef("--resume uses the run's own config.yaml; leave out --config (override keys with --set)")
		}
		if o.Force {
			return usagef("--resume and --force contradict each other")
		}
		runDir = o.Resume
		src.File = filepath.Join(runDir, "config.yaml")
		if _, err := os.Stat(src.File); err != nil {
			return usagef("--resume %s: not a run directory (no config.yaml)", runDir)
		}
	}
	cfg, err := loadConfig(src)
	if err != nil {
		return err
	}
	if o.Resume != "" {
		dir, err := checkpoint.Latest(runDir)
		if err != nil {
			return err
		}
		if ckpt, err = checkpoint.Read(dir); err != nil {
			return err
		}
		if ckpt.State.Model != cfg.Model {
			return usagef("--resume %s: the checkpoint is for model %s, the config says %s", runDir, ckpt.State.Model, cfg.Model)
		}
		cfg.Output.Dir = runDir
	}

	ds, err := loadData(&cfg, o.streams)
	if err != nil {
		return err
	}
	if err := checkTrainable(cfg, ds); err != nil {
		return err
	}
	if o.Resume == "" {
		runDir = cfg.Output.Dir
		if runDir == "" {
			runDir = filepath.Join("runs", fmt.Sprintf("%s-%s", cfg.Model, time.Now().Format("20060102-150405")))
			cfg.Output.Dir = runDir
		}
		if err := prepareRunDir(runDir, o.Force); err != nil {
			return err
		}
	}
	ev, note, err := trainingEvaluator(cfg, ds)
	if err != nil {
		return err
	}
	if ev != nil {
		defer ev.Close()
	}
	res, err := train.Run(ctx, train.Options{
		Config: cfg, RunDir: runDir, Data: ds, Resume: ckpt,
		ErrOut: o.ErrOut, Bar: o.IsTerminal, Version: version(), Evaluator: ev, Note: note,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "gantrain: %d steps (%.2f epochs) in %s, %.0f real images/s; checkpoint %s\n",
		res.Step, res.Epoch, res.Elapsed.Round(time.Second), res.ImgsPerSec, res.Checkpoint)
	fmt.Fprintln(o.Out, runDir)
	if res.Interrupted {
		fmt.Fprintf(o.ErrOut, "gantrain: interrupted; continue with: gantrain train --resume %s\n", runDir)
		return context.Cause(ctx)
	}
	return nil
}

// prepareRunDir refuses to start a new run over an existing one unless
// forced, in which case the old run's files are removed.
func prepareRunDir(dir string, force bool) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return usagef("output.dir %s exists and is not a directory", dir)
	}
	held := false
	for _, name := range []string{"config.yaml", "metrics.jsonl", "checkpoints", "samples"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			held = true
		}
	}
	if !held {
		return nil
	}
	if !force {
		return usagef("output.dir %s already holds a run; continue it with --resume %s, or start over with --force", dir, dir)
	}
	for _, name := range []string{"config.yaml", "metrics.jsonl", "checkpoints", "samples"} {
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// trainingEvaluator prepares the quick evaluations of eval.every (MNIST
// only: the evaluator's classifier knows digits).
func trainingEvaluator(cfg config.Config, ds *data.Dataset) (*evaluate.Evaluator, string, error) {
	if cfg.Eval.Every == 0 || train.TotalSteps(cfg, ds.N/cfg.Train.BatchSize) < cfg.Eval.Every {
		return nil, "", nil // no evaluation would happen
	}
	if cfg.Data.Name != "mnist" {
		return nil, "no evaluation during training (eval.every): the evaluator's classifier knows MNIST digits, and data.name is " + cfg.Data.Name, nil
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
// train on (the models are built for 1×28×28 images).
func checkTrainable(cfg config.Config, ds *data.Dataset) error {
	model, err := models.New(cfg.Model, cfg.LatentDim, rng.New(cfg.Seed, gen.WeightsStream))
	if err != nil {
		return err
	}
	if err := train.CheckData(model, ds); err != nil {
		return usageError{err}
	}
	return nil
}
