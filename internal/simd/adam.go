package simd

import "math"

// AdamConsts are the per-step constants of an Adam update (float32, as
// optim.Adam computes them): c1 = 1 − β1, b2 = β2, c2 = 1 − β2, the bias
// corrections' stepSize = lr/(1 − β1ᵗ) and bc2sqrt = √(1 − β2ᵗ), and eps.
type AdamConsts struct {
	C1, B2, C2, StepSize, BC2Sqrt, Eps float32
}

// Adam applies one Adam update to p with the gradient g and the moments m
// and v, element by element, and zeroes g:
//
//	m += (g − m)·c1 (torch's lerp_)
//	v  = v·b2 + (c2·g)·g
//	p −= (stepSize·m) / (√v / bc2sqrt + eps)
//
// each operation rounded to float32 in this order: the assembly loop and
// adamGo give the same bits. All four slices have the same length.
func Adam(p, g, m, v []float32, k AdamConsts) {
	n := len(p)
	if len(g) != n || len(m) != n || len(v) != n {
		panic("simd.Adam: lengths differ")
	}
	done := 0
	if hasAVX2 && n >= 8 {
		done = n &^ 7
		adamAVX2(&p[0], &g[0], &m[0], &v[0], done, &k)
	}
	adamGo(p[done:], g[done:], m[done:], v[done:], k)
}

func adamGo(p, g, m, v []float32, k AdamConsts) {
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	for j := range p {
		gj := g[j]
		m[j] += (gj - m[j]) * k.C1
		v[j] = v[j]*k.B2 + k.C2*gj*gj
		denom := float32(math.Sqrt(float64(v[j])))/k.BC2Sqrt + k.Eps
		p[j] -= k.StepSize * m[j] / denom
		g[j] = 0
	}
}
