package nn

import (
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/kernels"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The graph-level operations. Each takes nodes in the channel-major layout
// and returns the output node; shapes are checked when the node is made.

func shapeOf(n *gorgonia.Node) tensor.Shape {
	if n == nil {
		return nil
	}
	return n.Shape().Clone()
}

// Conv2d is a convolution without bias: x (C, H, W, B), w (Cout, C, K, K) →
// (Cout, OH, OW, B).
func (g *Graph) Conv2d(x, w *gorgonia.Node, stride, pad int) *gorgonia.Node {
	n, _ := g.conv2d(x, w, stride, pad)
	return n
}

// conv2d also returns the op's column buffer: after the op has run in a
// pass, it holds im2col(x) of that pass.
func (g *Graph) conv2d(x, w *gorgonia.Node, stride, pad int) (*gorgonia.Node, []float32) {
	if g.err != nil {
		return nil, nil
	}
	xs, ws := shapeOf(x), shapeOf(w)
	if xs.Dims() != 4 || ws.Dims() != 4 || ws[1] != xs[0] {
		g.fail(fmt.Errorf("nn: conv2d: input %v and weight %v do not fit", xs, ws))
		return nil, nil
	}
	geo, err := kernels.NewGeom(xs[0], xs[3], xs[1], xs[2], ws[2], ws[3], stride, pad)
	if err != nil {
		g.fail(err)
		return nil, nil
	}
	cout := ws[0]
	// The weight gradient reuses this pass's im2col: keep it in a buffer of
	// the op's own then; otherwise it is scratch.
	var cols []float32
	if g.need[w] && !g.plain {
		cols = make([]float32, geo.Rows()*geo.Cols())
	}
	out := tensor.Shape{cout, geo.OH, geo.OW, geo.B}
	n, _ := g.Apply(OpSpec{
		Name: fmt.Sprintf("conv2d(k%d,s%d,p%d)", ws[2], stride, pad),
		In:   []tensor.Shape{xs, ws}, Out: out, DiffWRT: []bool{true, true},
		Forward: func(in [][]float32, y []float32) error {
			if cols != nil {
				kernels.ConvForward(geo, cout, in[0], in[1], y, cols)
				return nil
			}
			withScratch(geo.Rows()*geo.Cols(), func(c []float32) { kernels.ConvForward(geo, cout, in[0], in[1], y, c) })
			return nil
		},
		Backward: func(need []bool, in gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			grads := make(gorgonia.Nodes, 2)
			if need[0] {
				grads[0] = g.convBackwardData(geo, cout, dy, in[1])
			}
			if need[1] {
				// The forward op of this pass left im2col(x) in cols (nil
				// in the plain path: the op computes its own).
				grads[1] = g.convBackwardFilter(geo, cout, in[0], dy, ws, cols)
			}
			return grads, g.err
		},
	}, x, w)
	return n, cols
}

// convBackwardData: dx (C, H, W, B) = col2im(wᵀ·dy).
func (g *Graph) convBackwardData(geo kernels.Geom, cout int, dy, w *gorgonia.Node) *gorgonia.Node {
	n, _ := g.Apply(OpSpec{
		Name: "conv2d_dx",
		In:   []tensor.Shape{shapeOf(dy), shapeOf(w)},
		Out:  tensor.Shape{geo.C, geo.H, geo.W, geo.B},
		Forward: func(in [][]float32, dx []float32) error {
			withScratch(geo.Rows()*geo.Cols(), func(c []float32) { kernels.ConvBackwardData(geo, cout, in[0], in[1], dx, c) })
			return nil
		},
	}, dy, w)
	return n
}

// convBackwardFilter: dw (Cout, C, K, K) = dy·im2col(x)ᵀ, where cols holds
// im2col(x), written by the forward op earlier in the same pass (dy
// depends on that op's output, so the order is guaranteed). With cols nil
// the op computes its own.
func (g *Graph) convBackwardFilter(geo kernels.Geom, cout int, x, dy *gorgonia.Node, ws tensor.Shape, cols []float32) *gorgonia.Node {
	n, _ := g.Apply(OpSpec{
		Name: "conv2d_dw",
		In:   []tensor.Shape{shapeOf(x), shapeOf(dy)},
		Out:  ws,
		Forward: func(in [][]float32, dw []float32) error {
			if cols != nil {
				kernels.ConvBackwardFilter(geo, cout, in[0], in[1], dw, cols, true)
				return nil
			}
			withScratch(geo.Rows()*geo.Cols(), func(c []float32) { kernels.ConvBackwardFilter(geo, cout, in[0], in[1], dw, c, false) })
			return nil
		},
	}, x, dy)
	return n
}

// ConvTranspose2d is a transposed convolution without bias (PyTorch's
// ConvTranspose2d, output_padding 0): x (Cin, H, W, B), w (Cin, Cout, K, K) →
// (Cout, (H−1)·s − 2p + K, …, B). It is the adjoint of Conv2d with the same
// weight, which gives its forward and backward passes.
func (g *Graph) ConvTranspose2d(x, w *gorgonia.Node, stride, pad int) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	xs, ws := shapeOf(x), shapeOf(w)
	if xs.Dims() != 4 || ws.Dims() != 4 || ws[0] != xs[0] {
		g.fail(fmt.Errorf("nn: conv_transpose2d: input %v and weight %v do not fit", xs, ws))
		return nil
	}
	cin, cout, kh, kw := ws[0], ws[1], ws[2], ws[3]
	oh := (xs[1]-1)*stride - 2*pad + kh
	ow := (xs[2]-1)*stride - 2*pad + kw
	// The geometry of the adjoint convolution: from the output grid to x's grid.
	geo, err := kernels.NewGeom(cout, xs[3], oh, ow, kh, kw, stride, pad)
	if err != nil {
		g.fail(err)
		return nil
	}
	if geo.OH != xs[1] || geo.OW != xs[2] {
		g.fail(fmt.Errorf("nn: conv_transpose2d: stride %d does not tile %dx%d exactly (output_padding is not supported)", stride, xs[1], xs[2]))
		return nil
	}
	n, _ := g.Apply(OpSpec{
		Name: fmt.Sprintf("conv_transpose2d(k%d,s%d,p%d)", kh, stride, pad),
		In:   []tensor.Shape{xs, ws}, Out: tensor.Shape{cout, oh, ow, xs[3]}, DiffWRT: []bool{true, true},
		Forward: func(in [][]float32, y []float32) error {
			withScratch(geo.Rows()*geo.Cols(), func(c []float32) { kernels.ConvBackwardData(geo, cin, in[0], in[1], y, c) })
			return nil
		},
		Backward: func(need []bool, in gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			grads := make(gorgonia.Nodes, 2)
			var dyCols []float32
			if need[0] {
				// dx = conv(dy, w): w's (Cin, Cout, K, K) is a Conv2d weight
				// from Cout to Cin channels. Its op leaves im2col(dy) in dyCols.
				grads[0], dyCols = g.conv2d(dy, in[1], stride, pad)
			}
			if need[1] {
				grads[1] = g.convTBackwardFilter(geo, cin, in[0], dy, ws, grads[0], dyCols)
			}
			return grads, g.err
		},
	}, x, w)
	return n
}

