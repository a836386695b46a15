// Package blas selects the float32 matrix-multiplication engine that every
// heavy layer of gantrain runs on, and gives gorgonia the same one.
//
// Three engines exist: gantrain's own GEMM (package gemm: Go packing and
// blocking around an assembly micro-kernel chosen from the CPU's features,
// AVX-512 or AVX2+FMA; the default on amd64 CPUs with either), gonum's
// pure-Go BLAS (the fallback elsewhere, and with -tags purego), and OpenBLAS
// through cgo (build tag `openblas`, which needs libopenblas-dev). Matrices
// are row-major, as in gonum's blas.Float32.
package blas

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gantrain/gantrain/internal/blas/gemm"
	"github.com/gantrain/gantrain/internal/parallel"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

// sgemmer is the part of blas.Float32 that gantrain uses; gonum's, netlib's
// and gemm's Implementation satisfy it.
type sgemmer interface {
	Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// impl is the active engine; name describes it for `gantrain version`.
// openblas.go's init replaces both.
var impl, name = defaultEngine()

func defaultEngine() (sgemmer, string) {
	if gemm.Available {
		return gemm.Implementation{}, gemm.Description
	}
	return gonum.Implementation{}, "gonum (pure Go)"
}

func init() {
	// gorgonia wants a full BLAS (all four types); its own ops barely use it
	// here, so it gets gonum's (openblas.go's init, which runs after this
	// one, gives it netlib's).
	G.Use(gonum.Implementation{})
}

// Name reports the engine in use, e.g. "gantrain GEMM, AVX-512 (Go +
// assembly)" or "OpenBLAS (cgo): OpenBLAS 0.3.21 …".
func Name() string { return name }

// GEMMKernels lists gantrain's GEMM micro-kernels for this build and CPU,
// e.g. "avx512 8×32 (in use), avx2 6×16, generic 6×16": the one in use
// (when gantrain's GEMM is the engine) and those the CPU cannot run are
// marked. The environment variable GEMM_KERNEL forces one by name.
func GEMMKernels() string {
	var parts []string
	for _, k := range gemm.Kernels() {
		s := k.Name + " " + k.Tile
		switch {
		case !k.Runs:
			s += " (not on this CPU: " + k.Why + ")"
		case k.Active && name == gemm.Description:
			s += " (in use)"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// flops counts the floating-point operations of every Sgemm call.
var flops atomic.Int64

// Flops returns the number of floating-point operations (2·m·n·k per
// product) done by Sgemm so far: what benchmarks divide by time.
func Flops() int64 { return flops.Load() }

// minSplit is the smallest share of C's rows or columns worth a thread, and
// minFlop the least work: below about a megaflop (a matrix-vector product,
// say) waking a second thread and packing the shared operand twice cost
// more than the thread gains.
const (
	minSplit = 32
	minFlop  = 1 << 20
)

// chunk is the smallest share of C's rows (or columns) of which there are
// n, each other row dim long, that is worth a thread.
func chunk(n, other, k int) int {
	perRow := 2 * int64(other) * int64(k)
	return max(minSplit, int(min(int64(n), (minFlop+perRow-1)/perRow)))
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C with row-major matrices,
// op(X) = Xᵀ when the matching trans flag is set. op(A) is m×k, op(B) k×n.
//
// gantrain's GEMM and OpenBLAS run single-threaded under it (gonum's Sgemm
// may start goroutines of its own, up to GOMAXPROCS, for large blocks).
// Sgemm splits C into blocks of rows (or of columns, whichever dimension
// is larger) over parallel.Threads() goroutines. The split depends only on the shape and the thread count, so
// results are reproducible, and no BLAS thread pool spins beside gantrain's
// own workers.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	flops.Add(2 * int64(m) * int64(n) * int64(k))
	impl := impl
	if bf16On.Load() {
		impl, _ = bf16Engine()
	}
	if !recording.Load() {
		sgemmOn(impl, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	t0 := time.Now()
	sgemmOn(impl, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	record(Shape{transA, transB, m, n, k}, time.Since(t0))
}

// Shape is one product's shape: C (M×N) = op(A) (M×K) · op(B) (K×N).
type Shape struct {
	TransA, TransB bool
	M, N, K        int
}

// String writes s as "NT 128×1024×3136" (N: op(X) = X, T: Xᵀ).
func (s Shape) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s %d×%d×%d", t(s.TransA), t(s.TransB), s.M, s.N, s.K)
}

// Flop is the product's floating-point operations, 2·M·N·K.
func (s Shape) Flop() float64 { return 2 * float64(s.M) * float64(s.N) * float64(s.K) }

// ShapeTime is the wall time Sgemm spent on the calls of one shape.
type ShapeTime struct {
	Shape
	Calls int
	Time  time.Duration
}

var (
	recording atomic.Bool
	recMu     sync.Mutex
	recorded  map[Shape]*ShapeTime
)

func record(s Shape, d time.Duration) {
	recMu.Lock()
	defer recMu.Unlock()
	st := recorded[s]
	if st == nil {
		st = &ShapeTime{Shape: s}
		recorded[s] = st
	}
	st.Calls++
	st.Time += d
}

// Record starts (on, forgetting what was recorded before) or stops
// recording the shape and wall time of every Sgemm call: where a training
// step's matrix products spend their time (gantrain bench).
func Record(on bool) {
	recMu.Lock()
	defer recMu.Unlock()
	if on {
		recorded = map[Shape]*ShapeTime{}
	}
	recording.Store(on)
}

// Recorded returns what was recorded, the most time first.
func Recorded() []ShapeTime {
	recMu.Lock()
	defer recMu.Unlock()
	out := make([]ShapeTime, 0, len(recorded))
	for _, st := range recorded {
		out = append(out, *st)
	}
	slices.SortFunc(out, func(a, b ShapeTime) int {
		return cmp.Or(cmp.Compare(b.Time, a.Time), strings.Compare(a.String(), b.String()))
	})
	return out
}

// Engine is one float32 GEMM of this build, for comparisons (cmd
// gemmbench): gantrain's GEMM with each micro-kernel the CPU runs, gonum's,
// and OpenBLAS in the openblas build.
type Engine struct {
	Name string // "gantrain-avx512", "gantrain-avx2", "gantrain-generic", "gonum", "openblas"
	e    sgemmer
}

// Engines lists the engines this build and CPU can run.
func Engines() []Engine {
	var out []Engine
	for _, k := range gemm.Kernels() {
		if im, err := gemm.WithKernel(k.Name); err == nil {
			out = append(out, Engine{"gantrain-" + k.Name, im})
		}
	}
	if im, err := gemm.BF16(); err == nil {
		out = append(out, Engine{"gantrain-bf16", im})
	}
	out = append(out, Engine{"gonum", gonum.Implementation{}})
	if openblasEngine != nil {
		out = append(out, Engine{"openblas", openblasEngine})
	}
	return out
}

// openblasEngine is OpenBLAS in the openblas build (openblas.go), else nil.
var openblasEngine sgemmer

// Sgemm is blas.Sgemm on engine e: the same split over parallel.Threads().
func (e Engine) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	sgemmOn(e.e, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func sgemmOn(impl sgemmer, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if g, ok := impl.(gemm.Implementation); ok {
		if segs := g.Segments(transA, transB, m, n, k); segs > 0 && alpha != 0 {
			// A small C over a long k (gemm's dot-product path): pieces
			// of k over the threads, added in order, the same bits at any
			// thread count as one gemm call.
			g.SgemmSplit(func(n int, fn func(lo, hi int)) { parallel.For(n, 1, fn) },
				segs, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			return
		}
		// Blocks of C take the blocked path, as the whole product does,
		// even where a block's own shape would take the dot-product one.
		impl = g.BlockedFor(m, n, k)
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	if m >= n {
		parallel.For(m, chunk(m, n, k), func(lo, hi int) {
			var aa []float32
			if transA {
				aa = a[lo:]
			} else {
				aa = a[lo*lda:]
			}
			impl.Sgemm(ta, tb, hi-lo, n, k, alpha, aa, lda, b, ldb, beta, c[lo*ldc:], ldc)
		})
		return
	}
	parallel.For(n, chunk(n, m, k), func(lo, hi int) {
		var bb []float32
		if transB {
			bb = b[lo*ldb:]
		} else {
			bb = b[lo:]
		}
		impl.Sgemm(ta, tb, m, hi-lo, k, alpha, a, lda, bb, ldb, beta, c[lo:], ldc)
	})
}

// bf16On makes Sgemm use bf16Engine's Implementation.
var bf16On atomic.Bool

// bf16Engine is gantrain's GEMM with the bf16 kernel, or why it cannot
// run here: it needs gantrain's GEMM as the engine (decided after
// openblas.go's init) and the CPU's AVX512_BF16.
var bf16Engine = sync.OnceValues(func() (sgemmer, error) {
	if _, ok := impl.(gemm.Implementation); !ok {
		return nil, fmt.Errorf("bf16 needs gantrain's GEMM, and this build's engine is %s", name)
	}
	b, err := gemm.BF16()
	if err != nil {
		return nil, err
	}
	return b, nil
})

// CheckBF16 reports why bf16 products cannot run here (nil: they can).
func CheckBF16() error {
	_, err := bf16Engine()
	return err
}

// BF16 makes every Sgemm until the returned function is called use the
// bf16 kernel where it pays (gemm.BF16): operands rounded to bfloat16,
// products summed in float32. It panics where CheckBF16 fails. Calls do
// not nest and the setting is process-wide: the trainer turns it on for
// its steps only (nothing else multiplies while a step runs), so
// sampling and evaluation stay float32.
func BF16() (off func()) {
	if err := CheckBF16(); err != nil {
		panic("blas: " + err.Error())
	}
	bf16On.Store(true)
	return func() { bf16On.Store(false) }
}
