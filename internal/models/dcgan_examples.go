package models

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
)

// The DCGAN of pytorch/examples (dcgan/main.py,
// https://github.com/pytorch/examples/blob/main/dcgan/main.py), for square
// images of 2^k px, k ≥ 4. With n = k − 2 upsampling steps and w the width
// (ngf = ndf), at 64 px (n = 4):
//
//	G main: 0 ConvT(Z, 8w, 4, 1, 0), 1 BN, 2 ReLU,
//	        3 ConvT(8w, 4w, 4, 2, 1), 4 BN, 5 ReLU, 6 ConvT(4w, 2w), 7 BN, 8 ReLU,
//	        9 ConvT(2w, w), 10 BN, 11 ReLU, 12 ConvT(w, C), 13 Tanh
//	D main: 0 Conv(C, w, 4, 2, 1), 1 LeakyReLU(0.2),
//	        2 Conv(w, 2w), 3 BN, 4 LReLU, 5 Conv(2w, 4w), 6 BN, 7 LReLU,
//	        8 Conv(4w, 8w), 9 BN, 10 LReLU, 11 Conv(8w, 1, 4, 1, 0), 12 Sigmoid
//
// No convolution has a bias. A 32 px model has one block less (G from 4w,
// D to 4w), a 128 px one a block more. The tensors carry the state_dict
// names of those modules behind "g." and "d." ("g.main.0.weight",
// "g.main.1.running_mean", "g.main.1.num_batches_tracked", …) with
// PyTorch's layouts, so the weights load into them unchanged. D's final
// Sigmoid is left to the loss: D returns the logit.
//
// sgan: D's last convolution has K output channels (the class logits,
// (K, B)) instead of one; its features for feature matching are the
// input of that convolution, (8w·4·4, B) at 64 px.
//
// Conditional (cgan): G's input is z ⊙ embed_g(y) (g.embed.weight, (K, Z));
// D's input gets one more channel, the label plane embed_d(y) reshaped to
// H×W (d.embed.weight, (K, H·W)), concatenated after the image channels.

// upsamplings returns n = log2(size) − 2, the number of stride-2 layers of
// each network.
func upsamplings(size int) int {
	if size < 16 || size&(size-1) != 0 {
		panic(fmt.Sprintf("models: pytorch/examples DCGAN at %d px", size)) // Shape.check prevents this
	}
	return bits.Len(uint(size)) - 3
}

type examplesGenerator struct {
	embed *nn.Param // (K, Z), conditional only
	convs []*nn.ConvT2dLayer
	bns   []*nn.BatchNormLayer // one per conv but the last
}

func newExamplesGenerator(s Shape, classes int, r *rng.RNG) *examplesGenerator {
	n := upsamplings(s.H)
	m := &examplesGenerator{}
	if classes > 0 {
		m.embed = nn.NewParam("g.embed.weight", classes, s.Latent)
		nn.InitNormal(m.embed, r, 0, 1) // nn.Embedding's default N(0, 1)
	}
	in := s.Latent
	for i := 0; i <= n; i++ {
		name := fmt.Sprintf("g.main.%d", 3*i)
		if i == 0 {
			out := s.Width << (n - 1)
			m.convs = append(m.convs, nn.NewConvT2d(name, in, out, 4, 1, 0, false))
			in = out
		} else if i < n {
			m.convs = append(m.convs, nn.NewConvT2d(name, in, in/2, 4, 2, 1, false))
			in /= 2
		} else {
			m.convs = append(m.convs, nn.NewConvT2d(name, in, s.C, 4, 2, 1, false))
		}
		if i < n {
			bn := nn.NewBatchNorm(fmt.Sprintf("g.main.%d", 3*i+1), in, bnMomentum, bnEps)
			bn.TrackBatches = true
			m.bns = append(m.bns, bn)
		}
	}
	for i, c := range m.convs {
		c.Init(r, initStd)
		if i < n {
			m.bns[i].Init(r, initStd)
		}
	}
	return m
}

func (m *examplesGenerator) Forward(g *nn.Graph, z, labels *gorgonia.Node) *gorgonia.Node {
	zd, b := z.Shape()[0], z.Shape()[1]
	if m.embed != nil {
		z = g.Mul(z, labelEmbedding(g, m.embed, labels)) // z ⊙ embed(y): (Z, B)
	}
	h := g.Activation(z, kernels.Identity, zd, 1, 1, b) // (Z, 1, 1, B): PyTorch's z.view(B, Z, 1, 1)
	for i, c := range m.convs {
		if i == len(m.convs)-1 {
			return c.Forward(g, h, kernels.Tanh) // (C, H, W, B)
		}
		h = c.Forward(g, h, kernels.Identity)
		h = m.bns[i].Forward(g, h, kernels.ReLU)
	}
	return h
}

