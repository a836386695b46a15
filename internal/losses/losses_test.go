package losses

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/nn"
	"gorgonia.org/gorgonia"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

// Values worked out by hand: ℓ(x, 1) = log(1 + e^−x), ℓ(x, 0) = log(1 + e^x).
func TestBCEElemHandComputed(t *testing.T) {
	cases := []struct {
		x, t, loss, grad float64
	}{
		{0, 1, math.Ln2, -0.5},
		{0, 0, math.Ln2, 0.5},
		{2, 1, math.Log(1 + math.Exp(-2)), 1/(1+math.Exp(-2)) - 1}, // 0.126928…
		{-3, 0, math.Log(1 + math.Exp(-3)), 1 / (1 + math.Exp(3))}, // 0.048587…
		{100, 0, 100, 1},   // log(1+e^100) = 100 + log(1+e^−100); the naive form overflows
		{-100, 1, 100, -1}, // likewise
		{1000, 1, 0, 0},    // certain and right: no loss, no gradient
		{-1000, 0, 0, 0},
		{1000, 0, 1000, 1}, // certain and wrong: finite loss
	}
	for _, c := range cases {
		l, g := BCEElem(c.x, c.t)
		if !near(l, c.loss, 1e-12) || !near(g, c.grad, 1e-12) {
			t.Errorf("BCE(x=%g, t=%g) = %.15g, grad %.15g; want %.15g, %.15g", c.x, c.t, l, g, c.loss, c.grad)
		}
		if math.IsNaN(l) || math.IsInf(l, 0) {
			t.Errorf("BCE(x=%g) not finite", c.x)
		}
	}
}

