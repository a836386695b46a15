package blas

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gantrain/gantrain/internal/blas/gemm"
	"github.com/gantrain/gantrain/internal/parallel"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

const eps32 = 1.0 / (1 << 23)

// operand is a row-major matrix of rows×cols stored with leading dimension
// ld ≥ cols; the padding columns hold NaN so that any read of them shows.
type operand struct {
	rows, cols, ld int
	data           []float32
}

func newOperand(rng *rand.Rand, rows, cols, pad int) operand {
	ld := max(1, cols+pad)
	o := operand{rows, cols, ld, make([]float32, max(0, (rows-1)*ld+cols))}
	for i := range o.data {
		if i%ld < cols {
			o.data[i] = 2*rng.Float32() - 1
		} else {
			o.data[i] = float32(math.NaN())
		}
	}
	return o
}

func maxAbs(x []float32) float64 {
	m := 0.0
	for _, v := range x {
		if !math.IsNaN(float64(v)) {
			m = math.Max(m, math.Abs(float64(v)))
		}
	}
	return m
}

// refGemm is the naive float64 reference: C = alpha·op(A)·op(B) + beta·C.
func refGemm(tA, tB bool, m, n, k int, alpha float64, a []float32, lda int, b []float32, ldb int, beta float64, c []float32, ldc int) []float64 {
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				var av, bv float32
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			s *= alpha
			if beta != 0 {
				s += beta * float64(c[i*ldc+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

func tr(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

type gemmCase struct {
	tA, tB      bool
	m, n, k     int
	padA, padB  int
	padC        int
	alpha, beta float32
}

func (g gemmCase) String() string {
	return fmt.Sprintf("%s%s/%dx%dx%d/pad%d,%d,%d/alpha=%g/beta=%g",
		map[bool]string{false: "N", true: "T"}[g.tA], map[bool]string{false: "N", true: "T"}[g.tB],
		g.m, g.n, g.k, g.padA, g.padB, g.padC, g.alpha, g.beta)
}

// engine is one Sgemm under test.
type engine struct {
	name string
	e    sgemmer
}

// forEachEngine runs f as a subtest for every gemm micro-kernel of this
// build and for gonum; a kernel that this CPU cannot run is skipped with
// the reason.
func forEachEngine(t *testing.T, f func(t *testing.T, e engine)) {
	forEachKernel(t, f)
	t.Run("gonum", func(t *testing.T) { f(t, engine{"gonum", gonum.Implementation{}}) })
}

// forEachKernel is forEachEngine without gonum.
func forEachKernel(t *testing.T, f func(t *testing.T, e engine)) {
	for _, k := range gemm.Kernels() {
		t.Run(k.Name, func(t *testing.T) {
			if !k.Runs {
				t.Skipf("not run: %s", k.Why)
			}
			impl, err := gemm.WithKernel(k.Name)
			if err != nil {
				t.Fatal(err)
			}
			f(t, engine{k.Name, impl})
		})
	}
}

// check runs one case through e and compares it with the float64
// reference; C's padding (NaN sentinels) must be untouched, and with
// beta = 0 C starts as NaN everywhere.
func check(t *testing.T, rng *rand.Rand, e engine, g gemmCase) {
	t.Helper()
	ra, ca := g.m, g.k
	if g.tA {
		ra, ca = g.k, g.m
	}
	rb, cb := g.k, g.n
	if g.tB {
		rb, cb = g.n, g.k
	}
	A := newOperand(rng, ra, ca, g.padA)
	B := newOperand(rng, rb, cb, g.padB)
	C := newOperand(rng, g.m, g.n, g.padC)
	if g.beta == 0 {
		for i := range C.data {
			if i%C.ld < g.n {
				C.data[i] = float32(math.NaN())
			}
		}
	}
	want := refGemm(g.tA, g.tB, g.m, g.n, g.k, float64(g.alpha), A.data, A.ld, B.data, B.ld, float64(g.beta), C.data, C.ld)
	tol := 8 * eps32 * (float64(g.k)*math.Abs(float64(g.alpha))*maxAbs(A.data)*maxAbs(B.data) + math.Abs(float64(g.beta))*maxAbs(C.data))

	c := append([]float32(nil), C.data...)
	e.e.Sgemm(tr(g.tA), tr(g.tB), g.m, g.n, g.k, g.alpha, A.data, A.ld, B.data, B.ld, g.beta, c, C.ld)
	for i := range g.m {
		for j := range C.ld {
			if i*C.ld+j >= len(c) {
				break
			}
			got := c[i*C.ld+j]
			if j >= g.n {
				if !math.IsNaN(float64(got)) {
					t.Fatalf("%v %s: padding C[%d][%d] overwritten with %g", g, e.name, i, j, got)
				}
				continue
			}
			w := want[i*g.n+j]
			if math.IsNaN(float64(got)) || math.Abs(float64(got)-w) > tol {
				t.Fatalf("%v %s: C[%d][%d] = %g, want %g (tol %g)", g, e.name, i, j, got, w, tol)
			}
		}
	}
}

var dims = []int{1, 2, 5, 6, 7, 15, 16, 17, 31, 64, 100, 257}

func TestSgemmShapes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e engine) {
		rng := rand.New(rand.NewPCG(1, 2))
		alphas := []float32{1, 0.5, -2}
		betas := []float32{0, 1, 0.3}
		pick := func(s []int) int { return s[rng.IntN(len(s))] }
		// -short (the race detector's run): fewer random and big cases.
		reps, bigBetas := 3, betas
		if testing.Short() {
			reps, bigBetas = 1, betas[2:]
		}
		n := 0
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				// Edge-heavy: every m and n around the tile sizes (6×16,
				// 8×32), small k.
				for _, m := range []int{1, 5, 6, 7, 8, 9, 12, 13, 17} {
					for _, nn := range []int{1, 15, 16, 17, 31, 32, 33, 65} {
						for _, k := range []int{1, 3, 7} {
							check(t, rng, e, gemmCase{tA, tB, m, nn, k, rng.IntN(3), rng.IntN(3), rng.IntN(3),
								alphas[rng.IntN(3)], betas[rng.IntN(3)]})
							n++
						}
					}
				}
				// Random subset of all sizes, with every alpha and beta.
				for _, alpha := range alphas {
					for _, beta := range betas {
						for range reps {
							check(t, rng, e, gemmCase{tA, tB, pick(dims), pick(dims), pick(dims),
								rng.IntN(5), rng.IntN(5), rng.IntN(5), alpha, beta})
							n++
						}
					}
				}
				// k across the kc blocks (kcMax = 256), m across mc blocks.
				for _, beta := range bigBetas {
					check(t, rng, e, gemmCase{tA, tB, 151, 40, 513, 1, 2, 3, -2, beta})
					check(t, rng, e, gemmCase{tA, tB, 300, 17, 257, 0, 0, 0, 1, beta})
					check(t, rng, e, gemmCase{tA, tB, 1, 70, 600, 0, 2, 1, 0.5, beta}) // matrix-vector, k > kcMax
					n += 3
				}
			}
		}
		t.Logf("%d cases", n)
	})
}

