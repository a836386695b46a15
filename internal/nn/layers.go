package nn

import (
	"math"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
)

// Layers: each makes its named params (PyTorch names and layouts), adds its
// ops to a graph, and lists its learnables.

// Buffer is a non-learnable tensor saved with a model (batch-norm running
// statistics): float32 Data of Shape, or, when Count is set, an int64
// scalar (PyTorch's num_batches_tracked).
type Buffer struct {
	Name  string
	Shape []int
	Data  []float32
	Count *int64
}

// InitNormal fills p with N(mean, std²).
func InitNormal(p *Param, r *rng.RNG, mean, std float64) { r.FillNormal(p.Data(), mean, std) }

// InitUniform fills p with U(−bound, bound), PyTorch's default for biases
// (bound = 1/√fan_in).
func InitUniform(p *Param, r *rng.RNG, bound float64) {
	d := p.Data()
	for i := range d {
		d[i] = float32((2*r.Float64() - 1) * bound)
	}
}

// Conv2dLayer is PyTorch's Conv2d: weight (out, in, k, k), optional bias (out).
type Conv2dLayer struct {
	W, B        *Param
	Stride, Pad int
}

// NewConv2d makes a Conv2d named name (params name.weight, name.bias).
func NewConv2d(name string, in, out, k, stride, pad int, bias bool) *Conv2dLayer {
	l := &Conv2dLayer{W: NewParam(name+".weight", out, in, k, k), Stride: stride, Pad: pad}
	if bias {
		l.B = NewParam(name+".bias", out)
	}
	return l
}

// Init draws the weight from N(0, std²) and the bias as PyTorch does.
func (l *Conv2dLayer) Init(r *rng.RNG, std float64) { initConv(l.W, l.B, r, std) }

// initConv draws a convolution weight from N(0, std²) and its bias from
// U(±1/√fan_in), PyTorch's default. For both layouts, Conv2d's (out, in,
// k, k) and ConvTranspose2d's (in, out, k, k), PyTorch's fan-in is the
// product of dimensions 1 to 3.
func initConv(w, b *Param, r *rng.RNG, std float64) {
	InitNormal(w, r, 0, std)
	if b != nil {
		s := w.Shape()
		InitUniform(b, r, 1/math.Sqrt(float64(s[1]*s[2]*s[3])))
	}
}

// Forward maps x (in, H, W, B) to (out, OH, OW, B) and applies act
// (fused with the bias).
func (l *Conv2dLayer) Forward(g *Graph, x *gorgonia.Node, act kernels.Act) *gorgonia.Node {
	return biasAct(g, g.Conv2d(x, g.Param(l.W), l.Stride, l.Pad), l.B, act)
}

func biasAct(g *Graph, y *gorgonia.Node, b *Param, act kernels.Act, shape ...int) *gorgonia.Node {
	switch {
	case b != nil:
		return g.BiasAct(y, g.Param(b), act, shape...)
	case act != kernels.Identity || len(shape) > 0:
		return g.Activation(y, act, shape...)
	}
	return y
}

// Params lists the learnables.
func (l *Conv2dLayer) Params() []*Param { return nonNil(l.W, l.B) }

// ConvT2dLayer is PyTorch's ConvTranspose2d: weight (in, out, k, k), optional bias.
type ConvT2dLayer struct {
	W, B        *Param
	Stride, Pad int
}

// NewConvT2d makes a ConvTranspose2d named name.
func NewConvT2d(name string, in, out, k, stride, pad int, bias bool) *ConvT2dLayer {
	l := &ConvT2dLayer{W: NewParam(name+".weight", in, out, k, k), Stride: stride, Pad: pad}
	if bias {
		l.B = NewParam(name+".bias", out)
	}
	return l
}

// Init draws the weight from N(0, std²) and the bias as PyTorch does (its
// fan-in of a transposed convolution is out·k·k).
func (l *ConvT2dLayer) Init(r *rng.RNG, std float64) { initConv(l.W, l.B, r, std) }