// convTBackwardFilter: dw (Cin, Cout, K, K) = x·im2col(dy)ᵀ. When the dx
// node exists, its op has computed im2col(dy) into dyCols; the node is made
// an input so that it runs first. Otherwise the op computes its own.
func (g *Graph) convTBackwardFilter(geo kernels.Geom, cin int, x, dy *gorgonia.Node, ws tensor.Shape, dx *gorgonia.Node, dyCols []float32) *gorgonia.Node {
	if dx == nil || g.plain || dyCols == nil {
		n, _ := g.Apply(OpSpec{
			Name: "conv_transpose2d_dw",
			In:   []tensor.Shape{shapeOf(x), shapeOf(dy)},
			Out:  ws,
			Forward: func(in [][]float32, dw []float32) error {
				withScratch(geo.Rows()*geo.Cols(), func(c []float32) { kernels.ConvTBackwardFilter(geo, cin, in[0], in[1], dw, c, false) })
				return nil
			},
		}, x, dy)
		return n
	}
	n, _ := g.Apply(OpSpec{
		Name: "conv_transpose2d_dw",
		In:   []tensor.Shape{shapeOf(x), shapeOf(dy), shapeOf(dx)},
		Out:  ws,
		Forward: func(in [][]float32, dw []float32) error {
			kernels.ConvTBackwardFilter(geo, cin, in[0], in[1], dw, dyCols, true)
			return nil
		},
	}, x, dy, dx)
	return n
}

