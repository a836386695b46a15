// Package models defines gantrain's GANs: each is a generator and a
// discriminator (or critic) built from internal/nn layers, a loss kind, and
// a registry entry.
//
// Notation: B batch, Z latent size, K classes. z is fed feature-major (Z, B);
// images are batch-last (C, H, W, B) in [−1, 1]; the discriminator
// returns logits (or critic values) (1, B).
//
// A model is built for a Shape: the latent size, the images' channels and
// size, the number of classes and the base width. At 28 px the DCGAN
// family is the reference architecture of
// ../shared/notes/reference-models.md; at 16, 32, 64, 128 and 256 px it is
// the layout of pytorch/examples' DCGAN (dcgan_examples.go).
package models

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
)

// Loss says how a model's networks are trained.
type Loss int

const (
	// BCE is binary cross-entropy on logits: D on real → 1, fake → 0; G uses
	// the non-saturating loss −log D(G(z)).
	BCE Loss = iota
	// Wasserstein: critic minimises mean C(fake) − mean C(real), G minimises
	// −mean C(fake); critic weights are clipped after every critic step.
	Wasserstein
	// SemiSupervised is the semi-supervised GAN (Salimans et al. 2016): D
	// returns K class logits (K, B), the fake class implicit; see
	// internal/losses for the losses.
	SemiSupervised
	// Hinge: D minimises mean max(0, 1 − D(x)) + mean max(0, 1 + D(G(z))),
	// G minimises −mean D(G(z)) (Lim & Ye 2017, Miyato et al. 2018).
	Hinge
	// LSGAN: least squares (Mao et al. 2017), the 0-1-1 coding: D
	// minimises ½ mean (D(x) − 1)² + ½ mean D(G(z))², G ½ mean (D(G(z)) − 1)².
	LSGAN
)

// LossNames maps the values of the config key loss to loss kinds.
var LossNames = map[string]Loss{"bce": BCE, "hinge": Hinge, "lsgan": LSGAN, "wasserstein": Wasserstein}

// String returns the loss's config name.
func (l Loss) String() string {
	for n, v := range LossNames {
		if v == l {
			return n
		}
	}
	if l == SemiSupervised {
		return "semi-supervised"
	}
	return fmt.Sprintf("Loss(%d)", int(l))
}

// Net is one of a GAN's two networks.
type Net interface {
	// Forward adds the network to g. For a generator, x is z (Z, B) and the
	// result an image batch; for a discriminator, x is an image batch and
	// the result (1, B). labels (B) holds class indices for conditional
	// models and is nil otherwise; a conditional generator also accepts
	// label weights (K, B) that blend the class embeddings.
	Forward(g *nn.Graph, x, labels *gorgonia.Node) *gorgonia.Node
	// Params lists the learnables in checkpoint order.
	Params() []*nn.Param
	// Buffers lists the saved non-learnables (batch-norm running statistics).
	Buffers() []nn.Buffer
	// BatchNorms lists the batch-norm statistics the net owns.
	BatchNorms() []*kernels.BNStats
}

// InputGradNet is a discriminator without batch norm whose gradient with
// respect to its input can be written out as graph nodes, for the gradient
// penalties (WGAN-GP, R1): gorgonia has no double backward.
type InputGradNet interface {
	Net
	// ForwardInputGrad adds the network to g as Forward does and returns
	// beside its output (1, B) the gradient of Σ_b out_b with respect to
	// x, shaped as x: as each output depends on its own sample alone,
	// sample b's part is ∇ₓD(x_b). The gradient is built from
	// differentiable ops (the layers' adjoints with the same weight nodes,
	// the activations' derivative masks as constants), so a penalty on it
	// is differentiated with respect to D's weights like any loss.
	ForwardInputGrad(g *nn.Graph, x, labels *gorgonia.Node) (out, grad *gorgonia.Node)
}

// FeatureNet is a discriminator that also shows an intermediate layer, for
// the generator's feature matching (sgan).
type FeatureNet interface {
	Net
	// ForwardFeatures adds the network to g as Forward does and returns
	// the intermediate features (F, B) beside the output.
	ForwardFeatures(g *nn.Graph, x, labels *gorgonia.Node) (features, out *gorgonia.Node)
}

