package gemm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas"
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
// outside the mr×nr tile must stay untouched. A kernel that reads B̃ in
// place (direct) is also run with B̃'s rows further apart than nr.
func TestKernel(t *testing.T) {
	t.Logf("in use: %s", Description)
	forEachKernel(t, func(t *testing.T, k *microKernel) {
		mr, nr := k.mr, k.nr
		rng := rand.New(rand.NewPCG(9, 10))
		ldc := nr + 3
		ldbs := []int{nr}
		if k.direct {
			ldbs = append(ldbs, nr+5, 3*nr)
		}
		for _, kc := range []int{1, 2, 3, 4, 5, 7, 8, 63, 255, 256} {
			for q, ab := range [][2]float32{{1, 0}, {-2, 0}, {1, 1}, {0.5, 0.3}} {
				alpha, beta := ab[0], ab[1]
				ldb := ldbs[q%len(ldbs)]
				a, b := make([]float32, mr*kc), make([]float32, (kc-1)*ldb+nr)
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
				for i := range b {
					if i%ldb >= nr {
						b[i] = float32(math.NaN()) // between B̃'s rows: never read
					}
				}
				got, ref := append([]float32(nil), c0...), append([]float32(nil), c0...)
				if ldb == nr {
					k.run(kc, a, b, got, ldc, alpha, beta)
				} else {
					k.runDirect(kc, a, b, got, ldc, ldb, alpha, beta)
				}
				kernelGo(mr, nr, kc, a, b, ref, ldc, ldb, alpha, beta)
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
							s += float64(a[p*mr+i]) * float64(b[p*ldb+j])
						}
						s *= float64(alpha)
						if beta != 0 {
							s += float64(beta) * float64(c0[i*ldc+j])
						}
						if d := math.Abs(float64(g) - s); !(d <= tol+1e-6) {
							t.Fatalf("kc=%d ldb=%d alpha=%g beta=%g: C[%d][%d] = %g, want %g", kc, ldb, alpha, beta, i, j, g, s)
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

// TestSelect checks the GEMM_KERNEL names: each kernel of the build is
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
	// A kernel the CPU cannot run is refused, with the reason.
	saved := kernels
	defer func() { kernels = saved }()
	kernels = append([]*microKernel{{name: "future", desc: "AVX-2048", runs: false, why: "no such CPU"}}, saved...)
	if _, err := WithKernel("future"); err == nil || !strings.Contains(err.Error(), "no such CPU") {
		t.Fatalf("WithKernel(future) on a CPU that cannot run it: err = %v", err)
	}
	if k, _ := selectKernel(""); k.name == "future" {
		t.Fatal("the default is a kernel the CPU cannot run")
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

// TestTransposeRows8 checks the packing transpose (8×8 blocks in registers
// where the CPU has AVX, then a scalar tail) against its definition, for
// lengths around the block size and strides wider than the rows.
func TestTransposeRows8(t *testing.T) {
	for _, kc := range []int{1, 7, 8, 9, 16, 31, 100} {
		for _, stride := range []int{8, 11, 32} {
			lds := kc + 3
			s := make([]float32, 7*lds+kc)
			for i := range s {
				s[i] = float32(i)
			}
			d := make([]float32, (kc-1)*stride+8+stride)
			for i := range d {
				d[i] = -1
			}
			transposeRows8(d, stride, s, lds, kc)
			for p := range kc {
				for x := range stride {
					want := float32(-1) // untouched between the steps
					if x < 8 {
						want = s[x*lds+p]
					}
					if got := d[p*stride+x]; got != want {
						t.Fatalf("kc=%d stride=%d: d[%d·%d+%d] = %g, want %g", kc, stride, p, stride, x, got, want)
					}
				}
			}
		}
	}
}

// TestSwapAndDirectBitwise checks that the driver's two shortcuts change
// no bit: computing Cᵀ = op(B)ᵀ·op(A)ᵀ with C's tiles stored transposed,
// and reading op(B) in place rather than packed, give exactly the result of
// the plain path (each element's products are the same, summed in the
// same order), for every kernel and all four transpose cases.
func TestSwapAndDirectBitwise(t *testing.T) {
	forEachKernel(t, func(t *testing.T, kern *microKernel) {
		rng := rand.New(rand.NewPCG(11, 12))
		packedOnly := *kern
		packedOnly.direct = false
		for _, s := range []struct{ m, n, k int }{{64, 16, 300}, {19, 70, 33}, {8, 96, 128}, {40, 40, 7}, {1, 70, 600}, {5, 40, 300}} {
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					lda, ldb := s.k, s.n
					if tA {
						lda = s.m
					}
					if tB {
						ldb = s.k
					}
					a, b := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n)
					c0 := randSlice(rng, s.m*s.n)
					for _, beta := range []float32{0, 0.3} {
						plain := append([]float32(nil), c0...)
						blocked(&packedOnly, false, tA, tB, s.m, s.n, s.k, 0.7, a, lda, b, ldb, beta, plain, s.n)
						for _, v := range []struct {
							name string
							run  func(c []float32)
						}{
							{"swapped", func(c []float32) {
								blocked(&packedOnly, true, !tB, !tA, s.n, s.m, s.k, 0.7, b, ldb, a, lda, beta, c, s.n)
							}},
							{"direct", func(c []float32) { blocked(kern, false, tA, tB, s.m, s.n, s.k, 0.7, a, lda, b, ldb, beta, c, s.n) }},
							{"swapped direct", func(c []float32) {
								blocked(kern, true, !tB, !tA, s.n, s.m, s.k, 0.7, b, ldb, a, lda, beta, c, s.n)
							}},
						} {
							got := append([]float32(nil), c0...)
							v.run(got)
							for i := range got {
								if math.Float32bits(got[i]) != math.Float32bits(plain[i]) {
									t.Fatalf("%s %dx%dx%d tA=%v tB=%v beta=%g: C[%d] = %g, plain path %g",
										v.name, s.m, s.n, s.k, tA, tB, beta, i, got[i], plain[i])
								}
							}
						}
					}
				}
			}
		}
	})
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

// TestAsmKernelsAgreeBitwise checks that every assembly kernel this CPU
// runs gives the same bits as the first one, through the whole driver
// (different tiles, packing and edge handling): training results do not
// depend on which kernel the CPU picks.
func TestAsmKernelsAgreeBitwise(t *testing.T) {
	var run []*microKernel
	for _, k := range kernels {
		if k.runs && k != genericKernel {
			run = append(run, k)
		}
	}
	if len(run) < 2 {
		t.Skipf("not run: needs two assembly kernels, this CPU runs %d", len(run))
	}
	rng := rand.New(rand.NewPCG(13, 14))
	// 64×48×9000 and 64×16×12544 NT take the dot-product path (dot.go);
	// 1×200×700 NN and TN the AVX-512 kernel's one-row path (row64).
	for _, s := range []struct{ m, n, k int }{{128, 300, 1024}, {64, 16, 700}, {37, 45, 100}, {64, 48, 9000}, {64, 16, 12544}, {1, 200, 700}} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				lda, ldb := s.k, s.n
				if tA {
					lda = s.m
				}
				if tB {
					ldb = s.k
				}
				a, b := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n)
				c0 := randSlice(rng, s.m*s.n)
				var want []float32
				for _, k := range run {
					got := append([]float32(nil), c0...)
					Implementation{k: k}.Sgemm(tr(tA), tr(tB), s.m, s.n, s.k, 0.7, a, lda, b, ldb, 0.3, got, s.n)
					if want == nil {
						want = got
						continue
					}
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%dx%dx%d tA=%v tB=%v: %s gives C[%d] = %g, %s %g",
								s.m, s.n, s.k, tA, tB, k.name, i, got[i], run[0].name, want[i])
						}
					}
				}
			}
		}
	}
}

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// TestAliases checks the L2 aliasing rule on hand-worked strides: 65536
// floats (256 KiB, four times the 64 KiB way span) put every row at one
// offset; 12544 floats (50176 bytes, gcd with 64 KiB = 1024) give 64
// offsets; 16400 floats (65600 bytes, gcd 64) give 1024.
func TestAliases(t *testing.T) {
	for _, c := range []struct {
		ldb, k int
		want   bool
	}{
		{65536, 8, false}, // eight rows at one offset: one set still holds them
		{65536, 9, true},
		{65536, 48, true}, // the 64 px D's first layer
		{16384, 48, true}, // 64 KiB apart
		{12544, 64, false},
		{12544, 128, false},
		{12544, 513, true}, // 64 offsets, nine rows on one
		{16400, 128, false},
		{1000, 128, false}, // 4000 bytes: gcd 32, 2048 offsets
	} {
		if got := aliases(c.ldb, c.k); got != c.want {
			t.Errorf("aliases(%d, %d) = %v, want %v", c.ldb, c.k, got, c.want)
		}
	}
}

