package kernels

import (
	"math"

	"github.com/gantrain/gantrain/internal/parallel"
	"github.com/gantrain/gantrain/internal/simd"
)

// BNStats are a batch-norm layer's running statistics. Running variance is
// the unbiased estimate, as in PyTorch.
type BNStats struct {
	RunMean, RunVar []float32
	Momentum, Eps   float64
	// Tracked counts the updates of the running statistics (PyTorch's
	// num_batches_tracked).
	Tracked int64
}

// NewBNStats returns stats for c channels with mean 0 and variance 1.
func NewBNStats(c int, momentum, eps float64) *BNStats {
	s := &BNStats{RunMean: make([]float32, c), RunVar: make([]float32, c), Momentum: momentum, Eps: eps}
	for i := range s.RunVar {
		s.RunVar[i] = 1
	}
	return s
}

// The batch-norm kernels work on x (C, M): one row of M values per channel.
// Each fuses an activation applied after the affine step, y = act(x̂·γ + β),
// so that a layer's normalisation and nonlinearity take one pass.

// BNForwardTrain normalises every row of x with its batch statistics (biased
// variance), y = act((x − μ)/√(σ² + ε)·γ + β), stores μ and 1/√(σ²+ε) in
// mean and invstd, and, if update is true, updates st's running statistics
// (momentum-weighted, unbiased variance).
func BNForwardTrain(x, y, gamma, beta, mean, invstd []float32, m int, st *BNStats, update bool, act Act) {
	c := len(gamma)
	parallel.For(c, 1+grain/max(m, 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xs := x[r*m : (r+1)*m]
			var s, ss float64
			for _, v := range xs {
				f := float64(v)
				s += f
				ss += f * f
			}
			mu := s / float64(m)
			variance := max(ss/float64(m)-mu*mu, 0)
			is := 1 / math.Sqrt(variance+st.Eps)
			mean[r], invstd[r] = float32(mu), float32(is)
			affine(xs, y[r*m:(r+1)*m], float32(is)*gamma[r], beta[r]-float32(mu)*float32(is)*gamma[r], act)
			if update {
				mom := st.Momentum
				unbiased := variance * float64(m) / float64(max(m-1, 1))
				st.RunMean[r] = float32((1-mom)*float64(st.RunMean[r]) + mom*mu)
				st.RunVar[r] = float32((1-mom)*float64(st.RunVar[r]) + mom*unbiased)
			}
		}
	})
	if update {
		st.Tracked++
	}
}

// BNForwardEval normalises x with the running statistics of st.
func BNForwardEval(x, y, gamma, beta []float32, m int, st *BNStats, act Act) {
	c := len(gamma)
	parallel.For(c, 1+grain/max(m, 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			is := 1 / math.Sqrt(float64(st.RunVar[r])+st.Eps)
			a := float32(is) * gamma[r]
			affine(x[r*m:(r+1)*m], y[r*m:(r+1)*m], a, beta[r]-st.RunMean[r]*a, act)
		}
	})
}

// affine writes ys = act(xs·a + b).
func affine(xs, ys []float32, a, b float32, act Act) {
	if f, ok := family(act); ok {
		simd.AffineAct(xs, ys, a, b, f, LeakySlope)
		return
	}
	ys = ys[:len(xs)]
	for i, v := range xs {
		ys[i] = float32(v*a) + b
	}
	actInPlace(act, ys)
}

// BNBackward computes the gradients of a training-mode batch norm followed
// by act, from x, its output y and dy. With dpre = dy·act'(y) and
// x̂ = (x − μ)·invstd:
//
//	dβ = Σ dpre,  dγ = Σ dpre·x̂,  dx = γ·invstd/M · (M·dpre − dβ − x̂·dγ)
//
// dgamma and dbeta are always written; dx when not nil.
func BNBackward(x, y, dy, gamma, mean, invstd, dx, dgamma, dbeta []float32, m int, act Act) {
	c := len(gamma)
	parallel.For(c, 1+grain/max(m, 1), func(lo, hi int) {
		var scratch []float32
		for r := lo; r < hi; r++ {
			xs, ys, dys := x[r*m:(r+1)*m], y[r*m:(r+1)*m], dy[r*m:(r+1)*m]
			// dpre goes into dx's row, or into scratch when dx is not wanted.
			var dpre []float32
			if dx != nil {
				dpre = dx[r*m : (r+1)*m]
			} else {
				if scratch == nil {
					scratch = make([]float32, m)
				}
				dpre = scratch
			}
			actGrad(act, ys, dys, dpre)
			mu, is := mean[r], invstd[r]
			var sdy, sdyx float64
			for i, v := range xs {
				d := float64(dpre[i])
				sdy += d
				sdyx += d * float64((v-mu)*is)
			}
			dgamma[r], dbeta[r] = float32(sdyx), float32(sdy)
			if dx == nil {
				continue
			}
			k := gamma[r] * is / float32(m)
			fm := float32(m)
			a, b := float32(sdy), float32(sdyx)
			for i, v := range xs {
				xh := (v - mu) * is
				dpre[i] = k * (fm*dpre[i] - a - xh*b)
			}
		}
	})
}
