package losses

import (
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The gradient penalties of D, on its input gradients g_b = ∇ₓD(x_b) given
// as graph nodes (…, B), batch-last: sample b's values are every B-th from
// b. The nodes come from a D that writes out its own backward pass
// (models.InputGradNet), so the penalties' weight gradients are ordinary
// first-order ones.

// GPValue returns WGAN-GP's penalty λ·mean_b (‖g_b‖ − 1)² (Gulrajani et al.
// 2017) of the input gradients g (…, B), the mean norm, and, when coef is
// not nil, the factors c_b of its gradient ∂P/∂g_b = c_b·g_b. Where a norm
// is 0 the penalty has no derivative; c_b is 0 there.
func GPValue(g []float32, b int, lambda float64, coef []float64) (p, meanNorm float64) {
	norms := sampleNorms(g, b)
	for j, n := range norms {
		p += (n - 1) * (n - 1)
		meanNorm += n
		if coef != nil {
			coef[j] = 0
			if n > 0 {
				coef[j] = 2 * lambda * (n - 1) / (n * float64(b))
			}
		}
	}
	return lambda * p / float64(b), meanNorm / float64(b)
}

// R1Value returns the R1 penalty (γ/2)·mean_b ‖g_b‖² (Mescheder et al.
// 2018) of the input gradients g (…, B), the mean norm, and, when coef is
// not nil, the factors c_b = γ/B of its gradient ∂P/∂g_b = c_b·g_b.
func R1Value(g []float32, b int, gamma float64, coef []float64) (p, meanNorm float64) {
	for j, n := range sampleNorms(g, b) {
		p += n * n
		meanNorm += n
		if coef != nil {
			coef[j] = gamma / float64(b)
		}
	}
	return gamma / 2 * p / float64(b), meanNorm / float64(b)
}

// sampleNorms returns ‖g_b‖ for each of the B samples of g (…, B), in float64.
func sampleNorms(g []float32, b int) []float64 {
	sq := make([]float64, b)
	for i, v := range g {
		sq[i%b] += float64(v) * float64(v)
	}
	for j := range sq {
		sq[j] = math.Sqrt(sq[j])
	}
	return sq
}

// GradientPenalty adds WGAN-GP's penalty of the input gradients gx (…, B)
// with weight lambda to the graph. Stat.Loss is the penalty, Stat.Mean
// the mean gradient norm.
func GradientPenalty(g *nn.Graph, name string, gx *gorgonia.Node, lambda float64) (*gorgonia.Node, *Stat) {
	return penalty(g, name, gx, func(v []float32, b int, coef []float64) (float64, float64) {
		return GPValue(v, b, lambda, coef)
	})
}

// R1 adds the R1 penalty of the input gradients gx (…, B) on real images,
// with weight gamma, to the graph. Stat.Loss is the penalty, Stat.Mean the
// mean gradient norm.
func R1(g *nn.Graph, name string, gx *gorgonia.Node, gamma float64) (*gorgonia.Node, *Stat) {
	return penalty(g, name, gx, func(v []float32, b int, coef []float64) (float64, float64) {
		return R1Value(v, b, gamma, coef)
	})
}

// penalty adds the scalar f(gx) to the graph; f also writes the factors of
// its gradient, which is c_b·g_b for sample b.
func penalty(g *nn.Graph, name string, gx *gorgonia.Node, f func(v []float32, b int, coef []float64) (p, mean float64)) (*gorgonia.Node, *Stat) {
	st := &Stat{}
	if g.Err() != nil {
		return nil, st
	}
	s := gx.Shape().Clone()
	b := s[s.Dims()-1]
	n, _ := g.Apply(nn.OpSpec{
		Name: name, In: []tensor.Shape{s}, DiffWRT: []bool{true},
		Forward: func(v [][]float32, out []float32) error {
			st.Loss, st.Mean = f(v[0], b, nil)
			if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
				return fmt.Errorf("is %v", st.Loss)
			}
			out[0] = float32(st.Loss)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			coef := make([]float64, b)
			dx, _ := g.Apply(nn.OpSpec{
				Name: name + " gradient", In: []tensor.Shape{s, nil}, Out: s,
				Forward: func(v [][]float32, dx []float32) error {
					f(v[0], b, coef)
					gs := float64(v[1][0])
					for i, e := range v[0] {
						dx[i] = float32(gs * coef[i%b] * float64(e))
					}
					return nil
				},
			}, v[0], grad)
			return gorgonia.Nodes{dx}, g.Err()
		},
	}, gx)
	return n, st
}
