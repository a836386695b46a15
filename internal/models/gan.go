package models

import (
	"errors"
	"math"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
)

// The fully connected GAN of Goodfellow et al. (2014), in its common
// PyTorch form: the baseline the DCGAN improves on.
//
//	G: z (Z, B) → 256 → 512 → 1024 (LeakyReLU 0.2) → C·H·W, tanh → (C, H, W, B)
//	D: x (C, H, W, B) = (C·H·W, B) → 1024 → 512 → 256 (LeakyReLU 0.2) → 1 logit
//
// Weights: g.fc1 … g.fc4 and d.fc1 … d.fc4 (.weight (out, in), .bias (out)),
// with PyTorch's default Linear initialisation.

func init() {
	Register(Spec{
		Name:        "gan",
		Description: "the original fully connected GAN (Goodfellow et al. 2014) with BCE",
		New: func(s Shape, r *rng.RNG) *GAN {
			pix := s.C * s.H * s.W
			return &GAN{Loss: BCE,
				G: newMLP("g", []int{s.Latent, 256, 512, 1024, pix}, kernels.Tanh, []int{s.C, s.H, s.W}, r),
				D: newMLP("d", []int{pix, 1024, 512, 256, 1}, kernels.Identity, nil, r)}
		},
	})
}

// mlp is a stack of fully connected layers with LeakyReLU between them.
type mlp struct {
	layers []*nn.LinearLayer
	last   kernels.Act
	image  []int // output (C, H, W) for a generator
}

func newMLP(prefix string, sizes []int, last kernels.Act, image []int, r *rng.RNG) *mlp {
	m := &mlp{last: last, image: image}
	for i := 0; i+1 < len(sizes); i++ {
		l := nn.NewLinear(prefix+".fc"+string(rune('1'+i)), sizes[i], sizes[i+1], true)
		// torch.nn.Linear's default: U(−1/√in, 1/√in) for weight and bias
		// (kaiming_uniform with a = √5 gives that bound for the weight).
		bound := 1 / math.Sqrt(float64(sizes[i]))
		nn.InitUniform(l.W, r, bound)
		nn.InitUniform(l.B, r, bound)
		m.layers = append(m.layers, l)
	}
	return m
}

func (m *mlp) Forward(g *nn.Graph, x, _ *gorgonia.Node) *gorgonia.Node {
	b := x.Shape()[x.Shape().Dims()-1]
	for i, l := range m.layers {
		if i < len(m.layers)-1 {
			x = l.Forward(g, x, kernels.LeakyReLU) // (out, B)
			continue
		}
		if m.image != nil {
			return l.Forward(g, x, m.last, m.image[0], m.image[1], m.image[2], b) // (C, H, W, B)
		}
		x = l.Forward(g, x, m.last) // (1, B)
	}
	return x
}

// ForwardInputGrad implements InputGradNet for the discriminator: with
// h_i = lrelu(W_i·h_{i−1} + b_i) and out = w·h_3 + b, the gradient runs
// back as g_3 = wᵀ ⊙ lrelu'(·), g_{i−1} = W_iᵀ·g_i ⊙ lrelu'(·), ∇ₓ = W_1ᵀ·g_1.
func (m *mlp) ForwardInputGrad(g *nn.Graph, x, _ *gorgonia.Node) (out, grad *gorgonia.Node) {
	if g.Err() != nil {
		return nil, nil
	}
	lastL := m.layers[len(m.layers)-1]
	if m.image != nil || m.last != kernels.Identity || lastL.W.Shape()[0] != 1 {
		g.Fail(errors.New("models: the input gradient is for a discriminator with one output"))
		return nil, nil
	}
	xs := x.Shape().Clone()
	b := xs[xs.Dims()-1]
	hs := make([]*gorgonia.Node, len(m.layers)-1)
	h := x
	for i, l := range m.layers[:len(m.layers)-1] {
		h = l.Forward(g, h, kernels.LeakyReLU) // (out, B)
		hs[i] = h
	}
	out = lastL.Forward(g, h, kernels.Identity) // (1, B)
	d := g.Ones("d.seed", 1, b)
	for i := len(hs); i >= 0; i-- {
		if i < len(hs) {
			d = g.ActGrad(hs[i], d, kernels.LeakyReLU)
		}
		var shape []int
		if i == 0 {
			shape = xs // ∇ₓ in x's shape
		}
		d = g.LinearT(d, g.Param(m.layers[i].W), shape...)
	}
	return out, d
}

func (m *mlp) Params() []*nn.Param {
	var ps []*nn.Param
	for _, l := range m.layers {
		ps = append(ps, l.Params()...)
	}
	return ps
}

func (m *mlp) Buffers() []nn.Buffer { return nil }

func (m *mlp) BatchNorms() []*kernels.BNStats { return nil }
