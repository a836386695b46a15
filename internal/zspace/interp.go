package zspace

import (
	"fmt"
	"math"
	"strings"
)

// slerpMinSin is the smallest sin ω for which Slerp uses the spherical
// formula; below it (vectors nearly parallel or nearly opposite) it returns
// Lerp, which the spherical formula approaches as ω → 0.
const slerpMinSin = 1e-6

// Lerp returns (1−t)·a + t·b, computed in float64 and rounded to float32.
// t = 0 gives a and t = 1 gives b exactly; t outside [0, 1] extrapolates.
// It panics if a and b differ in length.
func Lerp(a, b []float32, t float64) []float32 { return interp("Lerp", lerpInto, a, b, t) }

// interp checks a and b for the function name and returns into's result.
func interp(name string, into func(out, a, b []float32, t float64), a, b []float32, t float64) []float32 {
	checkLen(name, a, b)
	out := make([]float32, len(a))
	into(out, a, b, t)
	return out
}

func lerpInto(out, a, b []float32, t float64) {
	s := 1 - t
	for i := range out {
		out[i] = float32(s*float64(a[i]) + t*float64(b[i]))
	}
}

// Slerp returns the spherical interpolation of White 2016 ("Sampling
// Generative Networks", the slerp of its code), computed in float64 and
// rounded to float32:
//
//	ω = arccos(⟨a,b⟩ / (|a|·|b|))   (the cosine clamped to [−1, 1])
//	slerp(a, b, t) = sin((1−t)ω)/sin ω · a + sin(tω)/sin ω · b
//
// The vectors are not normalised first, so the result moves along an arc
// from a to b in direction and magnitude together:
//   - if |a| = |b| = r, every point has norm r and equal steps in t turn
//     through equal angles (a great circle of the sphere of radius r);
//   - if the norms differ, the direction does not turn at an even rate (it
//     lingers near the longer vector), because the result is the unit arc's
//     coefficients applied to vectors of different lengths;
//   - if the norms differ and ω ≤ 90°, the norm stays between |a| and |b|
//     (though not linear in t);
//   - if the norms differ and ω > 90°, the norm first grows past the longer
//     vector's (its derivative at that end has the sign of −cos ω) before
//     coming down. Latent vectors drawn from N(0, I) in many dimensions are
//     nearly orthogonal (ω within about 90° ± 20° for Z = 100), so this is
//     small for them: at most about 1% over 10,000 pairs at Z = 100;
//   - for nearly opposite vectors with different norms the coefficients
//     grow like 1/sin ω and so does the norm (up to the lerp fallback).
//
// When sin ω < 1e-6 (nearly parallel or nearly opposite vectors), or either
// vector is zero, Slerp returns Lerp(a, b, t): for a == b that is a, for
// a == −b the path passes through the origin, and no NaN arises from the
// division. t = 0 gives a and t = 1 gives b exactly. Non-finite inputs give
// non-finite outputs. It panics if a and b differ in length.
func Slerp(a, b []float32, t float64) []float32 { return interp("Slerp", slerpInto, a, b, t) }

func slerpInto(out, a, b []float32, t float64) {
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	na, nb = math.Sqrt(na), math.Sqrt(nb)
	c := dot / (na * nb) // NaN for a zero vector
	c = max(-1, min(1, c))
	omega := math.Acos(c)
	so := math.Sin(omega)
	if !(so >= slerpMinSin) { // also catches NaN
		lerpInto(out, a, b, t)
		return
	}
	ca := math.Sin((1-t)*omega) / so
	cb := math.Sin(t*omega) / so
	for i := range out {
		out[i] = float32(ca*float64(a[i]) + cb*float64(b[i]))
	}
}

func checkLen(fn string, a, b []float32) {
	if len(a) != len(b) {
		panic(fmt.Sprintf("zspace.%s: vectors of lengths %d and %d", fn, len(a), len(b)))
	}
}

// Methods lists the interpolation methods Path accepts.
var Methods = []string{"lerp", "slerp"}

// Path returns the frames of a path through points (two or more vectors of
// the same, non-zero length), each consecutive pair joined by Lerp or Slerp
// (method "lerp" or "slerp") at t = j/(steps−1), j = 0, …, steps−1.
//
// steps counts the frames of each segment including both its ends, and the
// point shared by two segments appears once, so Path returns
// (len(points)−1)·(steps−1) + 1 vectors: frame k·(steps−1) is points[k]
// exactly (a copy), and the first and last frames are the first and last
// points. steps must be at least 2. The frames are new slices.
func Path(points [][]float32, steps int, method string) ([][]float32, error) {
	var interp func(out, a, b []float32, t float64)
	switch method {
	case "lerp":
		interp = lerpInto
	case "slerp":
		interp = slerpInto
	default:
		return nil, fmt.Errorf("zspace: unknown interpolation method %q (valid: %s)", method, strings.Join(Methods, ", "))
	}
	if len(points) < 2 {
		return nil, fmt.Errorf("zspace: a path needs at least 2 points, got %d", len(points))
	}
	if steps < 2 {
		return nil, fmt.Errorf("zspace: a path needs at least 2 steps per segment (both ends), got %d", steps)
	}
	n := len(points[0])
	if n == 0 {
		return nil, fmt.Errorf("zspace: point 0 is an empty vector")
	}
	for i, p := range points {
		if len(p) != n {
			return nil, fmt.Errorf("zspace: point %d has %d values, point 0 has %d", i, len(p), n)
		}
	}
	segs := len(points) - 1
	if steps-1 > (math.MaxInt-1)/segs {
		return nil, fmt.Errorf("zspace: %d steps × %d segments is too many frames", steps, segs)
	}
	total := segs*(steps-1) + 1
	frames := make([][]float32, 0, total)
	frames = append(frames, append([]float32(nil), points[0]...))
	for k := 0; k < segs; k++ {
		a, b := points[k], points[k+1]
		for j := 1; j < steps-1; j++ {
			f := make([]float32, n)
			interp(f, a, b, float64(j)/float64(steps-1))
			frames = append(frames, f)
		}
		frames = append(frames, append([]float32(nil), b...))
	}
	return frames, nil
}
