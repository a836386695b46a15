package nn

import (
	"math"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// mbstdEps is added to the variance under the square root (Karras et al.).
const mbstdEps = 1e-8

// MinibatchStd appends to x (…, B) — read as (F, B), F features of B
// samples — one feature map of plane values per sample, all equal to the
// mean over the F features of their standard deviation over the batch
// (Karras et al. 2018, with the whole batch as the group): s = (1/F)
// Σ_f √(var_b x[f, b] + 1e-8), the biased variance. The result has shape
// out, holding (F + plane)·B values: x's, then the plane's (in the
// batch-last layout, one more channel of an image-shaped x). D can then see
// a batch's lack of variety, which is what mode collapse leaves.
func (g *Graph) MinibatchStd(x *gorgonia.Node, out ...int) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	in := x.Shape().Clone()
	b := in[len(in)-1]
	outShape := tensor.Shape(out).Clone()
	n, _ := g.Apply(OpSpec{
		Name: "minibatch_std", In: []tensor.Shape{in}, Out: outShape, DiffWRT: []bool{true},
		Forward: func(v [][]float32, y []float32) error {
			s := MinibatchStdValue(v[0], b, nil)
			copy(y, v[0])
			for i := len(v[0]); i < len(y); i++ {
				y[i] = float32(s)
			}
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, _ := g.Apply(OpSpec{
				Name: "minibatch_std_grad", In: []tensor.Shape{in, outShape}, Out: in,
				Forward: func(v [][]float32, dx []float32) error {
					x, gy := v[0], v[1]
					var gs float64 // ∂L/∂s: s feeds every appended value
					for _, e := range gy[len(x):] {
						gs += float64(e)
					}
					MinibatchStdValue(x, b, func(f int, mean, sd float64) {
						c := gs / (float64(len(x)/b) * float64(b) * sd)
						for j := 0; j < b; j++ {
							k := f*b + j
							dx[k] = float32(float64(gy[k]) + c*(float64(x[k])-mean))
						}
					})
					return nil
				},
			}, v[0], grad)
			return gorgonia.Nodes{dx}, g.Err()
		},
	}, x)
	return n
}

// MinibatchStdValue returns s for x (F, B), in float64, calling each (when
// not nil) with every feature's batch mean and standard deviation.
func MinibatchStdValue(x []float32, b int, each func(f int, mean, sd float64)) float64 {
	f := len(x) / b
	var s float64
	for i := 0; i < f; i++ {
		row := x[i*b : (i+1)*b]
		var mean float64
		for _, v := range row {
			mean += float64(v)
		}
		mean /= float64(b)
		var vr float64
		for _, v := range row {
			d := float64(v) - mean
			vr += d * d
		}
		sd := math.Sqrt(vr/float64(b) + mbstdEps)
		s += sd
		if each != nil {
			each(i, mean, sd)
		}
	}
	return s / float64(f)
}
