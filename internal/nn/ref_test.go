package nn

// Independent float64 references, written directly from the definitions in
// PyTorch's documentation with NCHW layouts and naive loops. They share no
// code with internal/kernels.

import "math"

// conv2dRef: y[n][o][i][j] = b[o] + Σ_c Σ_ki Σ_kj x[n][c][i·s−p+ki][j·s−p+kj]·w[o][c][ki][kj].
func conv2dRef(x []float64, n, c, h, w int, wt []float64, o, k int, b []float64, s, p int) ([]float64, int, int) {
	oh, ow := (h+2*p-k)/s+1, (w+2*p-k)/s+1
	y := make([]float64, n*o*oh*ow)
	for in := 0; in < n; in++ {
		for io := 0; io < o; io++ {
			for i := 0; i < oh; i++ {
				for j := 0; j < ow; j++ {
					var acc float64
					if b != nil {
						acc = b[io]
					}
					for ic := 0; ic < c; ic++ {
						for ki := 0; ki < k; ki++ {
							for kj := 0; kj < k; kj++ {
								yy, xx := i*s-p+ki, j*s-p+kj
								if yy < 0 || yy >= h || xx < 0 || xx >= w {
									continue
								}
								acc += x[((in*c+ic)*h+yy)*w+xx] * wt[((io*c+ic)*k+ki)*k+kj]
							}
						}
					}
					y[((in*o+io)*oh+i)*ow+j] = acc
				}
			}
		}
	}
	return y, oh, ow
}

// convT2dRef scatters every input pixel through the kernel:
// y[n][o][i·s−p+ki][j·s−p+kj] += x[n][c][i][j]·w[c][o][ki][kj], plus b[o].
func convT2dRef(x []float64, n, c, h, w int, wt []float64, o, k int, b []float64, s, p int) ([]float64, int, int) {
	oh, ow := (h-1)*s-2*p+k, (w-1)*s-2*p+k
	y := make([]float64, n*o*oh*ow)
	for in := 0; in < n; in++ {
		for io := 0; io < o; io++ {
			for i := 0; i < oh*ow; i++ {
				if b != nil {
					y[(in*o+io)*oh*ow+i] = b[io]
				}
			}
		}
		for ic := 0; ic < c; ic++ {
			for i := 0; i < h; i++ {
				for j := 0; j < w; j++ {
					v := x[((in*c+ic)*h+i)*w+j]
					for io := 0; io < o; io++ {
						for ki := 0; ki < k; ki++ {
							for kj := 0; kj < k; kj++ {
								yy, xx := i*s-p+ki, j*s-p+kj
								if yy < 0 || yy >= oh || xx < 0 || xx >= ow {
									continue
								}
								y[((in*o+io)*oh+yy)*ow+xx] += v * wt[((ic*o+io)*k+ki)*k+kj]
							}
						}
					}
				}
			}
		}
	}
	return y, oh, ow
}

// linearRef: y[n][o] = b[o] + Σ_i x[n][i]·w[o][i].
func linearRef(x []float64, n, in int, w []float64, out int, b []float64) []float64 {
	y := make([]float64, n*out)
	for r := 0; r < n; r++ {
		for o := 0; o < out; o++ {
			var acc float64
			if b != nil {
				acc = b[o]
			}
			for i := 0; i < in; i++ {
				acc += x[r*in+i] * w[o*in+i]
			}
			y[r*out+o] = acc
		}
	}
	return y
}

// batchNormRef normalises NCHW x per channel with the biased batch
// variance: y = (x − μ)/√(σ² + ε)·γ + β.
func batchNormRef(x []float64, n, c, hw int, gamma, beta []float64, eps float64) []float64 {
	y := make([]float64, len(x))
	for ic := 0; ic < c; ic++ {
		var s, ss float64
		for in := 0; in < n; in++ {
			for i := 0; i < hw; i++ {
				s += x[(in*c+ic)*hw+i]
			}
		}
		mu := s / float64(n*hw)
		for in := 0; in < n; in++ {
			for i := 0; i < hw; i++ {
				d := x[(in*c+ic)*hw+i] - mu
				ss += d * d
			}
		}
		v := ss / float64(n*hw)
		for in := 0; in < n; in++ {
			for i := 0; i < hw; i++ {
				j := (in*c+ic)*hw + i
				y[j] = (x[j]-mu)/math.Sqrt(v+eps)*gamma[ic] + beta[ic]
			}
		}
	}
	return y
}

// numGrad returns ∂/∂v Σ f(v)·dy by central differences in float64.
func numGrad(v []float64, dy []float64, f func([]float64) []float64) []float64 {
	const h = 1e-6
	g := make([]float64, len(v))
	for i := range v {
		old := v[i]
		v[i] = old + h
		yp := f(v)
		v[i] = old - h
		ym := f(v)
		v[i] = old
		var acc float64
		for j := range yp {
			acc += (yp[j] - ym[j]) * dy[j]
		}
		g[i] = acc / (2 * h)
	}
	return g
}