// Linear is a fully connected layer without bias in feature-major layout:
// x (In, B) — or any (…, B) whose leading dimensions multiply to In, such as
// (C, H, W, B) images — and w (Out, In) → (Out, B) = w·x.
func (g *Graph) Linear(x, w *gorgonia.Node) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	xs, ws := shapeOf(x), shapeOf(w)
	if xs.Dims() < 2 || ws.Dims() != 2 || xs.TotalSize() != ws[1]*xs[xs.Dims()-1] {
		g.fail(fmt.Errorf("nn: linear: input %v and weight %v do not fit", xs, ws))
		return nil
	}
	in, out, b := ws[1], ws[0], xs[xs.Dims()-1]
	n, _ := g.Apply(OpSpec{
		Name: "linear",
		In:   []tensor.Shape{xs, ws}, Out: tensor.Shape{out, b}, DiffWRT: []bool{true, true},
		Forward: func(v [][]float32, y []float32) error {
			blas.Sgemm(false, false, out, b, in, 1, v[1], in, v[0], b, 0, y, b)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			grads := make(gorgonia.Nodes, 2)
			if need[0] {
				grads[0], _ = g.Apply(OpSpec{
					Name: "linear_dx", In: []tensor.Shape{{out, b}, ws}, Out: xs,
					Forward: func(v [][]float32, dx []float32) error {
						blas.Sgemm(true, false, in, b, out, 1, v[1], in, v[0], b, 0, dx, b)
						return nil
					},
				}, dy, v[1])
			}
			if need[1] {
				grads[1], _ = g.Apply(OpSpec{
					Name: "linear_dw", In: []tensor.Shape{{out, b}, xs}, Out: ws,
					Forward: func(v [][]float32, dw []float32) error {
						blas.Sgemm(false, true, out, in, b, 1, v[0], b, v[1], b, 0, dw, in)
						return nil
					},
				}, dy, v[0])
			}
			return grads, g.err
		},
	}, x, w)
	return n
}

// AddBias adds b[c] to channel c of x (C, …).
func (g *Graph) AddBias(x, b *gorgonia.Node) *gorgonia.Node { return g.BiasAct(x, b, kernels.Identity) }

// BiasAct adds b[c] to channel c of x (C, …) and applies a: one pass. An
// optional shape relabels the output (see Activation).
func (g *Graph) BiasAct(x, b *gorgonia.Node, a kernels.Act, shape ...int) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	xs, bs := shapeOf(x), shapeOf(b)
	if bs.Dims() != 1 || bs[0] != xs[0] {
		g.fail(fmt.Errorf("nn: bias %v does not fit input %v", bs, xs))
		return nil
	}
	os := xs
	if len(shape) > 0 {
		if os = tensor.Shape(shape); os.TotalSize() != xs.TotalSize() {
			g.fail(fmt.Errorf("nn: bias_%s: cannot shape %v as %v", a, xs, os))
			return nil
		}
	}
	if g.plain && a != kernels.Identity {
		return g.Activation(g.BiasAct(x, b, kernels.Identity), a, shape...)
	}
	m := xs.TotalSize() / xs[0]
	n, _ := g.Apply(OpSpec{
		Name: "bias_" + a.String(),
		In:   []tensor.Shape{xs, bs}, Out: os, DiffWRT: []bool{true, true},
		Forward: func(v [][]float32, y []float32) error {
			kernels.BiasAct(v[0], v[1], y, m, a)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, y, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			grads := make(gorgonia.Nodes, 2)
			// The gradient before the activation: dy itself for the identity.
			dpre := dy
			if a != kernels.Identity || !os.Eq(xs) {
				dpre, _ = g.Apply(OpSpec{
					Name: a.String() + "_grad", In: []tensor.Shape{os, os}, Out: xs,
					Forward: func(v [][]float32, dx []float32) error {
						kernels.ActBackward(a, v[0], v[1], dx)
						return nil
					},
				}, y, dy)
			}
			if need[0] {
				grads[0] = dpre
			}
			if need[1] {
				grads[1], _ = g.Apply(OpSpec{
					Name: "bias_grad", In: []tensor.Shape{xs}, Out: bs,
					Forward: func(v [][]float32, db []float32) error {
						kernels.RowSums(v[0], db, m)
						return nil
					},
				}, dpre)
			}
			return grads, g.err
		},
	}, x, b)
	return n
}

// Activation applies a to x elementwise. An optional shape (same size)
// reshapes the result, e.g. (C·H·W, B) features into (C, H, W, B) images:
// the layouts make that free.
func (g *Graph) Activation(x *gorgonia.Node, a kernels.Act, shape ...int) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	xs := shapeOf(x)
	os := xs
	if len(shape) > 0 {
		if os = tensor.Shape(shape); os.TotalSize() != xs.TotalSize() {
			g.fail(fmt.Errorf("nn: %s: cannot shape %v as %v", a, xs, os))
			return nil
		}
	}
	n, _ := g.Apply(OpSpec{
		Name: a.String(),
		In:   []tensor.Shape{xs}, Out: os, DiffWRT: []bool{true},
		Forward: func(v [][]float32, y []float32) error {
			kernels.ActForward(a, v[0], y)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, y, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, _ := g.Apply(OpSpec{
				Name: a.String() + "_grad", In: []tensor.Shape{os, os}, Out: xs,
				Forward: func(v [][]float32, dx []float32) error {
					kernels.ActBackward(a, v[0], v[1], dx)
					return nil
				},
			}, y, dy)
			return gorgonia.Nodes{dx}, g.err
		},
	}, x)
	return n
}