// GAN is a model: both networks and how they are trained.
type GAN struct {
	Name        string
	Loss        Loss
	Conditional bool
	// Classifier says D classifies: it returns K logits (K, B) (sgan).
	Classifier bool
	Latent     int // Z
	Classes    int // K (conditional and classifier models)
	C, H, W    int // image shape
	Width      int // base channel count of the convolutional networks
	G, D       Net
	// SN is the spectral normalisation of D's weight matrices (Shape's
	// SpectralNorm), nil without it; its u vectors are saved buffers.
	SN []*nn.SpectralNorm
	// MinibatchStd says D has the minibatch standard-deviation layer.
	MinibatchStd bool
	// DNoBatchNorm says D was built without batch norm at the shape's
	// request (Shape.DNoBatchNorm); wgan-gp's critic has none anyway.
	DNoBatchNorm bool
	// GP says the critic is trained with WGAN-GP's gradient penalty
	// (wgan.gp_lambda) instead of weight clipping; D is an InputGradNet.
	GP bool
}

// Shape is what a model is built for.
type Shape struct {
	Latent  int // Z
	C, H, W int // image channels (1 or 3), height and width
	// Classes is K for conditional and classifier models, taken from the
	// data; unused by the others.
	Classes int
	// Width is the base channel count of the convolutional networks
	// (pytorch/examples' ngf = ndf); 0 means DefaultWidth.
	Width int
	// SpectralNorm normalises every weight matrix and convolution kernel
	// of D (not embeddings, not batch norm) by its largest singular value
	// (config key spectral_norm); not for classifier models.
	SpectralNorm bool
	// MinibatchStd adds a minibatch standard-deviation feature map to D
	// before its last layer (config key minibatch_std); the DCGAN family
	// with one D output only.
	MinibatchStd bool
	// DNoBatchNorm builds the unconditional DCGAN family's D without batch
	// norm (config key d_norm: none), as wgan-gp's critic is built.
	DNoBatchNorm bool
}

// DefaultWidth is the base width of the DCGAN family: at 28 px it gives the
// reference networks' 64 and 128 channels.
const DefaultWidth = 64

// MNIST is the shape of the reference models: 28×28 gray digits, 10
// classes, the default width.
func MNIST(latent int) Shape {
	return Shape{Latent: latent, C: 1, H: 28, W: 28, Classes: 10, Width: DefaultWidth}
}

// Sizes lists the image sizes the DCGAN family is built for.
var Sizes = []int{16, 28, 32, 64, 128, 256}

// ErrSize marks an image size a model is not built for; resizing the data
// to one of Sizes cures it.
var ErrSize = errors.New("unsupported image size")

func (s Shape) check(conditional, classifier, conv bool) error {
	switch {
	case s.Latent < 1:
		return fmt.Errorf("latent size %d", s.Latent)
	case s.C != 1 && s.C != 3:
		return fmt.Errorf("images with %d channels (want 1 or 3)", s.C)
	case s.H != s.W:
		return fmt.Errorf("%d×%d images: the models want square images", s.H, s.W)
	case s.H < 4 || s.H > 1024:
		return fmt.Errorf("%d px images: want 4 to 1024", s.H)
	case conv && !slices.Contains(Sizes, s.H):
		return fmt.Errorf("%d px images: the convolutional models are built for %s px%w", s.H, joinInts(Sizes), sizeErr{})
	case s.Width < 0 || s.Width > 4096:
		return fmt.Errorf("width %d", s.Width)
	case conditional && (s.Classes < 1 || s.Classes > 65536):
		return fmt.Errorf("%d classes: a conditional model needs 1 to 65536", s.Classes)
	case classifier && (s.Classes < 2 || s.Classes > 65536):
		return fmt.Errorf("%d classes: a classifier needs 2 to 65536", s.Classes)
	}
	return nil
}

// sizeErr adds nothing to the message but lets errors.Is find ErrSize.
type sizeErr struct{}

func (sizeErr) Error() string        { return "" }
func (sizeErr) Is(target error) bool { return target == ErrSize }

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

// Spec registers a model.
type Spec struct {
	Name        string
	Description string
	Conditional bool
	// Classifier says D is a K-class classifier (needs labelled data).
	Classifier bool
	// Conv says the networks are convolutional (built for Sizes only).
	Conv bool
	// New builds the model for a checked shape (Width set) with freshly
	// initialised weights drawn from r.
	New func(s Shape, r *rng.RNG) *GAN
}

var registry = map[string]Spec{}

// Register adds a model; it panics on a duplicate name (a programming error).
func Register(s Spec) {
	if _, ok := registry[s.Name]; ok {
		panic("models: duplicate model " + s.Name)
	}
	registry[s.Name] = s
}

