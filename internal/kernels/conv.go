// Package kernels holds the float32 arithmetic behind gantrain's layers:
// convolutions, transposed convolutions, batch normalisation, activations.
//
// Layout: activations are (C, H, W, B) — channel first, batch last. A whole
// batch is one matrix of C rows for the GEMMs; every channel is one
// contiguous block for batch normalisation; a flattened feature vector
// (C·H·W, B) is the same memory, so fully connected layers need no
// reshuffling; and im2col moves whole batch vectors of B values at a time.
// Weights keep PyTorch's layouts (Conv2d (out, in, kh, kw),
// ConvTranspose2d (in, out, kh, kw)). The kernels know nothing of gorgonia;
// internal/nn wraps them as graph ops.
package kernels

import (
	"fmt"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/parallel"
	"github.com/gantrain/gantrain/internal/simd"
)

// Geom describes a convolution from an image grid (C, H, W, B) to an output
// grid (·, OH, OW, B) with a KH×KW kernel, stride S and zero padding P. A
// transposed convolution runs the same geometry backwards (from OH×OW to H×W).
type Geom struct {
	C, B, H, W int
	KH, KW     int
	S, P       int
	OH, OW     int
}

// NewGeom computes the output size of a convolution and checks that it tiles
// the padded input exactly (the case where a transposed convolution inverts it).
func NewGeom(c, b, h, w, kh, kw, s, p int) (Geom, error) {
	g := Geom{C: c, B: b, H: h, W: w, KH: kh, KW: kw, S: s, P: p}
	if c < 1 || b < 1 || h < 1 || w < 1 || kh < 1 || kw < 1 || s < 1 || p < 0 {
		return g, fmt.Errorf("kernels: bad convolution geometry %+v", g)
	}
	if h+2*p < kh || w+2*p < kw {
		return g, fmt.Errorf("kernels: kernel %dx%d larger than padded input %dx%d", kh, kw, h+2*p, w+2*p)
	}
	g.OH = (h+2*p-kh)/s + 1
	g.OW = (w+2*p-kw)/s + 1
	return g, nil
}

// Rows is the number of rows of the column matrix: C·KH·KW.
func (g Geom) Rows() int { return g.C * g.KH * g.KW }

// Cols is the number of columns of the column matrix: OH·OW·B.
func (g Geom) Cols() int { return g.B * g.OH * g.OW }

// span returns the range [lo, hi) of output positions o whose input
// position o·S − P + k falls inside [0, n).
func span(n, outN, s, p, k int) (lo, hi int) {
	// o·s ≥ p − k  ⇔  o ≥ ⌈(p − k)/s⌉
	if d := p - k; d > 0 {
		lo = (d + s - 1) / s
	}
	// o·s − p + k ≤ n − 1  ⇔  o ≤ ⌊(n − 1 + p − k)/s⌋
	if d := n - 1 + p - k; d >= 0 {
		hi = d/s + 1
	}
	hi = min(hi, outN)
	if lo > hi {
		lo = hi
	}
	return lo, hi
}

// Im2Col writes cols (Rows × Cols), cols[(c,i,j)][(oy,ox,b)] =
// x[c][oy·S−P+i][ox·S−P+j][b], zero outside the image. Each entry of the
// batch dimension is contiguous, so the work is copies of B values.
func Im2Col(g Geom, x, cols []float32) {
	kk := g.KH * g.KW
	ncols, b := g.Cols(), g.B
	rowLen := g.OW * b
	parallel.For(g.Rows(), 1, func(lo, hi int) {
		for r := lo; r < hi; r++ {
			c, ki, kj := r/kk, (r%kk)/g.KW, r%g.KW
			oyLo, oyHi := span(g.H, g.OH, g.S, g.P, ki)
			oxLo, oxHi := span(g.W, g.OW, g.S, g.P, kj)
			dst := cols[r*ncols : (r+1)*ncols]
			clear(dst[:oyLo*rowLen])
			clear(dst[oyHi*rowLen:])
			img := x[c*g.H*g.W*b : (c+1)*g.H*g.W*b]
			for oy := oyLo; oy < oyHi; oy++ {
				row := dst[oy*rowLen : (oy+1)*rowLen]
				clear(row[:oxLo*b])
				clear(row[oxHi*b:])
				if oxHi <= oxLo {
					continue
				}
				iy := oy*g.S - g.P + ki
				line := img[iy*g.W*b : (iy+1)*g.W*b]
				ix := oxLo*g.S - g.P + kj
				if g.S == 1 {
					copy(row[oxLo*b:oxHi*b], line[ix*b:])
					continue
				}
				for ox := oxLo; ox < oxHi; ox++ {
					copy(row[ox*b:(ox+1)*b], line[ix*b:(ix+1)*b])
					ix += g.S
				}
			}
		}
	})
}