// BatchNorm normalises x (C, …) per channel and applies a; an optional
// shape relabels the output (see Activation). In a training graph it uses
// the batch statistics and updates st's running statistics (unless frozen
// with FreezeStats); in an evaluation graph it uses the running statistics.
func (g *Graph) BatchNorm(x, gamma, beta *gorgonia.Node, st *kernels.BNStats, a kernels.Act, shape ...int) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	xs, gs := shapeOf(x), shapeOf(gamma)
	if gs.Dims() != 1 || gs[0] != xs[0] || !shapeOf(beta).Eq(gs) || len(st.RunMean) != xs[0] {
		g.fail(fmt.Errorf("nn: batch_norm: input %v, gamma %v, beta %v, stats %d do not fit", xs, gs, shapeOf(beta), len(st.RunMean)))
		return nil
	}
	os := xs
	if len(shape) > 0 {
		if os = tensor.Shape(shape); os.TotalSize() != xs.TotalSize() {
			g.fail(fmt.Errorf("nn: batch_norm: cannot shape %v as %v", xs, os))
			return nil
		}
	}
	if g.plain && a != kernels.Identity {
		return g.Activation(g.BatchNorm(x, gamma, beta, st, kernels.Identity), a, shape...)
	}
	c := xs[0]
	m := xs.TotalSize() / c
	name := "batch_norm"
	if a != kernels.Identity {
		name += "_" + a.String()
	}
	if !g.train {
		// The running statistics are constants here, so the layer is an
		// affine map per channel and dx = act'(y)·dy·γ/√(σ²_run + ε): the
		// gradient with respect to a generator's input z (internal/control).
		n, _ := g.Apply(OpSpec{
			Name: name + "_eval", In: []tensor.Shape{xs, gs, gs}, Out: os, DiffWRT: []bool{true},
			Forward: func(v [][]float32, y []float32) error {
				kernels.BNForwardEval(v[0], y, v[1], v[2], m, st, a)
				return nil
			},
			Backward: func(_ []bool, v gorgonia.Nodes, y, dy *gorgonia.Node) (gorgonia.Nodes, error) {
				dx, _ := g.Apply(OpSpec{
					Name: name + "_eval_grad", In: []tensor.Shape{os, os, gs}, Out: xs,
					Forward: func(v [][]float32, dx []float32) error {
						kernels.ActBackward(a, v[0], v[1], dx)
						for r := 0; r < c; r++ {
							s := v[2][r] * float32(1/math.Sqrt(float64(st.RunVar[r])+st.Eps))
							for i := r * m; i < (r+1)*m; i++ {
								dx[i] *= s
							}
						}
						return nil
					},
				}, y, dy, v[1])
				return gorgonia.Nodes{dx, nil, nil}, g.err
			},
		}, x, gamma, beta)
		return n
	}
	if m < 2 {
		g.fail(fmt.Errorf("nn: batch_norm: training needs more than one value per channel, got input %v", xs))
		return nil
	}
	update := !g.frozenBN[st]
	// Saved by the forward op for the backward ops of the same run.
	mean, invstd := make([]float32, c), make([]float32, c)
	dgamma, dbeta := make([]float32, c), make([]float32, c)
	n, _ := g.Apply(OpSpec{
		Name: name, In: []tensor.Shape{xs, gs, gs}, Out: os, DiffWRT: []bool{true, true, true},
		Forward: func(v [][]float32, y []float32) error {
			kernels.BNForwardTrain(v[0], y, v[1], v[2], mean, invstd, m, st, update, a)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, y, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			grads := make(gorgonia.Nodes, 3)
			// One op computes dx and the sums behind dγ and dβ; the
			// dγ and dβ nodes take it as input so they run after it.
			bwd, _ := g.Apply(OpSpec{
				Name: name + "_grad", In: []tensor.Shape{xs, os, os, gs}, Out: xs,
				Forward: func(v [][]float32, dx []float32) error {
					if !need[0] {
						dx = nil
					}
					kernels.BNBackward(v[0], v[1], v[2], v[3], mean, invstd, dx, dgamma, dbeta, m, a)
					return nil
				},
			}, v[0], y, dy, v[1])
			if need[0] {
				grads[0] = bwd
			}
			for i, sum := range map[int][]float32{1: dgamma, 2: dbeta} {
				if !need[i] {
					continue
				}
				grads[i], _ = g.Apply(OpSpec{
					Name: []string{"", "batch_norm_dgamma", "batch_norm_dbeta"}[i], In: []tensor.Shape{xs}, Out: gs,
					Forward: func(_ [][]float32, d []float32) error {
						copy(d, sum)
						return nil
					},
				}, bwd)
			}
			return grads, g.err
		},
	}, x, gamma, beta)
	return n
}