// TestSgemmSpecial covers the quick returns: alpha = 0 and k = 0 only scale
// C (A and B are not read: NaN there must not show), beta = 0 zeroes it.
func TestSgemmSpecial(t *testing.T) {
	nan := float32(math.NaN())
	a := []float32{nan, nan, nan, nan}
	b := []float32{nan, nan, nan, nan}
	for _, tc := range []struct {
		k           int
		alpha, beta float32
		c, want     []float32
	}{
		{2, 0, 0, []float32{nan, 1, 2, nan}, []float32{0, 0, 0, 0}},
		{2, 0, 2, []float32{1, 2, 3, 4}, []float32{2, 4, 6, 8}},
		{0, 1, 0, []float32{nan, 1, 2, nan}, []float32{0, 0, 0, 0}},
		{0, 1, 0.5, []float32{1, 2, 3, 4}, []float32{0.5, 1, 1.5, 2}},
		{0, 1, 1, []float32{1, 2, 3, 4}, []float32{1, 2, 3, 4}},
	} {
		c := append([]float32(nil), tc.c...)
		gemm.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 2, 2, tc.k, tc.alpha, a, 2, b, 2, tc.beta, c, 2)
		for i := range c {
			if c[i] != tc.want[i] {
				t.Errorf("k=%d alpha=%g beta=%g: C = %v, want %v", tc.k, tc.alpha, tc.beta, c, tc.want)
				break
			}
		}
	}
	// m = 0 or n = 0: nothing to do, even with empty slices.
	gemm.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 0, 3, 2, 1, nil, 2, make([]float32, 6), 3, 0, nil, 3)
	gemm.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 3, 0, 2, 1, make([]float32, 6), 2, nil, 1, 0, nil, 1)

	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	s := make([]float32, 16)
	mustPanic("lda", func() { gemm.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 4, 4, 4, 1, s, 3, s, 4, 0, s, 4) })
	mustPanic("ldc", func() { gemm.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 4, 4, 4, 1, s, 4, s, 4, 0, s, 3) })
	mustPanic("short c", func() { gemm.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 4, 4, 4, 1, s, 4, s, 4, 0, s[:15], 4) })
	mustPanic("short a", func() { gemm.Implementation{}.Sgemm(blas.Trans, blas.NoTrans, 4, 4, 5, 1, s, 4, s[:0], 4, 0, s, 4) })
	mustPanic("trans", func() { gemm.Implementation{}.Sgemm('x', blas.NoTrans, 4, 4, 4, 1, s, 4, s, 4, 0, s, 4) })
}

