package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

const eps32 = 0x1p-24 // float32's unit round-off

// TestSegmentsRule checks which shapes take the k-split dot-product path,
// on hand-classified shapes: NT only, k ≥ 4096, m·n ≤ 4096, m a multiple of
// 8 and n of 4; and the number of segments, ⌈k/4096⌉ up to 8.
func TestSegmentsRule(t *testing.T) {
	impl := Implementation{k: &microKernel{name: "test", dot: []*dotKernel{{tm: 8, tn: 2}}}}
	for _, c := range []struct {
		tA, tB  bool
		m, n, k int
		want    int
	}{
		{false, true, 64, 16, 12544, 4}, // the 28 px D's first layer's weight gradient
		{false, true, 64, 48, 65536, 8}, // the 64 px one's
		{false, true, 64, 32, 12544, 4}, // the conditional D's (image and label plane)
		{false, true, 64, 64, 4096, 1},
		{false, true, 64, 64, 4095, 0},   // k too short
		{false, true, 128, 64, 8192, 0},  // C too big
		{false, true, 60, 16, 12544, 0},  // m not a multiple of 8
		{false, true, 64, 18, 12544, 0},  // n not a multiple of 4
		{false, false, 64, 16, 12544, 0}, // NN
		{true, true, 64, 16, 12544, 0},   // TT
		{false, true, 8, 4, 1 << 20, 8},  // at most 8 segments
		{false, true, 128, 32, 4100, 2},  // ⌈4100/4096⌉
	} {
		if got := impl.Segments(c.tA, c.tB, c.m, c.n, c.k); got != c.want {
			t.Errorf("Segments(tA=%v, tB=%v, %d×%d×%d) = %d, want %d", c.tA, c.tB, c.m, c.n, c.k, got, c.want)
		}
	}
	if got := (Implementation{k: genericKernel}).Segments(false, true, 64, 16, 12544); got != 0 {
		t.Errorf("the generic kernel has no dot-product path, Segments = %d", got)
	}
}

// TestSegmentBounds checks segment on hand-worked cases: equal lengths
// rounded up to 16, the last one shorter.
func TestSegmentBounds(t *testing.T) {
	for _, c := range []struct {
		k, segs int
		want    [][2]int
	}{
		{12544, 4, [][2]int{{0, 3136}, {3136, 6272}, {6272, 9408}, {9408, 12544}}},
		{9000, 3, [][2]int{{0, 3008}, {3008, 6016}, {6016, 9000}}},
		{4097, 2, [][2]int{{0, 2064}, {2064, 4097}}},
		{40, 4, [][2]int{{0, 16}, {16, 32}, {32, 40}, {40, 40}}}, // the last one empty
	} {
		for s, w := range c.want {
			if lo, hi := segment(s, c.segs, c.k); lo != w[0] || hi != w[1] {
				t.Errorf("segment(%d, %d, %d) = [%d, %d), want [%d, %d)", s, c.segs, c.k, lo, hi, w[0], w[1])
			}
		}
	}
}

// TestDotSplit compares the dot-product path (through Sgemm) with a
// float64 sum on shapes that cover its cases: several segments, a last
// block shorter than 512, products left over after the last multiple of 16
// (k = 9000, 4100), leading dimensions wider than k, rows that alias in L2
// (ld = 65536: B's blocks are copied), both tiles of the AVX-512 kernel
// (n a multiple of 3, or not), alpha and beta. C's padding must stay
// untouched; with beta = 0, C starts as NaN.
func TestDotSplit(t *testing.T) {
	forEachKernel(t, func(t *testing.T, kern *microKernel) {
		impl := Implementation{k: kern}
		rng := rand.New(rand.NewPCG(21, 22))
		for _, s := range []struct{ m, n, k, lda, ldb int }{
			{64, 16, 12544, 12544, 12544},
			{64, 48, 9000, 9001, 9010},
			{8, 12, 4100, 65536, 65536},
			{16, 4, 4112, 4112, 4200},
		} {
			if impl.Segments(false, true, s.m, s.n, s.k) == 0 {
				if kern.dot != nil {
					t.Fatalf("%d×%d×%d: not on the dot-product path", s.m, s.n, s.k)
				}
				continue
			}
			a, b := randSlice(rng, (s.m-1)*s.lda+s.k), randSlice(rng, (s.n-1)*s.ldb+s.k)
			for _, ab := range [][2]float32{{1, 0}, {0.7, 0.3}} {
				alpha, beta := ab[0], ab[1]
				ldc := s.n + 3
				c, c0 := sentinelC(rng, s.m, s.n, ldc, beta)
				impl.Sgemm('N', 'T', s.m, s.n, s.k, alpha, a, s.lda, b, s.ldb, beta, c, ldc)
				worst := 0.0
				for i := range s.m {
					for j := range ldc {
						got := c[i*ldc+j]
						if j >= s.n {
							if !math.IsNaN(float64(got)) {
								t.Fatalf("%v: padding C[%d][%d] written", s, i, j)
							}
							continue
						}
						want, abs := 0.0, 0.0
						for p := range s.k {
							x := float64(a[i*s.lda+p]) * float64(b[j*s.ldb+p])
							want += x
							abs += math.Abs(x)
						}
						want *= float64(alpha)
						abs *= math.Abs(float64(alpha))
						if beta != 0 {
							want += float64(beta) * float64(c0[i*ldc+j])
							abs += math.Abs(float64(beta) * float64(c0[i*ldc+j]))
						}
						// Each product passes through at most k/16 sums in
						// its lane, 4 over the lanes, 7 over segments and 2
						// for alpha and beta: error ≤ that·ε·Σ|terms|.
						tol := (float64(s.k)/16 + 14) * eps32 * abs
						d := math.Abs(float64(got) - want)
						if !(d <= tol) {
							t.Fatalf("%v alpha=%g beta=%g: C[%d][%d] = %g, want %g (tol %.3g)", s, alpha, beta, i, j, got, want, tol)
						}
						worst = max(worst, d/(eps32*abs))
					}
				}
				t.Logf("%d×%d×%d alpha=%g beta=%g: max error %.3g·ε·Σ|terms| (bound %.0f)", s.m, s.n, s.k, alpha, beta, worst, float64(s.k)/16+14)
			}
		}
	})
}

// sentinelC returns a random m×n C with leading dimension ldc whose
// padding columns, and with beta = 0 all of it, hold NaN (a product must
// neither read nor write them), and a copy of it.
func sentinelC(rng *rand.Rand, m, n, ldc int, beta float32) (c, c0 []float32) {
	c = randSlice(rng, m*ldc)
	for i := range c {
		if i%ldc >= n || beta == 0 {
			c[i] = float32(math.NaN())
		}
	}
	return c, append([]float32(nil), c...)
}
