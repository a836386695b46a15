package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/mnist"
)

// The evaluation of data other than MNIST, end to end on the tiny IDX
// set: classifier train --set data.* stores a classifier keyed by the
// data, train's eval.every and eval --run find it; the rotation classifier
// gives null class metrics; without a classifier train says so and eval
// names the command to run.
func TestEvalWithTrainedClassifier(t *testing.T) {
	tmp := t.TempDir()
	cache := filepath.Join(tmp, "cache")
	dataArgs := []string{"--set", "data.name=idx", "--set", "data.path=" + tinyData, "--set", "data.cache=" + cache, "--set", "train.batch_size=16"}

	// Without a classifier: a note, no evaluation, and eval's error.
	bare := filepath.Join(tmp, "bare")
	code, _, errOut := gantrain(t, tinyArgs(bare, 2, "--set", "data.cache="+cache, "--set", "eval.every=2", "--set", "eval.n=100")...)
	if code != 0 || !strings.Contains(errOut, "no evaluation during training (eval.every): no classifier stored") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}

	code, out, errOut := gantrain(t, append([]string{"classifier", "train", "--epochs", "10"}, dataArgs...)...)
	if code != 0 {
		t.Fatalf("classifier train: %s", errOut)
	}
	var res struct {
		Mode    string  `json:"mode"`
		HeldOut int     `json:"held_out"`
		Acc     float64 `json:"held_out_accuracy"`
		Classes int     `json:"classes"`
		Weights string  `json:"weights"`
		Test    float64 `json:"test_accuracy"`
		DataKey string  `json:"data_key"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	if res.Mode != "labels" || res.HeldOut != 32 || res.Classes != 10 || filepath.Dir(res.Weights) != filepath.Join(cache, "classifiers") ||
		!strings.Contains(res.Weights, res.DataKey) || res.Acc < 0.5 {
		t.Errorf("classifier train: %+v", res)
	}

	run := filepath.Join(tmp, "run")
	code, _, errOut = gantrain(t, tinyArgs(run, 4, "--set", "data.cache="+cache, "--set", "eval.every=2", "--set", "eval.n=100")...)
	if code != 0 || strings.Contains(errOut, "no evaluation") {
		t.Fatalf("train: exit %d: %s", code, errOut)
	}
	evals := 0
	for _, m := range readMetrics(t, run) {
		if _, ok := m["fcd"]; ok {
			evals++
			if _, ok := m["classifier_score"]; !ok {
				t.Errorf("quick evaluation without classifier_score: %v", m)
			}
		}
	}
	if evals != 2 {
		t.Errorf("%d quick evaluations in metrics.jsonl, want 2 (steps 2 and 4)", evals)
	}

	evalRun := func() map[string]any {
		t.Helper()
		code, out, errOut := gantrain(t, "eval", "--run", run, "--n", "100")
		if code != 0 {
			t.Fatalf("eval: %s", errOut)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	rep := evalRun()
	if rep["classes"] != 10.0 || rep["fcd"] == nil || rep["modes"] == nil || rep["precision"] == nil {
		t.Errorf("eval with the labels classifier: %v", rep)
	}

	// --nearest: the memorization report against a held-out tenth, and the
	// grid of the nearest samples, each beside three training images.
	grid := filepath.Join(tmp, "near.png")
	code, out, errOut = gantrain(t, "eval", "--run", run, "--n", "100", "--nearest", "5", "--nearest-out", grid)
	if code != 0 {
		t.Fatalf("eval --nearest: %s", errOut)
	}
	var near struct {
		M *struct {
			Train   int     `json:"train_images"`
			Held    int     `json:"held_out_images"`
			Samples int     `json:"samples"`
			Ratio   float64 `json:"median_ratio"`
			Nearer  float64 `json:"nearer_than_held_out_p5"`
			S       struct {
				Min, Median float64
			} `json:"sample_nn"`
		} `json:"memorization"`
	}
	if err := json.Unmarshal([]byte(out), &near); err != nil || near.M == nil {
		t.Fatalf("%q: %v", out, err)
	}
	if m := near.M; m.Train != 288 || m.Held != 32 || m.Samples != 100 || m.Ratio <= 0 || m.Nearer < 0 || m.Nearer > 1 || m.S.Min <= 0 || m.S.Median < m.S.Min {
		t.Errorf("memorization %+v", *m)
	}
	if !strings.Contains(errOut, "gantrain: memorization: ") || !strings.Contains(errOut, grid) {
		t.Errorf("stderr %q", errOut)
	}
	// 5 rows of 4 cells of 28 px with 2 px gaps, enlarged ×2.
	if w, h := pngSize(t, grid); w != 2*(4*30+2) || h != 2*(5*30+2) {
		t.Errorf("grid %d×%d, want %d×%d", w, h, 2*(4*30+2), 2*(5*30+2))
	}

	// The rotation classifier, alone in the store: feature metrics only.
	code, out, errOut = gantrain(t, append([]string{"classifier", "train", "--rotation", "--epochs", "1"}, dataArgs...)...)
	if code != 0 || !strings.Contains(out, `"mode":"rotation"`) {
		t.Fatalf("classifier train --rotation: %s %s", out, errOut)
	}
	if err := os.Remove(res.Weights); err != nil {
		t.Fatal(err)
	}
	rep = evalRun()
	if rep["fcd"] == nil || rep["precision"] == nil || rep["classifier_score"] != nil || rep["modes"] != nil || rep["kl_uniform"] != nil {
		t.Errorf("eval with the rotation classifier: %v", rep)
	}
	for _, k := range []string{"classifier_score", "modes", "kl_uniform"} {
		if v, ok := rep[k]; !ok || v != nil {
			t.Errorf("%s: %v, want null", k, v)
		}
	}
}

// eval --nearest on an MNIST run: the 60,000 training digits against the
// 10,000 test digits.
func TestEvalNearestMNIST(t *testing.T) {
	if _, err := mnist.DefaultDir(); err != nil {
		t.Skipf("real MNIST not in the module cache: %v", err)
	}
	run := filepath.Join(t.TempDir(), "run")
	code, _, errOut := gantrain(t, "train", "--config", "../../configs/dcgan-paper.yaml", "--set", "train.steps=2", "--set", "train.batch_size=16",
		"--set", "eval.every=0", "--set", "output.dir="+run)
	if code != 0 {
		t.Fatalf("train: %s", errOut)
	}
	code, out, errOut := gantrain(t, "eval", "--run", run, "--n", "50", "--nearest", "3", "--no-prdc")
	if code != 0 {
		t.Fatalf("eval --nearest: %s", errOut)
	}
	var rep struct {
		M struct {
			Train   int     `json:"train_images"`
			Held    int     `json:"held_out_images"`
			Samples int     `json:"samples"`
			Nearer  float64 `json:"nearer_than_held_out_p5"`
		} `json:"memorization"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// Two steps of training draw noise, far from every digit.
	if m := rep.M; m.Train != 60000 || m.Held != 10000 || m.Samples != 50 || m.Nearer != 0 {
		t.Errorf("memorization %+v", m)
	}
	if w, h := pngSize(t, filepath.Join(run, "nearest.png")); w != 2*(4*30+2) || h != 2*(3*30+2) {
		t.Errorf("nearest.png %d×%d", w, h)
	}
}

// With data.flip the mirror images count as training images.
func TestMirrored(t *testing.T) {
	// Two images of 2 channels of 2×3.
	in := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24}
	want := []float32{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10, 15, 14, 13, 18, 17, 16, 21, 20, 19, 24, 23, 22}
	if got := mirrored(in, 3); !slices.Equal(got, want) {
		t.Errorf("mirrored: %v, want %v", got, want)
	}
}
