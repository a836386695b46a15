// Package evaluate measures what a generator learned, in the feature space
// of an evaluation classifier (internal/classifier: the shipped MNIST one,
// or one trained on the run's data) and against real images of the data: the Fréchet distance of features (FCD, the MNIST analogue of FID),
// the classifier score (the analogue of the Inception score), the modes and
// the class balance (mode collapse), precision/recall and density/coverage,
// and for conditional models how often the asked-for digit is produced.
// With a rotation classifier (unlabelled data) only the feature metrics
// exist: the class metrics are reported as null.
package evaluate

import (
	"fmt"
	"math"
	"time"

	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/metrics"
	"github.com/gantrain/gantrain/internal/mnist"
	"gonum.org/v1/gonum/mat"
)

// Report is one evaluation; it is printed as JSON by gantrain eval and
// logged into metrics.jsonl during training.
type Report struct {
	N               int      `json:"n"`
	FCD             float64  `json:"fcd"`
	ClassifierScore *float64 `json:"classifier_score"`
	Modes           *int     `json:"modes"`
	KLUniform       *float64 `json:"kl_uniform"`
	// Classes is the number of classes the modes are counted among (0 with
	// a rotation classifier, whose outputs are no classes of the data).
	Classes   int      `json:"classes"`
	Precision *float64 `json:"precision,omitempty"`
	Recall    *float64 `json:"recall,omitempty"`
	Density   *float64 `json:"density,omitempty"`
	Coverage  *float64 `json:"coverage,omitempty"`
	CondAcc   *float64 `json:"cond_acc,omitempty"`
	Seconds   float64  `json:"seconds"`
	// Memorization is gantrain eval --nearest's report.
	Memorization *Memorization `json:"memorization,omitempty"`
}

// Evaluator holds the classifier and the reference statistics.
type Evaluator struct {
	clf      *classifier.Runner
	shape    classifier.Shape
	classes  int       // 0: rotation classifier, no class metrics
	refFeat  []float64 // (n, Features) of the reference images
	refMu    []float64
	refSigma *mat.SymDense
}

// New prepares an evaluator against the first nRef images of ref (the
// MNIST test set), with the embedded classifier.
func New(ref *mnist.Dataset, nRef int) (*Evaluator, error) {
	net, err := classifier.Default()
	if err != nil {
		return nil, err
	}
	return NewWith(net, ref, nRef)
}

// NewWith is New with a given classifier.
func NewWith(net *classifier.Net, ref *mnist.Dataset, nRef int) (*Evaluator, error) {
	if ref.Rows != net.Shape.H || ref.Cols != net.Shape.W || net.Shape.C != 1 {
		return nil, fmt.Errorf("evaluate: the reference %s holds %dx%d images, the classifier needs %dx%d", ref.Dir, ref.Rows, ref.Cols, net.Shape.H, net.Shape.W)
	}
	return NewImages(net, classifier.Images(ref, nRef))
}

// NewImages prepares an evaluator with the given classifier against
// reference images (n, C·H·W) in [−1, 1] of the classifier's shape.
func NewImages(net *classifier.Net, ref []float32) (*Evaluator, error) {
	clf, err := classifier.NewRunner(net, 100)
	if err != nil {
		return nil, err
	}
	e := &Evaluator{clf: clf, shape: net.Shape}
	if net.Mode() == classifier.ModeLabels {
		e.classes = net.Shape.K
	}
	r, err := clf.Run(ref)
	if err != nil {
		clf.Close()
		return nil, err
	}
	if r.N < 2 {
		clf.Close()
		return nil, fmt.Errorf("evaluate: %d reference images; need at least 2", r.N)
	}
	e.refFeat = r.Features
	if e.refMu, e.refSigma, err = metrics.Stats(r.Features, classifier.Features); err != nil {
		return nil, err
	}
	return e, nil
}

// Shape is the classifier's: the images Evaluate takes and its classes.
func (e *Evaluator) Shape() classifier.Shape { return e.shape }

// Classes is the number of classes of the data (0 when the classifier
// knows none: a rotation classifier).
func (e *Evaluator) Classes() int { return e.classes }

// Close releases the classifier.
func (e *Evaluator) Close() error { return e.clf.Close() }

// Evaluate measures n images (n, C·H·W) in [−1, 1]. asked holds the labels a
// conditional model was asked for (nil otherwise). prdc adds precision,
// recall, density and coverage (k-NN against the reference, the slower part).
func (e *Evaluator) Evaluate(images []float32, asked []int, prdc bool) (*Report, error) {
	rep, _, err := e.EvaluateFeatures(images, asked, prdc)
	return rep, err
}

// EvaluateFeatures is Evaluate that also returns the images' features
// (n, classifier.Features).
func (e *Evaluator) EvaluateFeatures(images []float32, asked []int, prdc bool) (*Report, []float64, error) {
	rep, r, err := e.evaluate(images, asked, prdc)
	if err != nil {
		return nil, nil, err
	}
	return rep, r.Features, nil
}

func (e *Evaluator) evaluate(images []float32, asked []int, prdc bool) (*Report, *classifier.Result, error) {
	start := time.Now()
	r, err := e.clf.Run(images)
	if err != nil {
		return nil, nil, err
	}
	if r.N < 2 {
		return nil, nil, fmt.Errorf("evaluate: %d images; need at least 2", r.N)
	}
	if asked != nil && len(asked) != r.N {
		return nil, nil, fmt.Errorf("evaluate: %d labels for %d images", len(asked), r.N)
	}
	rep := &Report{N: r.N, Classes: e.classes}
	mu, sigma, err := metrics.Stats(r.Features, classifier.Features)
	if err != nil {
		return nil, nil, err
	}
	if rep.FCD, err = metrics.FrechetDistance(mu, sigma, e.refMu, e.refSigma); err != nil {
		return nil, nil, err
	}
	if e.classes > 0 {
		cs, err := metrics.ClassifierScore(r.Probs, e.classes)
		if err != nil {
			return nil, nil, err
		}
		hist, err := metrics.ClassHistogram(r.Pred, e.classes)
		if err != nil {
			return nil, nil, err
		}
		modes, kl := metrics.Modes(hist, r.N, 0.01), metrics.KLUniform(hist)
		rep.ClassifierScore, rep.Modes, rep.KLUniform = &cs, &modes, &kl
	}
	if prdc {
		res, err := metrics.PRDC(e.refFeat, r.Features, classifier.Features, metrics.DefaultKPR, metrics.DefaultKDC)
		if err != nil {
			return nil, nil, err
		}
		rep.Precision, rep.Recall, rep.Density, rep.Coverage = &res.Precision, &res.Recall, &res.Density, &res.Coverage
	}
	if asked != nil && e.classes > 0 {
		a := metrics.CondAccuracy(r.Pred, asked)
		rep.CondAcc = &a
	}
	rep.Seconds = math.Round(time.Since(start).Seconds()*1000) / 1000
	return rep, r, nil
}
