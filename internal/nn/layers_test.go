package nn

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/rng"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// ---- layout helpers -------------------------------------------------------

// toCB converts NCHW (n, c, hw) to gantrain's (c, hw, n) layout.
func toCB(x []float64, n, c, hw int) []float32 {
	y := make([]float32, len(x))
	for in := 0; in < n; in++ {
		for ic := 0; ic < c; ic++ {
			for i := 0; i < hw; i++ {
				y[(ic*hw+i)*n+in] = float32(x[(in*c+ic)*hw+i])
			}
		}
	}
	return y
}

// fromCB converts gantrain's (c, hw, n) layout back to NCHW.
func fromCB(x []float32, n, c, hw int) []float64 {
	y := make([]float64, len(x))
	for in := 0; in < n; in++ {
		for ic := 0; ic < c; ic++ {
			for i := 0; i < hw; i++ {
				y[(in*c+ic)*hw+i] = float64(x[(ic*hw+i)*n+in])
			}
		}
	}
	return y
}

func f32(x []float64) []float32 {
	y := make([]float32, len(x))
	for i, v := range x {
		y[i] = float32(v)
	}
	return y
}

func f64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

func randn(r *rng.RNG, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = r.Normal()
	}
	return x
}

// checkClose fails when |got − want| > atol + rtol·|want| anywhere, printing
// the first values and the largest difference, as llm.c's check_tensor does.
func checkClose(t *testing.T, name string, got, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	worst, at, bad := 0.0, 0, 0
	for i := range got {
		d := math.Abs(got[i] - want[i])
		if math.IsNaN(got[i]) {
			d = math.Inf(1)
		}
		if d > atol+rtol*math.Abs(want[i]) {
			bad++
		}
		if d > worst {
			worst, at = d, i
		}
	}
	if bad > 0 {
		msg := fmt.Sprintf("%s: %d of %d values differ; largest |diff| %.3g at %d (got %.7g want %.7g)\n  first values:", name, bad, len(got), worst, at, got[at], want[at])
		for i := 0; i < len(got) && i < 5; i++ {
			msg += fmt.Sprintf(" %.6g/%.6g", got[i], want[i])
		}
		t.Error(msg)
	}
}

// ---- running one op -------------------------------------------------------

// runOp binds each input as a learnable param, builds y = build(inputs),
// differentiates L = Σ y·dy and runs the graph once. It returns y and dL/dinput.
func runOp(t *testing.T, inputs []*Param, build func(g *Graph, in []*gorgonia.Node) *gorgonia.Node, dy []float32) ([]float32, [][]float32) {
	t.Helper()
	g := NewGraph(true, inputs...)
	nodes := make([]*gorgonia.Node, len(inputs))
	for i, p := range inputs {
		nodes[i] = g.Param(p)
	}
	y := build(g, nodes)
	if g.Err() != nil {
		t.Fatal(g.Err())
	}
	ys := shapeOf(y)
	dyNode, dyBuf := g.Input("dy", ys...)
	copy(dyBuf, dy)
	cost, _ := g.Apply(OpSpec{
		Name: "dot", In: []tensor.Shape{ys, ys}, DiffWRT: []bool{true, false},
		Forward: func(v [][]float32, out []float32) error {
			var acc float64
			for i := range v[0] {
				acc += float64(v[0][i]) * float64(v[1][i])
			}
			out[0] = float32(acc)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, _ := g.Apply(OpSpec{
				Name: "dot_grad", In: []tensor.Shape{ys, nil}, Out: ys,
				Forward: func(v [][]float32, dx []float32) error {
					for i := range dx {
						dx[i] = v[0][i] * v[1][0]
					}
					return nil
				},
			}, v[1], grad)
			return gorgonia.Nodes{dx, nil}, nil
		},
	}, y, dyNode)
	g.Backward(cost)
	m, err := g.Compile()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	out := append([]float32(nil), y.Value().Data().([]float32)...)
	grads, err := m.Grads()
	if err != nil {
		t.Fatal(err)
	}
	byParam := make([][]float32, len(inputs))
	for i, p := range m.Params() {
		for j, q := range inputs {
			if p == q {
				byParam[j] = append([]float32(nil), grads[i]...)
			}
		}
	}
	return out, byParam
}

