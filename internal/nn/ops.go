package nn

import (
	"fmt"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/kernels"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The graph-level operations. Each takes nodes in the channel-major layout
// and returns the output node; shapes are checked when the node is made.

func shapeOf(n *G.Node) tensor.Shape {
	if n == nil {
		return nil
	}
	return n.Shape().Clone()
}

// Conv2d is a convolution without bias: x (C, B, H, W), w (Cout, C, K, K) →
// (Cout, B, OH, OW).
func (g *Graph) Conv2d(x, w *G.Node, stride, pad int) *G.Node {
	if g.err != nil {
		return nil
	}
	xs, ws := shapeOf(x), shapeOf(w)
	if xs.Dims() != 4 || ws.Dims() != 4 || ws[1] != xs[0] {
		g.fail(fmt.Errorf("nn: conv2d: input %v and weight %v do not fit", xs, ws))
		return nil
	}
	geo, err := kernels.NewGeom(xs[0], xs[1], xs[2], xs[3], ws[2], ws[3], stride, pad)
	if err != nil {
		g.fail(err)
		return nil
	}
	cout := ws[0]
	cols := make([]float32, geo.Rows()*geo.Cols())
	out := tensor.Shape{cout, geo.B, geo.OH, geo.OW}
	n, _ := g.Apply(OpSpec{
		Name: fmt.Sprintf("conv2d(k%d,s%d,p%d)", ws[2], stride, pad),
		In:   []tensor.Shape{xs, ws}, Out: out, DiffWRT: []bool{true, true},
		Forward: func(in [][]float32, y []float32) error {
			kernels.ConvForward(geo, cout, in[0], in[1], y, cols)
			return nil
		},
		Backward: func(need []bool, in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
			grads := make(G.Nodes, 2)
			if need[0] {
				grads[0] = g.convBackwardData(geo, cout, dy, in[1])
			}
			if need[1] {
				grads[1] = g.convBackwardFilter(geo, cout, in[0], dy, ws)
			}
			return grads, g.err
		},
	}, x, w)
	return n
}

// convBackwardData: dx (C, B, H, W) = col2im(wᵀ·dy).
func (g *Graph) convBackwardData(geo kernels.Geom, cout int, dy, w *G.Node) *G.Node {
	cols := make([]float32, geo.Rows()*geo.Cols())
	n, _ := g.Apply(OpSpec{
		Name: "conv2d_dx",
		In:   []tensor.Shape{shapeOf(dy), shapeOf(w)},
		Out:  tensor.Shape{geo.C, geo.B, geo.H, geo.W},
		Forward: func(in [][]float32, dx []float32) error {
			kernels.ConvBackwardData(geo, cout, in[0], in[1], dx, cols)
			return nil
		},
	}, dy, w)
	return n
}

// convBackwardFilter: dw (Cout, C, K, K) = dy·im2col(x)ᵀ.
func (g *Graph) convBackwardFilter(geo kernels.Geom, cout int, x, dy *G.Node, ws tensor.Shape) *G.Node {
	cols := make([]float32, geo.Rows()*geo.Cols())
	n, _ := g.Apply(OpSpec{
		Name: "conv2d_dw",
		In:   []tensor.Shape{shapeOf(x), shapeOf(dy)},
		Out:  ws,
		Forward: func(in [][]float32, dw []float32) error {
			kernels.ConvBackwardFilter(geo, cout, in[0], in[1], dw, cols, false)
			return nil
		},
	}, x, dy)
	return n
}

// ConvTranspose2d is a transposed convolution without bias (PyTorch's
// ConvTranspose2d, output_padding 0): x (Cin, B, H, W), w (Cin, Cout, K, K) →
// (Cout, B, (H−1)·s − 2p + K, …). It is the adjoint of Conv2d with the same
// weight, which gives its forward and backward passes.
func (g *Graph) ConvTranspose2d(x, w *G.Node, stride, pad int) *G.Node {
	if g.err != nil {
		return nil
	}
	xs, ws := shapeOf(x), shapeOf(w)
	if xs.Dims() != 4 || ws.Dims() != 4 || ws[0] != xs[0] {
		g.fail(fmt.Errorf("nn: conv_transpose2d: input %v and weight %v do not fit", xs, ws))
		return nil
	}
	cin, cout, kh, kw := ws[0], ws[1], ws[2], ws[3]
	oh := (xs[2]-1)*stride - 2*pad + kh
	ow := (xs[3]-1)*stride - 2*pad + kw
	// The geometry of the adjoint convolution: from the output grid to x's grid.
	geo, err := kernels.NewGeom(cout, xs[1], oh, ow, kh, kw, stride, pad)
	if err != nil {
		g.fail(err)
		return nil
	}
	if geo.OH != xs[2] || geo.OW != xs[3] {
		g.fail(fmt.Errorf("nn: conv_transpose2d: stride %d does not tile %dx%d exactly (output_padding is not supported)", stride, xs[2], xs[3]))
		return nil
	}
	cols := make([]float32, geo.Rows()*geo.Cols())
	n, _ := g.Apply(OpSpec{
		Name: fmt.Sprintf("conv_transpose2d(k%d,s%d,p%d)", kh, stride, pad),
		In:   []tensor.Shape{xs, ws}, Out: tensor.Shape{cout, xs[1], oh, ow}, DiffWRT: []bool{true, true},
		Forward: func(in [][]float32, y []float32) error {
			kernels.ConvBackwardData(geo, cin, in[0], in[1], y, cols)
			return nil
		},
		Backward: func(need []bool, in G.Nodes, _, dy *G.Node) (G.Nodes, error) {
			grads := make(G.Nodes, 2)
			if need[0] {
				// dx = conv(dy, w): w's (Cin, Cout, K, K) is a Conv2d weight from Cout to Cin channels.
				grads[0] = g.Conv2d(dy, in[1], stride, pad)
			}
			if need[1] {
				grads[1] = g.convTBackwardFilter(geo, cin, in[0], dy, ws)
			}
			return grads, g.err
		},
	}, x, w)
	return n
}

func (g *Graph) convTBackwardFilter(geo kernels.Geom, cin int, x, dy *G.Node, ws tensor.Shape) *G.Node {
	cols := make([]float32, geo.Rows()*geo.Cols())
	n, _ := g.Apply(OpSpec{
		Name: "conv_transpose2d_dw",
		In:   []tensor.Shape{shapeOf(x), shapeOf(dy)},
		Out:  ws,
		Forward: func(in [][]float32, dw []float32) error {
			kernels.ConvTBackwardFilter(geo, cin, in[0], in[1], dw, cols, false)
			return nil
		},
	}, x, dy)
	return n
}

// Linear is a fully connected layer without bias in feature-major layout:
// x (In, B), w (Out, In) → (Out, B) = w·x.
func (g *Graph) Linear(x, w *G.Node) *G.Node {
	if g.err != nil {
		return nil
	}
	xs, ws := shapeOf(x), shapeOf(w)
	if xs.Dims() != 2 || ws.Dims() != 2 || ws[1] != xs[0] {
		g.fail(fmt.Errorf("nn: linear: input %v and weight %v do not fit", xs, ws))
		return nil
	}
	in, out, b := ws[1], ws[0], xs[1]
	n, _ := g.Apply(OpSpec{
		Name: "linear",
		In:   []tensor.Shape{xs, ws}, Out: tensor.Shape{out, b}, DiffWRT: []bool{true, true},
		Forward: func(v [][]float32, y []float32) error {
			blas.Sgemm(false, false, out, b, in, 1, v[1], in, v[0], b, 0, y, b)
			return nil
		},
		Backward: func(need []bool, v G.Nodes, _, dy *G.Node) (G.Nodes, error) {
			grads := make(G.Nodes, 2)
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
func (g *Graph) AddBias(x, b *G.Node) *G.Node {
	if g.err != nil {
		return nil
	}
	xs, bs := shapeOf(x), shapeOf(b)
	if bs.Dims() != 1 || bs[0] != xs[0] {
		g.fail(fmt.Errorf("nn: bias %v does not fit input %v", bs, xs))
		return nil
	}
	m := xs.TotalSize() / xs[0]
	n, _ := g.Apply(OpSpec{
		Name: "add_bias",
		In:   []tensor.Shape{xs, bs}, Out: xs, DiffWRT: []bool{true, true},
		Forward: func(v [][]float32, y []float32) error {
			copy(y, v[0])
			kernels.AddRowBias(y, v[1], m)
			return nil
		},
		Backward: func(need []bool, v G.Nodes, _, dy *G.Node) (G.Nodes, error) {
			grads := make(G.Nodes, 2)
			if need[0] {
				grads[0] = dy
			}
			if need[1] {
				grads[1], _ = g.Apply(OpSpec{
					Name: "bias_grad", In: []tensor.Shape{xs}, Out: bs,
					Forward: func(v [][]float32, db []float32) error {
						kernels.RowSums(v[0], db, m)
						return nil
					},
				}, dy)
			}
			return grads, g.err
		},
	}, x, b)
	return n
}

// Activation applies a to x elementwise.
func (g *Graph) Activation(x *G.Node, a kernels.Act) *G.Node {
	if g.err != nil {
		return nil
	}
	xs := shapeOf(x)
	n, _ := g.Apply(OpSpec{
		Name: a.String(),
		In:   []tensor.Shape{xs}, Out: xs, DiffWRT: []bool{true},
		Forward: func(v [][]float32, y []float32) error {
			kernels.ActForward(a, v[0], y)
			return nil
		},
		Backward: func(need []bool, v G.Nodes, y, dy *G.Node) (G.Nodes, error) {
			dx, _ := g.Apply(OpSpec{
				Name: a.String() + "_grad", In: []tensor.Shape{xs, xs}, Out: xs,
				Forward: func(v [][]float32, dx []float32) error {
					kernels.ActBackward(a, v[0], v[1], dx)
					return nil
				},
			}, y, dy)
			return G.Nodes{dx}, g.err
		},
	}, x)
	return n
}

// SwapInner reorders x, viewed as (A, P, Q), into (A, Q, P) and gives the
// result the shape out. It moves between (C, B, H·W) image layouts and
// (C·H·W, B) feature layouts.
func (g *Graph) SwapInner(x *G.Node, a, p, q int, out ...int) *G.Node {
	if g.err != nil {
		return nil
	}
	xs, os := shapeOf(x), tensor.Shape(out)
	if xs.TotalSize() != a*p*q || os.TotalSize() != a*p*q {
		g.fail(fmt.Errorf("nn: swap_inner: %v as (%d,%d,%d) into %v", xs, a, p, q, os))
		return nil
	}
	n, _ := g.Apply(OpSpec{
		Name: "swap_inner",
		In:   []tensor.Shape{xs}, Out: os, DiffWRT: []bool{true},
		Forward: func(v [][]float32, y []float32) error {
			kernels.SwapInner(v[0], y, a, p, q)
			return nil
		},
		Backward: func(need []bool, v G.Nodes, _, dy *G.Node) (G.Nodes, error) {
			return G.Nodes{g.SwapInner(dy, a, q, p, xs...)}, g.err
		},
	}, x)
	return n
}

// BatchNorm normalises x (C, …) per channel. In a training graph it uses
// the batch statistics and updates st's running statistics (unless frozen
// with FreezeStats); in an evaluation graph it uses the running statistics.
func (g *Graph) BatchNorm(x, gamma, beta *G.Node, st *kernels.BNStats) *G.Node {
	if g.err != nil {
		return nil
	}
	xs, gs := shapeOf(x), shapeOf(gamma)
	if gs.Dims() != 1 || gs[0] != xs[0] || !shapeOf(beta).Eq(gs) || len(st.RunMean) != xs[0] {
		g.fail(fmt.Errorf("nn: batch_norm: input %v, gamma %v, beta %v, stats %d do not fit", xs, gs, shapeOf(beta), len(st.RunMean)))
		return nil
	}
	c := xs[0]
	m := xs.TotalSize() / c
	if !g.train {
		n, _ := g.Apply(OpSpec{
			Name: "batch_norm_eval", In: []tensor.Shape{xs, gs, gs}, Out: xs,
			Forward: func(v [][]float32, y []float32) error {
				kernels.BNForwardEval(v[0], y, v[1], v[2], m, st)
				return nil
			},
		}, x, gamma, beta)
		return n
	}
	if m < 2 {
		g.fail(fmt.Errorf("nn: batch_norm: training needs more than one value per channel, got input %v", xs))
		return nil
	}
	update := st
	if g.frozenBN[st] {
		update = nil
	}
	mean, invstd := make([]float32, c), make([]float32, c)
	n, _ := g.Apply(OpSpec{
		Name: "batch_norm", In: []tensor.Shape{xs, gs, gs}, Out: xs, DiffWRT: []bool{true, true, true},
		Forward: func(v [][]float32, y []float32) error {
			kernels.BNForwardTrain(v[0], y, v[1], v[2], mean, invstd, m, update)
			return nil
		},
		Backward: func(need []bool, v G.Nodes, _, dy *G.Node) (G.Nodes, error) {
			grads := make(G.Nodes, 3)
			if need[0] {
				grads[0], _ = g.Apply(OpSpec{
					Name: "batch_norm_dx", In: []tensor.Shape{xs, xs, gs}, Out: xs,
					Forward: func(v [][]float32, dx []float32) error {
						kernels.BNBackward(v[0], v[1], v[2], mean, invstd, dx, nil, nil, m)
						return nil
					},
				}, v[0], dy, v[1])
			}
			if need[1] {
				grads[1], _ = g.Apply(OpSpec{
					Name: "batch_norm_dgamma", In: []tensor.Shape{xs, xs, gs}, Out: gs,
					Forward: func(v [][]float32, dgamma []float32) error {
						kernels.BNBackward(v[0], v[1], v[2], mean, invstd, nil, dgamma, nil, m)
						return nil
					},
				}, v[0], dy, v[1])
			}
			if need[2] {
				grads[2], _ = g.Apply(OpSpec{
					Name: "batch_norm_dbeta", In: []tensor.Shape{xs}, Out: gs,
					Forward: func(v [][]float32, db []float32) error {
						kernels.RowSums(v[0], db, m)
						return nil
					},
				}, dy)
			}
			return grads, g.err
		},
	}, x, gamma, beta)
	return n
}
