// Package models defines gantrain's GANs: each is a generator and a
// discriminator (or critic) built from internal/nn layers, a loss kind, and
// a registry entry.
//
// Notation: B batch, Z latent size, K classes. z is fed feature-major (Z, B);
// images are batch-last (1, 28, 28, B) in [−1, 1]; the discriminator
// returns logits (or critic values) (1, B).
package models

import (
	"fmt"
	"sort"
	"strings"

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
)

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

// GAN is a model: both networks and how they are trained.
type GAN struct {
	Name        string
	Loss        Loss
	Conditional bool
	Latent      int // Z
	Classes     int // K (conditional models)
	C, H, W     int // image shape
	G, D        Net
}

// Spec registers a model.
type Spec struct {
	Name        string
	Description string
	// New builds the model with freshly initialised weights drawn from r.
	New func(latent int, r *rng.RNG) (*GAN, error)
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

// New builds a registered model.
func New(name string, latent int, r *rng.RNG) (*GAN, error) {
	s, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("unknown model %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	return s.New(latent, r)
}

// Params returns G's then D's params.
func (m *GAN) Params() []*nn.Param { return append(m.G.Params(), m.D.Params()...) }

// Buffers returns G's then D's buffers.
func (m *GAN) Buffers() []nn.Buffer { return append(m.G.Buffers(), m.D.Buffers()...) }