func paramFrom(name string, data []float32, shape ...int) *Param {
	p := NewParam(name, shape...)
	copy(p.Data(), data)
	return p
}

// ---- PyTorch's own values ---------------------------------------------------

type torchCase struct {
	Name string `json:"name"`
	Args struct {
		Stride   int     `json:"stride"`
		Padding  int     `json:"padding"`
		Eps      float64 `json:"eps"`
		Momentum float64 `json:"momentum"`
	} `json:"args"`
	XShape  []int     `json:"x_shape"`
	X       []float64 `json:"x"`
	WShape  []int     `json:"w_shape"`
	W       []float64 `json:"w"`
	B       []float64 `json:"b"`
	YShape  []int     `json:"y_shape"`
	Y       []float64 `json:"y"`
	DY      []float64 `json:"dy"`
	DX      []float64 `json:"dx"`
	DW      []float64 `json:"dw"`
	DB      []float64 `json:"db"`
	RunMean []float64 `json:"running_mean_after"`
	RunVar  []float64 `json:"running_var_after"`
	Logits  []float64 `json:"logits"`
	Target  []float64 `json:"target"`
	Loss    float64   `json:"loss"`
	DLogits []float64 `json:"dlogits"`
}

func torchCases(t *testing.T) map[string]torchCase {
	t.Helper()
	b, err := os.ReadFile("../../testdata/torch-layers.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []torchCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	m := map[string]torchCase{}
	for _, c := range f.Cases {
		m[c.Name] = c
	}
	return m
}

func TestConvTransposeMatchesTorch(t *testing.T) {
	for _, name := range []string{"conv_transpose2d k4 s2 p1", "conv_transpose2d k4 s2 p1 no bias 7x7"} {
		t.Run(name, func(t *testing.T) {
			c, ok := torchCases(t)[name]
			if !ok {
				t.Fatalf("case %q missing", name)
			}
			n, ci, h, w := c.XShape[0], c.XShape[1], c.XShape[2], c.XShape[3]
			co := c.WShape[1]
			ohw := c.YShape[2] * c.YShape[3]
			params := []*Param{
				paramFrom("x", toCB(c.X, n, ci, h*w), ci, h, w, n),
				paramFrom("w", f32(c.W), c.WShape...),
			}
			if c.B != nil {
				params = append(params, paramFrom("b", f32(c.B), co))
			}
			y, grads := runOp(t, params, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node {
				y := g.ConvTranspose2d(in[0], in[1], c.Args.Stride, c.Args.Padding)
				if len(in) == 3 {
					y = g.AddBias(y, in[2])
				}
				return y
			}, toCB(c.DY, n, co, ohw))
			checkClose(t, "y", fromCB(y, n, co, ohw), c.Y, 1e-5, 1e-5)
			checkClose(t, "dx", fromCB(grads[0], n, ci, h*w), c.DX, 1e-5, 1e-5)
			checkClose(t, "dw", f64(grads[1]), c.DW, 1e-5, 1e-5)
			if c.B != nil {
				checkClose(t, "db", f64(grads[2]), c.DB, 1e-5, 1e-5)
			}
		})
	}
}

func TestConv2dMatchesTorch(t *testing.T) {
	c := torchCases(t)["conv2d k4 s2 p1"]
	n, ci, h, w := c.XShape[0], c.XShape[1], c.XShape[2], c.XShape[3]
	co := c.WShape[0]
	ohw := c.YShape[2] * c.YShape[3]
	y, grads := runOp(t, []*Param{
		paramFrom("x", toCB(c.X, n, ci, h*w), ci, h, w, n),
		paramFrom("w", f32(c.W), c.WShape...),
		paramFrom("b", f32(c.B), co),
	}, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node {
		return g.AddBias(g.Conv2d(in[0], in[1], c.Args.Stride, c.Args.Padding), in[2])
	}, toCB(c.DY, n, co, ohw))
	checkClose(t, "y", fromCB(y, n, co, ohw), c.Y, 1e-5, 1e-5)
	checkClose(t, "dx", fromCB(grads[0], n, ci, h*w), c.DX, 1e-5, 1e-5)
	checkClose(t, "dw", f64(grads[1]), c.DW, 1e-5, 1e-5)
	checkClose(t, "db", f64(grads[2]), c.DB, 1e-5, 1e-5)
}

// transpose2 turns a row-major (r, c) matrix into (c, r).
func transpose2(x []float64, r, c int) []float64 {
	y := make([]float64, len(x))
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			y[j*r+i] = x[i*c+j]
		}
	}
	return y
}

