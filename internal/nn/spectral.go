package nn

import (
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SpectralNorm is the state of the spectral normalisation of one weight
// (Miyato et al. 2018, PyTorch's torch.nn.utils.spectral_norm): the weight
// W, viewed as the matrix (out, in·kh·kw), is used as W/σ, σ its largest
// singular value estimated by power iteration from the vector U (out),
// which persists from step to step.
type SpectralNorm struct {
	P *Param
	U []float32
}

// NewSpectralNorm starts the normalisation of p with U drawn from N(0, 1)
// and normalised, as PyTorch does.
func NewSpectralNorm(p *Param, r *rng.RNG) *SpectralNorm {
	s := &SpectralNorm{P: p, U: make([]float32, p.Shape()[0])}
	r.FillNormal(s.U, 0, 1)
	u := make([]float64, len(s.U))
	for i, v := range s.U {
		u[i] = float64(v)
	}
	normalize(u)
	for i, v := range u {
		s.U[i] = float32(v)
	}
	return s
}

// Buffer is U as a saved buffer, named as PyTorch names it (weight_u).
func (s *SpectralNorm) Buffer() Buffer {
	return Buffer{Name: s.P.Name + "_u", Shape: []int{len(s.U)}, Data: s.U}
}

// snEps is PyTorch's eps of spectral_norm: the floor of a norm divided by.
const snEps = 1e-12

func normalize(x []float64) float64 {
	var n float64
	for _, v := range x {
		n += v * v
	}
	n = math.Sqrt(n)
	d := math.Max(n, snEps)
	for i := range x {
		x[i] /= d
	}
	return n
}

// PowerIteration does one power iteration on w (m, n) from u (m): v =
// Wᵀu/‖Wᵀu‖, then u' = Wv/‖Wv‖; it returns σ = u'ᵀWv = ‖Wv‖, u' and v,
// in float64.
func PowerIteration(w []float32, m, n int, u []float32) (sigma float64, uNew, v []float64) {
	v = make([]float64, n)
	for i := 0; i < m; i++ {
		ui := float64(u[i])
		row := w[i*n : (i+1)*n]
		for j, x := range row {
			v[j] += ui * float64(x)
		}
	}
	normalize(v)
	uNew = make([]float64, m)
	for i := 0; i < m; i++ {
		var s float64
		for j, x := range w[i*n : (i+1)*n] {
			s += float64(x) * v[j]
		}
		uNew[i] = s
	}
	sigma = normalize(uNew)
	return sigma, uNew, v
}

// SpectralNorm makes every later use of the params of sns in this graph
// read W/σ instead of W: one normalisation op per param and graph, so one
// power iteration per run. With update, the run stores the iteration's
// new u (the graph that trains D); without, u stays (a graph that only
// reads D, such as G's, then uses the same σ as the D step will).
// The gradient treats u and v as constants, as PyTorch does:
// ∂L/∂W = (G − ⟨G, W/σ⟩·u vᵀ)/σ for G = ∂L/∂(W/σ).
func (g *Graph) SpectralNorm(update bool, sns ...*SpectralNorm) {
	if g.err != nil {
		return
	}
	if g.sn == nil {
		g.sn = map[*Param]*snUse{}
	}
	for _, s := range sns {
		if _, used := g.paramNodes[s.P]; used {
			g.fail(fmt.Errorf("nn: spectral norm of %s: the param is already in the graph", s.P.Name))
			return
		}
		g.sn[s.P] = &snUse{s: s, update: update}
	}
}

type snUse struct {
	s      *SpectralNorm
	update bool
}

// spectralNorm adds W/σ for the param node w.
func (g *Graph) spectralNorm(w *gorgonia.Node, use *snUse) *gorgonia.Node {
	s := use.s
	shape := w.Shape().Clone()
	m := shape[0]
	n := shape.TotalSize() / m
	// What the forward of this run saw, for the backward of the same run.
	var sigma float64
	var u, v []float64
	out, _ := g.Apply(OpSpec{
		Name: "spectral_norm(" + s.P.Name + ")",
		In:   []tensor.Shape{shape}, Out: shape, DiffWRT: []bool{true},
		Forward: func(in [][]float32, out []float32) error {
			sigma, u, v = PowerIteration(in[0], m, n, s.U)
			if !(sigma > 0) || math.IsInf(sigma, 0) {
				return fmt.Errorf("largest singular value of %s is %v", s.P.Name, sigma)
			}
			inv := 1 / sigma
			for i, x := range in[0] {
				out[i] = float32(float64(x) * inv)
			}
			if use.update {
				for i, x := range u {
					s.U[i] = float32(x)
				}
			}
			return nil
		},
		Backward: func(need []bool, in gorgonia.Nodes, out, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dw, _ := g.Apply(OpSpec{
				Name: "spectral_norm_grad(" + s.P.Name + ")",
				In:   []tensor.Shape{shape, shape}, Out: shape,
				Forward: func(in [][]float32, dw []float32) error {
					SpectralNormGrad(in[0], in[1], m, n, sigma, u, v, dw)
					return nil
				},
			}, grad, out)
			return gorgonia.Nodes{dw}, g.Err()
		},
	}, w)
	return out
}

// SpectralNormGrad writes ∂L/∂W = (G − ⟨G, Wsn⟩·u vᵀ)/σ into dw, for G =
// ∂L/∂Wsn (m, n) and Wsn = W/σ.
func SpectralNormGrad(gr, wsn []float32, m, n int, sigma float64, u, v []float64, dw []float32) {
	var dot float64
	for i, x := range gr {
		dot += float64(x) * float64(wsn[i])
	}
	inv := 1 / sigma
	for i := 0; i < m; i++ {
		c := dot * u[i]
		for j := 0; j < n; j++ {
			k := i*n + j
			dw[k] = float32((float64(gr[k]) - c*v[j]) * inv)
		}
	}
}
