// Package gen generates images from a trained generator: latent vectors from
// seeds, batched evaluation-mode sampling, and the fixed grids that training
// writes.
//
// Latent vectors: the z of a seed s is drawn from rng.New(s, NoiseStream)
// (PCG-DXSM, Box–Muller in float64, rounded to float32), Z values per vector,
// vector after vector. So `--seed 42 --n 1` gives the same z on any machine,
// and the first vector of `--seed 42 --n 64` is that same z.
package gen

import (
	"fmt"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
)

// Streams of the random generator, one per use of a seed.
const (
	NoiseStream   = 0x7a5f6e6f697365 // "z_noise": z for sampling and grids
	WeightsStream = 0x77656967687473 // "weights": initialisation
	TrainStream   = 0x747261696e7a   // "trainz": z and fake labels during training
)

// Noise returns n latent vectors of size z for seed, batch-major (n, z).
func Noise(seed uint64, n, z int) []float32 {
	out := make([]float32, n*z)
	rng.New(seed, NoiseStream).FillNormal(out, 0, 1)
	return out
}

// Sampler runs a model's generator in evaluation mode (batch norm with the
// running statistics) on batches of a fixed size.
type Sampler struct {
	model  *models.GAN
	batch  int
	m      *nn.Machine
	z      []float32 // graph input (Z, batch)
	labels []float32 // graph input (batch), or (K, batch) label weights, conditional models
	mix    bool      // labels are weights
	out    *gorgonia.Node
}

// NewSampler compiles the generator for batches of size batch.
func NewSampler(model *models.GAN, batch int) (*Sampler, error) {
	return newSampler(model, batch, false)
}

// NewMixSampler compiles a conditional generator that takes label weights
// instead of labels (see GenerateMix).
func NewMixSampler(model *models.GAN, batch int) (*Sampler, error) {
	if !model.Conditional {
		return nil, fmt.Errorf("gen: model %s is not conditional", model.Name)
	}
	return newSampler(model, batch, true)
}

func newSampler(model *models.GAN, batch int, mix bool) (*Sampler, error) {
	if batch < 1 {
		return nil, fmt.Errorf("gen: batch %d", batch)
	}
	g := nn.NewGraph(false)
	s := &Sampler{model: model, batch: batch, mix: mix}
	var z, y *gorgonia.Node
	z, s.z = g.Input("z", model.Latent, batch)
	switch {
	case mix:
		y, s.labels = g.Input("label_weights", model.Classes, batch)
	case model.Conditional:
		y, s.labels = g.Input("labels", batch)
	}
	s.out = model.G.Forward(g, z, y)
	if g.Err() != nil {
		return nil, g.Err()
	}
	m, err := g.Compile()
	if err != nil {
		return nil, err
	}
	s.m = m
	return s, nil
}

// Generate maps n latent vectors z (n, Z) and, for conditional models,
// labels (n) to n images (n, C·H·W) in [−1, 1].
func (s *Sampler) Generate(z []float32, labels []int) ([]float32, error) {
	if s.mix {
		return nil, fmt.Errorf("gen: a mix sampler takes label weights (GenerateMix)")
	}
	return s.generate(z, labels, nil)
}

// GenerateMix is Generate with label weights mix (n, K) for each image:
// the generator sees Σ_k mix[k]·embed(k) in place of embed(y).
func (s *Sampler) GenerateMix(z []float32, mix []float32) ([]float32, error) {
	if !s.mix {
		return nil, fmt.Errorf("gen: not a mix sampler")
	}
	return s.generate(z, nil, mix)
}

func (s *Sampler) generate(z []float32, labels []int, mix []float32) ([]float32, error) {
	zd := s.model.Latent
	if len(z)%zd != 0 {
		return nil, fmt.Errorf("gen: %d latent values is not a multiple of Z = %d", len(z), zd)
	}
	n := len(z) / zd
	k := s.model.Classes
	switch {
	case s.mix && len(mix) != n*k:
		return nil, fmt.Errorf("gen: %d label weights for %d latent vectors of %d classes", len(mix), n, k)
	case !s.mix && s.model.Conditional && len(labels) != n:
		return nil, fmt.Errorf("gen: %d labels for %d latent vectors", len(labels), n)
	}
	pix := s.model.C * s.model.H * s.model.W
	out := make([]float32, n*pix)
	for lo := 0; lo < n; lo += s.batch {
		cnt := min(s.batch, n-lo)
		clear(s.z)
		kernels.ToBatchLast(z[lo*zd:(lo+cnt)*zd], s.z, zd, s.batch)
		if s.mix {
			clear(s.labels)
			kernels.ToBatchLast(mix[lo*k:(lo+cnt)*k], s.labels, k, s.batch)
		} else if s.model.Conditional {
			for i := range s.labels {
				s.labels[i] = 0
				if i < cnt {
					if labels[lo+i] < 0 || labels[lo+i] >= s.model.Classes {
						return nil, fmt.Errorf("gen: label %d out of range [0, %d)", labels[lo+i], s.model.Classes)
					}
					s.labels[i] = float32(labels[lo+i])
				}
			}
		}
		if err := s.m.Run(); err != nil {
			return nil, fmt.Errorf("gen: generator: %w", err)
		}
		// The output is (C, H, W, batch); images are stored one after another.
		kernels.FromBatchLast(s.out.Value().Data().([]float32), out[lo*pix:(lo+cnt)*pix], pix, s.batch)
	}
	return out, nil
}

// Close releases the compiled graph.
func (s *Sampler) Close() error { return s.m.Close() }

// FixedGrid returns the latent vectors, labels and row length of the grid
// training writes: 8×8 samples of fixed noise, or for a conditional model
// one row per class with the same noise down each column.
func FixedGrid(model *models.GAN, seed uint64) (z []float32, labels []int, nrow int) {
	if !model.Conditional {
		return Noise(seed, 64, model.Latent), nil, 8
	}
	k := model.Classes
	col := Noise(seed, k, model.Latent) // one z per column
	z = make([]float32, 0, k*k*model.Latent)
	for class := 0; class < k; class++ {
		z = append(z, col...)
		for j := 0; j < k; j++ {
			labels = append(labels, class)
		}
	}
	return z, labels, k
}