func TestLinearMatchesTorch(t *testing.T) {
	c := torchCases(t)["linear"]
	n, in := c.XShape[0], c.XShape[1]
	out := c.WShape[0]
	// PyTorch is batch-major (B, F); gantrain is feature-major (F, B).
	y, grads := runOp(t, []*Param{
		paramFrom("x", f32(transpose2(c.X, n, in)), in, n),
		paramFrom("w", f32(c.W), out, in),
		paramFrom("b", f32(c.B), out),
	}, func(g *Graph, v []*gorgonia.Node) *gorgonia.Node {
		return g.AddBias(g.Linear(v[0], v[1]), v[2])
	}, f32(transpose2(c.DY, n, out)))
	checkClose(t, "y", transpose2(f64(y), out, n), c.Y, 1e-5, 1e-5)
	checkClose(t, "dx", transpose2(f64(grads[0]), in, n), c.DX, 1e-5, 1e-5)
	checkClose(t, "dw", f64(grads[1]), c.DW, 1e-5, 1e-5)
	checkClose(t, "db", f64(grads[2]), c.DB, 1e-5, 1e-5)
}

func TestBatchNormMatchesTorch(t *testing.T) {
	c := torchCases(t)["batch_norm2d train eps1e-5 momentum0.1"]
	n, ch, hw := c.XShape[0], c.XShape[1], c.XShape[2]*c.XShape[3]
	st := kernels.NewBNStats(ch, c.Args.Momentum, c.Args.Eps)
	y, grads := runOp(t, []*Param{
		paramFrom("x", toCB(c.X, n, ch, hw), ch, c.XShape[2], c.XShape[3], n),
		paramFrom("gamma", f32(c.W), ch),
		paramFrom("beta", f32(c.B), ch),
	}, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node {
		return g.BatchNorm(in[0], in[1], in[2], st, kernels.Identity)
	}, toCB(c.DY, n, ch, hw))
	checkClose(t, "y", fromCB(y, n, ch, hw), c.Y, 1e-5, 1e-5)
	checkClose(t, "dx", fromCB(grads[0], n, ch, hw), c.DX, 1e-5, 1e-5)
	checkClose(t, "dgamma", f64(grads[1]), c.DW, 1e-5, 1e-5)
	checkClose(t, "dbeta", f64(grads[2]), c.DB, 1e-5, 1e-5)
	checkClose(t, "running_mean", f64(st.RunMean), c.RunMean, 1e-6, 1e-6)
	checkClose(t, "running_var", f64(st.RunVar), c.RunVar, 1e-6, 1e-6)
}

// ---- finite differences in float64 ----------------------------------------

type convCase struct{ n, c, h, w, o, k, s, p int }

var convCases = []convCase{
	{2, 3, 8, 8, 4, 4, 2, 1}, // the DCGAN shape
	{3, 2, 5, 7, 3, 3, 1, 1}, // stride 1, odd, non-square
	{1, 1, 6, 6, 2, 2, 2, 0}, // no padding
	{2, 4, 7, 7, 2, 4, 2, 1}, // 7×7 as in the generator
	{2, 2, 9, 9, 3, 3, 2, 1}, // stride 2, odd kernel
	{1, 3, 4, 6, 2, 5, 1, 2}, // kernel larger than stride, big padding
}

