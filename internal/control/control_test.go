package control

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/rng"
)

// TestAttrGradients checks every attribute's analytic gradient against
// central finite differences of its float64 value, on gray and colour images.
func TestAttrGradients(t *testing.T) {
	for _, c := range []int{1, 3} {
		h, w := 7, 6
		pix := c * h * w
		r := rng.New(3, uint64(c))
		x := make([]float64, pix)
		for i := range x {
			x[i] = 2*r.Float64() - 1
		}
		attrs := Attrs(c)
		val := make([]float64, len(attrs))
		grad := make([][]float64, len(attrs))
		for k := range grad {
			grad[k] = make([]float64, pix)
		}
		Values(x, c, h, w, attrs, val, grad)
		const eps = 1e-6
		vp, vm := make([]float64, len(attrs)), make([]float64, len(attrs))
		worst := make([]float64, len(attrs))
		for i := range x {
			old := x[i]
			x[i] = old + eps
			Values(x, c, h, w, attrs, vp, nil)
			x[i] = old - eps
			Values(x, c, h, w, attrs, vm, nil)
			x[i] = old
			for k := range attrs {
				fd := (vp[k] - vm[k]) / (2 * eps)
				e := math.Abs(fd-grad[k][i]) / math.Max(1e-3, math.Abs(fd))
				worst[k] = math.Max(worst[k], e)
			}
		}
		for k, a := range attrs {
			if worst[k] > 1e-5 || math.IsNaN(worst[k]) {
				t.Errorf("C=%d %s: largest relative error %.3g between the gradient and finite differences", c, a, worst[k])
			}
		}
	}
}

// TestAttrValues checks the attributes against values computed by hand.
func TestAttrValues(t *testing.T) {
	// A 4×4 gray image, ink 1 at (row 0, col 3) and (row 3, col 0): the
	// diagonal "/" leans right.
	h, w := 4, 4
	x := make([]float64, h*w)
	for i := range x {
		x[i] = -1
	}
	x[0*w+3], x[3*w+0] = 1, 1
	attrs := []Attr{Ink, X, Y, Size, Slant}
	val := make([]float64, len(attrs))
	Values(x, 1, h, w, attrs, val, nil)
	// Centred coordinates: (i, j) = (−1.5, 1.5) and (1.5, −1.5).
	// μ20 = μ02 = 2.25, μ11 = −2.25: size √4.5, slant 1.
	want := []float64{2.0 / 16, 0, 0, math.Sqrt(4.5), 1}
	for k, a := range attrs {
		if math.Abs(val[k]-want[k]) > 1e-5 {
			t.Errorf("%s = %v, want %v", a, val[k], want[k])
		}
	}
	// A vertical bar 2 pixels wide and 6 high in 8×8: thickness near 2.
	h, w = 8, 8
	x = make([]float64, h*w)
	for i := range x {
		x[i] = -1
	}
	for i := 1; i < 7; i++ {
		x[i*w+3], x[i*w+4] = 1, 1
	}
	Values(x, 1, h, w, []Attr{Thickness}, val[:1], nil)
	// Mass 12. The 7×7 forward-difference terms: 6 unit steps on the left
	// edge (pixels (1..6, 2)), 5 on the right ((1..5, 4)), 2 on the top
	// ((0, 3), (0, 4)), 1 at the bottom ((6, 3)), √2 at the corner (6, 4)
	// where both differences are −1, and 34 flat terms of √ε each (ε inside
	// the other roots moves the value by under 1e-6).
	want2 := 2 * 12 / (14 + math.Sqrt2 + 34*math.Sqrt(tvEps))
	if math.Abs(val[0]-want2) > 1e-5 {
		t.Errorf("thickness of a 2-pixel bar = %v, want %v", val[0], want2)
	}
}

func TestParseFeature(t *testing.T) {
	digits := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	if f, err := ParseFeature("class:9", 1, digits); err != nil || f.Class != 9 {
		t.Errorf("class:9: %v %v", f, err)
	}
	if f, err := ParseFeature("slant", 1, nil); err != nil || f.Attr != Slant || f.IsClass() {
		t.Errorf("slant: %v %v", f, err)
	}
	for _, bad := range []struct{ name, want string }{
		{"fatness", "known: ink, thickness, slant, size, x, y, brightness, red, green, blue, class:NAME"},
		{"red", "needs colour images"},
		{"class:9", "no classifier"},
		{"class:x", "unknown class"},
	} {
		cl := digits
		if bad.want == "no classifier" {
			cl = nil
		}
		_, err := ParseFeature(bad.name, 1, cl)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one containing %q", bad.name, err, bad.want)
		}
	}
	if _, err := ParseFeature("red", 3, nil); err != nil {
		t.Errorf("red on colour images: %v", err)
	}
}

