package nn

import (
	"testing"

	"github.com/gantrain/gantrain/internal/kernels"
)

// Interpolate, LinearT and ActGrad against values worked out by hand.
func TestInputGradOpsByHand(t *testing.T) {
	g := NewGraph(true)
	a, ab := g.Input("a", 2, 2) // (2, B=2), batch-last
	b, bb := g.Input("b", 2, 2)
	e, eb := g.Input("eps", 2)
	copy(ab, []float32{1, 2, 3, 4})
	copy(bb, []float32{5, 6, 7, 8})
	copy(eb, []float32{0.25, 1})
	mix := g.Interpolate(a, b, e) // sample 0: ¼·a + ¾·b; sample 1: a
	w, wb := g.Input("w", 1, 2)   // (Out 1, In 2)
	copy(wb, []float32{2, -3})
	lt := g.LinearT(g.Ones("seed", 1, 2), w) // wᵀ·1: (2, B) = [[2 2] [−3 −3]]
	mask := g.ActGrad(a, lt, kernels.LeakyReLU)
	y, yb := g.Input("y", 2, 2)
	copy(yb, []float32{1, -1, 0, 2})
	mask2 := g.ActGrad(y, lt, kernels.LeakyReLU) // slope 1 where y > 0, 0.2 elsewhere
	m, err := g.Compile()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Run(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  []float32
		want []float32
	}{
		{"interpolate", mix.Value().Data().([]float32), []float32{4, 2, 6, 4}},
		{"linear_t", lt.Value().Data().([]float32), []float32{2, 2, -3, -3}},
		{"act_grad (all positive)", mask.Value().Data().([]float32), []float32{2, 2, -3, -3}},
		{"act_grad", mask2.Value().Data().([]float32), []float32{2, 0.4, -0.6, -3}},
	} {
		for i := range c.want {
			if d := c.got[i] - c.want[i]; d > 1e-6 || d < -1e-6 {
				t.Errorf("%s: %v, want %v", c.name, c.got, c.want)
				break
			}
		}
	}
}