func TestConv2dFiniteDifferences(t *testing.T) {
	r := rng.New(1, 1)
	for _, cc := range convCases {
		t.Run(fmt.Sprintf("%+v", cc), func(t *testing.T) {
			x := randn(r, cc.n*cc.c*cc.h*cc.w)
			w := randn(r, cc.o*cc.c*cc.k*cc.k)
			b := randn(r, cc.o)
			yRef, oh, ow := conv2dRef(x, cc.n, cc.c, cc.h, cc.w, w, cc.o, cc.k, b, cc.s, cc.p)
			dy := randn(r, len(yRef))
			y, grads := runOp(t, []*Param{
				paramFrom("x", toCB(x, cc.n, cc.c, cc.h*cc.w), cc.c, cc.h, cc.w, cc.n),
				paramFrom("w", f32(w), cc.o, cc.c, cc.k, cc.k),
				paramFrom("b", f32(b), cc.o),
			}, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node {
				return g.AddBias(g.Conv2d(in[0], in[1], cc.s, cc.p), in[2])
			}, toCB(dy, cc.n, cc.o, oh*ow))
			checkClose(t, "y", fromCB(y, cc.n, cc.o, oh*ow), yRef, 1e-4, 1e-4)
			f := func(x, w, b []float64) []float64 {
				y, _, _ := conv2dRef(x, cc.n, cc.c, cc.h, cc.w, w, cc.o, cc.k, b, cc.s, cc.p)
				return y
			}
			checkClose(t, "dx", fromCB(grads[0], cc.n, cc.c, cc.h*cc.w), numGrad(x, dy, func(v []float64) []float64 { return f(v, w, b) }), 1e-4, 1e-4)
			checkClose(t, "dw", f64(grads[1]), numGrad(w, dy, func(v []float64) []float64 { return f(x, v, b) }), 1e-4, 1e-4)
			checkClose(t, "db", f64(grads[2]), numGrad(b, dy, func(v []float64) []float64 { return f(x, w, v) }), 1e-4, 1e-4)
		})
	}
}

func TestConvTranspose2dFiniteDifferences(t *testing.T) {
	r := rng.New(2, 1)
	for _, cc := range convCases {
		oh, ow := (cc.h-1)*cc.s-2*cc.p+cc.k, (cc.w-1)*cc.s-2*cc.p+cc.k
		if (oh+2*cc.p-cc.k)%cc.s != 0 || (ow+2*cc.p-cc.k)%cc.s != 0 {
			continue // would need output_padding
		}
		t.Run(fmt.Sprintf("%+v", cc), func(t *testing.T) {
			x := randn(r, cc.n*cc.c*cc.h*cc.w)
			w := randn(r, cc.c*cc.o*cc.k*cc.k)
			b := randn(r, cc.o)
			yRef, oh, ow := convT2dRef(x, cc.n, cc.c, cc.h, cc.w, w, cc.o, cc.k, b, cc.s, cc.p)
			dy := randn(r, len(yRef))
			y, grads := runOp(t, []*Param{
				paramFrom("x", toCB(x, cc.n, cc.c, cc.h*cc.w), cc.c, cc.h, cc.w, cc.n),
				paramFrom("w", f32(w), cc.c, cc.o, cc.k, cc.k),
				paramFrom("b", f32(b), cc.o),
			}, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node {
				return g.AddBias(g.ConvTranspose2d(in[0], in[1], cc.s, cc.p), in[2])
			}, toCB(dy, cc.n, cc.o, oh*ow))
			checkClose(t, "y", fromCB(y, cc.n, cc.o, oh*ow), yRef, 1e-4, 1e-4)
			f := func(x, w, b []float64) []float64 {
				y, _, _ := convT2dRef(x, cc.n, cc.c, cc.h, cc.w, w, cc.o, cc.k, b, cc.s, cc.p)
				return y
			}
			checkClose(t, "dx", fromCB(grads[0], cc.n, cc.c, cc.h*cc.w), numGrad(x, dy, func(v []float64) []float64 { return f(v, w, b) }), 1e-4, 1e-4)
			checkClose(t, "dw", f64(grads[1]), numGrad(w, dy, func(v []float64) []float64 { return f(x, v, b) }), 1e-4, 1e-4)
			checkClose(t, "db", f64(grads[2]), numGrad(b, dy, func(v []float64) []float64 { return f(x, w, v) }), 1e-4, 1e-4)
		})
	}
}

func TestShapeErrors(t *testing.T) {
	g := NewGraph(true)
	x, _ := g.Input("x", 1, 4, 4, 1)
	if y := g.Conv2d(x, g.Param(NewParam("w", 2, 3, 3, 3)), 1, 0); y != nil || g.Err() == nil {
		t.Fatal("conv2d with a weight for 3 input channels on a 1-channel input should fail")
	}
	g = NewGraph(true)
	x, _ = g.Input("x", 1, 2, 2, 1)
	// (2−1)·1 − 2·3 + 2 < 1: no output pixels.
	if y := g.ConvTranspose2d(x, g.Param(NewParam("w", 1, 1, 2, 2)), 1, 3); y != nil || g.Err() == nil {
		t.Fatal("conv_transpose2d with an empty output should fail")
	}
}

