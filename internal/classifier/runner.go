package classifier

import (
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/gantrain/gantrain/internal/nn"
	"gorgonia.org/gorgonia"
)

// Runner runs the classifier on batches of images.
type Runner struct {
	batch            int
	shape            Shape
	rotation         bool
	m                *nn.Machine
	x                []float32
	features, logits *gorgonia.Node
}

// NewRunner compiles the classifier for batches of the given size.
func NewRunner(n *Net, batch int) (*Runner, error) {
	g := nn.NewGraph(false)
	e := &Runner{batch: batch, shape: n.Shape, rotation: n.Mode() == ModeRotation}
	var x *gorgonia.Node
	x, e.x = g.Input("images", n.Shape.C, n.Shape.H, n.Shape.W, batch)
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

// Shape is the classifier's.
func (e *Runner) Shape() Shape { return e.shape }

// Result holds per-image outputs, row-major: Features (n, 64), Probs (n, K).
type Result struct {
	N        int
	Features []float64
	Probs    []float64
	Pred     []int
}

// Run classifies n images (n, C·H·W), each C×H×W, values in [−1, 1].
func (e *Runner) Run(images []float32) (*Result, error) {
	size, classes := e.shape.Size(), e.shape.K
	if len(images)%size != 0 {
		return nil, fmt.Errorf("classifier: %d values is not a whole number of %d×%d×%d images", len(images), e.shape.C, e.shape.H, e.shape.W)
	}
	n := len(images) / size
	r := &Result{N: n, Features: make([]float64, n*Features), Probs: make([]float64, n*classes), Pred: make([]int, n)}
	for lo := 0; lo < n; lo += e.batch {
		k := min(e.batch, n-lo)
		clear(e.x)
		kernels.ToBatchLast(images[lo*size:(lo+k)*size], e.x, size, e.batch)
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
			for c := 0; c < classes; c++ {
				mx = math.Max(mx, float64(l[c*e.batch+i]))
			}
			var s float64
			p := r.Probs[(lo+i)*classes : (lo+i+1)*classes]
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

// ImagesData converts up to n of a data set's images (from the first) to
// [−1, 1] as training does: (n, C·H·W).
func ImagesData(ds *data.Dataset, n int) []float32 {
	n = min(n, ds.N)
	out := make([]float32, n*ds.ImageSize())
	for i := range out {
		out[i] = (float32(ds.Pixels[i])/255 - 0.5) / 0.5
	}
	return out
}

// AccuracyData is the fraction of ds classified as labelled, or for a
// rotation classifier the fraction of ds's images turned by 0°, 90°, 180°
// and 270° whose turn it tells.
func (e *Runner) AccuracyData(ds *data.Dataset) (float64, error) {
	if ds.C != e.shape.C || ds.H != e.shape.H || ds.W != e.shape.W {
		return 0, fmt.Errorf("classifier: images %d×%d×%d, the classifier takes %d×%d×%d", ds.C, ds.H, ds.W, e.shape.C, e.shape.H, e.shape.W)
	}
	imgs := ImagesData(ds, ds.N)
	var want []int
	if e.rotation {
		size := e.shape.Size()
		var all []float32
		for q := 0; q < 4; q++ {
			for i := 0; i < ds.N; i++ {
				all = append(all, Rotate(imgs[i*size:(i+1)*size], e.shape.C, e.shape.H, q)...)
				want = append(want, q)
			}
		}
		imgs = all
	} else {
		if !ds.Labelled() {
			return 0, fmt.Errorf("classifier: %s has no labels", ds.Source)
		}
		for _, l := range ds.Labels {
			want = append(want, int(l))
		}
	}
	r, err := e.Run(imgs)
	if err != nil {
		return 0, err
	}
	ok := 0
	for i, p := range r.Pred {
		if p == want[i] {
			ok++
		}
	}
	return float64(ok) / float64(len(want)), nil
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
