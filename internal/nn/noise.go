package nn

import (
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SetNoise gives a training graph the source of its Gaussian noise layers
// (GaussianNoise). The layers draw from r in the order the graph runs them,
// so a run is reproduced by r's state; a graph without a source, or an
// evaluation graph, adds no noise.
func (g *Graph) SetNoise(r *rng.RNG) { g.noise = r }

// GaussianNoise adds std·N(0, 1) noise to every element of x in a training
// graph with a noise source (SetNoise), as Lasagne's GaussianNoiseLayer
// that Salimans et al. (2016) put before each layer of the semi-supervised
// GAN's discriminator; elsewhere it returns x. Fresh noise is drawn at each
// run; the gradient passes through unchanged.
func (g *Graph) GaussianNoise(x *gorgonia.Node, std float64) *gorgonia.Node {
	if g.err != nil || !g.train || g.noise == nil || std == 0 {
		return x
	}
	r := g.noise
	xs := shapeOf(x)
	n, _ := g.Apply(OpSpec{
		Name: "gaussian_noise",
		In:   []tensor.Shape{xs}, Out: xs, DiffWRT: []bool{true},
		Forward: func(v [][]float32, y []float32) error {
			r.FillNormal(y, 0, std)
			for i, a := range v[0] {
				y[i] += a
			}
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, y, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			return gorgonia.Nodes{dy}, nil
		},
	}, x)
	return n
}
