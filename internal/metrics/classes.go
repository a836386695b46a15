package metrics

import (
	"errors"
	"fmt"
	"math"
)

// DefaultMinFrac is the share of the samples a class needs to count as a
// mode in Modes (1%).
const DefaultMinFrac = 0.01

// checkProbs validates a row-major n×k matrix of class probabilities: finite,
// non-negative entries, rows summing to 1 within 1e-3 (float32 softmax
// output passes; logits do not). It returns n.
func checkProbs(probs []float64, k int) (int, error) {
	if k <= 0 {
		return 0, fmt.Errorf("metrics: number of classes must be positive, got %d", k)
	}
	n, err := rows(probs, k, "probability")
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errors.New("metrics: no samples")
	}
	for i := range n {
		var s float64
		for _, p := range probs[i*k : i*k+k] {
			if !(p >= 0) || math.IsInf(p, 0) {
				return 0, fmt.Errorf("metrics: sample %d: probability %v is not finite and non-negative", i, p)
			}
			s += p
		}
		if math.Abs(s-1) > 1e-3 {
			return 0, fmt.Errorf("metrics: sample %d: probabilities sum to %v, not 1", i, s)
		}
	}
	return n, nil
}

// ClassifierScore is the Inception-style score exp(E_x[KL(p(y|x) ‖ p(y))])
// of the row-major n×k matrix of class probabilities p(y|x), where p(y) is
// the mean of the rows. Rows are renormalised to sum to exactly 1 (they must
// be within 1e-3 of it already) and 0·log 0 = 0. The result lies in [1, k]
// (clamped against rounding): k for confident predictions spread evenly
// over the classes, 1 when every sample gets the same distribution.
func ClassifierScore(probs []float64, k int) (float64, error) {
	n, err := checkProbs(probs, k)
	if err != nil {
		return 0, err
	}
	py := make([]float64, k)
	sums := make([]float64, n)
	for i := range n {
		row := probs[i*k : i*k+k]
		var s float64
		for _, p := range row {
			s += p
		}
		sums[i] = s
		for c, p := range row {
			py[c] += p / s
		}
	}
	for c := range py {
		py[c] /= float64(n)
	}
	var kl float64
	for i := range n {
		var row float64
		for c, p := range probs[i*k : i*k+k] {
			if p == 0 {
				continue
			}
			p /= sums[i]
			row += p * (math.Log(p) - math.Log(py[c]))
		}
		kl += row
	}
	kl /= float64(n)
	return min(max(math.Exp(kl), 1), float64(k)), nil
}

// Predict returns the arg-max class of each row of the row-major n×k
// probability (or logit) matrix; ties go to the lowest class. NaN is an
// error.
func Predict(probs []float64, k int) ([]int, error) {
	if k <= 0 {
		return nil, fmt.Errorf("metrics: number of classes must be positive, got %d", k)
	}
	n, err := rows(probs, k, "probability")
	if err != nil {
		return nil, err
	}
	out := make([]int, n)
	for i := range n {
		row := probs[i*k : i*k+k]
		best := 0
		for c, p := range row {
			if math.IsNaN(p) {
				return nil, fmt.Errorf("metrics: sample %d: NaN score", i)
			}
			if p > row[best] {
				best = c
			}
		}
		out[i] = best
	}
	return out, nil
}

// ClassHistogram counts the labels in [0, k); a label outside is an error.
func ClassHistogram(labels []int, k int) ([]int, error) {
	if k <= 0 {
		return nil, fmt.Errorf("metrics: number of classes must be positive, got %d", k)
	}
	h := make([]int, k)
	for i, l := range labels {
		if l < 0 || l >= k {
			return nil, fmt.Errorf("metrics: label %d of sample %d is outside [0, %d)", l, i, k)
		}
		h[l]++
	}
	return h, nil
}

// ClassHistogramProbs is ClassHistogram of Predict(probs, k).
func ClassHistogramProbs(probs []float64, k int) ([]int, error) {
	labels, err := Predict(probs, k)
	if err != nil {
		return nil, err
	}
	return ClassHistogram(labels, k)
}

// Modes returns the number of classes holding at least minFrac·n of the n
// samples. n ≤ 0 means the histogram's total; minFrac ≤ 0 means
// DefaultMinFrac (1%).
func Modes(hist []int, n int, minFrac float64) int {
	if n <= 0 {
		n = 0
		for _, h := range hist {
			n += max(h, 0)
		}
	}
	if minFrac <= 0 {
		minFrac = DefaultMinFrac
	}
	// The relative slack keeps a count exactly at the threshold from being
	// lost to the rounding of minFrac·n (0.01 is not exact in binary).
	thr := minFrac * float64(n) * (1 - 1e-12)
	modes := 0
	for _, h := range hist {
		if h > 0 && float64(h) >= thr {
			modes++
		}
	}
	return modes
}

// KLUniform returns KL(hist/n ‖ uniform over len(hist) classes) in nats, n
// the histogram's total: 0 when balanced, log K when every sample is in one
// class. Non-positive counts are empty classes; an empty histogram gives 0.
func KLUniform(hist []int) float64 {
	k := len(hist)
	n := 0
	for _, h := range hist {
		n += max(h, 0)
	}
	if n == 0 {
		return 0
	}
	var kl float64
	for _, h := range hist {
		if h <= 0 {
			continue
		}
		p := float64(h) / float64(n)
		kl += p * math.Log(p*float64(k))
	}
	return max(kl, 0)
}

// CondAccuracy is the fraction of samples whose predicted class equals the
// class the conditional generator was asked for (0 for no samples). The
// slices must have the same length; it panics otherwise.
func CondAccuracy(predicted, asked []int) float64 {
	if len(predicted) != len(asked) {
		panic(fmt.Sprintf("metrics: CondAccuracy: %d predictions for %d requested labels", len(predicted), len(asked)))
	}
	if len(asked) == 0 {
		return 0
	}
	hit := 0
	for i, p := range predicted {
		if p == asked[i] {
			hit++
		}
	}
	return float64(hit) / float64(len(asked))
}
