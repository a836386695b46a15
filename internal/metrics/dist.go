package metrics

import (
	"sync"
	"sync/atomic"

	"github.com/gantrain/gantrain/internal/parallel"
)

// blockSize is the side of the square tiles of the distance matrix that are
// materialised at once (blockSize² float64s per worker). Tests lower it to
// exercise the multi-block and remainder paths on small inputs.
var blockSize = 128

// rowNorms returns |x_i|² for the n rows of the row-major n×d matrix x. The
// summation order is the one dotTile uses, so the self-distance
// |x|² + |x|² − 2·x·x comes out exactly 0.
func rowNorms(x []float64, n, d int) []float64 {
	out := make([]float64, n)
	for i := range out {
		r := x[i*d : i*d+d]
		var s float64
		for _, v := range r {
			s += v * v
		}
		out[i] = s
	}
	return out
}

// sqDistTile writes into out (row stride j1−j0) the squared Euclidean
// distances between rows i0..i1 of x and rows j0..j1 of y, computed as
// |x|² + |y|² − 2·x·y and clamped at 0.
//
// Every entry is computed by the same sequence of floating-point operations
// whatever its position in the tile, and x·y and |x|²+|y|² are symmetric in
// their arguments, so d²(a, b) is bit-for-bit the same in every pass and in
// both orders. PRDC relies on that: with identical sets, the k-NN radius of a
// point and its distance to the corresponding fake come from the same
// arithmetic, so boundary comparisons are exact.
func sqDistTile(out []float64, x, xn []float64, i0, i1 int, y, yn []float64, j0, j1, d int) {
	w := j1 - j0
	i := i0
	for ; i+4 <= i1; i += 4 {
		x0 := x[i*d : i*d+d]
		x1 := x[(i+1)*d : (i+2)*d][:len(x0)]
		x2 := x[(i+2)*d : (i+3)*d][:len(x0)]
		x3 := x[(i+3)*d : (i+4)*d][:len(x0)]
		n0, n1, n2, n3 := xn[i], xn[i+1], xn[i+2], xn[i+3]
		o0 := out[(i-i0)*w : (i-i0)*w+w]
		o1 := out[(i-i0+1)*w : (i-i0+2)*w][:len(o0)]
		o2 := out[(i-i0+2)*w : (i-i0+3)*w][:len(o0)]
		o3 := out[(i-i0+3)*w : (i-i0+4)*w][:len(o0)]
		j := j0
		for ; j+2 <= j1; j += 2 {
			y0 := y[j*d : j*d+d][:len(x0)]
			y1 := y[(j+1)*d : (j+2)*d][:len(x0)]
			var s00, s01, s10, s11, s20, s21, s30, s31 float64
			for k, a := range x0 {
				b0, b1 := y0[k], y1[k]
				s00 += a * b0
				s01 += a * b1
				c := x1[k]
				s10 += c * b0
				s11 += c * b1
				c = x2[k]
				s20 += c * b0
				s21 += c * b1
				c = x3[k]
				s30 += c * b0
				s31 += c * b1
			}
			m0, m1 := yn[j], yn[j+1]
			c := j - j0
			o0[c] = max(0, n0+m0-2*s00)
			o0[c+1] = max(0, n0+m1-2*s01)
			o1[c] = max(0, n1+m0-2*s10)
			o1[c+1] = max(0, n1+m1-2*s11)
			o2[c] = max(0, n2+m0-2*s20)
			o2[c+1] = max(0, n2+m1-2*s21)
			o3[c] = max(0, n3+m0-2*s30)
			o3[c+1] = max(0, n3+m1-2*s31)
		}
		for ; j < j1; j++ {
			y0 := y[j*d : j*d+d][:len(x0)]
			var s0, s1, s2, s3 float64
			for k, b := range y0 {
				s0 += x0[k] * b
				s1 += x1[k] * b
				s2 += x2[k] * b
				s3 += x3[k] * b
			}
			m := yn[j]
			c := j - j0
			o0[c] = max(0, n0+m-2*s0)
			o1[c] = max(0, n1+m-2*s1)
			o2[c] = max(0, n2+m-2*s2)
			o3[c] = max(0, n3+m-2*s3)
		}
	}
	for ; i < i1; i++ {
		x0 := x[i*d : i*d+d]
		n0 := xn[i]
		o0 := out[(i-i0)*w : (i-i0)*w+w]
		for j := j0; j < j1; j++ {
			y0 := y[j*d : j*d+d][:len(x0)]
			var s float64
			for k, a := range x0 {
				s += a * y0[k]
			}
			o0[j-j0] = max(0, n0+yn[j]-2*s)
		}
	}
}

// numWorkers is the number of goroutines used for nBlocks work items: the
// project's thread setting (internal/parallel), at most nBlocks, at least 1.
func numWorkers(nBlocks int) int {
	return max(1, min(parallel.Threads(), nBlocks))
}

// forRowBlocks runs fn(worker, block) for every block in [0, nBlocks) on
// `workers` goroutines with dynamic scheduling (an atomic counter, lowest
// block first, so the largest items of a triangular loop go first). worker is
// in [0, workers), so fn may use per-worker state without locking.
func forRowBlocks(nBlocks, workers int, fn func(worker, block int)) {
	var next atomic.Int64
	run := func(w int) {
		for {
			b := int(next.Add(1) - 1)
			if b >= nBlocks {
				return
			}
			fn(w, b)
		}
	}
	if workers <= 1 {
		run(0)
		return
	}
	var wg sync.WaitGroup
	wg.Add(workers - 1)
	for w := 1; w < workers; w++ {
		go func() {
			defer wg.Done()
			run(w)
		}()
	}
	run(0)
	wg.Wait()
}
