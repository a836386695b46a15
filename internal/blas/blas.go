// Package blas selects the float32 matrix-multiplication engine that every
// heavy layer of gantrain runs on, and gives gorgonia the same one.
//
// Two engines exist: gonum's pure-Go BLAS (always available, also with
// CGO_ENABLED=0) and OpenBLAS through cgo (build tag `openblas`, which needs
// libopenblas-dev). Matrices are row-major, as in gonum's blas.Float32.
package blas

import (
	"sync/atomic"

	"github.com/gantrain/gantrain/internal/parallel"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

// impl is the active engine; name describes it for `gantrain version`.
var (
	impl blas.Float32 = gonum.Implementation{}
	name              = "gonum (pure Go)"
)

func init() {
	G.Use(impl.(G.BLAS))
}

// Name reports the engine in use, e.g. "OpenBLAS 0.3.21 (cgo)".
func Name() string { return name }

// flops counts the floating-point operations of every Sgemm call.
var flops atomic.Int64

// Flops returns the number of floating-point operations (2·m·n·k per
// product) done by Sgemm so far: what benchmarks divide by time.
func Flops() int64 { return flops.Load() }

// minSplit is the smallest share of C's rows or columns worth a thread.
const minSplit = 32

// Sgemm computes C = alpha·op(A)·op(B) + beta·C with row-major matrices,
// op(X) = Xᵀ when the matching trans flag is set. op(A) is m×k, op(B) k×n.
//
// The engine runs single-threaded; Sgemm splits C into blocks of rows (or
// of columns, whichever dimension is larger) over parallel.Threads()
// goroutines. The split depends only on the shape and the thread count, so
// results are reproducible, and no BLAS thread pool spins beside gantrain's
// own workers.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	flops.Add(2 * int64(m) * int64(n) * int64(k))
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	if m >= n {
		parallel.For(m, minSplit, func(lo, hi int) {
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
	parallel.For(n, minSplit, func(lo, hi int) {
		var bb []float32
		if transB {
			bb = b[lo*ldb:]
		} else {
			bb = b[lo:]
		}
		impl.Sgemm(ta, tb, m, hi-lo, k, alpha, a, lda, bb, ldb, beta, c[lo:], ldc)
	})
}
