package classifier

import (
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/gantrain/gantrain/internal/nn"
	"gorgonia.org/gorgonia"
)

// Runner runs the classifier on batches of images.
type Runner struct {
	batch            int
	m                *nn.Machine
	x                []float32
	features, logits *gorgonia.Node
}

// NewRunner compiles the classifier for batches of the given size.
func NewRunner(n *Net, batch int) (*Runner, error) {
	g := nn.NewGraph(false)
	e := &Runner{batch: batch}
	var x *gorgonia.Node
	x, e.x = g.Input("images", 1, 28, 28, batch)
	e.features, e.logits = n.Forward(g, x)
	m, err := g.Compile()
	if err != nil {
		return nil, err
	}
	e.m = m
	return e, nil
}

// Close releases the compiled graph.
func (e *Runner) Close() error { return e.m.Close() }

// Result holds per-image outputs, row-major: Features (n, 64), Probs (n, 10).
type Result struct {
	N        int
	Features []float64
	Probs    []float64
	Pred     []int
}

// Run classifies n images (n, 784), values in [−1, 1].
func (e *Runner) Run(images []float32) (*Result, error) {
	if len(images)%784 != 0 {
		return nil, fmt.Errorf("classifier: %d values is not a whole number of 28×28 images", len(images))
	}
	n := len(images) / 784
	r := &Result{N: n, Features: make([]float64, n*Features), Probs: make([]float64, n*Classes), Pred: make([]int, n)}
	for lo := 0; lo < n; lo += e.batch {
		k := min(e.batch, n-lo)
		clear(e.x)
		kernels.ToBatchLast(images[lo*784:(lo+k)*784], e.x, 784, e.batch)
		if err := e.m.Run(); err != nil {
			return nil, fmt.Errorf("classifier: %w", err)
		}
		f := e.features.Value().Data().([]float32)
		l := e.logits.Value().Data().([]float32)
		for i := 0; i < k; i++ {
			for j := 0; j < Features; j++ {
				r.Features[(lo+i)*Features+j] = float64(f[j*e.batch+i])
			}
			// softmax, in float64
			mx := math.Inf(-1)
			for c := 0; c < Classes; c++ {
				mx = math.Max(mx, float64(l[c*e.batch+i]))
			}
			var s float64
			p := r.Probs[(lo+i)*Classes : (lo+i+1)*Classes]
			best := 0
			for c := range p {
				p[c] = math.Exp(float64(l[c*e.batch+i]) - mx)
				s += p[c]
				if p[c] > p[best] {
					best = c
				}
			}
			for c := range p {
				p[c] /= s
			}
			r.Pred[lo+i] = best
		}
	}
	return r, nil
}

// Images converts a data set's pixels to [−1, 1] as training does.
func Images(ds *mnist.Dataset, n int) []float32 {
	n = min(n, ds.N)
	out := make([]float32, n*784)
	for i := range out {
		out[i] = (float32(ds.Images[i])/255 - 0.5) / 0.5
	}
	return out
}

// Accuracy is the fraction of ds classified as labelled.
func (e *Runner) Accuracy(ds *mnist.Dataset) (float64, error) {
	r, err := e.Run(Images(ds, ds.N))
	if err != nil {
		return 0, err
	}
	ok := 0
	for i, p := range r.Pred {
		if p == int(ds.Labels[i]) {
			ok++
		}
	}
	return float64(ok) / float64(ds.N), nil
}
