package zspace

import (
	"math"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/gen"
)

const dim = 100

func z(seed uint64) []float32 { return gen.Noise(seed, 1, dim) }

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func dist(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return math.Sqrt(s)
}

func angle(a, b []float32) float64 {
	var d float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
	}
	return math.Acos(max(-1, min(1, d/(norm(a)*norm(b)))))
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

func finite(v []float32) bool {
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

func scaled(v []float32, k float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(k * float64(x))
	}
	return out
}

var interps = []struct {
	name string
	f    func(a, b []float32, t float64) []float32
}{{"lerp", Lerp}, {"slerp", Slerp}}

func TestEndpointsExact(t *testing.T) {
	pairs := [][2][]float32{
		{z(1), z(2)},
		{z(3), scaled(z(4), 3)},
		{z(5), z(5)},
		{z(6), scaled(z(6), -1)},
		{z(7), make([]float32, dim)},
		{[]float32{1e-30, -1e30}, []float32{3, 0}},
	}
	for _, m := range interps {
		for i, p := range pairs {
			if got := m.f(p[0], p[1], 0); !sameBits(got, p[0]) {
				t.Errorf("%s pair %d: t=0 is not a", m.name, i)
			}
			if got := m.f(p[0], p[1], 1); !sameBits(got, p[1]) {
				t.Errorf("%s pair %d: t=1 is not b", m.name, i)
			}
		}
	}
}

func TestSlerpKnownValues(t *testing.T) {
	h := math.Sqrt(0.5)
	for _, c := range []struct {
		a, b []float32
		t    float64
		want []float64
	}{
		{[]float32{1, 0}, []float32{0, 1}, 0.5, []float64{h, h}},
		{[]float32{1, 0}, []float32{0, 1}, 1.0 / 3, []float64{math.Cos(math.Pi / 6), 0.5}},
		// Different norms: the coefficients are those of the unit arc.
		{[]float32{2, 0}, []float32{0, 1}, 0.5, []float64{2 * h, h}},
		// 60° apart, equal norms: the midpoint is on the circle at 30°.
		{[]float32{1, 0}, []float32{0.5, float32(math.Sqrt(3) / 2)}, 0.5, []float64{math.Cos(math.Pi / 6), 0.5}},
	} {
		got := Slerp(c.a, c.b, c.t)
		for i := range got {
			if math.Abs(float64(got[i])-c.want[i]) > 1e-6 {
				t.Errorf("Slerp(%v, %v, %g) = %v, want %v", c.a, c.b, c.t, got, c.want)
				break
			}
		}
	}
	if got := Lerp([]float32{1, 2}, []float32{3, -2}, 0.25); got[0] != 1.5 || got[1] != 1 {
		t.Errorf("Lerp = %v, want [1.5 1]", got)
	}
}

// For Gaussian vectors (nearly orthogonal in 100 dimensions) Slerp's norm
// stays between the endpoint norms, and on the sphere when they are equal.
// Exactly so when the angle between them is at most 90°; beyond it White's
// formula overshoots a little near the longer endpoint (about 1% at worst
// over 10,000 pairs, at 110°), so there the bound has a 2% margin.
func TestSlerpNormBetweenEndpoints(t *testing.T) {
	ts := []float64{0.02, 0.05, 0.1, 0.25, 0.4, 0.5, 0.6, 0.75, 0.9, 0.95, 0.98}
	acute, obtuse := 0, 0
	for s := uint64(0); s < 600; s += 2 {
		a, b := z(s), z(s+1)
		na, nb := norm(a), norm(b)
		lo, hi := min(na, nb), max(na, nb)
		ang := angle(a, b)
		tol := 1e-6
		if ang > math.Pi/2 {
			tol = 0.02
			obtuse++
		} else {
			acute++
		}
		for _, tt := range ts {
			n := norm(Slerp(a, b, tt))
			if n < lo*(1-tol) || n > hi*(1+tol) {
				t.Fatalf("seeds %d,%d t=%g: |slerp| = %g outside [%g, %g] ± %g (angle %.1f°)",
					s, s+1, tt, n, lo, hi, tol, ang*180/math.Pi)
			}
		}
		// Rescale b to |a|: the path stays on the sphere of radius |a|.
		b = scaled(b, na/nb)
		for _, tt := range ts {
			if n := norm(Slerp(a, b, tt)); math.Abs(n-na) > 1e-5*na {
				t.Fatalf("seeds %d,%d t=%g: equal norms %g but |slerp| = %g", s, s+1, tt, na, n)
			}
		}
	}
	if acute < 100 || obtuse < 100 {
		t.Errorf("%d pairs at ≤ 90° and %d beyond: want both kinds well covered", acute, obtuse)
	}
}

