package metrics

import (
	"math"
	"testing"
)

const nClasses = 10

func TestClassifierScore(t *testing.T) {
	// Confident predictions spread evenly over the K classes: K.
	n := 50
	p := make([]float64, n*nClasses)
	for i := range n {
		p[i*nClasses+i%nClasses] = 1
	}
	if s, err := ClassifierScore(p, nClasses); err != nil || !near(s, nClasses, 1e-9) {
		t.Errorf("one-hot, balanced: score %v, %v; want %d", s, err, nClasses)
	}
	// Every sample with the same distribution (uniform or not): 1.
	for _, row := range [][]float64{
		{.1, .1, .1, .1, .1, .1, .1, .1, .1, .1},
		{.5, .3, .2, 0, 0, 0, 0, 0, 0, 0},
		{0, 0, 0, 0, 0, 0, 0, 1, 0, 0},
	} {
		p := make([]float64, 0, 20*nClasses)
		for range 20 {
			p = append(p, row...)
		}
		if s, err := ClassifierScore(p, nClasses); err != nil || !near(s, 1, 1e-12) {
			t.Errorf("identical rows %v: score %v, %v; want 1", row, s, err)
		}
	}
	// By hand, K = 2: p1 = (1,0), p2 = (½,½), p(y) = (¾,¼); KL1 = log 4/3,
	// KL2 = ½ log(⅔) + ½ log 2 = ½ log 4/3; score = (4/3)^¾.
	if s, err := ClassifierScore([]float64{1, 0, .5, .5}, 2); err != nil || !near(s, math.Pow(4.0/3, .75), 1e-12) {
		t.Errorf("hand case: score %v, %v; want %v", s, err, math.Pow(4.0/3, .75))
	}
	// A mixed case lies strictly inside (1, K).
	if s, err := ClassifierScore([]float64{.9, .1, 0, .2, .8, 0, 0, .5, .5}, 3); err != nil || !(s > 1 && s < 3) {
		t.Errorf("mixed case: score %v, %v; want in (1, 3)", s, err)
	}

	for name, bad := range map[string][]float64{
		"negative":   {1.5, -.5},
		"sum ≠ 1":    {.2, .2},
		"NaN":        {math.NaN(), 1},
		"ragged":     {.5, .5, 1},
		"no samples": {},
	} {
		if _, err := ClassifierScore(bad, 2); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestHistogramModesKL(t *testing.T) {
	labels := make([]int, 0, 1000)
	for i := range 1000 {
		labels = append(labels, i%nClasses)
	}
	h, err := ClassHistogram(labels, nClasses)
	if err != nil {
		t.Fatal(err)
	}
	for c, v := range h {
		if v != 100 {
			t.Errorf("balanced histogram[%d] = %d, want 100", c, v)
		}
	}
	if m := Modes(h, 1000, 0.01); m != 10 {
		t.Errorf("balanced: %d modes, want 10", m)
	}
	if kl := KLUniform(h); kl != 0 {
		t.Errorf("balanced: KL %v, want 0", kl)
	}

	one := make([]int, nClasses)
	one[3] = 1000
	if m := Modes(one, 1000, 0); m != 1 {
		t.Errorf("one class: %d modes, want 1", m)
	}
	if kl := KLUniform(one); !near(kl, math.Log(nClasses), 1e-12) {
		t.Errorf("one class: KL %v, want log 10", kl)
	}

	// 0.5% is below the 1% threshold; exactly 1% counts.
	h = []int{5, 10, 985, 0, 0, 0, 0, 0, 0, 0}
	if m := Modes(h, 1000, 0.01); m != 2 {
		t.Errorf("5/10/985 of 1000: %d modes, want 2 (0.5%% is not a mode, 1%% is)", m)
	}
	if m := Modes(h, 0, 0); m != 2 {
		t.Errorf("n from the histogram, default threshold: %d modes, want 2", m)
	}
	// Two equal classes: KL = log(10/2).
	if kl := KLUniform([]int{7, 7, 0, 0, 0, 0, 0, 0, 0, 0}); !near(kl, math.Log(5), 1e-12) {
		t.Errorf("two classes: KL %v, want log 5", kl)
	}
	if kl := KLUniform(make([]int, nClasses)); kl != 0 {
		t.Errorf("empty histogram: KL %v, want 0", kl)
	}

	if _, err := ClassHistogram([]int{0, 10}, nClasses); err == nil {
		t.Error("label 10 of 10 classes: no error")
	}
	if _, err := ClassHistogram([]int{-1}, nClasses); err == nil {
		t.Error("label -1: no error")
	}

	// Histogram of probabilities: arg-max, ties to the lowest class.
	probs := []float64{
		.1, .7, .2,
		.4, .4, .2,
		0, .1, .9,
		.2, .3, .5,
	}
	h, err = ClassHistogramProbs(probs, 3)
	if err != nil || h[0] != 1 || h[1] != 1 || h[2] != 2 {
		t.Errorf("histogram of probs = %v, %v; want [1 1 2]", h, err)
	}
	if _, err := Predict([]float64{math.NaN(), 1}, 2); err == nil {
		t.Error("Predict with NaN: no error")
	}
}

func TestCondAccuracy(t *testing.T) {
	for _, c := range []struct {
		pred, asked []int
		want        float64
	}{
		{[]int{1, 2, 3}, []int{1, 2, 3}, 1},
		{[]int{1, 2, 3}, []int{0, 0, 0}, 0},
		{[]int{1, 2, 3, 4}, []int{1, 2, 3, 0}, 0.75},
		{nil, nil, 0},
	} {
		if got := CondAccuracy(c.pred, c.asked); got != c.want {
			t.Errorf("CondAccuracy(%v, %v) = %v, want %v", c.pred, c.asked, got, c.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("mismatched lengths: no panic")
		}
	}()
	CondAccuracy([]int{1}, []int{1, 2})
}
