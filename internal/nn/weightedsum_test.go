package nn

import (
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// weightedSum adds the cost Σ r ⊙ y to y's graph, whose gradient is r; out
// receives y's values at each run.
func weightedSum(g *Graph, y *gorgonia.Node, r []float32) (cost *gorgonia.Node, out *[]float32) {
	out = new([]float32)
	ys := y.Shape().Clone()
	cost, _ = g.Apply(OpSpec{
		Name: "weighted_sum", In: []tensor.Shape{ys}, DiffWRT: []bool{true},
		Forward: func(in [][]float32, o []float32) error {
			var s float64
			for i, v := range in[0] {
				s += float64(r[i]) * float64(v)
			}
			*out = append([]float32(nil), in[0]...)
			o[0] = float32(s)
			return nil
		},
		Backward: func(need []bool, in gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			d, _ := g.Apply(OpSpec{Name: "weighted_sum_grad", In: []tensor.Shape{nil}, Out: ys,
				Forward: func(in [][]float32, o []float32) error {
					for i := range o {
						o[i] = in[0][0] * r[i]
					}
					return nil
				}}, grad)
			return gorgonia.Nodes{d}, g.Err()
		},
	}, y)
	g.Backward(cost)
	return cost, out
}