// The midpoint of a straight line between independent N(0, I) vectors has a
// norm near √½ of theirs: the reason to prefer Slerp.
func TestLerpMidpointShrinks(t *testing.T) {
	var sum float64
	const pairs = 200
	for s := uint64(0); s < 2*pairs; s += 2 {
		a, b := z(1000+s), z(1001+s)
		r := norm(Lerp(a, b, 0.5)) / ((norm(a) + norm(b)) / 2)
		if r < 0.5 || r > 0.9 {
			t.Errorf("seeds %d,%d: |lerp midpoint| / |endpoints| = %.3f, want about 0.71", 1000+s, 1001+s, r)
		}
		sum += r
	}
	if mean := sum / pairs; math.Abs(mean-math.Sqrt(0.5)) > 0.03 {
		t.Errorf("mean |lerp midpoint| / |endpoints| = %.4f, want √½ ≈ 0.7071 ± 0.03", mean)
	}
}

func TestDegenerateFinite(t *testing.T) {
	a := z(42)
	zero := make([]float32, dim)
	near := append([]float32(nil), a...)
	near[0] = math.Nextafter32(near[0], 10)
	cases := []struct {
		name string
		a, b []float32
	}{
		{"a == b", a, a},
		{"a == -b", a, scaled(a, -1)},
		{"a == 3b", a, scaled(a, 3)},
		{"nearly parallel", a, near},
		{"zero, b", zero, a},
		{"a, zero", a, zero},
		{"zero, zero", zero, zero},
		{"tiny", []float32{1e-45, 0}, []float32{0, 1e-45}},
		{"huge", []float32{1e38, 1e38}, []float32{-1e38, 1e38}},
	}
	for _, c := range cases {
		for _, m := range interps {
			for _, tt := range []float64{0, 0.1, 0.5, 0.9, 1} {
				got := m.f(c.a, c.b, tt)
				if !finite(got) {
					t.Errorf("%s %s t=%g: not finite: %v", m.name, c.name, tt, got[:2])
				}
			}
		}
	}
	for _, m := range interps {
		for _, tt := range []float64{0.3, 0.5} {
			if d := dist(m.f(a, a, tt), a); d > 1e-6 {
				t.Errorf("%s(a, a, %g) is %g away from a", m.name, tt, d)
			}
		}
		if n := norm(m.f(a, scaled(a, -1), 0.5)); n > 1e-6 {
			t.Errorf("%s(a, -a, 0.5) has norm %g, want 0 (falls back to lerp)", m.name, n)
		}
		if d := dist(m.f(zero, a, 0.25), scaled(a, 0.25)); d > 1e-6 {
			t.Errorf("%s(0, a, 0.25) is %g away from a/4", m.name, d)
		}
	}
}

func TestInterpLengthMismatchPanics(t *testing.T) {
	for _, m := range interps {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), "lengths 2 and 3") {
					t.Errorf("%s: recover() = %v, want a panic naming the lengths", m.name, r)
				}
			}()
			m.f([]float32{1, 2}, []float32{1, 2, 3}, 0.5)
		}()
	}
}

