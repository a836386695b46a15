package metrics

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/gantrain/gantrain/internal/parallel"
)

// blockSize is the side of the square tiles of the distance matrix that are
// materialised at once (blockSize² float64s per worker). It is rounded up to
// a multiple of 8 (the SIMD panel width). Tests lower it to exercise the
// multi-block and remainder paths on small inputs.
var blockSize = 128

func tileSide() int { return (max(blockSize, 8) + 7) / 8 * 8 }

// useSIMD selects the AVX2/FMA kernel (amd64 with CPU and OS support). Tests
// switch it off to cover the portable kernel; sets built in one mode must
// not be mixed with the other.
var useSIMD = haveSIMD()

// set is one operand of the distance computations: n rows of d features.
//
// Every squared distance is |a|² + |b|² − 2·a·b, where a·b and the norms are
// computed by the same sequential chain over k = 0..d−1 (fused multiply-adds
// with SIMD, separately rounded multiply and add without), whatever the
// position of the pair in a tile and whichever kernel path handles it. So
// d²(a, b) is bit-for-bit the same in every pass and in both orders (the
// product and the sum of norms commute exactly), and d²(a, a) is exactly 0.
// PRDC relies on that: with identical sets, the k-NN radius of a point and
// its distance to the corresponding fake come from the same arithmetic, so
// the ≤ comparisons at the boundary are exact.
type set struct {
	x      []float64 // row-major n×d
	norm   []float64 // |x_i|²
	panels []float64 // SIMD only: ceil(n/8) panels of d×8, k-major, zero-padded
	n, d   int
	simd   bool
}

func newSet(x []float64, n, d int) *set {
	s := &set{x: x, n: n, d: d, simd: useSIMD, norm: make([]float64, n)}
	for i := range n {
		r := x[i*d : i*d+d]
		var acc float64
		if s.simd {
			for _, v := range r {
				acc = math.FMA(v, v, acc)
			}
		} else {
			for _, v := range r {
				acc += float64(v * v) // the conversion forbids fusing
			}
		}
		s.norm[i] = acc
	}
	if s.simd {
		s.panels = packPanels(x, n, d)
	}
	return s
}

// packPanels lays the rows of x out for dot4x8: panel q holds rows 8q..8q+7
// as a d×8 k-major block (element [k][c] = x[8q+c][k]); missing rows of the
// last panel are zeros.
func packPanels(x []float64, n, d int) []float64 {
	p := make([]float64, (n+7)/8*8*d)
	for i := range n {
		base := i/8*8*d + i%8
		for k, v := range x[i*d : i*d+d] {
			p[base+8*k] = v
		}
	}
	return p
}

// sqDistTile writes into out (row stride ldo) the squared Euclidean
// distances between rows i0..i1 of a and rows j0..j1 of b, clamped at 0.
// With SIMD, j0 must be a multiple of 8 and ldo ≥ j1−j0 rounded up to 8 (the
// padding columns receive junk).
func sqDistTile(out []float64, ldo int, a *set, i0, i1 int, b *set, j0, j1 int) {
	if i1 <= i0 || j1 <= j0 {
		return
	}
	d := a.d
	if a.simd {
		np := (j1 - j0 + 7) / 8
		if j0%8 != 0 || ldo < np*8 || len(out) < (i1-i0-1)*ldo+np*8 ||
			!b.simd || len(b.panels) < (j0+np*8)*d || len(a.x) < i1*d {
			panic("metrics: bad SIMD tile")
		}
		i := i0
		if d > 0 {
			for ; i+4 <= i1; i += 4 {
				dot4x8(&a.x[i*d], uintptr(8*d), &b.panels[j0*d], d, np, &out[(i-i0)*ldo], uintptr(8*ldo))
			}
		}
		for ; i < i1; i++ {
			xi := a.x[i*d : i*d+d]
			o := out[(i-i0)*ldo : (i-i0)*ldo+j1-j0]
			for c := range o {
				y := b.x[(j0+c)*d : (j0+c)*d+d][:len(xi)]
				var s float64
				for k, v := range xi {
					s = math.FMA(v, y[k], s)
				}
				o[c] = s
			}
		}
	} else {
		dotTileGo(out, ldo, a.x, i0, i1, b.x, j0, j1, d)
	}
	bn := b.norm[j0:j1]
	for i := i0; i < i1; i++ {
		ni := a.norm[i]
		o := out[(i-i0)*ldo : (i-i0)*ldo+len(bn)]
		for c, nj := range bn {
			o[c] = max(0, ni+nj-float64(2*o[c]))
		}
	}
}

// dotTileGo is the portable kernel: out[(i−i0)·ldo + j−j0] = x_i·y_j, each a
// sequential chain of separately rounded products and sums (4×2 register
// tiles).
func dotTileGo(out []float64, ldo int, x []float64, i0, i1 int, y []float64, j0, j1, d int) {
	w := j1 - j0
	i := i0
	for ; i+4 <= i1; i += 4 {
		x0 := x[i*d : i*d+d]
		x1 := x[(i+1)*d : (i+2)*d][:len(x0)]
		x2 := x[(i+2)*d : (i+3)*d][:len(x0)]
		x3 := x[(i+3)*d : (i+4)*d][:len(x0)]
		r := (i - i0) * ldo
		o0 := out[r : r+w]
		o1 := out[r+ldo : r+ldo+w][:len(o0)]
		o2 := out[r+2*ldo : r+2*ldo+w][:len(o0)]
		o3 := out[r+3*ldo : r+3*ldo+w][:len(o0)]
		j := j0
		for ; j+2 <= j1; j += 2 {
			y0 := y[j*d : j*d+d][:len(x0)]
			y1 := y[(j+1)*d : (j+2)*d][:len(x0)]
			var s00, s01, s10, s11, s20, s21, s30, s31 float64
			for k, a := range x0 {
				b0, b1 := y0[k], y1[k]
				s00 += float64(a * b0)
				s01 += float64(a * b1)
				c := x1[k]
				s10 += float64(c * b0)
				s11 += float64(c * b1)
				c = x2[k]
				s20 += float64(c * b0)
				s21 += float64(c * b1)
				c = x3[k]
				s30 += float64(c * b0)
				s31 += float64(c * b1)
			}
			c := j - j0
			o0[c], o0[c+1] = s00, s01
			o1[c], o1[c+1] = s10, s11
			o2[c], o2[c+1] = s20, s21
			o3[c], o3[c+1] = s30, s31
		}
		for ; j < j1; j++ {
			y0 := y[j*d : j*d+d][:len(x0)]
			var s0, s1, s2, s3 float64
			for k, b := range y0 {
				s0 += float64(x0[k] * b)
				s1 += float64(x1[k] * b)
				s2 += float64(x2[k] * b)
				s3 += float64(x3[k] * b)
			}
			c := j - j0
			o0[c], o1[c], o2[c], o3[c] = s0, s1, s2, s3
		}
	}
	for ; i < i1; i++ {
		x0 := x[i*d : i*d+d]
		o0 := out[(i-i0)*ldo : (i-i0)*ldo+w]
		for j := j0; j < j1; j++ {
			y0 := y[j*d : j*d+d][:len(x0)]
			var s float64
			for k, a := range x0 {
				s += float64(a * y0[k])
			}
			o0[j-j0] = s
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