// dcganShapes are the products of the DCGAN's layers (M×N×K).
var dcganShapes = []struct {
	name    string
	tA, tB  bool
	m, n, k int
}{
	{"Conv2Fwd", false, false, 128, 3136, 1024},
	{"Conv2BwdData", true, false, 1024, 3136, 128},
	{"Conv2BwdW", false, true, 128, 1024, 3136},
	{"Conv1Fwd", false, false, 64, 12544, 16},
	{"Conv1BwdW", false, true, 64, 16, 12544},
	{"64px D.main.0 BwdW", false, true, 64, 48, 65536},
	{"Up2Fwd", true, false, 16, 12544, 64},
	{"LinearFwd", false, false, 6272, 64, 100},
	{"LinearBwdW", false, true, 6272, 100, 64},
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}

// TestSgemmDCGAN compares each engine with the float64 reference on the
// real shapes (sampled elements: the full reference would take minutes).
// The plain-Go kernel is left out: at about 1 GFLOP/s it would take most of
// this package's test time on these shapes; TestSgemmShapes covers it.
func TestSgemmDCGAN(t *testing.T) {
	if testing.Short() {
		t.Skip("big shapes")
	}
	forEachEngine(t, func(t *testing.T, e engine) {
		if e.name == "generic" {
			return
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for _, s := range dcganShapes {
			lda, ldb := s.k, s.n
			if s.tA {
				lda = s.m
			}
			if s.tB {
				ldb = s.k
			}
			a, b := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n)
			got := make([]float32, s.m*s.n)
			e.e.Sgemm(tr(s.tA), tr(s.tB), s.m, s.n, s.k, 1, a, lda, b, ldb, 0, got, s.n)
			// A float32 sum of k products of values in [-1, 1] is off by
			// typically ~√k·ε, at most ~k·ε.
			tol := 4 * eps32 * float64(s.k)
			worst := 0.0
			for range 2000 {
				i, j := rng.IntN(s.m), rng.IntN(s.n)
				want := 0.0
				for p := range s.k {
					var av, bv float32
					if s.tA {
						av = a[p*lda+i]
					} else {
						av = a[i*lda+p]
					}
					if s.tB {
						bv = b[j*ldb+p]
					} else {
						bv = b[p*ldb+j]
					}
					want += float64(av) * float64(bv)
				}
				d := math.Abs(float64(got[i*s.n+j]) - want)
				if !(d <= tol) {
					t.Fatalf("%s: C[%d][%d] = %g, want %g", s.name, i, j, got[i*s.n+j], want)
				}
				worst = max(worst, d)
			}
			t.Logf("%s %dx%dx%d: max error %.3g (tol %.3g)", s.name, s.m, s.n, s.k, worst, tol)
		}
	})
}

