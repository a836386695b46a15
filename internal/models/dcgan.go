package models

import (
	"errors"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
)

// The DCGAN family: at 28 px the DCGAN of ../shared/notes/reference-models.md
// (its channel counts are width and 2·width, 64 and 128 by default); at
// the other sizes pytorch/examples' DCGAN (dcgan_examples.go).

const (
	bnMomentum = 0.1  // PyTorch's: weight of the new batch
	bnEps      = 1e-5 // PyTorch's
	initStd    = 0.02 // DCGAN paper
)

func init() {
	Register(Spec{
		Name:        "dcgan",
		Description: "DCGAN (Radford et al. 2015): transposed-convolution generator, strided-convolution discriminator, BCE",
		Conv:        true,
		New:         func(s Shape, r *rng.RNG) *GAN { return newDCGAN(BCE, s, 0, r) },
	})
	Register(Spec{
		Name:        "wgan",
		Description: "WGAN (Arjovsky et al. 2017): the DCGAN networks, a linear critic, Earth-Mover loss, weight clipping",
		Conv:        true,
		New:         func(s Shape, r *rng.RNG) *GAN { return newDCGAN(Wasserstein, s, 0, r) },
	})
	Register(Spec{
		Name:        "wgan-gp",
		Description: "WGAN-GP (Gulrajani et al. 2017): the DCGAN networks, a critic without batch norm, Earth-Mover loss, gradient penalty on interpolates",
		Conv:        true,
		New: func(s Shape, r *rng.RNG) *GAN {
			m := newDCGANNoBN(Wasserstein, s, r)
			m.GP = true
			return m
		},
	})
	Register(Spec{
		Name:        "cgan",
		Description: "conditional DCGAN (Mirza & Osindero 2014): G gets z ⊙ embed(y), D gets embed(y) as an extra image channel",
		Conditional: true,
		Conv:        true,
		New:         func(s Shape, r *rng.RNG) *GAN { return newDCGAN(BCE, s, s.Classes, r) },
	})
	Register(Spec{
		Name:        "sgan",
		Description: "semi-supervised GAN (Salimans et al. 2016): D a classifier of K classes plus an implicit fake one, G trained by feature matching",
		Classifier:  true,
		New:         newSGAN,
	})
}

// newDCGAN builds the DCGAN family's networks for s, conditional on
// classes labels when classes > 0, with D without batch norm when
// s.DNoBatchNorm (unconditional only). G's weights are drawn before D's.
func newDCGAN(loss Loss, s Shape, classes int, r *rng.RNG) *GAN {
	if s.DNoBatchNorm && classes == 0 {
		return newDCGANNoBN(loss, s, r)
	}
	m := &GAN{Loss: loss}
	if s.H == 28 {
		m.G = newDCGANGenerator(s.Latent, s.C, s.Width, classes, r)
		m.D = newDCGANDiscriminator(s.C, s.Width, classes, 1, s.MinibatchStd, r)
	} else {
		m.G = newExamplesGenerator(s, classes, r)
		m.D = newExamplesDiscriminator(s, classes, 1, s.MinibatchStd, r)
	}
	return m
}

// newDCGANNoBN builds the unconditional DCGAN family with a D without batch
// norm (WGAN-GP's critic): each convolution that batch norm followed gets
// a bias instead, as batch norm's β was one. G's weights are drawn before
// D's, as newDCGAN draws them.
func newDCGANNoBN(loss Loss, s Shape, r *rng.RNG) *GAN {
	m := &GAN{Loss: loss}
	if s.H == 28 {
		m.G = newDCGANGenerator(s.Latent, s.C, s.Width, 0, r)
		m.D = newDCGANCritic(s.C, s.Width, s.MinibatchStd, r)
	} else {
		m.G = newExamplesGenerator(s, 0, r)
		m.D = newExamplesCritic(s, s.MinibatchStd, r)
	}
	return m
}

// dcganGenerator: z (Z, B) → fc 6272, BN, ReLU → (128, 7, 7, B) → up1 k4 s2
// p1, BN, ReLU → (64, 14, 14, B) → up2 k4 s2 p1 + bias, tanh → (C, 28, 28, B),
// with 64 = width and 128 = 2·width.
type dcganGenerator struct {
	embed *nn.Param // (K, Z) for the conditional generator, else nil
	fc    *nn.LinearLayer
	fcBN  *nn.BatchNormLayer
	up1   *nn.ConvT2dLayer
	up1BN *nn.BatchNormLayer
	up2   *nn.ConvT2dLayer
	w2    int // 2·width: the channels of the 7×7 map
}

