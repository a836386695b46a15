package models

import (
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
)

// The DCGAN of ../shared/notes/reference-models.md for 28×28×1 images.

const (
	bnMomentum = 0.1  // PyTorch's: weight of the new batch
	bnEps      = 1e-5 // PyTorch's
	initStd    = 0.02 // DCGAN paper
)

// classes is K, the number of labels of the conditional model (MNIST digits).
const classes = 10

func init() {
	Register(Spec{
		Name:        "dcgan",
		Description: "DCGAN (Radford et al. 2015): transposed-convolution generator, strided-convolution discriminator, BCE",
		New: func(latent int, r *rng.RNG) (*GAN, error) {
			return &GAN{Name: "dcgan", Loss: BCE, Latent: latent, C: 1, H: 28, W: 28,
				G: newDCGANGenerator(latent, 0, r), D: newDCGANDiscriminator(0, r)}, nil
		},
	})
	Register(Spec{
		Name:        "wgan",
		Description: "WGAN (Arjovsky et al. 2017): the DCGAN networks, a linear critic, Earth-Mover loss, weight clipping",
		New: func(latent int, r *rng.RNG) (*GAN, error) {
			return &GAN{Name: "wgan", Loss: Wasserstein, Latent: latent, C: 1, H: 28, W: 28,
				G: newDCGANGenerator(latent, 0, r), D: newDCGANDiscriminator(0, r)}, nil
		},
	})
	Register(Spec{
		Name:        "cgan",
		Description: "conditional DCGAN (Mirza & Osindero 2014): G gets z ⊙ embed(y), D gets embed(y) as a second image channel",
		New: func(latent int, r *rng.RNG) (*GAN, error) {
			return &GAN{Name: "cgan", Loss: BCE, Conditional: true, Classes: classes, Latent: latent, C: 1, H: 28, W: 28,
				G: newDCGANGenerator(latent, classes, r), D: newDCGANDiscriminator(classes, r)}, nil
		},
	})
}

// dcganGenerator: z (Z, B) → fc 6272, BN, ReLU → (128, 7, 7, B) → up1 k4 s2
// p1, BN, ReLU → (64, 14, 14, B) → up2 k4 s2 p1 + bias, tanh → (1, 28, 28, B).
type dcganGenerator struct {
	embed *nn.Param // (K, Z) for the conditional generator, else nil
	fc    *nn.LinearLayer
	fcBN  *nn.BatchNormLayer
	up1   *nn.ConvT2dLayer
	up1BN *nn.BatchNormLayer
	up2   *nn.ConvT2dLayer
}

// newDCGANGenerator makes the generator; with classes > 0 it is
// conditional: z is multiplied elementwise by a learned (K, Z) embedding of y.
func newDCGANGenerator(latent, classes int, r *rng.RNG) *dcganGenerator {
	m := &dcganGenerator{
		fc:    nn.NewLinear("g.fc", latent, 128*7*7, false),
		fcBN:  nn.NewBatchNorm("g.fc_bn", 128*7*7, bnMomentum, bnEps),
		up1:   nn.NewConvT2d("g.up1", 128, 64, 4, 2, 1, false),
		up1BN: nn.NewBatchNorm("g.up1_bn", 64, bnMomentum, bnEps),
		up2:   nn.NewConvT2d("g.up2", 64, 1, 4, 2, 1, true),
	}
	if classes > 0 {
		m.embed = nn.NewParam("g.embed.weight", classes, latent)
		nn.InitNormal(m.embed, r, 0, 1) // nn.Embedding's default N(0, 1)
	}
	m.fc.Init(r, initStd)
	m.fcBN.Init(r, initStd)
	m.up1.Init(r, initStd)
	m.up1BN.Init(r, initStd)
	m.up2.Init(r, initStd)
	return m
}

func (m *dcganGenerator) Forward(g *nn.Graph, z, labels *gorgonia.Node) *gorgonia.Node {
	b := z.Shape()[1]
	if m.embed != nil {
		var e *gorgonia.Node
		if labels.Shape().Dims() == 2 {
			e = g.SoftEmbedding(g.Param(m.embed), labels) // blended labels (K, B), for sampling
		} else {
			e = g.Embedding(g.Param(m.embed), labels)
		}
		z = g.Mul(z, e) // z ⊙ embed(y): (Z, B)
	}
	h := m.fc.Forward(g, z, kernels.Identity)            // (6272, B)
	h = m.fcBN.Forward(g, h, kernels.ReLU, 128, 7, 7, b) // (128, 7, 7, B): the same memory
	h = m.up1.Forward(g, h, kernels.Identity)            // (64, 14, 14, B)
	h = m.up1BN.Forward(g, h, kernels.ReLU)              // (64, 14, 14, B)
	return m.up2.Forward(g, h, kernels.Tanh)             // (1, 28, 28, B)
}

