package nn

import (
	"fmt"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/parallel"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Ops for conditional models: label embeddings, products and channel concat.

// Embedding looks up rows of table (K, D) for labels (B), which hold class
// indices as float32. The result is feature-major (D, B), as z is; an
// optional shape of D·B values relabels it, e.g. (1, 28, 28, B) to use each
// row as an image plane.
func (g *Graph) Embedding(table, labels *gorgonia.Node, shape ...int) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	ts, ls := shapeOf(table), shapeOf(labels)
	if ts.Dims() != 2 || ls.Dims() != 1 {
		g.fail(fmt.Errorf("nn: embedding: table %v and labels %v do not fit", ts, ls))
		return nil
	}
	k, d, b := ts[0], ts[1], ls[0]
	out := tensor.Shape{d, b}
	if len(shape) > 0 {
		out = tensor.Shape(shape)
		if out.TotalSize() != b*d {
			g.fail(fmt.Errorf("nn: embedding: shape %v does not hold %d×%d values", out, b, d))
			return nil
		}
	}
	// index reads and checks the labels.
	index := func(lab []float32, i int) (int, error) {
		v := lab[i]
		c := int(v)
		if float32(c) != v || c < 0 || c >= k {
			return 0, fmt.Errorf("label %v at %d is not a class index in [0, %d)", v, i, k)
		}
		return c, nil
	}
	n, _ := g.Apply(OpSpec{
		Name: "embedding", In: []tensor.Shape{ts, ls}, Out: out, DiffWRT: []bool{true, false},
		Forward: func(v [][]float32, y []float32) error {
			tab, lab := v[0], v[1]
			for i := 0; i < b; i++ {
				c, err := index(lab, i)
				if err != nil {
					return err
				}
				row := tab[c*d : (c+1)*d]
				for j, x := range row {
					y[j*b+i] = x
				}
			}
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			dt, _ := g.Apply(OpSpec{
				Name: "embedding_grad", In: []tensor.Shape{out, ls}, Out: ts,
				Forward: func(v [][]float32, dtab []float32) error {
					grad, lab := v[0], v[1]
					clear(dtab)
					for i := 0; i < b; i++ {
						c, err := index(lab, i)
						if err != nil {
							return err
						}
						row := dtab[c*d : (c+1)*d]
						for j := range row {
							row[j] += grad[j*b+i]
						}
					}
					return nil
				},
			}, dy, v[1])
			return gorgonia.Nodes{dt, nil}, g.err
		},
	}, table, labels)
	return n
}

// Mul multiplies two tensors of the same shape elementwise.
func (g *Graph) Mul(a, b *gorgonia.Node) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	as, bs := shapeOf(a), shapeOf(b)
	if !as.Eq(bs) {
		g.fail(fmt.Errorf("nn: mul: shapes %v and %v differ", as, bs))
		return nil
	}
	mul := func(x, y, out []float32) {
		parallel.For(len(out), 1<<14, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				out[i] = x[i] * y[i]
			}
		})
	}
	n, _ := g.Apply(OpSpec{
		Name: "mul", In: []tensor.Shape{as, bs}, Out: as, DiffWRT: []bool{true, true},
		Forward: func(v [][]float32, y []float32) error { mul(v[0], v[1], y); return nil },
		Backward: func(need []bool, v gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			grads := make(gorgonia.Nodes, 2)
			for i := range 2 {
				if !need[i] {
					continue
				}
				grads[i], _ = g.Apply(OpSpec{
					Name: "mul_grad", In: []tensor.Shape{as, as}, Out: as,
					Forward: func(v [][]float32, dx []float32) error { mul(v[0], v[1], dx); return nil },
				}, dy, v[1-i])
			}
			return grads, g.err
		},
	}, a, b)
	return n
}

// Concat stacks a (Ca, …) and b (Cb, …) along the channel axis.
func (g *Graph) Concat(a, b *gorgonia.Node) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	as, bs := shapeOf(a), shapeOf(b)
	if as.Dims() != bs.Dims() || !as[1:].Eq(bs[1:]) {
		g.fail(fmt.Errorf("nn: concat: shapes %v and %v do not fit", as, bs))
		return nil
	}
	out := as.Clone()
	out[0] += bs[0]
	na := as.TotalSize()
	n, _ := g.Apply(OpSpec{
		Name: "concat", In: []tensor.Shape{as, bs}, Out: out, DiffWRT: []bool{true, true},
		Forward: func(v [][]float32, y []float32) error {
			copy(y, v[0])
			copy(y[na:], v[1])
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, dy *gorgonia.Node) (gorgonia.Nodes, error) {
			grads := make(gorgonia.Nodes, 2)
			for i, s := range []tensor.Shape{as, bs} {
				if !need[i] {
					continue
				}
				lo := 0
				if i == 1 {
					lo = na
				}
				grads[i], _ = g.Apply(OpSpec{
					Name: "concat_grad", In: []tensor.Shape{out}, Out: s,
					Forward: func(v [][]float32, dx []float32) error { copy(dx, v[0][lo:]); return nil },
				}, dy)
			}
			return grads, g.err
		},
	}, a, b)
	return n
}

// SoftEmbedding mixes the rows of table (K, D) with weights (K, B): the
// result (D, B) is tableᵀ·weights, so one-hot weights give Embedding and
// intermediate weights blend labels (for morphing between classes when
// sampling; it has no gradient).
func (g *Graph) SoftEmbedding(table, weights *gorgonia.Node) *gorgonia.Node {
	if g.err != nil {
		return nil
	}
	ts, ws := shapeOf(table), shapeOf(weights)
	if ts.Dims() != 2 || ws.Dims() != 2 || ts[0] != ws[0] {
		g.fail(fmt.Errorf("nn: soft embedding: table %v and weights %v do not fit", ts, ws))
		return nil
	}
	k, d, b := ts[0], ts[1], ws[1]
	n, _ := g.Apply(OpSpec{
		Name: "soft_embedding", In: []tensor.Shape{ts, ws}, Out: tensor.Shape{d, b},
		Forward: func(v [][]float32, y []float32) error {
			blas.Sgemm(true, false, d, b, k, 1, v[0], d, v[1], b, 0, y, b)
			return nil
		},
	}, table, weights)
	return n
}