func TestPathLengthsAndEnds(t *testing.T) {
	for _, method := range Methods {
		for _, c := range []struct{ points, steps, want int }{
			{2, 2, 2}, {2, 3, 3}, {2, 10, 10}, {3, 2, 3}, {3, 5, 9}, {4, 10, 28}, {5, 17, 65},
		} {
			pts := make([][]float32, c.points)
			for i := range pts {
				pts[i] = z(uint64(500 + i))
			}
			frames, err := Path(pts, c.steps, method)
			if err != nil {
				t.Fatal(err)
			}
			if len(frames) != c.want || c.want != (c.points-1)*(c.steps-1)+1 {
				t.Fatalf("%s: %d points × %d steps: %d frames, want %d", method, c.points, c.steps, len(frames), c.want)
			}
			for k, p := range pts {
				if !sameBits(frames[k*(c.steps-1)], p) {
					t.Errorf("%s: frame %d is not point %d", method, k*(c.steps-1), k)
				}
			}
			frames[0][0] = 1e9 // frames are copies
			if pts[0][0] == 1e9 {
				t.Fatalf("%s: frame 0 aliases point 0", method)
			}
		}
	}
}

// Within each segment the frames move steadily from one point to the next:
// lerp's distance from the start grows and its distance to the end shrinks;
// slerp's angle does likewise.
func TestPathMonotonic(t *testing.T) {
	pts := [][]float32{z(7), z(8), scaled(z(9), 2), z(10)}
	const steps = 12
	for _, method := range Methods {
		frames, err := Path(pts, steps, method)
		if err != nil {
			t.Fatal(err)
		}
		measure := dist
		if method == "slerp" {
			measure = angle
		}
		for k := 0; k+1 < len(pts); k++ {
			seg := frames[k*(steps-1) : (k+1)*(steps-1)+1]
			a, b := pts[k], pts[k+1]
			for j := 1; j < len(seg); j++ {
				if !(measure(seg[j], a) > measure(seg[j-1], a)) || !(measure(seg[j], b) < measure(seg[j-1], b)) {
					t.Errorf("%s segment %d: frame %d does not move on from frame %d", method, k, j, j-1)
				}
				// Lerp's frames are equally spaced.
				want := dist(a, b) / (steps - 1)
				if d := dist(seg[j], seg[j-1]); method == "lerp" && math.Abs(d-want) > 1e-4*want {
					t.Errorf("lerp segment %d: step %d is %g, want %g", k, j, d, want)
				}
			}
		}
	}
}

func TestPathErrors(t *testing.T) {
	a, b := z(1), z(2)
	for _, c := range []struct {
		points [][]float32
		steps  int
		method string
		want   string
	}{
		{[][]float32{a, b}, 5, "cubic", `unknown interpolation method "cubic" (valid: lerp, slerp)`},
		{[][]float32{a, b}, 5, "", `unknown interpolation method ""`},
		{[][]float32{a}, 5, "lerp", "at least 2 points, got 1"},
		{nil, 5, "slerp", "at least 2 points, got 0"},
		{[][]float32{a, b}, 1, "lerp", "at least 2 steps"},
		{[][]float32{a, b}, 0, "slerp", "at least 2 steps"},
		{[][]float32{a, b[:50]}, 5, "lerp", "point 1 has 50 values, point 0 has 100"},
		{[][]float32{{}, {}}, 5, "lerp", "empty vector"},
		{[][]float32{a, b, a}, math.MaxInt, "lerp", "too many frames"},
	} {
		_, err := Path(c.points, c.steps, c.method)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Path(%d points, %d, %q) = %v, want error containing %q", len(c.points), c.steps, c.method, err, c.want)
		}
	}
}

// Between points of equal norm Slerp turns at a constant angle per step and
// stays on the sphere; with unequal norms (the test above) it does not turn
// evenly.
func TestPathSlerpEvenOnSphere(t *testing.T) {
	r := norm(z(20))
	pts := [][]float32{z(20), scaled(z(21), r/norm(z(21))), scaled(z(22), r/norm(z(22)))}
	const steps = 9
	frames, err := Path(pts, steps, "slerp")
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k+1 < len(pts); k++ {
		want := angle(pts[k], pts[k+1]) / (steps - 1)
		for j := k*(steps-1) + 1; j <= (k+1)*(steps-1); j++ {
			if d := angle(frames[j], frames[j-1]); math.Abs(d-want) > 1e-5 {
				t.Errorf("segment %d: frame %d turns %g rad from the previous, want %g", k, j, d, want)
			}
			if n := norm(frames[j]); math.Abs(n-r) > 1e-5*r {
				t.Errorf("frame %d has norm %g, want %g", j, n, r)
			}
		}
	}
}
