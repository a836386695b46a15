package nn

import (
	"testing"

	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
)

// Float64 references for the conditional ops, from their definitions.

// embeddingRef: y[j][i] = table[labels[i]][j], feature-major (D, B).
func embeddingRef(table []float64, d int, labels []int) []float64 {
	b := len(labels)
	y := make([]float64, d*b)
	for i, c := range labels {
		for j := 0; j < d; j++ {
			y[j*b+i] = table[c*d+j]
		}
	}
	return y
}

func TestEmbeddingFiniteDifferences(t *testing.T) {
	r := rng.New(11, 1)
	const k, d = 4, 6
	labels := []int{2, 0, 2, 3, 2} // repeats: their gradients add up; class 1 unused
	b := len(labels)
	table := f64(f32(randn(r, k*d))) // float32 values, so the copy is exact
	dy := randn(r, d*b)
	for _, shape := range [][]int{nil, {1, 2, 3, b}} { // (D, B), and relabelled as an image plane
		y, grads := runOp(t, []*Param{paramFrom("table", f32(table), k, d)}, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node {
			lab, buf := g.Input("labels", b)
			for i, c := range labels {
				buf[i] = float32(c)
			}
			return g.Embedding(in[0], lab, shape...)
		}, f32(dy))
		checkClose(t, "y", f64(y), embeddingRef(table, d, labels), 0, 0)
		num := numGrad(table, dy, func(v []float64) []float64 { return embeddingRef(v, d, labels) })
		checkClose(t, "dtable", f64(grads[0]), num, 1e-6, 1e-6)
		for j := 0; j < d; j++ {
			if grads[0][1*d+j] != 0 {
				t.Fatalf("row of unused class 1 has gradient %v", grads[0][d:2*d])
			}
		}
	}
}

func TestMulFiniteDifferences(t *testing.T) {
	r := rng.New(12, 1)
	const n = 3 * 5 * 4
	a, b, dy := randn(r, n), randn(r, n), randn(r, n)
	mulRef := func(a, b []float64) []float64 {
		y := make([]float64, len(a))
		for i := range a {
			y[i] = a[i] * b[i]
		}
		return y
	}
	y, grads := runOp(t, []*Param{paramFrom("a", f32(a), 3, 5, 4), paramFrom("b", f32(b), 3, 5, 4)},
		func(g *Graph, in []*gorgonia.Node) *gorgonia.Node { return g.Mul(in[0], in[1]) }, f32(dy))
	checkClose(t, "y", f64(y), mulRef(a, b), 1e-6, 1e-6)
	checkClose(t, "da", f64(grads[0]), numGrad(a, dy, func(v []float64) []float64 { return mulRef(v, b) }), 1e-5, 1e-5)
	checkClose(t, "db", f64(grads[1]), numGrad(b, dy, func(v []float64) []float64 { return mulRef(a, v) }), 1e-5, 1e-5)

	// Only one side learnable: the other gets no gradient op.
	_, grads = runOp(t, []*Param{paramFrom("a", f32(a), 3, 5, 4)}, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node {
		bn, buf := g.Input("b", 3, 5, 4)
		copy(buf, f32(b))
		return g.Mul(in[0], bn)
	}, f32(dy))
	checkClose(t, "da (b fixed)", f64(grads[0]), numGrad(a, dy, func(v []float64) []float64 { return mulRef(v, b) }), 1e-5, 1e-5)
}

func TestConcatFiniteDifferences(t *testing.T) {
	r := rng.New(13, 1)
	const ca, cb, hw, n = 2, 3, 4, 5
	a, b := f64(f32(randn(r, n*ca*hw))), f64(f32(randn(r, n*cb*hw))) // NCHW, float32 values
	concatRef := func(a, b []float64) []float64 {
		y := make([]float64, 0, len(a)+len(b))
		for in := 0; in < n; in++ {
			y = append(y, a[in*ca*hw:(in+1)*ca*hw]...)
			y = append(y, b[in*cb*hw:(in+1)*cb*hw]...)
		}
		return y
	}
	dy := randn(r, n*(ca+cb)*hw)
	y, grads := runOp(t, []*Param{
		paramFrom("a", toCB(a, n, ca, hw), ca, 2, 2, n),
		paramFrom("b", toCB(b, n, cb, hw), cb, 2, 2, n),
	}, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node { return g.Concat(in[0], in[1]) }, toCB(dy, n, ca+cb, hw))
	checkClose(t, "y", fromCB(y, n, ca+cb, hw), concatRef(a, b), 0, 0)
	checkClose(t, "da", fromCB(grads[0], n, ca, hw), numGrad(a, dy, func(v []float64) []float64 { return concatRef(v, b) }), 1e-6, 1e-6)
	checkClose(t, "db", fromCB(grads[1], n, cb, hw), numGrad(b, dy, func(v []float64) []float64 { return concatRef(a, v) }), 1e-6, 1e-6)
}

// The soft embedding has no gradient; its forward pass is checked against
// tableᵀ·weights in float64, and one-hot weights must give Embedding exactly.
func TestSoftEmbedding(t *testing.T) {
	r := rng.New(14, 1)
	const k, d, b = 4, 5, 3
	table, w := randn(r, k*d), randn(r, k*b)
	want := make([]float64, d*b)
	for j := 0; j < d; j++ {
		for i := 0; i < b; i++ {
			for c := 0; c < k; c++ {
				want[j*b+i] += table[c*d+j] * w[c*b+i]
			}
		}
	}
	run := func(weights []float32) []float32 {
		g := NewGraph(false)
		tab, tb := g.Input("table", k, d)
		copy(tb, f32(table))
		wn, wb := g.Input("weights", k, b)
		copy(wb, weights)
		y := g.SoftEmbedding(tab, wn)
		m, err := g.Compile()
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if err := m.Run(); err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), y.Value().Data().([]float32)...)
	}
	checkClose(t, "y", f64(run(f32(w))), want, 1e-5, 1e-5)

	labels := []int{3, 0, 2}
	onehot := make([]float32, k*b)
	for i, c := range labels {
		onehot[c*b+i] = 1
	}
	checkClose(t, "one-hot", f64(run(onehot)), embeddingRef(f64(f32(table)), d, labels), 0, 0)
}
