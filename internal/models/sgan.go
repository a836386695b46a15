package models

import (
	"math"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
)

// The semi-supervised GAN's networks, after Salimans et al. (2016), whose
// MNIST model reached 93 test errors with 100 labels:
//
//	G: z (Z, B) → fc1 500, BN, ReLU → fc2 500, BN, ReLU → fc3 C·H·W + bias,
//	   tanh → (C, H, W, B)
//	D: x (C, H, W, B) = (C·H·W, B), noise σ 0.3 → fc1 1000 → fc2 500 → fc3 250
//	   → fc4 250 → fc5 250 (each + bias, ReLU, then noise σ 0.5) → fc6 K logits
//
// The noise layers add Gaussian noise in training only (nn.GaussianNoise);
// D has no batch norm, so its labelled, unlabelled and fake batches do not
// disturb each other's statistics and a classification does not depend on
// the batch. The features G matches are fc5's outputs (250, B), before
// their noise. Weights: g.fc1 … g.fc3, g.fc1_bn, g.fc2_bn, d.fc1 … d.fc6,
// PyTorch's default Linear initialisation and BatchNorm1d.

const (
	sganInputNoise  = 0.3 // σ of the noise on D's input (Salimans et al.)
	sganHiddenNoise = 0.5 // σ of the noise on D's hidden layers
)

var (
	sganGWidths = []int{500, 500}
	sganDWidths = []int{1000, 500, 250, 250, 250}
)

// newSGAN builds the semi-supervised GAN for s.
func newSGAN(s Shape, r *rng.RNG) *GAN {
	pix := s.C * s.H * s.W
	return &GAN{Loss: SemiSupervised,
		G: newSGANGenerator(s.Latent, s.C, s.H, s.W, r),
		D: newSGANDiscriminator(pix, s.Classes, r)}
}

// torchLinear makes a Linear layer with PyTorch's default initialisation,
// U(−1/√in, 1/√in) for weight and bias.
func torchLinear(name string, in, out int, bias bool, r *rng.RNG) *nn.LinearLayer {
	l := nn.NewLinear(name, in, out, bias)
	bound := 1 / math.Sqrt(float64(in))
	nn.InitUniform(l.W, r, bound)
	if bias {
		nn.InitUniform(l.B, r, bound)
	}
	return l
}

type sganGenerator struct {
	fc      []*nn.LinearLayer
	bn      []*nn.BatchNormLayer
	c, h, w int
}

func newSGANGenerator(latent, c, h, w int, r *rng.RNG) *sganGenerator {
	m := &sganGenerator{c: c, h: h, w: w}
	in := latent
	for i, n := range sganGWidths {
		name := "g.fc" + string(rune('1'+i))
		m.fc = append(m.fc, torchLinear(name, in, n, false, r))
		bn := nn.NewBatchNorm(name+"_bn", n, bnMomentum, bnEps)
		for i := range bn.Gamma.Data() { // γ = 1, β = 0: BatchNorm1d's
			bn.Gamma.Data()[i] = 1
		}
		m.bn = append(m.bn, bn)
		in = n
	}
	m.fc = append(m.fc, torchLinear("g.fc"+string(rune('1'+len(sganGWidths))), in, c*h*w, true, r))
	return m
}

func (m *sganGenerator) Forward(g *nn.Graph, z, _ *gorgonia.Node) *gorgonia.Node {
	if g.Err() != nil {
		return nil
	}
	b := z.Shape()[1]
	h := z
	for i, bn := range m.bn {
		h = bn.Forward(g, m.fc[i].Forward(g, h, kernels.Identity), kernels.ReLU) // (500, B)
	}
	return m.fc[len(m.fc)-1].Forward(g, h, kernels.Tanh, m.c, m.h, m.w, b) // (C, H, W, B)
}

func (m *sganGenerator) Params() []*nn.Param {
	var ps []*nn.Param
	for i, l := range m.fc {
		ps = append(ps, l.Params()...)
		if i < len(m.bn) {
			ps = append(ps, m.bn[i].Params()...)
		}
	}
	return ps
}

func (m *sganGenerator) Buffers() []nn.Buffer {
	var bs []nn.Buffer
	for _, bn := range m.bn {
		bs = append(bs, bn.Buffers()...)
	}
	return bs
}

func (m *sganGenerator) BatchNorms() []*kernels.BNStats {
	var st []*kernels.BNStats
	for _, bn := range m.bn {
		st = append(st, bn.Stats)
	}
	return st
}

type sganDiscriminator struct {
	fc []*nn.LinearLayer
}

func newSGANDiscriminator(in, classes int, r *rng.RNG) *sganDiscriminator {
	m := &sganDiscriminator{}
	for i, n := range append(append([]int{}, sganDWidths...), classes) {
		l := nn.NewLinear("d.fc"+string(rune('1'+i)), in, n, true)
		// He et al.'s N(0, 2/in) keeps the activations' scale through the
		// ReLUs (PyTorch's default shrinks it ~2.5× a layer, until the
		// noise drowns it); biases 0.
		nn.InitNormal(l.W, r, 0, math.Sqrt(2/float64(in)))
		m.fc = append(m.fc, l)
		in = n
	}
	return m
}

func (m *sganDiscriminator) Forward(g *nn.Graph, x, labels *gorgonia.Node) *gorgonia.Node {
	_, out := m.ForwardFeatures(g, x, labels)
	return out
}

func (m *sganDiscriminator) ForwardFeatures(g *nn.Graph, x, _ *gorgonia.Node) (features, out *gorgonia.Node) {
	if g.Err() != nil {
		return nil, nil
	}
	h := g.GaussianNoise(x, sganInputNoise) // (C, H, W, B) = (C·H·W, B)
	last := len(m.fc) - 1
	for _, l := range m.fc[:last] {
		features = l.Forward(g, h, kernels.ReLU) // (1000 | 500 | 250, B)
		h = g.GaussianNoise(features, sganHiddenNoise)
	}
	return features, m.fc[last].Forward(g, h, kernels.Identity) // (K, B)
}

func (m *sganDiscriminator) Params() []*nn.Param {
	var ps []*nn.Param
	for _, l := range m.fc {
		ps = append(ps, l.Params()...)
	}
	return ps
}

func (m *sganDiscriminator) Buffers() []nn.Buffer { return nil }

func (m *sganDiscriminator) BatchNorms() []*kernels.BNStats { return nil }