func (m *dcganGenerator) Params() []*nn.Param {
	var ps []*nn.Param
	if m.embed != nil {
		ps = append(ps, m.embed)
	}
	ps = append(ps, m.fc.Params()...)
	ps = append(ps, m.fcBN.Params()...)
	ps = append(ps, m.up1.Params()...)
	ps = append(ps, m.up1BN.Params()...)
	return append(ps, m.up2.Params()...)
}

func (m *dcganGenerator) Buffers() []nn.Buffer {
	return append(m.fcBN.Buffers(), m.up1BN.Buffers()...)
}

func (m *dcganGenerator) BatchNorms() []*kernels.BNStats {
	return []*kernels.BNStats{m.fcBN.Stats, m.up1BN.Stats}
}

// dcganDiscriminator: x (C, 28, 28, B) → conv1 k4 s2 p1 + bias, LeakyReLU →
// (64, 14, 14, B) → conv2 k4 s2 p1, BN, LeakyReLU → (128·7·7, B), which is
// PyTorch's flatten in (C, H, W) order → fc + bias → (1, B).
type dcganDiscriminator struct {
	embed   *nn.Param // (K, 784) for the conditional discriminator, else nil
	conv1   *nn.Conv2dLayer
	conv2   *nn.Conv2dLayer
	conv2BN *nn.BatchNormLayer
	fc      *nn.LinearLayer
}

// newDCGANDiscriminator makes the discriminator; with classes > 0 it is
// conditional: a (K, 784) label embedding becomes a second input channel.
func newDCGANDiscriminator(classes int, r *rng.RNG) *dcganDiscriminator {
	inC := 1
	if classes > 0 {
		inC = 2
	}
	m := &dcganDiscriminator{
		conv1:   nn.NewConv2d("d.conv1", inC, 64, 4, 2, 1, true),
		conv2:   nn.NewConv2d("d.conv2", 64, 128, 4, 2, 1, false),
		conv2BN: nn.NewBatchNorm("d.conv2_bn", 128, bnMomentum, bnEps),
		fc:      nn.NewLinear("d.fc", 128*7*7, 1, true),
	}
	if classes > 0 {
		m.embed = nn.NewParam("d.embed.weight", classes, 28*28)
		nn.InitNormal(m.embed, r, 0, 1) // nn.Embedding's default N(0, 1)
	}
	m.conv1.Init(r, initStd)
	m.conv2.Init(r, initStd)
	m.conv2BN.Init(r, initStd)
	m.fc.Init(r, initStd)
	return m
}

func (m *dcganDiscriminator) Forward(g *nn.Graph, x, labels *gorgonia.Node) *gorgonia.Node {
	b := x.Shape()[3]
	if m.embed != nil {
		plane := g.Embedding(g.Param(m.embed), labels, 1, 28, 28, b) // (1, 28, 28, B)
		x = g.Concat(x, plane)                                       // (2, 28, 28, B)
	}
	h := m.conv1.Forward(g, x, kernels.LeakyReLU)           // (64, 14, 14, B)
	h = m.conv2.Forward(g, h, kernels.Identity)             // (128, 7, 7, B)
	h = m.conv2BN.Forward(g, h, kernels.LeakyReLU, 6272, b) // (6272, B): PyTorch's (C, H, W) flatten
	return m.fc.Forward(g, h, kernels.Identity)             // (1, B)
}

func (m *dcganDiscriminator) Params() []*nn.Param {
	var ps []*nn.Param
	if m.embed != nil {
		ps = append(ps, m.embed)
	}
	ps = append(ps, m.conv1.Params()...)
	ps = append(ps, m.conv2.Params()...)
	ps = append(ps, m.conv2BN.Params()...)
	return append(ps, m.fc.Params()...)
}

func (m *dcganDiscriminator) Buffers() []nn.Buffer { return m.conv2BN.Buffers() }

func (m *dcganDiscriminator) BatchNorms() []*kernels.BNStats {
	return []*kernels.BNStats{m.conv2BN.Stats}
}