func (m *examplesGenerator) Params() []*nn.Param {
	var ps []*nn.Param
	if m.embed != nil {
		ps = append(ps, m.embed)
	}
	for i, c := range m.convs {
		ps = append(ps, c.Params()...)
		if i < len(m.bns) {
			ps = append(ps, m.bns[i].Params()...)
		}
	}
	return ps
}

func (m *examplesGenerator) Buffers() []nn.Buffer { return bnBuffers(m.bns) }

func (m *examplesGenerator) BatchNorms() []*kernels.BNStats { return bnStats(m.bns) }

type examplesDiscriminator struct {
	embed *nn.Param // (K, H·W), conditional only
	convs []*nn.Conv2dLayer
	bns   []*nn.BatchNormLayer // after convs[1 … n−1]
	h, w  int
	mbstd bool // a minibatch standard-deviation channel before the last convolution
	noBN  bool // no batch norm (bns empty): convs[1 … n−1] have a bias instead
}

// newExamplesDiscriminator makes pytorch/examples' D; with mbstd the last
// convolution gets one more input channel: the batch's standard deviation
// as a 4×4 plane (minibatch_std).
func newExamplesDiscriminator(s Shape, classes, outputs int, mbstd bool, r *rng.RNG) *examplesDiscriminator {
	n := upsamplings(s.H)
	m := &examplesDiscriminator{h: s.H, w: s.W, mbstd: mbstd}
	in := s.C
	if classes > 0 {
		m.embed = nn.NewParam("d.embed.weight", classes, s.H*s.W)
		nn.InitNormal(m.embed, r, 0, 1)
		in++
	}
	m.convs = append(m.convs, nn.NewConv2d("d.main.0", in, s.Width, 4, 2, 1, false))
	in = s.Width
	for j := 1; j < n; j++ {
		m.convs = append(m.convs, nn.NewConv2d(fmt.Sprintf("d.main.%d", 3*j-1), in, 2*in, 4, 2, 1, false))
		bn := nn.NewBatchNorm(fmt.Sprintf("d.main.%d", 3*j), 2*in, bnMomentum, bnEps)
		bn.TrackBatches = true
		m.bns = append(m.bns, bn)
		in *= 2
	}
	lastIn := in
	if mbstd {
		lastIn++
	}
	m.convs = append(m.convs, nn.NewConv2d(fmt.Sprintf("d.main.%d", 3*n-1), lastIn, outputs, 4, 1, 0, false))
	for i, c := range m.convs {
		c.Init(r, initStd)
		if i >= 1 && i <= len(m.bns) {
			m.bns[i-1].Init(r, initStd)
		}
	}
	return m
}

// newExamplesCritic makes pytorch/examples' D without batch norm (WGAN-GP's
// critic): the convolutions batch norm followed get a bias instead, so
// the tensors are d.main.0.weight, d.main.2.weight, d.main.2.bias, …
// (the module indices of the layout with batch norm).
func newExamplesCritic(s Shape, mbstd bool, r *rng.RNG) *examplesDiscriminator {
	n := upsamplings(s.H)
	m := &examplesDiscriminator{h: s.H, w: s.W, mbstd: mbstd, noBN: true}
	in := s.C
	m.convs = append(m.convs, nn.NewConv2d("d.main.0", in, s.Width, 4, 2, 1, false))
	in = s.Width
	for j := 1; j < n; j++ {
		m.convs = append(m.convs, nn.NewConv2d(fmt.Sprintf("d.main.%d", 3*j-1), in, 2*in, 4, 2, 1, true))
		in *= 2
	}
	lastIn := in
	if mbstd {
		lastIn++
	}
	m.convs = append(m.convs, nn.NewConv2d(fmt.Sprintf("d.main.%d", 3*n-1), lastIn, 1, 4, 1, 0, false))
	for _, c := range m.convs {
		c.Init(r, initStd)
	}
	return m
}

func (m *examplesDiscriminator) Forward(g *nn.Graph, x, labels *gorgonia.Node) *gorgonia.Node {
	_, out := m.forward(g, x, labels, false)
	return out
}

func (m *examplesDiscriminator) ForwardFeatures(g *nn.Graph, x, labels *gorgonia.Node) (features, out *gorgonia.Node) {
	return m.forward(g, x, labels, true)
}