// newDCGANGenerator makes the generator; with classes > 0 it is
// conditional: z is multiplied elementwise by a learned (K, Z) embedding of y.
func newDCGANGenerator(latent, c, width, classes int, r *rng.RNG) *dcganGenerator {
	w2 := 2 * width
	m := &dcganGenerator{
		fc:    nn.NewLinear("g.fc", latent, w2*7*7, false),
		fcBN:  nn.NewBatchNorm("g.fc_bn", w2*7*7, bnMomentum, bnEps),
		up1:   nn.NewConvT2d("g.up1", w2, width, 4, 2, 1, false),
		up1BN: nn.NewBatchNorm("g.up1_bn", width, bnMomentum, bnEps),
		up2:   nn.NewConvT2d("g.up2", width, c, 4, 2, 1, true),
		w2:    w2,
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
	h := m.fc.Forward(g, z, kernels.Identity)             // (6272, B)
	h = m.fcBN.Forward(g, h, kernels.ReLU, m.w2, 7, 7, b) // (128, 7, 7, B): the same memory
	h = m.up1.Forward(g, h, kernels.Identity)             // (64, 14, 14, B)
	h = m.up1BN.Forward(g, h, kernels.ReLU)               // (64, 14, 14, B)
	return m.up2.Forward(g, h, kernels.Tanh)              // (C, 28, 28, B)
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
// PyTorch's flatten in (C, H, W) order → fc + bias → (1, B) (sgan: (K, B));
// 64 = width. The sgan's features are the (128·7·7, B) before fc.
type dcganDiscriminator struct {
	embed   *nn.Param // (K, 784) for the conditional discriminator, else nil
	conv1   *nn.Conv2dLayer
	conv2   *nn.Conv2dLayer
	conv2BN *nn.BatchNormLayer
	fc      *nn.LinearLayer
	feat    int  // 2·width·7·7
	mbstd   bool // a minibatch standard-deviation plane before fc
	noBN    bool // conv2 has a bias and no batch norm (conv2BN nil)
}

// newDCGANDiscriminator makes the discriminator; with classes > 0 it is
// conditional: a (K, 784) label embedding becomes an extra input channel.
//
// outputs is the number of logits: 1, or K for the sgan's classifier.
// With mbstd, a 7×7 plane of the batch's standard deviation joins the
// features before fc (minibatch_std), so fc has 49 more inputs.
func newDCGANDiscriminator(c, width, classes, outputs int, mbstd bool, r *rng.RNG) *dcganDiscriminator {
	inC := c
	if classes > 0 {
		inC++
	}
	feat := 2 * width * 7 * 7
	fcIn := feat
	if mbstd {
		fcIn += 7 * 7
	}
	m := &dcganDiscriminator{
		conv1:   nn.NewConv2d("d.conv1", inC, width, 4, 2, 1, true),
		conv2:   nn.NewConv2d("d.conv2", width, 2*width, 4, 2, 1, false),
		conv2BN: nn.NewBatchNorm("d.conv2_bn", 2*width, bnMomentum, bnEps),
		fc:      nn.NewLinear("d.fc", fcIn, outputs, true),
		feat:    feat,
		mbstd:   mbstd,
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

// newDCGANCritic makes the unconditional discriminator without batch norm:
// x (C, 28, 28, B) → conv1 k4 s2 p1 + bias, LeakyReLU → (64, 14, 14, B) →
// conv2 k4 s2 p1 + bias, LeakyReLU → (128, 7, 7, B) → fc + bias → (1, B).
func newDCGANCritic(c, width int, mbstd bool, r *rng.RNG) *dcganDiscriminator {
	feat := 2 * width * 7 * 7
	fcIn := feat
	if mbstd {
		fcIn += 7 * 7
	}
	m := &dcganDiscriminator{
		conv1: nn.NewConv2d("d.conv1", c, width, 4, 2, 1, true),
		conv2: nn.NewConv2d("d.conv2", width, 2*width, 4, 2, 1, true),
		fc:    nn.NewLinear("d.fc", fcIn, 1, true),
		feat:  feat,
		mbstd: mbstd,
		noBN:  true,
	}
	m.conv1.Init(r, initStd)
	m.conv2.Init(r, initStd)
	m.fc.Init(r, initStd)
	return m
}

func (m *dcganDiscriminator) Forward(g *nn.Graph, x, labels *gorgonia.Node) *gorgonia.Node {
	_, out := m.ForwardFeatures(g, x, labels)
	return out
}

func (m *dcganDiscriminator) ForwardFeatures(g *nn.Graph, x, labels *gorgonia.Node) (features, out *gorgonia.Node) {
	if g.Err() != nil {
		return nil, nil
	}
	b := x.Shape()[3]
	if m.embed != nil {
		plane := g.Embedding(g.Param(m.embed), labels, 1, 28, 28, b) // (1, 28, 28, B)
		x = g.Concat(x, plane)                                       // (C+1, 28, 28, B)
	}
	h := m.conv1.Forward(g, x, kernels.LeakyReLU) // (64, 14, 14, B)
	if m.noBN {
		h = m.conv2.Forward(g, h, kernels.LeakyReLU) // (128, 7, 7, B), read by fc as (6272, B)
	} else {
		h = m.conv2.Forward(g, h, kernels.Identity)               // (128, 7, 7, B)
		h = m.conv2BN.Forward(g, h, kernels.LeakyReLU, m.feat, b) // (6272, B): PyTorch's (C, H, W) flatten
	}
	if m.mbstd {
		return h, m.fc.Forward(g, g.MinibatchStd(h, m.feat+7*7, b), kernels.Identity) // (6272+49, B) → (1, B)
	}
	return h, m.fc.Forward(g, h, kernels.Identity) // (1, B); sgan (K, B)
}

func (m *dcganDiscriminator) Params() []*nn.Param {
	var ps []*nn.Param
	if m.embed != nil {
		ps = append(ps, m.embed)
	}
	ps = append(ps, m.conv1.Params()...)
	ps = append(ps, m.conv2.Params()...)
	if !m.noBN {
		ps = append(ps, m.conv2BN.Params()...)
	}
	return append(ps, m.fc.Params()...)
}

func (m *dcganDiscriminator) Buffers() []nn.Buffer {
	if m.noBN {
		return nil
	}
	return m.conv2BN.Buffers()
}

func (m *dcganDiscriminator) BatchNorms() []*kernels.BNStats {
	if m.noBN {
		return nil
	}
	return []*kernels.BNStats{m.conv2BN.Stats}
}

// ForwardInputGrad implements InputGradNet for the critic without batch
// norm. With a1 = conv1(x) + b1, h1 = lrelu(a1), a2 = conv2(h1) + b2,
// h2 = lrelu(a2) and out = w·h2 + b: ∂out/∂h2 = wᵀ, g2 = wᵀ ⊙ lrelu'(a2),
// g1 = convT(g2, W2) ⊙ lrelu'(a1), ∇ₓ = convT(g1, W1).
func (m *dcganDiscriminator) ForwardInputGrad(g *nn.Graph, x, _ *gorgonia.Node) (out, grad *gorgonia.Node) {
	if g.Err() != nil {
		return nil, nil
	}
	if !m.noBN || m.mbstd || m.embed != nil || m.fc.W.Shape()[0] != 1 {
		g.Fail(errors.New("models: the input gradient needs the critic without batch norm, minibatch_std or labels"))
		return nil, nil
	}
	b := x.Shape()[3]
	h1 := m.conv1.Forward(g, x, kernels.LeakyReLU)  // (64, 14, 14, B)
	h2 := m.conv2.Forward(g, h1, kernels.LeakyReLU) // (128, 7, 7, B)
	out = m.fc.Forward(g, h2, kernels.Identity)     // (1, B)
	s2 := h2.Shape()
	d := g.LinearT(g.Ones("d.seed", 1, b), g.Param(m.fc.W), s2[0], s2[1], s2[2], b) // wᵀ: (128, 7, 7, B)
	d = g.ActGrad(h2, d, kernels.LeakyReLU)
	d = g.ConvTranspose2d(d, g.Param(m.conv2.W), m.conv2.Stride, m.conv2.Pad) // (64, 14, 14, B)
	d = g.ActGrad(h1, d, kernels.LeakyReLU)
	return out, g.ConvTranspose2d(d, g.Param(m.conv1.W), m.conv1.Stride, m.conv1.Pad) // (C, 28, 28, B)
}