// Forward maps x (in, H, W, B) to (out, (H−1)·s−2p+k, …, B) and applies
// act (fused with the bias).
func (l *ConvT2dLayer) Forward(g *Graph, x *gorgonia.Node, act kernels.Act) *gorgonia.Node {
	return biasAct(g, g.ConvTranspose2d(x, g.Param(l.W), l.Stride, l.Pad), l.B, act)
}

// Params lists the learnables.
func (l *ConvT2dLayer) Params() []*Param { return nonNil(l.W, l.B) }

// LinearLayer is PyTorch's Linear: weight (out, in), optional bias (out).
type LinearLayer struct{ W, B *Param }

// NewLinear makes a Linear named name.
func NewLinear(name string, in, out int, bias bool) *LinearLayer {
	l := &LinearLayer{W: NewParam(name+".weight", out, in)}
	if bias {
		l.B = NewParam(name+".bias", out)
	}
	return l
}

// Init draws the weight from N(0, std²) and the bias as PyTorch does.
func (l *LinearLayer) Init(r *rng.RNG, std float64) {
	InitNormal(l.W, r, 0, std)
	if l.B != nil {
		InitUniform(l.B, r, 1/math.Sqrt(float64(l.W.Shape()[1])))
	}
}

// Forward maps x (in, B) — or (…, B) holding in·B values — to (out, B) and
// applies act (fused with the bias); an optional shape relabels the output.
func (l *LinearLayer) Forward(g *Graph, x *gorgonia.Node, act kernels.Act, shape ...int) *gorgonia.Node {
	return biasAct(g, g.Linear(x, g.Param(l.W)), l.B, act, shape...)
}

// Params lists the learnables.
func (l *LinearLayer) Params() []*Param { return nonNil(l.W, l.B) }

// BatchNormLayer is PyTorch's BatchNorm1d/2d with affine parameters and
// running statistics (momentum 0.1, ε 1e-5 by default).
type BatchNormLayer struct {
	Gamma, Beta *Param
	Stats       *kernels.BNStats
	// TrackBatches saves the count of running-statistics updates as the
	// buffer name.num_batches_tracked, as PyTorch's state_dict does, so
	// that the saved tensors load into a PyTorch module with strict=True.
	TrackBatches bool
	name         string
}

// NewBatchNorm makes a batch norm over c channels named name.
func NewBatchNorm(name string, c int, momentum, eps float64) *BatchNormLayer {
	l := &BatchNormLayer{Gamma: NewParam(name+".weight", c), Beta: NewParam(name+".bias", c),
		Stats: kernels.NewBNStats(c, momentum, eps), name: name}
	for i := range l.Gamma.Data() {
		l.Gamma.Data()[i] = 1
	}
	return l
}

// Init draws γ from N(1, std²) and sets β to 0 (the DCGAN initialisation).
func (l *BatchNormLayer) Init(r *rng.RNG, std float64) {
	InitNormal(l.Gamma, r, 1, std)
	clear(l.Beta.Data())
}

// Forward normalises x (C, …) and applies act; an optional shape relabels
// the output ((C·H·W, B) features as (C, H, W, B) images and back).
func (l *BatchNormLayer) Forward(g *Graph, x *gorgonia.Node, act kernels.Act, shape ...int) *gorgonia.Node {
	return g.BatchNorm(x, g.Param(l.Gamma), g.Param(l.Beta), l.Stats, act, shape...)
}

// Params lists the learnables.
func (l *BatchNormLayer) Params() []*Param { return []*Param{l.Gamma, l.Beta} }

// Buffers lists the running statistics.
func (l *BatchNormLayer) Buffers() []Buffer {
	c := len(l.Stats.RunMean)
	bs := []Buffer{
		{Name: l.name + ".running_mean", Shape: []int{c}, Data: l.Stats.RunMean},
		{Name: l.name + ".running_var", Shape: []int{c}, Data: l.Stats.RunVar},
	}
	if l.TrackBatches {
		bs = append(bs, Buffer{Name: l.name + ".num_batches_tracked", Shape: []int{}, Count: &l.Stats.Tracked})
	}
	return bs
}

func nonNil(ps ...*Param) []*Param {
	var out []*Param
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}
