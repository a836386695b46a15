package nn

import (
	"math"
	"testing"

	"github.com/gantrain/gantrain/internal/rng"
)

// mbstdGraph builds Σ R ⊙ MinibatchStd(x) over a learnable x (F, B) and
// returns the loss, the output and ∂/∂x.
func mbstdGraph(t *testing.T, x []float32, f, b, plane int, r []float32) (float64, []float32, []float32) {
	t.Helper()
	p := NewParam("x", f, b)
	copy(p.Data(), x)
	g := NewGraph(true, p)
	y := g.MinibatchStd(g.Param(p), f+plane, b)
	cost, outp := weightedSum(g, y, r)
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
	return float64(cost.Value().Data().(float32)), *outp, append([]float32(nil), grads[0]...)
}

// By hand: features (1, 3) and (2, 2) over a batch of 2 have standard
// deviations 1 and 0 (√1e-8 = 1e-4 with the ε): s = (1 + 1e-4)/2, appended
// as a plane of 3 values per sample after x's.
func TestMinibatchStdHandComputed(t *testing.T) {
	x := []float32{1, 3, 2, 2} // (F=2, B=2) feature-major
	_, out, _ := mbstdGraph(t, x, 2, 2, 3, make([]float32, 10))
	s := float32((1 + 1e-4) / 2)
	want := []float32{1, 3, 2, 2, s, s, s, s, s, s}
	if len(out) != len(want) {
		t.Fatalf("%d values, want %d", len(out), len(want))
	}
	for i := range want {
		if math.Abs(float64(out[i]-want[i])) > 1e-7 {
			t.Errorf("out[%d] = %v, want %v", i, out[i], want[i])
		}
	}
}

// ∂/∂x against float64 central differences of Σ R ⊙ y, with s written
// out directly: (1/F) Σ_f √(mean_b (x − mean)² + 1e-8).
func TestMinibatchStdFiniteDifferences(t *testing.T) {
	const f, b, plane = 5, 4, 3
	r := rng.New(11, 1)
	x := make([]float32, f*b)
	r.FillNormal(x, 0, 1)
	rw := make([]float32, (f+plane)*b)
	r.FillNormal(rw, 0, 1)
	_, _, grad := mbstdGraph(t, x, f, b, plane, rw)
	loss := func(x []float64) float64 {
		var s, l float64
		for i := 0; i < f; i++ {
			var mean, vr float64
			for j := 0; j < b; j++ {
				mean += x[i*b+j] / b
			}
			for j := 0; j < b; j++ {
				vr += (x[i*b+j] - mean) * (x[i*b+j] - mean) / b
			}
			s += math.Sqrt(vr+1e-8) / f
		}
		for i, v := range x {
			l += float64(rw[i]) * v
		}
		for i := f * b; i < len(rw); i++ {
			l += float64(rw[i]) * s
		}
		return l
	}
	xd := make([]float64, len(x))
	for i, v := range x {
		xd[i] = float64(v)
	}
	const h = 1e-6
	for k := range xd {
		old := xd[k]
		xd[k] = old + h
		up := loss(xd)
		xd[k] = old - h
		fd := (up - loss(xd)) / (2 * h)
		xd[k] = old
		if math.Abs(float64(grad[k])-fd) > 1e-5*(1+math.Abs(fd)) {
			t.Errorf("∂/∂x[%d] = %.8g, finite difference %.8g", k, grad[k], fd)
		}
	}
}