// PyTorch's binary_cross_entropy_with_logits (mean) on mixed targets.
func TestBCEMatchesTorch(t *testing.T) {
	b, err := os.ReadFile("../../testdata/torch-layers.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []struct {
			Name    string    `json:"name"`
			Logits  []float64 `json:"logits"`
			Target  []float64 `json:"target"`
			Loss    float64   `json:"loss"`
			DLogits []float64 `json:"dlogits"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		if c.Name != "bce_with_logits mean" {
			continue
		}
		n := float64(len(c.Logits))
		var loss float64
		for i, x := range c.Logits {
			l, g := BCEElem(x, c.Target[i])
			loss += l / n
			if !near(g/n, c.DLogits[i], 1e-10) {
				t.Errorf("dlogit %d = %.12g, torch %.12g", i, g/n, c.DLogits[i])
			}
		}
		if !near(loss, c.Loss, 1e-12) {
			t.Errorf("loss %.15g, torch %.15g", loss, c.Loss)
		}
		return
	}
	t.Fatal("no bce case in torch-layers.json")
}

// runLoss builds loss(x) over a learnable x, differentiates and runs it.
func runLoss(t *testing.T, x []float32, build func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat)) (float64, *Stat, []float32) {
	t.Helper()
	p := nn.NewParam("x", 1, len(x))
	copy(p.Data(), x)
	g := nn.NewGraph(true, p)
	cost, st := build(g, g.Param(p))
	g.Backward(cost)
	m, err := g.Compile()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	grads, err := m.Grads()
	if err != nil {
		t.Fatal(err)
	}
	return float64(cost.Value().Data().(float32)), st, grads[0]
}

func TestBCEOp(t *testing.T) {
	x := []float32{0, 2, -3, 100}
	for _, target := range []float64{0, 1} {
		loss, st, grad := runLoss(t, x, func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat) { return BCE(g, "loss", x, target) })
		var want, wantProb float64
		for i, v := range x {
			l, d := BCEElem(float64(v), target)
			want += l / 4
			wantProb += 1 / (1 + math.Exp(-float64(v))) / 4
			if !near(float64(grad[i]), d/4, 1e-6) {
				t.Errorf("t=%g: grad[%d] = %g, want %g", target, i, grad[i], d/4)
			}
		}
		if !near(loss, want, 1e-6) || !near(st.Loss, want, 1e-12) || !near(st.Mean, wantProb, 1e-12) {
			t.Errorf("t=%g: loss %g (stat %g, mean σ %g), want %g (mean σ %g)", target, loss, st.Loss, st.Mean, want, wantProb)
		}
	}
}

// The Wasserstein losses are means: critic mean C(fake) − mean C(real),
// generator −mean C(fake). Gradient of sign·mean is sign/n everywhere.
func TestMeanOp(t *testing.T) {
	x := []float32{1, -2, 3.5, 0.5}
	for _, sign := range []float64{1, -1} {
		loss, st, grad := runLoss(t, x, func(g *nn.Graph, x *gorgonia.Node) (*gorgonia.Node, *Stat) { return Mean(g, "loss", x, sign) })
		if !near(loss, sign*0.75, 1e-7) || !near(st.Mean, 0.75, 1e-12) {
			t.Errorf("sign %g: loss %g mean %g, want %g, 0.75", sign, loss, st.Mean, sign*0.75)
		}
		for i, gv := range grad {
			if !near(float64(gv), sign/4, 1e-7) {
				t.Errorf("sign %g: grad[%d] = %g, want %g", sign, i, gv, sign/4)
			}
		}
	}
}

func TestNaNLossIsAnError(t *testing.T) {
	p := nn.NewParam("x", 1, 2)
	p.Data()[0] = float32(math.NaN())
	g := nn.NewGraph(true, p)
	cost, _ := BCE(g, "D loss on real images", g.Param(p), 1)
	g.Backward(cost)
	m, err := g.Compile()
	if err != nil {
		t.Fatal(err)
	}
	err = m.Run()
	if err == nil || !strings.Contains(err.Error(), "D loss on real images") || !strings.Contains(err.Error(), "NaN") {
		t.Fatalf("NaN logits: error %v, want one naming the loss and NaN", err)
	}
}

// Hand-computed: logits (0, 0) → −log ½; logits (ln 3, 0) for class 0 →
// softmax (¾, ¼), loss −log ¾; the gradient is (p − onehot)/B.
func TestSoftmaxCrossEntropyHandComputed(t *testing.T) {
	// K = 2, B = 2, feature-major: x[c*B+j].
	x := []float32{0, float32(math.Log(3)), 0, 0}
	labels := []float32{1, 0}
	dx := make([]float32, 4)
	loss, correct, err := SoftmaxCrossEntropy(x, 2, labels, 1, dx)
	if err != nil {
		t.Fatal(err)
	}
	want := (math.Ln2 + -math.Log(0.75)) / 2
	if !near(loss, want, 1e-7) {
		t.Errorf("loss %.10g, want %.10g", loss, want)
	}
	if correct != 1 { // sample 0 ties (argmax 0 ≠ 1), sample 1 is right
		t.Errorf("correct %d, want 1", correct)
	}
	wantDx := []float64{0.5 / 2, (0.75 - 1) / 2, (0.5 - 1) / 2, 0.25 / 2}
	for i := range dx {
		if !near(float64(dx[i]), wantDx[i], 1e-6) {
			t.Errorf("dx[%d] = %g, want %g", i, dx[i], wantDx[i])
		}
	}
	// Large logits stay finite.
	l, _, _ := SoftmaxCrossEntropy([]float32{1000, -1000}, 2, []float32{0}, 1, nil)
	l2, _, _ := SoftmaxCrossEntropy([]float32{1000, -1000}, 2, []float32{1}, 1, nil)
	if l != 0 || !near(l2, 2000, 1e-9) {
		t.Errorf("large logits: %v, %v", l, l2)
	}
	if _, _, err := SoftmaxCrossEntropy(x, 2, []float32{2, 0}, 1, nil); err == nil {
		t.Error("label 2 of 2 classes accepted")
	}
}