func (m *examplesDiscriminator) forward(g *nn.Graph, x, labels *gorgonia.Node, feat bool) (features, out *gorgonia.Node) {
	if g.Err() != nil {
		return nil, nil
	}
	b := x.Shape()[3]
	if m.embed != nil {
		plane := g.Embedding(g.Param(m.embed), labels, 1, m.h, m.w, b) // (1, H, W, B)
		x = g.Concat(x, plane)                                         // (C+1, H, W, B)
	}
	h := m.convs[0].Forward(g, x, kernels.LeakyReLU)
	for j, bn := range m.bns {
		h = m.convs[j+1].Forward(g, h, kernels.Identity)
		h = bn.Forward(g, h, kernels.LeakyReLU)
	}
	if m.noBN {
		for _, c := range m.convs[1 : len(m.convs)-1] {
			h = c.Forward(g, h, kernels.LeakyReLU)
		}
	}
	last := m.convs[len(m.convs)-1]
	if feat && g.Err() == nil {
		features = g.Activation(h, kernels.Identity, h.Shape().TotalSize()/b, b) // (8w·4·4, B)
	}
	k := last.W.Shape()[0]
	if m.mbstd && g.Err() == nil {
		sh := h.Shape()
		h = g.MinibatchStd(h, sh[0]+1, sh[1], sh[2], b) // (8w+1, 4, 4, B)
	}
	h = last.Forward(g, h, kernels.Identity)                 // (K, 1, 1, B); K = 1 but for sgan
	return features, g.Activation(h, kernels.Identity, k, b) // (K, B) logits
}

// ForwardInputGrad implements InputGradNet for the critic without batch
// norm: the last convolution's adjoint from a seed of ones (1, 1, 1, B),
// then for each earlier layer the LeakyReLU mask of its output and its
// convolution's adjoint (a transposed convolution with the same weight).
func (m *examplesDiscriminator) ForwardInputGrad(g *nn.Graph, x, _ *gorgonia.Node) (out, grad *gorgonia.Node) {
	if g.Err() != nil {
		return nil, nil
	}
	last := m.convs[len(m.convs)-1]
	if !m.noBN || m.mbstd || m.embed != nil || last.W.Shape()[0] != 1 {
		g.Fail(errors.New("models: the input gradient needs the critic without batch norm, minibatch_std or labels"))
		return nil, nil
	}
	b := x.Shape()[3]
	hs := make([]*gorgonia.Node, len(m.convs)-1)
	h := x
	for i, c := range m.convs[:len(m.convs)-1] {
		h = c.Forward(g, h, kernels.LeakyReLU)
		hs[i] = h
	}
	out = g.Activation(last.Forward(g, h, kernels.Identity), kernels.Identity, 1, b) // (1, B)
	d := g.ConvTranspose2d(g.Ones("d.seed", 1, 1, 1, b), g.Param(last.W), last.Stride, last.Pad)
	for i := len(hs) - 1; i >= 0; i-- {
		d = g.ActGrad(hs[i], d, kernels.LeakyReLU)
		d = g.ConvTranspose2d(d, g.Param(m.convs[i].W), m.convs[i].Stride, m.convs[i].Pad)
	}
	return out, d // (C, H, W, B)
}

func (m *examplesDiscriminator) Params() []*nn.Param {
	var ps []*nn.Param
	if m.embed != nil {
		ps = append(ps, m.embed)
	}
	for i, c := range m.convs {
		ps = append(ps, c.Params()...)
		if i >= 1 && i <= len(m.bns) {
			ps = append(ps, m.bns[i-1].Params()...)
		}
	}
	return ps
}

func (m *examplesDiscriminator) Buffers() []nn.Buffer { return bnBuffers(m.bns) }

func (m *examplesDiscriminator) BatchNorms() []*kernels.BNStats { return bnStats(m.bns) }

// labelEmbedding looks up embed's rows for labels (B) or blends them with
// label weights (K, B).
func labelEmbedding(g *nn.Graph, embed *nn.Param, labels *gorgonia.Node) *gorgonia.Node {
	if labels.Shape().Dims() == 2 {
		return g.SoftEmbedding(g.Param(embed), labels) // blended labels (K, B), for sampling
	}
	return g.Embedding(g.Param(embed), labels)
}

func bnBuffers(bns []*nn.BatchNormLayer) []nn.Buffer {
	var bs []nn.Buffer
	for _, l := range bns {
		bs = append(bs, l.Buffers()...)
	}
	return bs
}

func bnStats(bns []*nn.BatchNormLayer) []*kernels.BNStats {
	var st []*kernels.BNStats
	for _, l := range bns {
		st = append(st, l.Stats)
	}
	return st
}