// TestSgemmSplitBitwise checks, for each gemm kernel, that blas.Sgemm,
// which cuts C into row or column blocks over goroutines (or, on gemm's
// dot-product path, k into segments), gives exactly the result of one call
// on the whole matrix: results do not depend on the thread count.
func TestSgemmSplitBitwise(t *testing.T) {
	saved, savedThreads, savedProcs := impl, parallel.Threads(), runtime.GOMAXPROCS(0)
	defer func() {
		impl = saved
		parallel.SetThreads(savedThreads)
		runtime.GOMAXPROCS(savedProcs)
	}()
	forEachKernel(t, func(t *testing.T, e engine) {
		impl = e.e
		rng := rand.New(rand.NewPCG(5, 6))
		for _, s := range []struct {
			m, n, k int
		}{
			{301, 97, 300},  // row split (m ≥ n), blocks not multiples of mr
			{70, 517, 513},  // column split, blocks not multiples of nr
			{128, 3136, 64}, // a DCGAN-like shape
			{64, 16, 1400},  // computed transposed (Cᵀ fits the tiles better)
			{1, 200, 3000},  // a matrix-vector product: op(B) read in place for any k
			{3, 100, 4000},  // one partial panel of A, op(B) in place, split in columns
			{64, 16, 12544}, // NT: the dot-product path, k cut into 4 segments
			{128, 64, 4100}, // NT, C too big for it; each half of C's rows would take it
		} {
			if e.name == "generic" && s.m*s.n*s.k > 5_000_000 {
				continue // about 1 GFLOP/s: the smallest case shows the property
			}
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					a, lda, b, ldb, c0 := operands(rng, s.m, s.n, s.k, tA, tB)
					want := append([]float32(nil), c0...)
					e.e.Sgemm(tr(tA), tr(tB), s.m, s.n, s.k, 0.7, a, lda, b, ldb, 0.3, want, s.n)
					for _, threads := range []int{2, 3, 7} {
						parallel.SetThreads(threads)
						got := append([]float32(nil), c0...)
						Sgemm(tA, tB, s.m, s.n, s.k, 0.7, a, lda, b, ldb, 0.3, got, s.n)
						for i := range got {
							if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
								t.Fatalf("%dx%dx%d tA=%v tB=%v threads=%d: C[%d] = %g, single call %g",
									s.m, s.n, s.k, tA, tB, threads, i, got[i], want[i])
							}
						}
					}
				}
			}
		}
	})
}

// BenchmarkSgemmConv2 times the DCGAN's biggest product, 128×3136×1024 NN,
// single-threaded, for gantrain's kernel, gonum and the active engine.
func BenchmarkSgemmConv2(b *testing.B) {
	saved := parallel.Threads()
	defer parallel.SetThreads(saved)
	parallel.SetThreads(1)
	const m, n, k = 128, 3136, 1024
	rng := rand.New(rand.NewPCG(7, 8))
	a, bb, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
	for _, e := range []struct {
		name string
		e    sgemmer
	}{{"gantrain", gemm.Implementation{}}, {"gonum", gonum.Implementation{}}, {"engine", impl}} {
		b.Run(e.name, func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				t0 := cpuTime()
				e.e.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, a, k, bb, n, 0, c, n)
				cpu += cpuTime() - t0
			}
			flop := 2 * m * n * k * float64(b.N)
			b.ReportMetric(flop/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu > 0 {
				// The same per second of CPU time used (rusage, whole
				// process): less sensitive to other jobs on the machine.
				b.ReportMetric(flop/cpu.Seconds()/1e9, "GFLOP/cpu-s")
			}
		})
	}
}

// TestGEMMKernels checks the kernel list of `gantrain version`: every
// kernel of the build by name and tile, the CPU's verdict on each, and the
// one in use marked exactly when gantrain's GEMM is the engine.
func TestGEMMKernels(t *testing.T) {
	list := GEMMKernels()
	t.Logf("engine %q; kernels %q", Name(), list)
	for _, k := range gemm.Kernels() {
		if !strings.Contains(list, k.Name+" "+k.Tile) {
			t.Errorf("%q lacks %s %s", list, k.Name, k.Tile)
		}
		if !k.Runs && !strings.Contains(list, k.Why) {
			t.Errorf("%q does not say why %s cannot run", list, k.Name)
		}
		marked := strings.Contains(list, k.Name+" "+k.Tile+" (in use)")
		if want := k.Active && Name() == gemm.Description; marked != want {
			t.Errorf("%q: %s marked in use = %v, want %v", list, k.Name, marked, want)
		}
	}
}

