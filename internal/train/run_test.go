package train

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/gantrain/gantrain/internal/safetensors"
)

func tinyData(t *testing.T) *data.Dataset {
	t.Helper()
	ds, _, err := data.Load(tinyConfig("dcgan", 1).Data, data.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func tinyConfig(model string, steps int) config.Config {
	cfg := config.Default()
	cfg.Model = model
	cfg.Data = config.Data{Name: "idx", Path: "../../testdata/mnist-tiny", Background: "white"}
	cfg.Train.BatchSize, cfg.Train.Steps, cfg.Train.LogEvery = 8, steps, 1
	cfg.Output.SampleEvery, cfg.Output.CheckpointEvery = 0, 0
	if model == "sgan" {
		cfg.Data.Labeled = 20
	}
	if model == "wgan-gp" {
		cfg.Train.NCritic = 2
		cfg.Optim.D = config.OptimSpec{Name: "adam", LR: 1e-4, Betas: []float64{0, 0.9}, Eps: 1e-8}
		cfg.Optim.G = cfg.Optim.D
	}
	if model == "wgan" {
		cfg.Train.NCritic = 2 // the separate-graph wiring; 5 only costs time
		cfg.Optim.G = config.OptimSpec{Name: "rmsprop", LR: 5e-5, Alpha: 0.99, Eps: 1e-8}
		cfg.Optim.D = cfg.Optim.G
	}
	return cfg
}

// sameWeights fails unless a and b (from weights) hold the same tensors,
// byte for byte, and at least one.
func sameWeights(t *testing.T, what string, a, b map[string][]byte) {
	t.Helper()
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("%d tensors vs %d", len(a), len(b))
	}
	for key, va := range a {
		if string(va) != string(b[key]) {
			t.Errorf("%s differs %s", key, what)
		}
	}
}

func weights(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	latest, err := checkpoint.Latest(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, name := range []string{checkpoint.ModelFile, checkpoint.OptimFile, checkpoint.EMAFile} {
		f, err := safetensors.ReadFile(filepath.Join(latest, name))
		if name == checkpoint.EMAFile && errors.Is(err, os.ErrNotExist) {
			continue // train.ema 0
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range f.Tensors {
			out[name+":"+tt.Name] = tt.Data
		}
	}
	return out
}

// raceCases are the variants TestResumeIsExact resumes under -short, the
// race detector's pass of make test: one of each wiring (one graph per
// step, the critic loop, the penalty's written-out input gradient with
// augmentation and EMA, the semi-supervised batches). The other passes
// resume every variant; under the race detector all of them took minutes.
var raceCases = map[string]bool{"dcgan": true, "wgan": true, "sgan": true, "wgan-gp-r1-augment-ema": true}

// Stopping at step k and resuming to n gives the same weights, optimiser
// state and batch-norm statistics, bit for bit, as running to n at once.
func TestResumeIsExact(t *testing.T) {
	ds := tinyData(t)
	const k, n = 7, 15
	sganConfig := func(edit func(*config.Config)) func(int) config.Config {
		return func(steps int) config.Config {
			c := tinyConfig("sgan", steps)
			edit(&c)
			return c
		}
	}
	for _, tc := range []struct {
		name string
		cfg  func(steps int) config.Config
	}{
		{"dcgan", func(s int) config.Config { return tinyConfig("dcgan", s) }},
		{"wgan", func(s int) config.Config { return tinyConfig("wgan", s) }},
		{"cgan", func(s int) config.Config { return tinyConfig("cgan", s) }},
		// 20 labelled images: two batches of 8 an epoch,
		// reshuffled every 2 steps: k = 7 resumes within such an epoch.
		{"sgan", func(s int) config.Config { return tinyConfig("sgan", s) }},
		{"sgan-non-saturating-flip", sganConfig(func(c *config.Config) { c.SGAN.GLoss, c.Data.Flip = "non_saturating", true })},
		{"sgan-supervised-only", sganConfig(func(c *config.Config) { c.Train.SupervisedOnly = true })},
		{"sgan-all-labels", sganConfig(func(c *config.Config) { c.Data.Labeled = 0 })},
		// The remedies: the moving average of G, the hinge and LSGAN losses.
		{"dcgan-ema-hinge", func(s int) config.Config {
			c := tinyConfig("dcgan", s)
			c.Train.EMA, c.Loss = 0.9, "hinge"
			return c
		}},
		{"dcgan-spectral-norm", func(s int) config.Config {
			c := tinyConfig("dcgan", s)
			c.SpectralNorm = true
			return c
		}},
		{"wgan-spectral-norm-ema-hinge", func(s int) config.Config {
			c := tinyConfig("wgan", s)
			c.SpectralNorm, c.Train.EMA, c.Loss = true, 0.999, "hinge"
			return c
		}},
		// DiffAugment's parameters come from the checkpointed noise.
		{"dcgan-augment", func(s int) config.Config {
			c := tinyConfig("dcgan", s)
			c.Train.Augment = []string{"translation", "cutout", "color"}
			return c
		}},
		{"wgan-augment-ema", func(s int) config.Config {
			c := tinyConfig("wgan", s)
			c.Train.Augment, c.Train.EMA = []string{"color", "cutout"}, 0.9
			return c
		}},
		{"wgan-ema", func(s int) config.Config { c := tinyConfig("wgan", s); c.Train.EMA = 0.5; return c }},
		// The gradient penalties: wgan-gp's ε per image come from the
		// checkpointed noise; R1 on gan's D.
		{"wgan-gp", func(s int) config.Config { return tinyConfig("wgan-gp", s) }},
		{"wgan-gp-r1-augment-ema", func(s int) config.Config {
			c := tinyConfig("wgan-gp", s)
			c.Train.R1, c.Train.Augment, c.Train.EMA = 1, []string{"translation", "color"}, 0.9
			return c
		}},
		{"gan-r1", func(s int) config.Config { c := tinyConfig("gan", s); c.Train.R1 = 10; return c }},
		// dcgan's D without batch norm, under R1 and spectral norm.
		{"dcgan-dnorm-none-r1-sn", func(s int) config.Config {
			c := tinyConfig("dcgan", s)
			c.DNorm, c.Train.R1, c.SpectralNorm = "none", 10, true
			return c
		}},
		// The remedies of the default configs/dcgan.yaml together.
		{"dcgan-dnorm-none-r1-ema", func(s int) config.Config {
			c := tinyConfig("dcgan", s)
			c.DNorm, c.Train.R1, c.Train.EMA = "none", 10, 0.999
			c.Optim.G.Betas, c.Optim.D.Betas = []float64{0, 0.999}, []float64{0, 0.999}
			return c
		}},
		// The minibatch standard-deviation layer, with TTUR's two rates.
		{"dcgan-mbstd-ttur", func(s int) config.Config {
			c := tinyConfig("dcgan", s)
			c.MinibatchStd, c.Optim.D.LR, c.Optim.G.LR = true, 4e-4, 1e-4
			return c
		}},
		{"cgan-ema-lsgan", func(s int) config.Config {
			c := tinyConfig("cgan", s)
			c.Train.EMA, c.Loss = 0.99, "lsgan"
			return c
		}},
	} {
		name, cfgFor := tc.name, tc.cfg
		t.Run(name, func(t *testing.T) {
			if testing.Short() && !raceCases[name] {
				t.Skip("run without -short: the race pass (make test) resumes a few variants, the other passes all")
			}
			whole := filepath.Join(t.TempDir(), "whole")
			if _, err := Run(context.Background(), Options{Config: cfgFor(n), RunDir: whole, Data: ds, ErrOut: io.Discard}); err != nil {
				t.Fatal(err)
			}
			split := filepath.Join(t.TempDir(), "split")
			if _, err := Run(context.Background(), Options{Config: cfgFor(k), RunDir: split, Data: ds, ErrOut: io.Discard}); err != nil {
				t.Fatal(err)
			}
			latest, err := checkpoint.Latest(split)
			if err != nil {
				t.Fatal(err)
			}
			c, err := checkpoint.Read(latest)
			if err != nil {
				t.Fatal(err)
			}
			if c.State.Step != k {
				t.Fatalf("checkpoint at step %d, want %d", c.State.Step, k)
			}
			if _, err := Run(context.Background(), Options{Config: cfgFor(n), RunDir: split, Data: ds, Resume: c, ErrOut: io.Discard}); err != nil {
				t.Fatal(err)
			}
			a := weights(t, whole)
			sameWeights(t, "after resume", a, weights(t, split))
			if _, ok := a[checkpoint.EMAFile+":g.up2.weight"]; ok != (cfgFor(n).Train.EMA > 0) {
				t.Errorf("moving average of G saved: %v, train.ema %g", ok, cfgFor(n).Train.EMA)
			}
			if _, ok := a[checkpoint.ModelFile+":d.conv2.weight_u"]; ok != cfgFor(n).SpectralNorm {
				t.Errorf("spectral norm's u saved: %v, spectral_norm %v", ok, cfgFor(n).SpectralNorm)
			}
		})
	}
}

// dcgan with d_norm: none trains, step for step, what wgan-gp trains under
// dcgan's loss with its penalty off and one D step per G step: the runs
// docs/quality.md made under the wgan-gp name are the d_norm runs.
func TestDNormNoneIsWGANGPWithoutPenalty(t *testing.T) {
	ds := tinyData(t)
	const n = 5
	dc := tinyConfig("dcgan", n)
	dc.DNorm, dc.Train.R1 = "none", 10
	gp := tinyConfig("dcgan", n)
	gp.Model, gp.Loss, gp.WGAN.GPLambda, gp.Train.R1 = "wgan-gp", "bce", 0, 10
	dirs := [2]string{filepath.Join(t.TempDir(), "dcgan"), filepath.Join(t.TempDir(), "wgan-gp")}
	defer func(m []string) { config.Models = m }(config.Models)
	config.Models = models.Names()
	for i, cfg := range []config.Config{dc, gp} {
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		if _, err := Run(context.Background(), Options{Config: cfg, RunDir: dirs[i], Data: ds, ErrOut: io.Discard}); err != nil {
			t.Fatal(err)
		}
	}
	sameWeights(t, "between the two runs", weights(t, dirs[0]), weights(t, dirs[1]))
}

// A context cancelled during training stops it after the step in progress,
// with a checkpoint of that step.
func TestInterruptWritesCheckpoint(t *testing.T) {
	ds := tinyData(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dir := filepath.Join(t.TempDir(), "run")
	res, err := Run(ctx, Options{Config: tinyConfig("dcgan", 50), RunDir: dir, Data: ds, ErrOut: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Step != 1 {
		t.Fatalf("interrupted %v at step %d, want true at 1", res.Interrupted, res.Step)
	}
	c, err := checkpoint.Read(res.Checkpoint)
	if err != nil || c.State.Step != 1 {
		t.Fatalf("checkpoint %v: %v", res.Checkpoint, err)
	}
	m, _ := models.New("dcgan", 100, rng.New(9, 9))
	if err := c.LoadModel(m); err != nil {
		t.Fatal(err)
	}
}

// Resuming on another thread count warns only where results depend on it
// (OpenBLAS), and names both counts and the fix.
func TestThreadWarning(t *testing.T) {
	for _, c := range []struct {
		saved, now int
		engine     string
		warn       bool
	}{
		{2, 1, "OpenBLAS (cgo): OpenBLAS 0.3.21", true},
		{2, 2, "OpenBLAS (cgo): OpenBLAS 0.3.21", false},
		{0, 2, "OpenBLAS (cgo): OpenBLAS 0.3.21", false}, // checkpoint without the field
		{2, 1, "gantrain GEMM, AVX2+FMA (pure Go + assembly)", false},
		{2, 1, "gonum (pure Go)", false},
	} {
		w := threadWarning(c.saved, c.now, c.engine)
		if (w != "") != c.warn {
			t.Errorf("%+v: warning %q", c, w)
		}
		if c.warn && !strings.Contains(w, "train.threads=2") {
			t.Errorf("%+v: warning %q does not say how to resume exactly", c, w)
		}
	}
}
