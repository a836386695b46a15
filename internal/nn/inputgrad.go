package nn

import (
	"fmt"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/parallel"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Ops that build a network's gradient with respect to its input as
// ordinary forward nodes, for gradient penalties (WGAN-GP, R1). gorgonia
// has no double backward, so the penalty ‖∇ₓD(x)‖ cannot be differentiated
// through D's own backward ops; instead a D without batch norm writes out
// its backward pass from these ops — each layer's adjoint with the same
// weight node (LinearT for Linear, ConvTranspose2d for Conv2d) and ActGrad
// for the activations — and gorgonia differentiates that first-order
// graph with respect to the weights like any other.

// ActGrad returns dy ⊙ a'(·), the derivative read from the activation's
// output y, as a node differentiable with respect to dy only: for the
// piecewise-linear activations (identity, ReLU, LeakyReLU) a' is
// piecewise constant, so its derivative is zero wherever it exists. y and
// dy hold the same number of values; the result has dy's shape.
func (g *Graph) ActGrad(y, dy *gorgonia.Node, a kernels.Act) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	if a != kernels.Identity && a != kernels.ReLU && a != kernels.LeakyReLU {
		g.fail(fmt.Errorf("nn: act_grad: %s' is not piecewise constant", a))
		return nil
	}
	ys, ds := shapeOf(y), shapeOf(dy)
	if ys.TotalSize() != ds.TotalSize() {
		g.fail(fmt.Errorf("nn: act_grad: shapes %v and %v differ in size", ys, ds))
		return nil
	}
	spec := OpSpec{
		Name: a.String() + "_mask", In: []tensor.Shape{ys, ds}, Out: ds, DiffWRT: []bool{false, true},
		Forward: func(v [][]float32, out []float32) error {
			kernels.ActBackward(a, v[0], v[1], out)
			return nil
		},
	}
	spec.Backward = func(_ []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
		// The op is linear in dy with a diagonal (symmetric) matrix.
		return gorgonia.Nodes{nil, g.ActGrad(v[0], grad, a)}, g.err
	}
	n, _ := g.Apply(spec, y, dy)
	return n
}

// LinearT is the adjoint of Linear: dy (Out, B) and w (Out, In) → wᵀ·dy
// (In, B), differentiable with respect to both; an optional shape of In·B
// values relabels the result, e.g. as (C, H, W, B) images.
func (g *Graph) LinearT(dy, w *gorgonia.Node, shape ...int) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	ds, ws := shapeOf(dy), shapeOf(w)
	if ds.Dims() != 2 || ws.Dims() != 2 || ds[0] != ws[0] {
		g.fail(fmt.Errorf("nn: linear_t: input %v and weight %v do not fit", ds, ws))
		return nil
	}
	out, in, b := ws[0], ws[1], ds[1]
	os := tensor.Shape{in, b}
	if len(shape) > 0 {
		if os = tensor.Shape(shape).Clone(); os.TotalSize() != in*b || os[os.Dims()-1] != b {
			g.fail(fmt.Errorf("nn: linear_t: cannot shape (%d, %d) as %v", in, b, os))
			return nil
		}
	}
	n, _ := g.Apply(OpSpec{
		Name: "linear_t", In: []tensor.Shape{ds, ws}, Out: os, DiffWRT: []bool{true, true},
		Forward: func(v [][]float32, y []float32) error {
			blas.Sgemm(true, false, in, b, out, 1, v[1], in, v[0], b, 0, y, b)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			grads := make(gorgonia.Nodes, 2)
			if need[0] {
				grads[0] = g.Linear(grad, v[1]) // w·grad: (Out, B)
			}
			if need[1] {
				// dw = dy·gradᵀ: (Out, In)
				grads[1], _ = g.Apply(OpSpec{
					Name: "linear_t_dw", In: []tensor.Shape{ds, os}, Out: ws,
					Forward: func(v [][]float32, dw []float32) error {
						blas.Sgemm(false, true, out, in, b, 1, v[0], b, v[1], b, 0, dw, in)
						return nil
					},
				}, v[0], grad)
			}
			return grads, g.err
		},
	}, dy, w)
	return n
}

// Ones makes a constant input node of the given shape filled with ones:
// the seed ∂(Σ out)/∂out of a written-out backward pass.
func (g *Graph) Ones(name string, shape ...int) *gorgonia.Node {
	n, buf := g.Input(name, shape...)
	for i := range buf {
		buf[i] = 1
	}
	return n
}

// Interpolate returns ε_b·a + (1 − ε_b)·b for every sample b of two
// batches a and b (…, B) of the same shape, with eps (B) one weight per
// sample: WGAN-GP's points between real and fake images. It is a constant
// of the graph: no gradient flows through it.
func (g *Graph) Interpolate(a, b, eps *gorgonia.Node) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	as, bs, es := shapeOf(a), shapeOf(b), shapeOf(eps)
	nb := as[as.Dims()-1]
	if !as.Eq(bs) || es.Dims() != 1 || es[0] != nb {
		g.fail(fmt.Errorf("nn: interpolate: shapes %v, %v and weights %v do not fit", as, bs, es))
		return nil
	}
	n, _ := g.Apply(OpSpec{
		Name: "interpolate", In: []tensor.Shape{as, bs, es}, Out: as,
		Forward: func(v [][]float32, y []float32) error {
			x, f, e := v[0], v[1], v[2]
			parallel.For(len(y)/nb, 1+(1<<14)/nb, func(lo, hi int) {
				for r := lo; r < hi; r++ {
					for j := 0; j < nb; j++ {
						i := r*nb + j
						y[i] = e[j]*x[i] + (1-e[j])*f[i]
					}
				}
			})
			return nil
		},
	}, a, b, eps)
	return n
}
