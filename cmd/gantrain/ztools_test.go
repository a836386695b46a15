package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/gantrain/gantrain/internal/npy"
)

// tinyRun trains a model for two steps on the committed subset.
func tinyRun(t *testing.T, model string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), model)
	if code, _, errOut := gantrain(t, tinyArgs(dir, 2, "--set", "model="+model)...); code != 0 {
		t.Fatalf("training %s: %s", model, errOut)
	}
	return dir
}

func mustRun(t *testing.T, args ...string) {
	t.Helper()
	if code, _, errOut := gantrain(t, args...); code != 0 {
		t.Fatalf("gantrain %v: exit %d: %s", args, code, errOut)
	}
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSampleFormatsAndSavedZ(t *testing.T) {
	run := tinyRun(t, "dcgan")
	tmp := t.TempDir()
	p := func(name string) string { return filepath.Join(tmp, name) }

	// --save-z then --z reproduces the images exactly.
	mustRun(t, "sample", "--run", run, "--seed", "42", "--n", "12", "--format", "npy", "--out", p("a.npy"), "--save-z", p("z.npy"))
	mustRun(t, "sample", "--run", run, "--z", p("z.npy"), "--out", p("b.npy"))
	if !bytes.Equal(read(t, p("a.npy")), read(t, p("b.npy"))) {
		t.Fatal("sampling from --z did not reproduce the --save-z images")
	}
	a, err := npy.ReadFloat32File(p("a.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Shape) != 4 || a.Shape[0] != 12 || a.Shape[1] != 1 || a.Shape[2] != 28 || a.Shape[3] != 28 {
		t.Fatalf("npy shape %v, want (12, 1, 28, 28)", a.Shape)
	}
	for _, v := range a.Data {
		if v < -1 || v > 1 {
			t.Fatalf("value %v outside [-1, 1]", v)
		}
	}
	z, err := npy.ReadFloat32File(p("z.npy"))
	if err != nil || len(z.Shape) != 2 || z.Shape[0] != 12 || z.Shape[1] != 100 {
		t.Fatalf("z.npy: %v %v", z, err)
	}
	// --seed 42 --n 1 is the first vector of --seed 42 --n 12.
	mustRun(t, "sample", "--run", run, "--seed", "42", "--n", "1", "--out", p("one.npy"), "--save-z", p("z1.npy"))
	z1, _ := npy.ReadFloat32File(p("z1.npy"))
	for i := range z1.Data {
		if z1.Data[i] != z.Data[i] {
			t.Fatal("--seed 42 --n 1 is not the first vector of --seed 42 --n 12")
		}
	}

	// One PNG per image.
	mustRun(t, "sample", "--run", run, "--n", "3", "--format", "pngs", "--out", p("digits"))
	for _, f := range []string{"000000.png", "000001.png", "000002.png"} {
		if w, h := pngSize(t, filepath.Join(p("digits"), f)); w != 28 || h != 28 {
			t.Errorf("%s is %dx%d", f, w, h)
		}
	}
	// Wrong inputs for --z.
	npy.WriteFloat32File(p("bad.npy"), []int{2, 99}, make([]float32, 198))
	code, _, errOut := gantrain(t, "sample", "--run", run, "--z", p("bad.npy"), "--out", p("x.png"))
	if code != 2 || !strings.Contains(errOut, "bad.npy") || !strings.Contains(errOut, "(N, 100)") {
		t.Errorf("wrong-shape --z: exit %d, %q", code, errOut)
	}
	os.WriteFile(p("f64.npy"), []byte("\x93NUMPY\x01\x00v\x00{'descr': '<f8', 'fortran_order': False, 'shape': (1, 100), }"+strings.Repeat(" ", 59)+"\n"+strings.Repeat("\x00", 800)), 0o644)
	code, _, errOut = gantrain(t, "sample", "--run", run, "--z", p("f64.npy"), "--out", p("x.png"))
	if code != 2 || !strings.Contains(errOut, "f64.npy") || !strings.Contains(errOut, "float32") {
		t.Errorf("float64 --z: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(p("x.png")); err == nil {
		t.Error("a failed sample wrote its output")
	}
}

func TestConditionalSamplesCarryLabels(t *testing.T) {
	run := tinyRun(t, "cgan")
	tmp := t.TempDir()
	mustRun(t, "sample", "--run", run, "--class", "0,3,7", "--n", "4", "--format", "npy", "--out", filepath.Join(tmp, "s.npy"))
	l, err := npy.ReadInt64File(filepath.Join(tmp, "s.labels.npy"))
	if err != nil {
		t.Fatal(err)
	}
	want := []int64{0, 0, 0, 0, 3, 3, 3, 3, 7, 7, 7, 7}
	if len(l.Data) != len(want) {
		t.Fatalf("labels %v", l.Data)
	}
	for i := range want {
		if l.Data[i] != want[i] {
			t.Fatalf("labels %v, want %v", l.Data, want)
		}
	}
	mustRun(t, "sample", "--run", run, "--class", "3", "--n", "16", "--out", filepath.Join(tmp, "threes.png"))
	if got := strings.Fields(string(read(t, filepath.Join(tmp, "threes.labels.txt")))); len(got) != 16 || got[0] != "3" {
		t.Errorf("threes.labels.txt: %v", got)
	}
	// Label morph and a fixed class.
	mustRun(t, "interpolate", "--run", run, "--from-class", "1", "--to-class", "7", "--steps", "5", "--out", filepath.Join(tmp, "m.png"))
	if w, _ := pngSize(t, filepath.Join(tmp, "m.png")); w != 5*30+2 {
		t.Errorf("morph strip width %d", w)
	}
	mustRun(t, "interpolate", "--run", run, "--class", "4", "--from", "1", "--to", "2", "--out", filepath.Join(tmp, "i.png"))
}

func TestInterpolateIsDeterministic(t *testing.T) {
	run := tinyRun(t, "dcgan")
	tmp := t.TempDir()
	for _, args := range [][]string{
		{"--from", "3", "--to", "17", "--steps", "6"},
		{"--path", "3,17,42", "--method", "lerp", "--steps", "4"},
		{"--expr", "mean(1,2) - s3 + 0.5*s4"},
	} {
		for _, name := range []string{"a.png", "b.png", "a.gif", "b.gif"} {
			mustRun(t, append([]string{"interpolate", "--run", run, "--out", filepath.Join(tmp, name)}, args...)...)
		}
		if !bytes.Equal(read(t, filepath.Join(tmp, "a.png")), read(t, filepath.Join(tmp, "b.png"))) ||
			!bytes.Equal(read(t, filepath.Join(tmp, "a.gif")), read(t, filepath.Join(tmp, "b.gif"))) {
			t.Errorf("%v: two runs gave different bytes", args)
		}
	}
	// The arithmetic row: 3 operands + the result.
	mustRun(t, "interpolate", "--run", run, "--expr", "s12 + s7 - s3", "--out", filepath.Join(tmp, "ar.png"))
	if w, _ := pngSize(t, filepath.Join(tmp, "ar.png")); w != 4*30+2 {
		t.Errorf("arithmetic row width %d, want 4 images", w)
	}
	// Errors point at the position.
	code, _, errOut := gantrain(t, "interpolate", "--run", run, "--expr", "s12 + + s3", "--out", filepath.Join(tmp, "x.png"))
	if code != 2 || !strings.Contains(errOut, "col 7") {
		t.Errorf("bad expression: exit %d, %q", code, errOut)
	}
	code, _, errOut = gantrain(t, "interpolate", "--run", run, "--from", "1", "--to", "2", "--method", "cubic", "--out", filepath.Join(tmp, "x.png"))
	if code != 2 || !strings.Contains(errOut, "cubic") {
		t.Errorf("bad method: exit %d, %q", code, errOut)
	}
}

// eval of real digits saved as samples: the numbers of a perfect generator.
func TestEvalSamplesOfRealDigits(t *testing.T) {
	dir, err := mnist.DefaultDir()
	if err != nil {
		t.Skipf("real MNIST not in the module cache: %v", err)
	}
	test, err := mnist.Load(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	imgs := make([]float32, n*784)
	labels := make([]int64, n)
	for i := range imgs {
		imgs[i] = (float32(test.Images[10*784+i])/255 - 0.5) / 0.5 // from image 10 on
	}
	for i := range labels {
		labels[i] = int64(test.Labels[10+i])
	}
	tmp := t.TempDir()
	npy.WriteFloat32File(filepath.Join(tmp, "real.npy"), []int{n, 1, 28, 28}, imgs)
	npy.WriteInt64File(filepath.Join(tmp, "real.labels.npy"), []int{n}, labels)
	code, out, errOut := gantrain(t, "eval", "--samples", filepath.Join(tmp, "real.npy"))
	if code != 0 {
		t.Fatalf("eval: %s", errOut)
	}
	var rep map[string]float64
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout %q is not one JSON object: %v", out, err)
	}
	for _, k := range []string{"fcd", "classifier_score", "modes", "kl_uniform", "precision", "recall", "density", "coverage", "cond_acc"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("no %s in %v", k, rep)
		}
	}
	if rep["modes"] != 10 || rep["cond_acc"] < 0.97 || rep["fcd"] > 30 {
		t.Errorf("real digits scored %v", rep)
	}
	code, _, errOut = gantrain(t, "eval", "--samples", filepath.Join(tmp, "real.labels.npy"))
	if code != 2 || !strings.Contains(errOut, "real.labels.npy") {
		t.Errorf("labels as samples: exit %d, %q", code, errOut)
	}
}
