// Package blas selects the float32 matrix-multiplication engine that every
// heavy layer of gantrain runs on, and gives gorgonia the same one.
//
// Two engines exist: gonum's pure-Go BLAS (always available, also with
// CGO_ENABLED=0) and OpenBLAS through cgo (build tag `openblas`, which needs
// libopenblas-dev). Matrices are row-major, as in gonum's blas.Float32.
package blas

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	G "gorgonia.org/gorgonia"
)

// impl is the active engine; name describes it for `gantrain version`.
var (
	impl       blas.Float32 = gonum.Implementation{}
	name                    = "gonum (pure Go)"
	setThreads              = func(int) {}
)

func init() {
	G.Use(impl.(G.BLAS))
}

// Name reports the engine in use, e.g. "OpenBLAS 0.3.21 (cgo)".
func Name() string { return name }

// SetThreads sets the number of threads the engine may use (where it can be
// told; gonum follows GOMAXPROCS).
func SetThreads(n int) { setThreads(n) }

// Sgemm computes C = alpha·op(A)·op(B) + beta·C with row-major matrices,
// op(X) = Xᵀ when the matching trans flag is set. op(A) is m×k, op(B) k×n.
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	impl.Sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
