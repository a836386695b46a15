package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// needBF16 skips a test, with the reason, where the bf16 kernel cannot run.
func needBF16(t *testing.T) Implementation {
	t.Helper()
	impl, err := BF16()
	if err != nil {
		t.Skipf("not run: %v", err)
	}
	return impl
}

// TestToBF16 checks the rounding against hand-worked values: ties go to
// the even mantissa, a carry can reach the exponent (and infinity), NaN
// stays NaN, subnormals flush to a signed zero.
func TestToBF16(t *testing.T) {
	for _, c := range []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // 1 + 2⁻⁸: a tie, to even (…80)
		{0x3f818000, 0x3f82}, // 1 + 3·2⁻⁸: a tie, to even (…82)
		{0x3f808001, 0x3f81}, // just above the tie
		{0x3f807fff, 0x3f80}, // just below
		{0x3fffffff, 0x4000}, // carries into the exponent: 2
		{0xbf808001, 0xbf81}, // negative
		{0x7f7fffff, 0x7f80}, // the largest float rounds to +Inf
		{0x7f800000, 0x7f80}, // +Inf
		{0xff800000, 0xff80}, // -Inf
		{0x7f800001, 0x7fc0}, // a signalling NaN becomes quiet
		{0x7fc00000, 0x7fc0}, // quiet NaN
		{0x00000000, 0x0000},
		{0x80000000, 0x8000},
		{0x00400000, 0x0000}, // subnormal
		{0x807fffff, 0x8000}, // negative subnormal
		{0x00800000, 0x0080}, // smallest normal
	} {
		if got := ToBF16(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("ToBF16(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
}

// specials returns n floats, mostly random over many magnitudes, with
// ties, NaN, infinities, subnormals and signed zeros among them.
func specials(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	odd := []uint32{0x3f808000, 0x3f818000, 0x7f7fffff, 0x7f800000, 0xff800000, 0x7f800001, 0xffc00000, 0, 0x80000000, 0x00400000, 0x807fffff, 0x00800000}
	for i := range s {
		if i%7 == 3 {
			s[i] = math.Float32frombits(odd[(i/7)%len(odd)])
			continue
		}
		s[i] = (2*rng.Float32() - 1) * float32(math.Ldexp(1, rng.IntN(60)-30))
	}
	return s
}

// TestPairPanels checks the assembly conversion (VCVTNE2PS2BF16 and the
// interleave) against ToBF16 on both panel widths, odd and even step
// counts, special values included: the bits must agree.
func TestPairPanels(t *testing.T) {
	needBF16(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, w := range []int{8, 32} {
		for _, kc := range []int{1, 2, 3, 4, 5, 6, 7, 9, 64, 255, 256} {
			panels := 3
			src := specials(rng, panels*w*kc)
			kc2 := (kc + 1) / 2
			dst := make([]float32, panels*w*kc2)
			pairPanels(dst, src, w, kc, panels)
			for q := range panels {
				for p2 := range kc2 {
					for l := range w {
						e := src[q*w*kc+2*p2*w+l]
						o := float32(0)
						if 2*p2+1 < kc {
							o = src[q*w*kc+(2*p2+1)*w+l]
						}
						want := uint32(ToBF16(e)) | uint32(ToBF16(o))<<16
						if got := math.Float32bits(dst[q*w*kc2+p2*w+l]); got != want {
							t.Fatalf("w=%d kc=%d: panel %d slot %d lane %d = %#08x, want %#08x (from %#08x, %#08x)",
								w, kc, q, p2, l, got, want, math.Float32bits(e), math.Float32bits(o))
						}
					}
				}
			}
		}
	}
}

// TestBF16Sgemm compares the bf16 Implementation with a float64 product
// of the operands rounded to bf16 (ToBF16), over the four transposes,
// edge tiles, odd and long k (several kc blocks), beta = 0 on a C of NaN
// and beta ≠ 0. Products of two bf16 are exact in float32, so only the
// float32 sums round: error ≤ (k + 4)·ε·Σ|terms|. The same product of the
// unrounded operands must be further off than that for some element
// (bf16 is really used), and shapes For leaves to float32 must give the
// float32 kernel's bits.
func TestBF16Sgemm(t *testing.T) {
	impl := needBF16(t)
	rng := rand.New(rand.NewPCG(5, 6))
	round := func(s []float32) []float32 {
		r := make([]float32, len(s))
		for i, v := range s {
			r[i] = FromBF16(ToBF16(v))
		}
		return r
	}
	for _, s := range []struct{ m, n, k int }{
		{64, 64, 64}, {37, 70, 33}, {128, 300, 1024}, {8, 32, 32}, {64, 1, 300}, {64, 64, 20}, {130, 40, 515}, {16, 256, 100}, {200, 16, 49},
	} {
		for _, tt := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
			transA, transB := tt[0], tt[1]
			lda, ldb := s.k+1, s.n+2
			ra, ca := s.m, s.k
			if transA {
				lda, ra, ca = s.m+3, s.k, s.m
			}
			rb := s.k
			if transB {
				ldb, rb = s.k+5, s.n
			}
			a, b := randSlice(rng, (ra-1)*lda+ca), randSlice(rng, (rb-1)*ldb+ldb)
			a16, b16 := round(a), round(b)
			opA := func(i, p int) float64 {
				if transA {
					return float64(a16[p*lda+i])
				}
				return float64(a16[i*lda+p])
			}
			opA32 := func(i, p int) float32 {
				if transA {
					return a[p*lda+i]
				}
				return a[i*lda+p]
			}
			opB32 := func(p, j int) float32 {
				if transB {
					return b[j*ldb+p]
				}
				return b[p*ldb+j]
			}
			opB := func(p, j int) float64 {
				if transB {
					return float64(b16[j*ldb+p])
				}
				return float64(b16[p*ldb+j])
			}
			for _, ab := range [][2]float32{{1, 0}, {0.7, 0.3}} {
				alpha, beta := ab[0], ab[1]
				ldc := s.n + 1
				c, c0 := sentinelC(rng, s.m, s.n, ldc, beta)
				impl.Sgemm(tr(transA), tr(transB), s.m, s.n, s.k, alpha, a, lda, b, ldb, beta, c, ldc)
				if bf16Kernel.For(s.m, s.n, s.k) != bf16Kernel {
					c32 := append([]float32(nil), c0...)
					Implementation{k: bf16Kernel.f32}.Sgemm(tr(transA), tr(transB), s.m, s.n, s.k, alpha, a, lda, b, ldb, beta, c32, ldc)
					for i := range c {
						if math.Float32bits(c[i]) != math.Float32bits(c32[i]) {
							t.Fatalf("%v trans=%v: C[%d] = %g, the float32 kernel's %g", s, tt, i, c[i], c32[i])
						}
					}
					continue
				}
				worst, unrounded := 0.0, 0.0
				for i := range s.m {
					for j := range ldc {
						got := c[i*ldc+j]
						if j >= s.n {
							if !math.IsNaN(float64(got)) {
								t.Fatalf("%v: padding C[%d][%d] written", s, i, j)
							}
							continue
						}
						want, abs, w32 := 0.0, 0.0, 0.0
						for p := range s.k {
							x := opA(i, p) * opB(p, j)
							want += x
							abs += math.Abs(x)
							w32 += float64(opA32(i, p)) * float64(opB32(p, j))
						}
						unrounded = max(unrounded, math.Abs(float64(got)-float64(alpha)*w32-float64(beta)*float64(c0[i*ldc+j]))/(eps32*abs))
						want *= float64(alpha)
						abs *= math.Abs(float64(alpha))
						if beta != 0 {
							want += float64(beta) * float64(c0[i*ldc+j])
							abs += math.Abs(float64(beta) * float64(c0[i*ldc+j]))
						}
						tol := float64(s.k+4) * eps32 * abs
						d := math.Abs(float64(got) - want)
						if !(d <= tol) {
							t.Fatalf("%v trans=%v alpha=%g beta=%g: C[%d][%d] = %g, want %g (tol %.3g)", s, tt, alpha, beta, i, j, got, want, tol)
						}
						worst = max(worst, d/(eps32*abs))
					}
				}
				if unrounded <= float64(s.k+4) {
					t.Fatalf("%v trans=%v: within %.3g·ε·Σ|terms| of the unrounded product: not bf16", s, tt, unrounded)
				}
				if tt == [2]bool{} {
					t.Logf("%d×%d×%d alpha=%g beta=%g: max error %.3g·ε·Σ|terms| against the bf16-rounded product", s.m, s.n, s.k, alpha, beta, worst)
				}
			}
		}
	}
}

// TestPackBPairs checks that packing a row-major op(B) straight into pair
// panels (packBPairs, assembly where it runs) gives the bits of packing it
// as float32 (packB) and converting (pairPanels): odd kc, a partial last
// panel, special values.
func TestPackBPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, s := range []struct{ kc, nc, pc, jc int }{{64, 96, 0, 0}, {7, 70, 3, 5}, {1, 33, 0, 2}, {256, 4096, 0, 0}, {255, 100, 1, 31}} {
		ldb := s.jc + s.nc + 3
		b := specials(rng, (s.pc+s.kc)*ldb)
		panels := ceilDiv(s.nc, 32)
		kc2 := (s.kc + 1) / 2
		f := make([]float32, panels*32*s.kc)
		packB(32, false, b, ldb, s.pc, s.kc, s.jc, s.nc, f)
		want := make([]float32, panels*32*kc2)
		pairPanels(want, f, 32, s.kc, panels)
		got := make([]float32, len(want))
		for i := range got {
			got[i] = float32(math.NaN())
		}
		packBPairs(32, b, ldb, s.pc, s.kc, s.jc, s.nc, got)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("%+v: slot %d = %#08x, want %#08x", s, i, math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
	}
}
