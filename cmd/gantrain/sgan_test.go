package main

import (
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/gantrain/gantrain/internal/npy"
)

// sganArgs trains the semi-supervised GAN a few steps on the committed
// subset (320 training, 100 test images) with 20 labels.
func sganArgs(dir string, steps int, extra ...string) []string {
	args := []string{"train", "--config", "../../configs/sgan.yaml",
		"--set", "data.name=idx", "--set", "data.path=" + tinyData, "--set", "data.labeled=20",
		"--set", "train.batch_size=16", "--set", "train.steps=" + itoa(steps), "--set", "train.log_every=1",
		"--set", "eval.every=0", "--set", "output.dir=" + dir}
	return append(args, extra...)
}

// The semi-supervised GAN end to end: train records its labelled images;
// eval --accuracy and classify agree with each other image by image, on
// the test images as a .npy file and as a folder of PNGs; the supervised
// baseline runs by the same commands.
func TestSGANTrainClassifyAndAccuracy(t *testing.T) {
	tmp := t.TempDir()
	run := filepath.Join(tmp, "sgan")
	code, _, errOut := gantrain(t, sganArgs(run, 60, "--set", "eval.every=30")...)
	if code != 0 {
		t.Fatalf("train exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "20 labelled images (2 per class") {
		t.Errorf("train does not say which labels it keeps: %s", errOut)
	}
	ms := readMetrics(t, run)
	if _, ok := ms[0]["loss_sup"]; !ok || len(ms) != 60 {
		t.Fatalf("%d metrics lines, first %v: want 60 with loss_sup", len(ms), ms[0])
	}
	latest, err := checkpoint.Latest(run)
	if err != nil {
		t.Fatal(err)
	}
	c, err := checkpoint.Read(latest)
	if err != nil {
		t.Fatal(err)
	}
	train, err := mnist.Load(tinyData, "train")
	if err != nil {
		t.Fatal(err)
	}
	want, err := data.PickLabeled(data.FromMNIST(train), 20, 1)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.State.Labeled) != fmt.Sprint(want) {
		t.Errorf("state.json labeled %v, want %v", c.State.Labeled, want)
	}

	// The test images as float32 .npy in [−1, 1] and as PNG files.
	test, err := mnist.Load(tinyData, "test")
	if err != nil {
		t.Fatal(err)
	}
	imgs := data.Scaled(test.Images)
	npyPath := filepath.Join(tmp, "test.npy")
	if err := npy.WriteFloat32File(npyPath, []int{test.N, 1, 28, 28}, imgs); err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(tmp, "pngs")
	os.MkdirAll(folder, 0o755)
	for i := 0; i < 12; i++ {
		g := &image.Gray{Pix: test.Images[i*784 : (i+1)*784], Stride: 28, Rect: image.Rect(0, 0, 28, 28)}
		f, _ := os.Create(filepath.Join(folder, fmt.Sprintf("t%03d.png", i)))
		png.Encode(f, g)
		f.Close()
	}

	code, out, errOut := gantrain(t, "classify", "--run", run, "--images", npyPath)
	if code != 0 {
		t.Fatalf("classify exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != test.N {
		t.Fatalf("classify printed %d lines for %d images", len(lines), test.N)
	}
	correct, classes := 0, map[string]bool{}
	for i, l := range lines {
		idx, class, ok := strings.Cut(l, "\t")
		if !ok || idx != itoa(i) {
			t.Fatalf("line %d: %q", i, l)
		}
		classes[class] = true
		if class == itoa(int(test.Labels[i])) {
			correct++
		}
	}
	code, out, errOut = gantrain(t, "eval", "--run", run, "--accuracy")
	if code != 0 {
		t.Fatalf("eval --accuracy exit %d: %s", code, errOut)
	}
	var rep accuracyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.N != test.N || rep.Correct != correct || rep.Accuracy != float64(correct)/float64(test.N) || rep.Labeled != 20 || rep.Supervised {
		t.Errorf("eval --accuracy %+v; classify got %d of %d right", rep, correct, test.N)
	}
	// Training measured the same every eval.every steps.
	if acc, ok := ms[59]["test_acc"]; !ok || acc != rep.Accuracy {
		t.Errorf("metrics.jsonl's test_acc at step 60: %v (present %v), eval --accuracy %v", acc, ok, rep.Accuracy)
	}
	if _, ok := ms[29]["test_acc"]; !ok {
		t.Errorf("no test_acc at step 30: %v", ms[29])
	}
	if len(rep.PerClass) != 10 {
		t.Errorf("per_class %v", rep.PerClass)
	}
	t.Logf("after 60 steps of 16 images: %d of %d test images right, %d classes predicted", correct, test.N, len(classes))
	// It learnt something (chance is 10%), and the folder check below
	// compares more than one class.
	if correct < 30 || len(classes) < 5 {
		t.Errorf("%d of %d right, %d classes predicted: not a classifier", correct, test.N, len(classes))
	}
	first := map[string]bool{}
	for _, l := range lines[:12] {
		first[strings.SplitN(l, "\t", 2)[1]] = true
	}
	if len(first) < 3 {
		t.Errorf("the first 12 images fall in %d classes: the folder check shows little", len(first))
	}

	// The PNG folder gives the same classes as the .npy rows.
	code, out, errOut = gantrain(t, "classify", "--run", run, "--images", folder)
	if code != 0 {
		t.Fatalf("classify folder exit %d: %s", code, errOut)
	}
	for i, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if want := fmt.Sprintf("t%03d.png\t%s", i, strings.SplitN(lines[i], "\t", 2)[1]); l != want {
			t.Errorf("folder line %d %q, want %q", i, l, want)
		}
	}

	// The baseline: D alone on the labelled images.
	sup := filepath.Join(tmp, "sup")
	if code, _, errOut := gantrain(t, sganArgs(sup, 3, "--set", "train.supervised_only=true")...); code != 0 {
		t.Fatalf("supervised-only exit %d: %s", code, errOut)
	}
	code, out, errOut = gantrain(t, "eval", "--run", sup, "--accuracy")
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || !rep.Supervised || rep.N != test.N {
		t.Errorf("supervised-only eval --accuracy: exit %d, %s %s", code, out, errOut)
	}
}

// tinyPNG is a 28×28 gray PNG.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var b strings.Builder
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 28, 28))); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}