// Names lists the registered models, sorted.
func Names() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Lookup returns a model's spec.
func Lookup(name string) (Spec, bool) {
	s, ok := registry[name]
	return s, ok
}

// New builds a registered model for 28×28 gray images of 10 classes (the
// MNIST shape).
func New(name string, latent int, r *rng.RNG) (*GAN, error) {
	return Build(name, MNIST(latent), r)
}

// Build builds a registered model for shape s.
func Build(name string, s Shape, r *rng.RNG) (*GAN, error) {
	spec, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if s.Width == 0 {
		s.Width = DefaultWidth
	}
	if err := s.check(spec.Conditional, spec.Classifier, spec.Conv); err != nil {
		return nil, fmt.Errorf("model %s: %w", name, err)
	}
	if s.SpectralNorm && spec.Classifier {
		return nil, fmt.Errorf("model %s: spectral normalisation is for a D with one output, not a classifier", name)
	}
	if s.MinibatchStd && (spec.Classifier || !spec.Conv) {
		return nil, fmt.Errorf("model %s: the minibatch standard-deviation layer is for the convolutional D with one output (dcgan, cgan, wgan)", name)
	}
	if s.DNoBatchNorm && (spec.Classifier || spec.Conditional || !spec.Conv) {
		return nil, fmt.Errorf("model %s: a D without batch norm is built for the unconditional convolutional models (dcgan, wgan, wgan-gp)", name)
	}
	m := spec.New(s, r)
	m.MinibatchStd, m.DNoBatchNorm = s.MinibatchStd, s.DNoBatchNorm
	if s.SpectralNorm {
		// u vectors drawn after every weight, so the weights are those
		// of the same seed without spectral normalisation.
		for _, p := range m.D.Params() {
			if len(p.Shape()) >= 2 && !strings.Contains(p.Name, "embed") {
				m.SN = append(m.SN, nn.NewSpectralNorm(p, r))
			}
		}
	}
	m.Name, m.Conditional, m.Classifier, m.Latent, m.C, m.H, m.W, m.Width = name, spec.Conditional, spec.Classifier, s.Latent, s.C, s.H, s.W, s.Width
	if spec.Conditional || spec.Classifier {
		m.Classes = s.Classes
	}
	return m, nil
}

// Shape returns the shape the model was built for.
func (m *GAN) Shape() Shape {
	return Shape{Latent: m.Latent, C: m.C, H: m.H, W: m.W, Classes: m.Classes, Width: m.Width, SpectralNorm: m.SN != nil, MinibatchStd: m.MinibatchStd, DNoBatchNorm: m.DNoBatchNorm}
}

// Params returns G's then D's params.
func (m *GAN) Params() []*nn.Param { return append(m.G.Params(), m.D.Params()...) }

// Buffers returns G's then D's buffers, then the u vectors of D's
// spectral normalisation (named <weight>_u, as PyTorch names them).
func (m *GAN) Buffers() []nn.Buffer {
	bs := append(m.G.Buffers(), m.D.Buffers()...)
	for _, s := range m.SN {
		bs = append(bs, s.Buffer())
	}
	return bs
}

// ForConfig builds the model cfg names for the data cfg records
// (data.size and data.channels, set by training from the data it loaded; 0
// means 28 px gray, the shape of runs made before they were recorded), with
// classes labels for a conditional model (0: ten, MNIST's, for such older
// runs) and cfg's width (0: DefaultWidth).
func ForConfig(cfg config.Config, classes int, r *rng.RNG) (*GAN, error) {
	s := Shape{Latent: cfg.LatentDim, C: cfg.Data.Channels, H: cfg.Data.Size, W: cfg.Data.Size,
		Classes: classes, Width: cfg.Width, SpectralNorm: cfg.SpectralNorm, MinibatchStd: cfg.MinibatchStd,
		DNoBatchNorm: cfg.DNorm == "none"}
	if s.H == 0 {
		s.H, s.W = 28, 28
	}
	if s.C == 0 {
		s.C = 1
	}
	if s.Classes == 0 {
		s.Classes = 10
	}
	m, err := Build(cfg.Model, s, r)
	if err != nil {
		return nil, err
	}
	if cfg.Loss != "" {
		l, ok := LossNames[cfg.Loss]
		if !ok || m.Loss == SemiSupervised {
			return nil, fmt.Errorf("model %s: loss %q: want one of bce, hinge, lsgan, wasserstein, for a model with one D output", m.Name, cfg.Loss)
		}
		m.Loss = l
	}
	return m, nil
}