// Col2Im is the adjoint of Im2Col: it sets x to zero and then adds every
// column entry into the image position it was read from. Work is split by
// image rows (c, iy), each written by one goroutine.
func Col2Im(g Geom, cols, x []float32) {
	kk := g.KH * g.KW
	ncols, b := g.Cols(), g.B
	rowLen := g.OW * b
	parallel.For(g.C*g.H, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			c, iy := t/g.H, t%g.H
			line := x[t*g.W*b : (t+1)*g.W*b]
			clear(line)
			for ki := 0; ki < g.KH; ki++ {
				// The output row oy that reads input row iy through kernel row ki.
				d := iy + g.P - ki
				if d < 0 || d%g.S != 0 || d/g.S >= g.OH {
					continue
				}
				oy := d / g.S
				for kj := 0; kj < g.KW; kj++ {
					oxLo, oxHi := span(g.W, g.OW, g.S, g.P, kj)
					r := c*kk + ki*g.KW + kj
					src := cols[r*ncols+oy*rowLen : r*ncols+(oy+1)*rowLen]
					ix := oxLo*g.S - g.P + kj
					if g.S == 1 && oxHi > oxLo {
						n := (oxHi - oxLo) * b
						simd.Add(line[ix*b:ix*b+n], src[oxLo*b:oxHi*b])
						continue
					}
					for ox := oxLo; ox < oxHi; ox++ {
						simd.Add(line[ix*b:(ix+1)*b], src[ox*b:(ox+1)*b])
						ix += g.S
					}
				}
			}
		}
	})
}

// ConvForward computes y (Cout, OH, OW, B) = conv(x, w) for x (C, H, W, B)
// and w (Cout, C, KH, KW); cols is scratch of Rows×Cols.
func ConvForward(g Geom, cout int, x, w, y, cols []float32) {
	Im2Col(g, x, cols)
	blas.Sgemm(false, false, cout, g.Cols(), g.Rows(), 1, w, g.Rows(), cols, g.Cols(), 0, y, g.Cols())
}

// ConvBackwardData computes dx (C, H, W, B) from dy (Cout, OH, OW, B):
// dx = col2im(wᵀ·dy). It is also the forward pass of a transposed
// convolution whose weight is (Cout, C, KH, KW) in its (in, out, kh, kw) layout.
func ConvBackwardData(g Geom, cout int, dy, w, dx, cols []float32) {
	blas.Sgemm(true, false, g.Rows(), g.Cols(), cout, 1, w, g.Rows(), dy, g.Cols(), 0, cols, g.Cols())
	Col2Im(g, cols, dx)
}

// ConvBackwardFilter computes dw (Cout, C, KH, KW) = dy·im2col(x)ᵀ. If
// colsReady is true, cols already holds im2col(x).
func ConvBackwardFilter(g Geom, cout int, x, dy, dw, cols []float32, colsReady bool) {
	if !colsReady {
		Im2Col(g, x, cols)
	}
	blas.Sgemm(false, true, cout, g.Rows(), g.Cols(), 1, dy, g.Cols(), cols, g.Cols(), 0, dw, g.Rows())
}

// ConvTBackwardFilter computes the gradient of a transposed convolution's
// weight (C, Cout, KH, KW) — here dy lives on the image grid and x on the
// output grid: dw = x·im2col(dy)ᵀ.
func ConvTBackwardFilter(g Geom, cin int, x, dy, dw, cols []float32, colsReady bool) {
	if !colsReady {
		Im2Col(g, dy, cols)
	}
	blas.Sgemm(false, true, cin, g.Rows(), g.Cols(), 1, x, g.Cols(), cols, g.Cols(), 0, dw, g.Rows())
}
