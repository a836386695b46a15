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

// Features is the size of the feature vector; Classes the number of labels
// of the MNIST classifier.
const (
	Features = 64
	Classes  = 10
)

// Mode says what a classifier was trained to predict.
const (
	// ModeLabels: the data's classes.
	ModeLabels = "labels"
	// ModeRotation: which of 0°, 90°, 180° and 270° an image was rotated by
	// (self-supervised, for unlabelled data; Gidaris et al. 2018). Its
	// class outputs say nothing about the data's classes.
	ModeRotation = "rotation"
)

// Shape is what a classifier takes and predicts: images C×H×W (C 1 or 3,
// H = W in {28, 32, 64}) and K outputs.
type Shape struct {
	C, H, W, K int
}

// MNIST is the shape of the shipped classifier.
var MNIST = Shape{C: 1, H: 28, W: 28, K: Classes}

// Size is C·H·W.
func (s Shape) Size() int { return s.C * s.H * s.W }

// Check rejects shapes the network is not built for.
func (s Shape) Check() error {
	if s.C != 1 && s.C != 3 {
		return fmt.Errorf("classifier: %d channels, want 1 or 3", s.C)
	}
	if s.H != s.W || (s.H != 28 && s.H != 32 && s.H != 64) {
		return fmt.Errorf("classifier: images %d×%d, want 28×28, 32×32 or 64×64", s.H, s.W)
	}
	if s.K < 2 || s.K > 256 {
		return fmt.Errorf("classifier: %d classes, want 2 to 256", s.K)
	}
	return nil
}

// Net is the classifier's layers. The convolutions after c1 halve the
// resolution until it is at most 8 (28 → 7 and 32 → 8 with c2, c3; 64 → 8
// with c2, c3, c4).
type Net struct {
	Shape Shape
	convs []*nn.Conv2dLayer
	fc1   *nn.LinearLayer
	fc2   *nn.LinearLayer
	// Meta is stored with the weights (mode, class names, data key, …).
	Meta map[string]string
}

// New makes the MNIST classifier with PyTorch's default initialisation
// drawn from r.
func New(r *rng.RNG) *Net {
	n, err := NewShape(MNIST, r)
	if err != nil {
		panic(err)
	}
	return n
}

// NewShape makes a classifier for images and outputs of shape s, with
// PyTorch's default initialisation drawn from r. For 1×28×28 and 10
// classes it is exactly New's network (names, shapes and draws).
func NewShape(s Shape, r *rng.RNG) (*Net, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	n := &Net{Shape: s, Meta: map[string]string{}}
	n.convs = append(n.convs, nn.NewConv2d("c1", s.C, 16, 5, 1, 2, true))
	in, res := 16, s.H
	for i := 2; i == 2 || res > 8; i++ {
		n.convs = append(n.convs, nn.NewConv2d(fmt.Sprintf("c%d", i), in, 32, 4, 2, 1, true))
		in, res = 32, res/2
	}
	n.fc1 = nn.NewLinear("fc1", 32*res*res, Features, true)
	n.fc2 = nn.NewLinear("fc2", Features, s.K, true)
	// torch.nn's default: weight and bias from U(±1/√fan_in).
	for _, l := range n.layers() {
		ps := l.Params()
		s := ps[0].Shape()
		fanIn := len(ps[0].Data()) / s[0]
		bound := 1 / math.Sqrt(float64(fanIn))
		nn.InitUniform(ps[0], r, bound)
		nn.InitUniform(ps[1], r, bound)
	}
	return n, nil
}

func (n *Net) layers() []interface{ Params() []*nn.Param } {
	var ls []interface{ Params() []*nn.Param }
	for _, c := range n.convs {
		ls = append(ls, c)
	}
	return append(ls, n.fc1, n.fc2)
}

// Params lists the learnables.
func (n *Net) Params() []*nn.Param {
	var ps []*nn.Param
	for _, l := range n.layers() {
		ps = append(ps, l.Params()...)
	}
	return ps
}

// Mode is ModeLabels or ModeRotation (from Meta; labels when unset).
func (n *Net) Mode() string {
	if n.Meta["mode"] == ModeRotation {
		return ModeRotation
	}
	return ModeLabels
}

// Forward adds the network to g: x (C, H, W, B) → features (64, B) and
// logits (K, B).
func (n *Net) Forward(g *nn.Graph, x *gorgonia.Node) (features, logits *gorgonia.Node) {
	h := x
	for _, c := range n.convs {
		h = c.Forward(g, h, kernels.ReLU)
	}
	features = n.fc1.Forward(g, h, kernels.ReLU)                  // (64, B)
	return features, n.fc2.Forward(g, features, kernels.Identity) // (K, B)
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
	meta := map[string]string{"format": "gantrain-classifier"}
	if n.Shape != MNIST || len(n.Meta) > 0 {
		for k, v := range n.Meta {
			meta[k] = v
		}
		meta["shape"] = fmt.Sprintf("%d,%d,%d,%d", n.Shape.C, n.Shape.H, n.Shape.W, n.Shape.K)
	}
	return safetensors.Encode(w, ts, meta)
}

// Load reads weights written by Save.
func Load(b []byte, name string) (*Net, error) {
	f, err := safetensors.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("classifier: %s: %w", name, err)
	}
	shape := MNIST
	if v, ok := f.Metadata["shape"]; ok {
		if _, err := fmt.Sscanf(v, "%d,%d,%d,%d", &shape.C, &shape.H, &shape.W, &shape.K); err != nil {
			return nil, fmt.Errorf("classifier: %s: metadata shape %q is not C,H,W,K", name, v)
		}
	}
	n, err := NewShape(shape, rng.New(0, 0))
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, name)
	}
	for k, v := range f.Metadata {
		if k != "format" && k != "shape" {
			n.Meta[k] = v
		}
	}
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