func TestLinearFiniteDifferences(t *testing.T) {
	r := rng.New(3, 1)
	const n, in, out = 5, 7, 3
	x, w := randn(r, n*in), randn(r, out*in)
	dy := randn(r, n*out)
	y, grads := runOp(t, []*Param{
		paramFrom("x", f32(transpose2(x, n, in)), in, n),
		paramFrom("w", f32(w), out, in),
	}, func(g *Graph, v []*gorgonia.Node) *gorgonia.Node { return g.Linear(v[0], v[1]) }, f32(transpose2(dy, n, out)))
	checkClose(t, "y", transpose2(f64(y), out, n), linearRef(x, n, in, w, out, nil), 1e-5, 1e-5)
	checkClose(t, "dx", transpose2(f64(grads[0]), in, n), numGrad(x, dy, func(v []float64) []float64 { return linearRef(v, n, in, w, out, nil) }), 1e-4, 1e-4)
	checkClose(t, "dw", f64(grads[1]), numGrad(w, dy, func(v []float64) []float64 { return linearRef(x, n, in, v, out, nil) }), 1e-4, 1e-4)
}

func TestBatchNormFiniteDifferences(t *testing.T) {
	r := rng.New(4, 1)
	for _, sh := range [][3]int{{4, 3, 5}, {6, 2, 1}, {3, 5, 4}} { // (n, c, hw); hw 1 is BatchNorm1d
		n, c, hw := sh[0], sh[1], sh[2]
		x := randn(r, n*c*hw)
		for i := range x {
			x[i] = 3*x[i] + 1.5
		}
		gamma, beta := randn(r, c), randn(r, c)
		dy := randn(r, len(x))
		st := kernels.NewBNStats(c, 0.1, 1e-5)
		y, grads := runOp(t, []*Param{
			paramFrom("x", toCB(x, n, c, hw), c, hw*n),
			paramFrom("gamma", f32(gamma), c),
			paramFrom("beta", f32(beta), c),
		}, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node {
			return g.BatchNorm(in[0], in[1], in[2], st, kernels.Identity)
		}, toCB(dy, n, c, hw))
		ref := func(x, gm, bt []float64) []float64 { return batchNormRef(x, n, c, hw, gm, bt, 1e-5) }
		checkClose(t, "y", fromCB(y, n, c, hw), ref(x, gamma, beta), 1e-5, 1e-4)
		checkClose(t, "dx", fromCB(grads[0], n, c, hw), numGrad(x, dy, func(v []float64) []float64 { return ref(v, gamma, beta) }), 1e-4, 1e-3)
		checkClose(t, "dgamma", f64(grads[1]), numGrad(gamma, dy, func(v []float64) []float64 { return ref(x, v, beta) }), 1e-4, 1e-4)
		checkClose(t, "dbeta", f64(grads[2]), numGrad(beta, dy, func(v []float64) []float64 { return ref(x, gamma, v) }), 1e-4, 1e-4)
	}
}

func TestActivationFiniteDifferences(t *testing.T) {
	r := rng.New(5, 1)
	ref := map[kernels.Act]func(float64) float64{
		kernels.ReLU:      func(v float64) float64 { return math.Max(v, 0) },
		kernels.LeakyReLU: func(v float64) float64 { return math.Max(v, 0) + 0.2*math.Min(v, 0) },
		kernels.Tanh:      math.Tanh,
		kernels.Sigmoid:   func(v float64) float64 { return 1 / (1 + math.Exp(-v)) },
	}
	for a, f := range ref {
		t.Run(a.String(), func(t *testing.T) {
			x := randn(r, 40)
			for i := range x {
				if math.Abs(x[i]) < 1e-3 { // keep away from the kink
					x[i] = 0.5
				}
			}
			dy := randn(r, len(x))
			apply := func(v []float64) []float64 {
				y := make([]float64, len(v))
				for i := range v {
					y[i] = f(v[i])
				}
				return y
			}
			y, grads := runOp(t, []*Param{paramFrom("x", f32(x), 4, 10)},
				func(g *Graph, in []*gorgonia.Node) *gorgonia.Node { return g.Activation(in[0], a) }, f32(dy))
			checkClose(t, "y", f64(y), apply(x), 1e-6, 1e-6)
			checkClose(t, "dx", f64(grads[0]), numGrad(x, dy, apply), 1e-5, 1e-4)
		})
	}
}