// TestSwappedRule checks when the driver computes Cᵀ, on the models' shapes
// (a swapped product gives the same bits: TestSwapAndDirectBitwise).
func TestSwappedRule(t *testing.T) {
	k := &microKernel{name: "8×32", mr: 8, nr: 32} // the rule reads only the tile
	for _, c := range []struct {
		tA, tB  bool
		m, n, k int
		want    bool
	}{
		{false, true, 64, 16, 12544, true},   // tall C: fewer tiles transposed
		{true, false, 8192, 64, 100, true},   // TN, long m, narrow n
		{true, false, 6272, 64, 1, false},    // an outer product: not worth it
		{false, false, 6272, 64, 100, false}, // NN: A's rows are read whole anyway
		{true, false, 1024, 3136, 128, false},
		{true, false, 16, 12544, 64, false},
		{true, false, 8192, 128, 100, false}, // n too wide
	} {
		if got := swapped(k, c.tA, c.tB, c.m, c.n, c.k); got != c.want {
			t.Errorf("swapped(%s, tA=%v, tB=%v, %d×%d×%d) = %v, want %v", k.name, c.tA, c.tB, c.m, c.n, c.k, got, c.want)
		}
	}
}

// TestOuterBitwise checks the outer-product path (k = 1, kernels with
// outer64) against the blocked path bit for bit, with signed zeros among
// the operands (a product −0 summed onto +0 gives +0 there) and C's
// padding untouched.
func TestOuterBitwise(t *testing.T) {
	forEachKernel(t, func(t *testing.T, kern *microKernel) {
		if kern.outer64 == nil {
			t.Skipf("not run: the %s kernel has no outer-product path", kern.name)
		}
		rng := rand.New(rand.NewPCG(15, 16))
		m, n, ldc := 37, 128, 131
		for _, tA := range []bool{false, true} {
			lda := 1
			if tA {
				lda = m
			}
			a, b := randSlice(rng, m*lda), randSlice(rng, n)
			a[0], a[lda], b[3] = float32(math.Copysign(0, -1)), 0, float32(math.Copysign(0, -1))
			c0 := randSlice(rng, m*ldc)
			for _, beta := range []float32{0, 0.3} {
				want := append([]float32(nil), c0...)
				blocked(kern, false, tA, false, m, n, 1, -0.7, a, lda, b, n, beta, want, ldc)
				got := append([]float32(nil), c0...)
				sgemm(kern, tA, false, m, n, 1, -0.7, a, lda, b, n, beta, got, ldc)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("tA=%v beta=%g: C[%d] = %g (bits %#x), blocked path %g (%#x)",
							tA, beta, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
					}
				}
			}
		}
	})
}
