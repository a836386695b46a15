package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const tinyData = "../../testdata/mnist-tiny"

// gantrain runs the command line in-process and returns status, stdout, stderr.
func gantrain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// tinyArgs trains a few steps on the committed 320-image subset.
func tinyArgs(dir string, steps int, extra ...string) []string {
	args := []string{"train", "--config", "../../configs/dcgan-paper.yaml",
		"--set", "data.name=idx", "--set", "data.path=" + tinyData,
		"--set", "train.batch_size=16", "--set", "train.steps=" + itoa(steps),
		"--set", "train.log_every=1", "--set", "output.sample_every=2",
		"--set", "output.checkpoint_every=2", "--set", "output.dir=" + dir}
	return append(args, extra...)
}

func itoa(n int) string { return strconv.Itoa(n) }

func readMetrics(t *testing.T, dir string) []map[string]float64 {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]float64
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img.Bounds().Dx(), img.Bounds().Dy()
}

func TestTrainWritesARun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, out, errOut := gantrain(t, tinyArgs(dir, 4)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.TrimSpace(out) != dir {
		t.Errorf("stdout %q, want the run directory", out)
	}
	for _, f := range []string{"config.yaml", "samples/step-000002.png", "samples/step-000004.png",
		"checkpoints/step-000002/model.safetensors", "checkpoints/step-000004/state.json",
		"checkpoints/step-000004/optim.safetensors", "checkpoints/latest"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	// 8×8 grid of 28×28 with a 2-pixel border.
	if w, h := pngSize(t, filepath.Join(dir, "samples/step-000004.png")); w != 242 || h != 242 {
		t.Errorf("grid is %dx%d, want 242x242", w, h)
	}
	ms := readMetrics(t, dir)
	if len(ms) != 4 {
		t.Fatalf("%d metrics lines, want 4", len(ms))
	}
	for _, k := range []string{"step", "epoch", "loss_d", "loss_g", "d_real", "d_fake", "imgs_per_s", "elapsed_s"} {
		if _, ok := ms[0][k]; !ok {
			t.Errorf("metrics lack %s", k)
		}
	}
	if ms[3]["step"] != 4 || !(ms[0]["d_real"] > 0 && ms[0]["d_real"] < 1) {
		t.Errorf("metrics look wrong: %v", ms[3])
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "config.yaml"))
	if !strings.Contains(string(cfg), "batch_size: 16") || !strings.Contains(string(cfg), "dir: "+dir) {
		t.Errorf("config.yaml does not hold the resolved config:\n%s", cfg)
	}

	// sample from the run.
	grid := filepath.Join(t.TempDir(), "g.png")
	code, out, errOut = gantrain(t, "sample", "--run", dir, "--n", "64", "--out", grid)
	if code != 0 {
		t.Fatalf("sample exit %d: %s", code, errOut)
	}
	if w, h := pngSize(t, grid); w != 242 || h != 242 {
		t.Errorf("sample grid %dx%d", w, h)
	}
	// The same seed gives the same bytes; another seed differs.
	again := filepath.Join(t.TempDir(), "g2.png")
	gantrain(t, "sample", "--run", dir, "--n", "64", "--out", again)
	other := filepath.Join(t.TempDir(), "g3.png")
	gantrain(t, "sample", "--run", dir, "--n", "64", "--seed", "2", "--out", other)
	a, _ := os.ReadFile(grid)
	b, _ := os.ReadFile(again)
	c, _ := os.ReadFile(other)
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Error("sample is not a function of --seed")
	}

	// A run directory is not overwritten by a new run.
	before, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	code, _, errOut = gantrain(t, tinyArgs(dir, 2)...)
	if code != 2 || !strings.Contains(errOut, "already holds a run") || !strings.Contains(errOut, "--resume") {
		t.Errorf("second run into %s: exit %d, %q", dir, code, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if !bytes.Equal(before, after) {
		t.Error("a refused run changed metrics.jsonl")
	}

	// Resume continues from the newest checkpoint.
	code, _, errOut = gantrain(t, "train", "--resume", dir, "--set", "train.steps=6")
	if code != 0 {
		t.Fatalf("resume exit %d: %s", code, errOut)
	}
	ms = readMetrics(t, dir)
	if len(ms) != 6 || ms[5]["step"] != 6 || ms[4]["step"] != 5 {
		t.Errorf("after resume, metrics steps %v", steps(ms))
	}
}

func steps(ms []map[string]float64) []float64 {
	var s []float64
	for _, m := range ms {
		s = append(s, m["step"])
	}
	return s
}

func TestTrainIsReproducible(t *testing.T) {
	var losses [2][]float64
	for i := range losses {
		dir := filepath.Join(t.TempDir(), "run")
		if code, _, errOut := gantrain(t, tinyArgs(dir, 3)...); code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, m := range readMetrics(t, dir) {
			losses[i] = append(losses[i], m["loss_d"], m["loss_g"], m["d_real"], m["d_fake"])
		}
	}
	for j := range losses[0] {
		if losses[0][j] != losses[1][j] {
			t.Fatalf("same seed, different values: %v vs %v", losses[0], losses[1])
		}
	}
}

func TestEnvAndSetPrecedence(t *testing.T) {
	t.Setenv("GANTRAIN_TRAIN_STEPS", "7")
	t.Setenv("GANTRAIN_OPTIM_D_BETAS", "[0.1, 0.2]")
	cfg, err := loadConfig(configSources{File: "../../configs/dcgan-paper.yaml", Sets: []string{"train.steps=9", "output.dir=123"}})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Train.Steps != 9 {
		t.Errorf("--set should win over the environment: steps %d", cfg.Train.Steps)
	}
	if cfg.Optim.D.Betas[0] != 0.1 || cfg.Optim.D.Betas[1] != 0.2 {
		t.Errorf("env betas %v", cfg.Optim.D.Betas)
	}
	if cfg.Output.Dir != "123" {
		t.Errorf("a numeric string for a string key: %q", cfg.Output.Dir)
	}
	if cfg.Optim.G.LR != 2e-4 || cfg.Train.BatchSize != 64 {
		t.Errorf("file values lost: %+v", cfg)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := gantrain(t, "version")
	if code != 0 || !strings.Contains(out, "BLAS: ") || !strings.Contains(out, "gantrain ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

// The loader is strict where viper's defaults are lenient: no weak typing
// (2.5 is not an integer, 1 is not a string), an empty GANTRAIN_ variable
// is a bad value, and a key of the file that is no field is an error.
func TestConfigIsStrict(t *testing.T) {
	file := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(file, []byte("output:\n  dir: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(t.TempDir(), "x.yaml")
	if err := os.WriteFile(extra, []byte("optim:\n  g:\n    momentum: 0.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		src  configSources
		env  string
		want string
	}{
		{configSources{Sets: []string{"train.batch_size=2.5"}}, "", "--set train.batch_size=2.5: train.batch_size: want an integer, got 2.5"},
		{configSources{Sets: []string{"wgan.clip=true"}}, "", "want a number"},
		{configSources{}, "GANTRAIN_TRAIN_STEPS=", "environment GANTRAIN_TRAIN_STEPS: train.steps: want an integer"},
		{configSources{File: file}, "", "config " + file + ": output.dir: want a string, got 1"},
		{configSources{File: extra}, "", "config " + extra + `: unknown key "optim.g.momentum"`},
	} {
		if k, v, ok := strings.Cut(c.env, "="); ok {
			t.Setenv(k, v)
		}
		_, err := loadConfig(c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v %s: %v, want %q", c.src, c.env, err, c.want)
		}
		if k, _, ok := strings.Cut(c.env, "="); ok {
			os.Unsetenv(k)
		}
	}
}
