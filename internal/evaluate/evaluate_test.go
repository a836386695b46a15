package evaluate

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/mnist"
)

func testSet(t *testing.T) *mnist.Dataset {
	t.Helper()
	dir, err := mnist.DefaultDir()
	if err != nil {
		t.Skipf("real MNIST not in the module cache: %v", err)
	}
	ds, err := mnist.Load(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// half returns images [lo, hi) of ds as a data set.
func half(ds *mnist.Dataset, lo, hi int) *mnist.Dataset {
	return &mnist.Dataset{Images: ds.Images[lo*784 : hi*784], Labels: ds.Labels[lo:hi], N: hi - lo, Rows: 28, Cols: 28, Dir: ds.Dir, Split: ds.Split}
}

// parity returns the images of ds with even (odd = false) or odd indices.
// (MNIST's test set is not shuffled: its first and second halves come from
// different writers, so contiguous halves differ.)
func parity(ds *mnist.Dataset, odd bool) *mnist.Dataset {
	out := &mnist.Dataset{Rows: 28, Cols: 28, Dir: ds.Dir, Split: ds.Split}
	for i := 0; i < ds.N; i++ {
		if (i%2 == 1) == odd {
			out.Images = append(out.Images, ds.Images[i*784:(i+1)*784]...)
			out.Labels = append(out.Labels, ds.Labels[i])
			out.N++
		}
	}
	return out
}

// Real test digits measured against other real test digits: the best case.
func TestRealDigitsScoreAsReal(t *testing.T) {
	ds := testSet(t)
	ev, err := New(parity(ds, true), 5000)
	if err != nil {
		t.Fatal(err)
	}
	defer ev.Close()
	sample := parity(ds, false)
	labels := make([]int, sample.N)
	for i := range labels {
		labels[i] = int(sample.Labels[i])
	}
	rep, err := ev.Evaluate(classifier.Images(sample, sample.N), labels, true)
	if err != nil {
		t.Fatal(err)
	}
	// The classifier's accuracy on the same images, independently.
	acc, err := ev.clf.Accuracy(sample)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fcd %.2f, classifier score %.2f, accuracy %.4f", rep.FCD, *rep.ClassifierScore, acc)
	if rep.FCD > 15 {
		t.Errorf("fcd %.2f between two halves of the test set, want near 0", rep.FCD)
	}
	if *rep.Modes != 10 || *rep.KLUniform > 0.02 {
		t.Errorf("modes %d, kl_uniform %.4f; want 10 and ~0", *rep.Modes, *rep.KLUniform)
	}
	if rep.CondAcc == nil || math.Abs(*rep.CondAcc-acc) > 1e-12 || acc < 0.98 {
		t.Errorf("cond_acc %v, classifier accuracy %.4f: want equal and ≥ 0.98", rep.CondAcc, acc)
	}
	if *rep.ClassifierScore < 9 {
		t.Errorf("classifier score %.2f, want near 10", *rep.ClassifierScore)
	}
	if *rep.Precision < 0.7 || *rep.Recall < 0.7 || *rep.Coverage < 0.8 {
		t.Errorf("precision %.3f recall %.3f coverage %.3f, want high", *rep.Precision, *rep.Recall, *rep.Coverage)
	}

	// One digit only: a collapsed "generator".
	var ones []float32
	for i := 0; i < sample.N && len(ones) < 500*784; i++ {
		if sample.Labels[i] == 1 {
			ones = append(ones, classifier.Images(half(sample, i, i+1), 1)...)
		}
	}
	col, err := ev.Evaluate(ones, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if *col.Modes != 1 || *col.KLUniform < 2 || col.FCD < 10*rep.FCD || *col.Recall > 0.3 {
		t.Errorf("only ones: modes %d kl %.2f fcd %.1f recall %.3f; want 1 mode, kl≈log 10, large fcd, low recall", *col.Modes, *col.KLUniform, col.FCD, *col.Recall)
	}
}
