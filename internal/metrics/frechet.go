package metrics

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Stats returns the mean and the unbiased (n−1) covariance of the n = len(x)/d
// rows of the row-major feature matrix x, accumulated in float64 (two passes:
// the mean, then the cross-products of the centred rows). It needs n ≥ 2 and
// finite values.
func Stats(x []float64, d int) (mu []float64, sigma *mat.SymDense, err error) {
	n, err := rows(x, d, "Stats")
	if err != nil {
		return nil, nil, err
	}
	if n < 2 {
		return nil, nil, fmt.Errorf("metrics: Stats needs at least 2 samples for an unbiased covariance, got %d", n)
	}
	if !allFinite(x) {
		return nil, nil, errors.New("metrics: Stats features contain NaN or Inf")
	}
	mu = colMeans(x, n, d)
	xc := mat.NewDense(n, d, centred(x, mu))
	sigma = mat.NewSymDense(d, nil)
	sigma.SymOuterK(1/float64(n-1), xc.T())
	return mu, sigma, nil
}

// FrechetDistance returns the Fréchet distance between the Gaussians
// N(mu1, sigma1) and N(mu2, sigma2):
//
//	|μ1−μ2|² + tr Σ1 + tr Σ2 − 2·tr √(Σ1 Σ2).
//
// tr √(Σ1 Σ2) is computed with symmetric eigendecompositions only: A = √Σ1 =
// V·diag(√λ)·Vᵀ from the eigenpairs of Σ1 (negative eigenvalues clamped to
// 0), then Σ √λ_i(A Σ2 A) over the eigenvalues of the numerically
// symmetrised (M+Mᵀ)/2, M = A Σ2 A, negative ones clamped to 0. (A Σ2 A is
// similar to Σ1 Σ2 when Σ1 is invertible, and the formula stays well defined
// when it is not.)
//
// The result is clamped at 0 (a value below 0 can only be rounding). Errors:
// mismatched or zero dimensions, non-finite input, a failed decomposition.
func FrechetDistance(mu1 []float64, sigma1 mat.Symmetric, mu2 []float64, sigma2 mat.Symmetric) (float64, error) {
	d := len(mu1)
	if d == 0 {
		return 0, errors.New("metrics: FrechetDistance of empty statistics")
	}
	if len(mu2) != d || sigma1.SymmetricDim() != d || sigma2.SymmetricDim() != d {
		return 0, fmt.Errorf("metrics: FrechetDistance dimension mismatch: mu1 %d, sigma1 %d, mu2 %d, sigma2 %d",
			d, sigma1.SymmetricDim(), len(mu2), sigma2.SymmetricDim())
	}
	if !allFinite(mu1) || !allFinite(mu2) || !symFinite(sigma1) || !symFinite(sigma2) {
		return 0, errors.New("metrics: FrechetDistance statistics contain NaN or Inf")
	}

	var es mat.EigenSym
	if !es.Factorize(sigma1, true) {
		return 0, errors.New("metrics: FrechetDistance: eigendecomposition of sigma1 failed")
	}
	lam := es.Values(nil)
	var v mat.Dense
	es.VectorsTo(&v)
	// A = (V·diag(√λ))·Vᵀ.
	vs := mat.DenseCopyOf(&v)
	for j, l := range lam {
		s := math.Sqrt(max(l, 0))
		for i := range d {
			vs.Set(i, j, vs.At(i, j)*s)
		}
	}
	var a, t, m mat.Dense
	a.Mul(vs, v.T())
	t.Mul(&a, sigma2)
	m.Mul(&t, &a)
	sym := mat.NewSymDense(d, nil)
	for i := range d {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, (m.At(i, j)+m.At(j, i))/2)
		}
	}
	if !es.Factorize(sym, false) {
		return 0, errors.New("metrics: FrechetDistance: eigendecomposition of sqrt(sigma1)·sigma2·sqrt(sigma1) failed")
	}
	var trSqrt float64
	for _, l := range es.Values(lam) {
		trSqrt += math.Sqrt(max(l, 0))
	}

	var fd float64
	for i := range d {
		diff := mu1[i] - mu2[i]
		fd += diff * diff
	}
	fd += mat.Trace(sigma1) + mat.Trace(sigma2) - 2*trSqrt
	if math.IsNaN(fd) || math.IsInf(fd, 0) {
		return 0, errors.New("metrics: FrechetDistance is not finite")
	}
	return max(fd, 0), nil
}

// FrechetFromFeatures is Stats on both row-major feature sets (d columns)
// followed by FrechetDistance: the FID when the features are a classifier's.
func FrechetFromFeatures(a, b []float64, d int) (float64, error) {
	mu1, s1, err := Stats(a, d)
	if err != nil {
		return 0, err
	}
	mu2, s2, err := Stats(b, d)
	if err != nil {
		return 0, err
	}
	return FrechetDistance(mu1, s1, mu2, s2)
}

func symFinite(s mat.Symmetric) bool {
	n := s.SymmetricDim()
	for i := range n {
		for j := i; j < n; j++ {
			if v := s.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
	}
	return true
}
