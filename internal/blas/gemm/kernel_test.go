package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// forEachKernel runs f as a subtest for every micro-kernel of this build;
// one that this CPU cannot run is skipped with the reason.
func forEachKernel(t *testing.T, f func(t *testing.T, k *microKernel)) {
	for _, k := range kernels {
		t.Run(k.name, func(t *testing.T) {
			if !k.runs {
				t.Skipf("not run: %s", k.why)
			}
			f(t, k)
		})
	}
}

// TestKernel compares each micro-kernel with a float64 sum and with
// kernelGo, for every kc mod 4 (the assembly unrolls by 4), a leading
// dimension wider than the tile, and beta = 0 on a C full of NaN. Cells
// outside the mr×nr tile must stay untouched.
func TestKernel(t *testing.T) {
	t.Logf("in use: %s", Description)
	forEachKernel(t, func(t *testing.T, k *microKernel) {
		mr, nr := k.mr, k.nr
		rng := rand.New(rand.NewPCG(9, 10))
		ldc := nr + 3
		for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 63, 255, 256} {
			for _, ab := range [][2]float32{{1, 0}, {-2, 0}, {1, 1}, {0.5, 0.3}} {
				alpha, beta := ab[0], ab[1]
				a, b := make([]float32, mr*kc), make([]float32, nr*kc)
				for i := range a {
					a[i] = 2*rng.Float32() - 1
				}
				for i := range b {
					b[i] = 2*rng.Float32() - 1
				}
				c0 := make([]float32, mr*ldc)
				for i := range c0 {
					switch {
					case i%ldc >= nr:
						c0[i] = 42 // outside the tile
					case beta == 0:
						c0[i] = float32(math.NaN())
					default:
						c0[i] = 2*rng.Float32() - 1
					}
				}
				got, ref := append([]float32(nil), c0...), append([]float32(nil), c0...)
				k.run(kc, a, b, got, ldc, alpha, beta)
				kernelGo(mr, nr, kc, a, b, ref, ldc, alpha, beta)
				tol := 4 * float64(kc) * math.Abs(float64(alpha)) / (1 << 23)
				for i := range mr {
					for j := range ldc {
						g := got[i*ldc+j]
						if j >= nr {
							if g != 42 {
								t.Fatalf("kc=%d: C[%d][%d] outside the tile written: %g", kc, i, j, g)
							}
							continue
						}
						s := 0.0
						for p := range kc {
							s += float64(a[p*mr+i]) * float64(b[p*nr+j])
						}
						s *= float64(alpha)
						if beta != 0 {
							s += float64(beta) * float64(c0[i*ldc+j])
						}
						if d := math.Abs(float64(g) - s); !(d <= tol+1e-6) {
							t.Fatalf("kc=%d alpha=%g beta=%g: C[%d][%d] = %g, want %g", kc, alpha, beta, i, j, g, s)
						}
						if d := math.Abs(float64(g) - float64(ref[i*ldc+j])); !(d <= tol+1e-6) {
							t.Fatalf("kc=%d alpha=%g beta=%g: C[%d][%d] = %g, kernelGo %g", kc, alpha, beta, i, j, g, ref[i*ldc+j])
						}
					}
				}
			}
		}
	})
}

// TestSelect checks the GANTRAIN_GEMM names: each kernel of the build is
// found by its name (or refused with the reason if the CPU cannot run it),
// and an unknown name is refused with the list of names.
func TestSelect(t *testing.T) {
	for _, k := range kernels {
		impl, err := WithKernel(k.name)
		if k.runs != (err == nil) {
			t.Fatalf("WithKernel(%q): runs=%v, err=%v", k.name, k.runs, err)
		}
		if err == nil && impl.k != k {
			t.Fatalf("WithKernel(%q) chose %s", k.name, impl.k.name)
		}
	}
	if _, err := WithKernel("avx1024"); err == nil {
		t.Fatal("WithKernel(avx1024): no error")
	}
	if k, f := selectKernel(""); f || !k.runs {
		t.Fatalf("default kernel %s: forced=%v runs=%v", k.name, f, k.runs)
	}
	for _, k := range kernels {
		if k.runs {
			if k != active && !forced {
				t.Fatalf("active kernel %s, but %s runs and comes first", active.name, k.name)
			}
			break
		}
	}
}