// Batch norm fused with an activation, and bias fused with an activation,
// against the unfused float64 references.
func TestFusedActivationsFiniteDifferences(t *testing.T) {
	r := rng.New(7, 1)
	acts := map[kernels.Act]func(float64) float64{
		kernels.ReLU:      func(v float64) float64 { return math.Max(v, 0) },
		kernels.LeakyReLU: func(v float64) float64 { return math.Max(v, 0) + 0.2*math.Min(v, 0) },
		kernels.Tanh:      math.Tanh,
	}
	const n, c, hw = 5, 3, 4
	for a, f := range acts {
		t.Run(a.String(), func(t *testing.T) {
			apply := func(y []float64) []float64 {
				for i := range y {
					y[i] = f(y[i])
				}
				return y
			}
			x, gamma, beta := randn(r, n*c*hw), randn(r, c), randn(r, c)
			dy := randn(r, len(x))
			ref := func(x, gm, bt []float64) []float64 { return apply(batchNormRef(x, n, c, hw, gm, bt, 1e-5)) }
			// Keep every pre-activation clear of the kink at 0 so that
			// finite differences are meaningful: nudge that channel's β.
			for moved := true; moved; {
				moved = false
				pre := batchNormRef(x, n, c, hw, gamma, beta, 1e-5)
				for i, v := range pre {
					if math.Abs(v) < 1e-3 {
						beta[(i/hw)%c] += 0.01
						moved = true
						break
					}
				}
			}
			st := kernels.NewBNStats(c, 0.1, 1e-5)
			// Output relabelled as (c·hw, n), as the discriminator's flatten does.
			y, grads := runOp(t, []*Param{
				paramFrom("x", toCB(x, n, c, hw), c, hw, n),
				paramFrom("gamma", f32(gamma), c),
				paramFrom("beta", f32(beta), c),
			}, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node {
				return g.BatchNorm(in[0], in[1], in[2], st, a, c*hw, n)
			}, toCB(dy, n, c, hw))
			checkClose(t, "y", fromCB(y, n, c, hw), ref(x, gamma, beta), 1e-5, 1e-4)
			checkClose(t, "dx", fromCB(grads[0], n, c, hw), numGrad(x, dy, func(v []float64) []float64 { return ref(v, gamma, beta) }), 1e-4, 1e-3)
			checkClose(t, "dgamma", f64(grads[1]), numGrad(gamma, dy, func(v []float64) []float64 { return ref(x, v, beta) }), 1e-4, 1e-4)
			checkClose(t, "dbeta", f64(grads[2]), numGrad(beta, dy, func(v []float64) []float64 { return ref(x, gamma, v) }), 1e-4, 1e-4)

			// bias + activation on (c, hw·n)
			b := randn(r, c)
			biasRef := func(x, b []float64) []float64 {
				y := make([]float64, len(x))
				for in := 0; in < n; in++ {
					for ic := 0; ic < c; ic++ {
						for i := 0; i < hw; i++ {
							j := (in*c+ic)*hw + i
							y[j] = f(x[j] + b[ic])
						}
					}
				}
				return y
			}
			y, grads = runOp(t, []*Param{
				paramFrom("x", toCB(x, n, c, hw), c, hw*n),
				paramFrom("b", f32(b), c),
			}, func(g *Graph, in []*gorgonia.Node) *gorgonia.Node { return g.BiasAct(in[0], in[1], a) }, toCB(dy, n, c, hw))
			checkClose(t, "bias y", fromCB(y, n, c, hw), biasRef(x, b), 1e-5, 1e-5)
			checkClose(t, "bias dx", fromCB(grads[0], n, c, hw), numGrad(x, dy, func(v []float64) []float64 { return biasRef(v, b) }), 1e-4, 1e-3)
			checkClose(t, "bias db", f64(grads[1]), numGrad(b, dy, func(v []float64) []float64 { return biasRef(x, v) }), 1e-4, 1e-3)
		})
	}
}
