package evaluate

import (
	"fmt"
	"math"
	"slices"

	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/metrics"
)

// Memorization compares how near the samples lie to the training images
// with how near real images the model did not learn from (held out) lie
// to them, in the classifier's feature space. A generator that copies its
// training images has samples much nearer the training set than held-out
// images are; one that makes new images has samples about as near as
// held-out images, or farther.
type Memorization struct {
	TrainImages   int `json:"train_images"`
	HeldOutImages int `json:"held_out_images"`
	Samples       int `json:"samples"`
	// SampleNN and HeldOutNN summarise the distance of each sample, and of
	// each held-out image, to its nearest training image.
	SampleNN  Spread `json:"sample_nn"`
	HeldOutNN Spread `json:"held_out_nn"`
	// MedianRatio is SampleNN.Median / HeldOutNN.Median: about 1 or more
	// for new images, well below 1 for copies.
	MedianRatio float64 `json:"median_ratio"`
	// NearerThanHeldOutP5 is the fraction of samples nearer a training
	// image than the 5th percentile of the held-out images' distances:
	// about 0.05 (or less) when samples are new, towards 1 when copied.
	NearerThanHeldOutP5 float64 `json:"nearer_than_held_out_p5"`
}

// Spread summarises distances.
type Spread struct {
	Min    float64 `json:"min"`
	P5     float64 `json:"p5"`
	Median float64 `json:"median"`
	Mean   float64 `json:"mean"`
}

// Quantile returns the q-quantile of sorted values by linear interpolation
// between order statistics (numpy's default).
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(lo)
	return sorted[lo]*(1-f) + sorted[lo+1]*f
}

func spread(d []float64) Spread {
	s := slices.Clone(d)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	return Spread{Min: s[0], P5: quantile(s, 0.05), Median: quantile(s, 0.5), Mean: sum / float64(len(s))}
}

// Neighbours are the k nearest training images of each sample, (n, k)
// row-major, nearest first.
type Neighbours struct {
	K    int
	Idx  []int
	Dist []float64
}

// Memorize measures memorization from features (rows of
// classifier.Features) of training images, held-out real images and
// samples, and returns the k nearest training images of each sample.
func Memorize(train, heldOut, samples []float64, k int) (*Memorization, *Neighbours, error) {
	d := classifier.Features
	nt, nh, ns := len(train)/d, len(heldOut)/d, len(samples)/d
	if nt < k || nh < 2 || ns < 1 {
		return nil, nil, fmt.Errorf("evaluate: memorization needs at least %d training images, 2 held-out images and 1 sample; got %d, %d, %d", k, nt, nh, ns)
	}
	idx, dist, err := metrics.Nearest(samples, train, d, k)
	if err != nil {
		return nil, nil, err
	}
	_, hd, err := metrics.Nearest(heldOut, train, d, 1)
	if err != nil {
		return nil, nil, err
	}
	sd := make([]float64, ns)
	for i := range sd {
		sd[i] = dist[i*k]
	}
	m := &Memorization{TrainImages: nt, HeldOutImages: nh, Samples: ns, SampleNN: spread(sd), HeldOutNN: spread(hd)}
	if m.HeldOutNN.Median > 0 {
		m.MedianRatio = m.SampleNN.Median / m.HeldOutNN.Median
	}
	nearer := 0
	for _, v := range sd {
		if v < m.HeldOutNN.P5 {
			nearer++
		}
	}
	m.NearerThanHeldOutP5 = float64(nearer) / float64(ns)
	return m, &Neighbours{K: k, Idx: idx, Dist: dist}, nil
}

// Features returns the classifier's features (n, classifier.Features) of
// images (n, C·H·W) in [−1, 1].
func (e *Evaluator) Features(images []float32) ([]float64, error) {
	r, err := e.clf.Run(images)
	if err != nil {
		return nil, err
	}
	return r.Features, nil
}