// TestRecord checks the shape recorder `gantrain bench` reports from: every
// call counted under its shape while on, nothing while off, and a new
// start forgets the old record.
func TestRecord(t *testing.T) {
	a, b, c := make([]float32, 6*5), make([]float32, 5*4), make([]float32, 6*4)
	call := func(tA bool) {
		lda := 5
		if tA {
			lda = 6
		}
		Sgemm(tA, false, 6, 4, 5, 1, a, lda, b, 4, 0, c, 4)
	}
	call(false) // before: not recorded
	Record(true)
	call(false)
	call(true)
	call(true)
	Record(false)
	call(true) // after: not recorded
	got := Recorded()
	if len(got) != 2 {
		t.Fatalf("recorded %d shapes, want 2: %v", len(got), got)
	}
	calls := map[string]int{}
	for _, st := range got {
		calls[st.String()] = st.Calls
	}
	if calls["NN 6×4×5"] != 1 || calls["TN 6×4×5"] != 2 {
		t.Errorf("calls by shape %v, want NN 6×4×5: 1, TN 6×4×5: 2", calls)
	}
	Record(true)
	Record(false)
	if got := Recorded(); len(got) != 0 {
		t.Errorf("a new record kept %v", got)
	}
}

// TestBF16SplitBitwise checks that with BF16 on, blas.Sgemm's blocks over
// goroutines give exactly one bf16 call's result, also where a block is
// smaller than the bf16 kernel's least m or n (the whole product's shape
// decides, gemm.Implementation.BlockedFor), and that products bf16 leaves
// alone (a matrix-vector product, the dot-product path) are the float32
// engine's bits.
func TestBF16SplitBitwise(t *testing.T) {
	if err := CheckBF16(); err != nil {
		t.Skipf("not run: %v", err)
	}
	whole, err := gemm.BF16()
	if err != nil {
		t.Fatal(err)
	}
	saved, savedThreads, savedProcs := impl, parallel.Threads(), runtime.GOMAXPROCS(0)
	defer func() {
		impl = saved
		parallel.SetThreads(savedThreads)
		runtime.GOMAXPROCS(savedProcs)
	}()
	off := BF16()
	defer off()
	rng := rand.New(rand.NewPCG(15, 16))
	for _, s := range []struct {
		m, n, k int
		f32     bool // float32 bits expected
	}{
		{60, 90, 64, false},  // column blocks of 45 and fewer: below bf16's least n
		{97, 50, 100, false}, // row blocks below its least m
		{128, 1568, 1024, false},
		{1, 200, 3000, true},  // matrix-vector
		{64, 16, 12544, true}, // the dot-product path (NT)
	} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				a, lda, b, ldb, c0 := operands(rng, s.m, s.n, s.k, tA, tB)
				want := append([]float32(nil), c0...)
				ref := sgemmer(whole)
				if s.f32 {
					ref = gemm.Implementation{}
				}
				ref.Sgemm(tr(tA), tr(tB), s.m, s.n, s.k, 0.7, a, lda, b, ldb, 0.3, want, s.n)
				for _, threads := range []int{1, 2, 3, 7} {
					parallel.SetThreads(threads)
					got := append([]float32(nil), c0...)
					Sgemm(tA, tB, s.m, s.n, s.k, 0.7, a, lda, b, ldb, 0.3, got, s.n)
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("%dx%dx%d tA=%v tB=%v threads=%d: C[%d] = %g, single call %g",
								s.m, s.n, s.k, tA, tB, threads, i, got[i], want[i])
						}
					}
				}
			}
		}
	}
	// Off again: the float32 engine.
	off()
	c := make([]float32, 64*64)
	c32 := make([]float32, 64*64)
	a, b := randSlice(rng, 64*64), randSlice(rng, 64*64)
	Sgemm(false, false, 64, 64, 64, 1, a, 64, b, 64, 0, c, 64)
	gemm.Implementation{}.Sgemm(blas.NoTrans, blas.NoTrans, 64, 64, 64, 1, a, 64, b, 64, 0, c32, 64)
	for i := range c {
		if c[i] != c32[i] {
			t.Fatalf("after off(): C[%d] = %g, float32 %g", i, c[i], c32[i])
		}
	}
}

// operands returns random A (op(A) m×k), B (op(B) k×n) and C (m×n, ldc =
// n) with the leading dimensions of packed row-major storage.
func operands(rng *rand.Rand, m, n, k int, tA, tB bool) (a []float32, lda int, b []float32, ldb int, c []float32) {
	lda, ldb = k, n
	if tA {
		lda = m
	}
	if tB {
		ldb = k
	}
	return randSlice(rng, m*k), lda, randSlice(rng, k*n), ldb, randSlice(rng, m*n)
}
