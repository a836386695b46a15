// Package classifier is the evaluator network behind `gantrain eval`: a
// small LeNet-like MNIST classifier built and trained with gantrain's own
// layers. Its penultimate features (64 values) are the space in which the
// Fréchet distance and precision/recall are measured; its class
// probabilities give the classifier score and the mode counts.
//
// Architecture (B batch; images (1, 28, 28, B) in [−1, 1]):
//
//	c1  Conv2d 1→16,  k5 s1 p2 + ReLU   (16, 28, 28, B)
//	c2  Conv2d 16→32, k4 s2 p1 + ReLU   (32, 14, 14, B)
//	c3  Conv2d 32→32, k4 s2 p1 + ReLU   (32, 7, 7, B)
//	fc1 Linear 1568→64 + ReLU           (64, B)   features
//	fc2 Linear 64→10                    (10, B)   logits
//
// The trained weights are committed in weights/mnist-classifier.safetensors
// and embedded in the binary; `gantrain classifier train` reproduces them.
package classifier

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/gantrain/gantrain/internal/safetensors"
	"gorgonia.org/gorgonia"
)

// Features is the size of the feature vector; Classes the number of labels.
const (
	Features = 64
	Classes  = 10
)

// Net is the classifier's layers.
type Net struct {
	c1, c2, c3 *nn.Conv2dLayer
	fc1, fc2   *nn.LinearLayer
}

// New makes a classifier with PyTorch's default initialisation drawn from r.
func New(r *rng.RNG) *Net {
	n := &Net{
		c1:  nn.NewConv2d("c1", 1, 16, 5, 1, 2, true),
		c2:  nn.NewConv2d("c2", 16, 32, 4, 2, 1, true),
		c3:  nn.NewConv2d("c3", 32, 32, 4, 2, 1, true),
		fc1: nn.NewLinear("fc1", 32*7*7, Features, true),
		fc2: nn.NewLinear("fc2", Features, Classes, true),
	}
	// torch.nn's default: weight and bias from U(±1/√fan_in).
	for _, wb := range [][2]*nn.Param{{n.c1.W, n.c1.B}, {n.c2.W, n.c2.B}, {n.c3.W, n.c3.B}, {n.fc1.W, n.fc1.B}, {n.fc2.W, n.fc2.B}} {
		s := wb[0].Shape()
		fanIn := len(wb[0].Data()) / s[0]
		bound := 1 / math.Sqrt(float64(fanIn))
		nn.InitUniform(wb[0], r, bound)
		nn.InitUniform(wb[1], r, bound)
	}
	return n
}

// Params lists the learnables.
func (n *Net) Params() []*nn.Param {
	var ps []*nn.Param
	for _, l := range []interface{ Params() []*nn.Param }{n.c1, n.c2, n.c3, n.fc1, n.fc2} {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// Forward adds the network to g: x (1, 28, 28, B) → features (64, B) and
// logits (10, B).
func (n *Net) Forward(g *nn.Graph, x *gorgonia.Node) (features, logits *gorgonia.Node) {
	h := n.c1.Forward(g, x, kernels.ReLU)                         // (16, 28, 28, B)
	h = n.c2.Forward(g, h, kernels.ReLU)                          // (32, 14, 14, B)
	h = n.c3.Forward(g, h, kernels.ReLU)                          // (32, 7, 7, B)
	features = n.fc1.Forward(g, h, kernels.ReLU)                  // (64, B)
	return features, n.fc2.Forward(g, features, kernels.Identity) // (10, B)
}

// Encode writes the weights to w as safetensors.
func (n *Net) Encode(w io.Writer) error {
	var ts []safetensors.Tensor
	for _, p := range n.Params() {
		t, err := safetensors.FromFloat32(p.Name, p.Shape(), p.Data())
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	return safetensors.Encode(w, ts, map[string]string{"format": "gantrain-classifier"})
}

// Load reads weights written by Save.
func Load(b []byte, name string) (*Net, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("classifier: %s: %w", name, err)
	}
	n := New(rng.New(0, 0))
	if len(f.Tensors) != len(n.Params()) {
		return nil, fmt.Errorf("classifier: %s holds %d tensors, want %d", name, len(f.Tensors), len(n.Params()))
	}
	for _, p := range n.Params() {
		t, ok := f.Get(p.Name)
		if !ok {
			return nil, fmt.Errorf("classifier: %s: missing tensor %q", name, p.Name)
		}
		v, err := t.Float32s()
		if err != nil || len(v) != len(p.Data()) || fmt.Sprint(t.Shape) != fmt.Sprint(p.Shape()) {
			return nil, fmt.Errorf("classifier: %s: tensor %q has shape %v, want F32 %v", name, p.Name, t.Shape, p.Shape())
		}
		copy(p.Data(), v)
	}
	return n, nil
}

// LoadFile reads weights from a file.
func LoadFile(path string) (*Net, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	return Load(b, path)
}

//go:embed weights/mnist-classifier.safetensors
var embedded []byte

// Default returns the committed, embedded classifier.
func Default() (*Net, error) {
	if len(embedded) == 0 {
		return nil, fmt.Errorf("classifier: no embedded weights (run `gantrain classifier train`)")
	}
	return Load(bytes.Clone(embedded), "embedded weights")
}