// TestGradZ checks ∇z of the objective through small generators (the MLP
// GAN and the DCGAN generator with batch norm in evaluation mode, with
// running statistics that are not 0 and 1) and the classifier, against
// central finite differences of the objective, in every mode: the target,
// a held attribute, and the log-probability of each row's class.
func TestGradZ(t *testing.T) {
	clf, err := classifier.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		model, feature string
		mode           Mode
	}{
		{"gan", "thickness", TargetMode},
		{"dcgan", "slant", TargetMode},
		{"dcgan", "ink", Mode(Y)},
		{"dcgan", "class:3", TargetMode},
		{"dcgan", "size", ClassMode},
		{"cgan", "size", TargetMode},
		{"cgan", "x", Mode(Thickness)},
	} {
		t.Run(fmt.Sprintf("%s/%s/mode=%d", tc.model, tc.feature, tc.mode), func(t *testing.T) {
			const zd, b = 4, 2
			m, err := models.New(tc.model, zd, rng.New(1, 1))
			if err != nil {
				t.Fatal(err)
			}
			r := rng.New(2, 2)
			// Weights ten times the initial scale, for images with contrast.
			for _, p := range m.G.Params() {
				for i, v := range p.Data() {
					p.Data()[i] = 1 * v
				}
			}
			for _, st := range m.G.BatchNorms() {
				for i := range st.RunMean {
					st.RunMean[i] = float32(0.1 * (2*r.Float64() - 1))
					st.RunVar[i] = float32(0.5 + r.Float64())
				}
			}
			f, err := ParseFeature(tc.feature, 1, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"})
			if err != nil {
				t.Fatal(err)
			}
			scale := make([]float64, len(Attrs(1)))
			for i := range scale {
				scale[i] = 0.5 + 0.1*float64(i)
			}
			opt := Options{Target: f, Decrease: tc.model == "gan", Scale: scale, TargetScale: 0.7, Batch: b, Labels: []int{2, 7}}
			c, err := New(m, clf, opt)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetClasses([]int{3, 8})
			if err := c.SetMode(tc.mode); err != nil {
				t.Fatal(err)
			}
			z := make([]float32, zd*b)
			r.FillNormal(z, 0, 1)
			st, err := c.Eval(z)
			if err != nil {
				t.Fatal(err)
			}
			const h = 1e-3
			var num, den float64
			fd := make([]float64, len(z))
			for i := range z {
				old := z[i]
				z[i] = old + h
				sp, err := c.Eval(z)
				if err != nil {
					t.Fatal(err)
				}
				z[i] = old - h
				sm, err := c.Eval(z)
				if err != nil {
					t.Fatal(err)
				}
				z[i] = old
				fd[i] = (sp.Objective - sm.Objective) / (2 * h)
				d := fd[i] - float64(st.Grad[i])
				num += d * d
				den += fd[i] * fd[i]
			}
			// Coordinate by coordinate the differences of a float32
			// objective carry round-off and the kinks of ReLUs within ±h
			// (0.032 was seen with OpenBLAS on an Intel Xeon, 0.02 and less
			// elsewhere); a wrong or missing term is an error of order 1.
			rel := math.Sqrt(num / den)
			if !(rel < 0.06) || den == 0 {
				t.Errorf("relative error %.3g between ∇z and finite differences\n grad %v\n fd   %v", rel, st.Grad, fd)
			}
			// Along the gradient the change is largest: the directional
			// difference must be |∇z| (seen: at most 2.4% off, a kink).
			var gn float64
			for _, g := range st.Grad {
				gn += float64(g) * float64(g)
			}
			gn = math.Sqrt(gn)
			zp, zm := slices.Clone(z), slices.Clone(z)
			for i, g := range st.Grad {
				zp[i] += float32(h * float64(g) / gn)
				zm[i] -= float32(h * float64(g) / gn)
			}
			sp, err := c.Eval(zp)
			if err != nil {
				t.Fatal(err)
			}
			sm, err := c.Eval(zm)
			if err != nil {
				t.Fatal(err)
			}
			dd := (sp.Objective - sm.Objective) / (2 * h)
			if !(math.Abs(dd-gn) < 0.05*gn) {
				t.Errorf("along ∇z the objective changes at %.6g, |∇z| = %.6g", dd, gn)
			}
		})
	}
}

// TestConstrainedStep checks the keep step on vectors worked by hand.
func TestConstrainedStep(t *testing.T) {
	// g = (1, 1, 0), one constraint along x with no drift: the step is
	// rate along y.
	step, ok := constrainedStep([]float64{1, 1, 0}, [][]float64{{2, 0, 0}}, []float64{0}, 0.5)
	if !ok || math.Abs(step[0]) > 1e-12 || math.Abs(step[1]-0.5) > 1e-12 || step[2] != 0 {
		t.Errorf("step %v, want (0, 0.5, 0)", step)
	}
	// A drift of 0.4 on the constraint 2x: δ = (−0.2, 0, 0) undoes it.
	step, _ = constrainedStep([]float64{1, 1, 0}, [][]float64{{2, 0, 0}}, []float64{0.4}, 0.5)
	if math.Abs(step[0]+0.2) > 1e-9 || math.Abs(step[1]-0.5) > 1e-12 {
		t.Errorf("step %v, want (−0.2, 0.5, 0)", step)
	}
	// Two constraints, one a multiple of the other, and one along z: the
	// target direction left is y; drifts 0.2 (on x) and −0.3 (on 3z).
	step, _ = constrainedStep([]float64{1, 2, 1}, [][]float64{{1, 0, 0}, {2, 0, 0}, {0, 0, 3}}, []float64{0.2, 0.4, -0.3}, 1)
	want := []float64{-0.2, 1, 0.1}
	for i := range want {
		if math.Abs(step[i]-want[i]) > 1e-6 {
			t.Errorf("step %v, want %v", step, want)
			break
		}
	}
	// Nothing left of g: no step.
	if _, ok := constrainedStep([]float64{1, 0}, [][]float64{{1, 0}}, []float64{0}, 1); ok {
		t.Error("a gradient inside the constraints' span gave a step")
	}
}
