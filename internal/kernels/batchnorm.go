package kernels

import (
	"math"

	"github.com/gantrain/gantrain/internal/parallel"
)

// BNStats are a batch-norm layer's running statistics and its per-batch
// saved values. Running variance is the unbiased estimate, as in PyTorch.
type BNStats struct {
	RunMean, RunVar []float32
	Momentum, Eps   float64
}

// NewBNStats returns stats for c channels with mean 0 and variance 1.
func NewBNStats(c int, momentum, eps float64) *BNStats {
	s := &BNStats{RunMean: make([]float32, c), RunVar: make([]float32, c), Momentum: momentum, Eps: eps}
	for i := range s.RunVar {
		s.RunVar[i] = 1
	}
	return s
}

// BNForwardTrain normalises x (C, M) per row with the batch statistics,
// y = (x − μ)/√(σ² + ε)·γ + β, stores μ and 1/√(σ²+ε) in mean and invstd, and,
// if st is not nil, updates st's running statistics with momentum.
func BNForwardTrain(x, y, gamma, beta, mean, invstd []float32, m int, st *BNStats) {
	c := len(gamma)
	parallel.For(c, 1+grain/max(m, 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xs := x[r*m : (r+1)*m]
			var s float64
			for _, v := range xs {
				s += float64(v)
			}
			mu := s / float64(m)
			var ss float64
			for _, v := range xs {
				d := float64(v) - mu
				ss += d * d
			}
			variance := ss / float64(m)
			is := 1 / math.Sqrt(variance+epsOf(st))
			mean[r], invstd[r] = float32(mu), float32(is)
			a := float32(is) * gamma[r]
			bb := beta[r] - float32(mu)*a
			ys := y[r*m : (r+1)*m]
			for i, v := range xs {
				ys[i] = v*a + bb
			}
			if st != nil {
				mom := st.Momentum
				unbiased := variance
				if m > 1 {
					unbiased = ss / float64(m-1)
				}
				st.RunMean[r] = float32((1-mom)*float64(st.RunMean[r]) + mom*mu)
				st.RunVar[r] = float32((1-mom)*float64(st.RunVar[r]) + mom*unbiased)
			}
		}
	})
}

func epsOf(st *BNStats) float64 {
	if st == nil {
		return 1e-5
	}
	return st.Eps
}

// BNForwardEval normalises x (C, M) with the running statistics of st.
func BNForwardEval(x, y, gamma, beta []float32, m int, st *BNStats) {
	c := len(gamma)
	parallel.For(c, 1+grain/max(m, 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			is := 1 / math.Sqrt(float64(st.RunVar[r])+st.Eps)
			a := float32(is) * gamma[r]
			bb := beta[r] - st.RunMean[r]*a
			xs, ys := x[r*m:(r+1)*m], y[r*m:(r+1)*m]
			for i, v := range xs {
				ys[i] = v*a + bb
			}
		}
	})
}

// BNBackward computes, for a training-mode batch norm over x (C, M) with the
// saved mean and invstd, dx from dy; dgamma and dbeta are written when not nil.
//
//	x̂ = (x − μ)·invstd,  dβ = Σ dy,  dγ = Σ dy·x̂,
//	dx = γ·invstd/M · (M·dy − dβ − x̂·dγ)
func BNBackward(x, dy, gamma, mean, invstd, dx, dgamma, dbeta []float32, m int) {
	c := len(gamma)
	parallel.For(c, 1+grain/max(m, 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xs, dys := x[r*m:(r+1)*m], dy[r*m:(r+1)*m]
			mu, is := mean[r], invstd[r]
			var sdy, sdyx float64
			for i, v := range xs {
				d := float64(dys[i])
				sdy += d
				sdyx += d * float64((v-mu)*is)
			}
			if dgamma != nil {
				dgamma[r] = float32(sdyx)
			}
			if dbeta != nil {
				dbeta[r] = float32(sdy)
			}
			if dx == nil {
				continue
			}
			k := gamma[r] * is / float32(m)
			fm := float32(m)
			a, b := float32(sdy), float32(sdyx)
			dxs := dx[r*m : (r+1)*m]
			for i, v := range xs {
				xh := (v - mu) * is
				dxs[i] = k * (fm*dys[i] - a - xh*b)
			}
		}
	})
}
