package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/safetensors"
)

// A run trained with train.ema (spectral_norm and minibatch_std on too)
// saves the moving average of G beside G, and the commands that generate
// (sample, eval, interpolate, … through openCheckpoint) use it in place of
// G.
func TestEMARunSamplesFromTheAverage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if code, _, errOut := gantrain(t, tinyArgs(dir, 4, "--set", "train.ema=0.9", "--set", "loss=hinge", "--set", "spectral_norm=true", "--set", "minibatch_std=true")...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	latest, err := checkpoint.Latest(dir)
	if err != nil {
		t.Fatal(err)
	}
	ema, err := safetensors.ReadFile(filepath.Join(latest, checkpoint.EMAFile))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := safetensors.ReadFile(filepath.Join(latest, checkpoint.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	_, m, err := openCheckpoint(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	differ := 0
	for _, p := range m.G.Params() {
		e, _ := ema.Get(p.Name)
		r, _ := raw.Get(p.Name)
		ev, err := e.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		rv, _ := r.Float32s()
		for j, v := range p.Data() {
			if math.Float32bits(v) != math.Float32bits(ev[j]) {
				t.Fatalf("%s[%d]: loaded %v, the moving average is %v", p.Name, j, v, ev[j])
			}
			if v != rv[j] {
				differ++
			}
		}
	}
	if differ == 0 {
		t.Fatal("the moving average equals G: the test proves nothing")
	}
	out := filepath.Join(t.TempDir(), "g.png")
	if code, _, errOut := gantrain(t, "sample", "--run", dir, "--n", "4", "--out", out); code != 0 {
		t.Fatalf("sample: exit %d: %s", code, errOut)
	}
}

// train.augment is a list in YAML or one comma-separated string (--set,
// the environment); unknown names are refused naming the key; a run
// trained with it saves the list in its config.yaml, which --resume reads
// back.
func TestAugmentKey(t *testing.T) {
	yamlFile := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(yamlFile, []byte("train:\n  augment: [color, cutout]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src  configSources
		want []string
	}{
		{configSources{}, nil},
		{configSources{Sets: []string{"train.augment=translation, cutout"}}, []string{"translation", "cutout"}},
		{configSources{Sets: []string{"train.augment=[color]"}}, []string{"color"}},
		{configSources{Sets: []string{"train.augment="}}, nil},
		{configSources{File: yamlFile}, []string{"color", "cutout"}},
		{configSources{File: yamlFile, Sets: []string{"train.augment=translation"}}, []string{"translation"}},
	} {
		cfg, err := loadConfig(tc.src)
		if err != nil || !slices.Equal(cfg.Train.Augment, tc.want) {
			t.Errorf("%+v: train.augment %q (%v), want %q", tc.src, cfg.Train.Augment, err, tc.want)
		}
	}
	_, err := loadConfig(configSources{Sets: []string{"train.augment=translation,flip"}})
	if err == nil || !strings.Contains(err.Error(), "train.augment") || !strings.Contains(err.Error(), `"flip"`) {
		t.Errorf("unknown augmentation: %v", err)
	}

	dir := filepath.Join(t.TempDir(), "run")
	if code, _, errOut := gantrain(t, tinyArgs(dir, 2, "--set", "train.augment=translation,cutout,color")...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if code, _, errOut := gantrain(t, "train", "--resume", dir, "--set", "train.steps=3"); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, errOut)
	}
	c := checkLoadable(t, dir)
	if c.State.Step != 3 || !slices.Equal(c.State.Config.Train.Augment, []string{"translation", "cutout", "color"}) {
		t.Errorf("checkpoint at step %d with train.augment %q", c.State.Step, c.State.Config.Train.Augment)
	}
}

// The shipped default, configs/dcgan.yaml, trains with the remedies
// docs/quality.md chose (a D without batch norm under R1, the moving
// average of G), and sample draws from that average.
func TestDefaultConfigTrainsWithTheRemedies(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, errOut := gantrain(t, "train", "--config", "../../configs/dcgan.yaml",
		"--set", "data.name=idx", "--set", "data.path="+tinyData, "--set", "train.steps=2",
		"--set", "eval.every=0", "--set", "output.checkpoint_every=2", "--set", "output.dir="+dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	cfg, err := loadConfig(configSources{File: "../../configs/dcgan.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.NoBatchNormD() || cfg.Train.R1 <= 0 || cfg.Train.EMA <= 0 || cfg.Train.BatchSize != 32 {
		t.Fatalf("configs/dcgan.yaml: d_norm %q, train.r1 %v, train.ema %v, batch %d: not the chosen remedies", cfg.DNorm, cfg.Train.R1, cfg.Train.EMA, cfg.Train.BatchSize)
	}
	// docs/quality.md: β1 = 0 for both, G at twice D's rate.
	if cfg.Optim.G.Betas[0] != 0 || cfg.Optim.D.Betas[0] != 0 || cfg.Optim.G.LR != 2*cfg.Optim.D.LR {
		t.Fatalf("configs/dcgan.yaml: optim %+v: not the measured optimiser settings", cfg.Optim)
	}
	latest, err := checkpoint.Latest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(latest, checkpoint.EMAFile)); err != nil {
		t.Fatalf("no moving average in the checkpoint: %v", err)
	}
	_, m, err := openCheckpoint(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !m.DNoBatchNorm {
		t.Fatal("the default's D was built with batch norm")
	}
	for _, p := range m.D.Params() {
		if strings.Contains(p.Name, "_bn") {
			t.Fatalf("D has a batch-norm parameter %s", p.Name)
		}
	}
	out := filepath.Join(t.TempDir(), "grid.png")
	if code, _, errOut := gantrain(t, "sample", "--run", dir, "--out", out); code != 0 {
		t.Fatalf("sample: exit %d: %s", code, errOut)
	}
	if w, h := pngSize(t, out); w <= 28 || h <= 28 {
		t.Fatalf("sample grid %d×%d", w, h)
	}
}
