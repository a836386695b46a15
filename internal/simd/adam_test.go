package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdam checks the assembly Adam update against adamGo, bit for bit, on
// every length up to 100 at unaligned offsets, moments from zero (the
// first step, √0) to large, and that g is zeroed and nothing outside the
// slices is touched.
func TestAdam(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b1, b2 := float32(0.5), float32(0.999)
	k := AdamConsts{C1: 1 - b1, B2: b2, C2: 1 - b2, StepSize: float32(2e-4 / (1 - math.Pow(0.5, 3))),
		BC2Sqrt: float32(math.Sqrt(1 - math.Pow(0.999, 3))), Eps: 1e-8}
	for n := 0; n <= 100; n++ {
		for off := 0; off < 3; off++ {
			mk := func(scale float64, zero bool) []float32 {
				s := make([]float32, n+off+1)
				for i := range s {
					if !zero || i%3 != 0 {
						s[i] = float32(rng.NormFloat64() * scale * math.Pow(10, float64(rng.IntN(5)-2)))
					}
				}
				return s
			}
			p, g, m, v := mk(0.1, false), mk(1, false), mk(0.1, true), mk(0.01, true)
			for i := range v {
				v[i] = float32(math.Abs(float64(v[i])))
			}
			p2, g2, m2, v2 := clone(p), clone(g), clone(m), clone(v)
			adamGo(p2[off:off+n], g2[off:off+n], m2[off:off+n], v2[off:off+n], k)
			Adam(p[off:off+n], g[off:off+n], m[off:off+n], v[off:off+n], k)
			for _, c := range []struct {
				name      string
				got, want []float32
			}{{"p", p, p2}, {"g", g, g2}, {"m", m, m2}, {"v", v, v2}} {
				for i := range c.got {
					if math.Float32bits(c.got[i]) != math.Float32bits(c.want[i]) {
						t.Fatalf("n=%d off=%d: %s[%d] = %g, want %g", n, off, c.name, i, c.got[i], c.want[i])
					}
				}
			}
			for i := off; i < off+n; i++ {
				if g[i] != 0 {
					t.Fatalf("n=%d: g[%d] = %g, not zeroed", n, i, g[i])
				}
			}
		}
	}
}

func clone(s []float32) []float32 { return append([]float32(nil), s...) }
