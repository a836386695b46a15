package main

import (
	"math"
	"path/filepath"
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
