// Package kernels holds the float32 arithmetic behind gantrain's layers:
// convolutions, transposed convolutions, batch normalisation, activations.
//
// Layout: activations are channel-major, (C, B, H, W) — "CBHW" — so that a
// whole batch is one matrix of C rows for the GEMMs and every channel is one
// contiguous block for batch normalisation. Weights keep PyTorch's layouts
// (Conv2d (out, in, kh, kw), ConvTranspose2d (in, out, kh, kw)). The kernels
// know nothing of gorgonia; internal/nn wraps them as graph ops.
package kernels

import (
	"fmt"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/parallel"
)

// Geom describes a convolution from an image grid (C, B, H, W) to an output
// grid (·, B, OH, OW) with a KH×KW kernel, stride S and zero padding P. A
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

// Cols is the number of columns of the column matrix: B·OH·OW.
func (g Geom) Cols() int { return g.B * g.OH * g.OW }

// Im2Col writes cols (Rows × Cols), cols[(c,i,j)][(b,oy,ox)] =
// x[c][b][oy·S−P+i][ox·S−P+j], zero outside the image.
func Im2Col(g Geom, x, cols []float32) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	kk := g.KH * g.KW
	parallel.For(g.Rows()*g.B, 4, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			r, b := t/g.B, t%g.B
			c, ki, kj := r/kk, (r%kk)/g.KW, r%g.KW
			src := x[(c*g.B+b)*hw : (c*g.B+b+1)*hw]
			dst := cols[r*g.Cols()+b*ohw : r*g.Cols()+(b+1)*ohw]
			for oy := 0; oy < g.OH; oy++ {
				row := dst[oy*g.OW : (oy+1)*g.OW]
				iy := oy*g.S - g.P + ki
				if iy < 0 || iy >= g.H {
					clear(row)
					continue
				}
				line := src[iy*g.W : (iy+1)*g.W]
				ix := kj - g.P
				for ox := range row {
					if ix >= 0 && ix < g.W {
						row[ox] = line[ix]
					} else {
						row[ox] = 0
					}
					ix += g.S
				}
			}
		}
	})
}

// Col2Im is the adjoint of Im2Col: it sets x to zero and then adds every
// column entry into the image position it was read from.
func Col2Im(g Geom, cols, x []float32) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	kk := g.KH * g.KW
	parallel.For(g.C*g.B, 1, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			c, b := t/g.B, t%g.B
			dst := x[(c*g.B+b)*hw : (c*g.B+b+1)*hw]
			clear(dst)
			for k := 0; k < kk; k++ {
				ki, kj := k/g.KW, k%g.KW
				r := c*kk + k
				src := cols[r*g.Cols()+b*ohw : r*g.Cols()+(b+1)*ohw]
				for oy := 0; oy < g.OH; oy++ {
					iy := oy*g.S - g.P + ki
					if iy < 0 || iy >= g.H {
						continue
					}
					line := dst[iy*g.W : (iy+1)*g.W]
					row := src[oy*g.OW : (oy+1)*g.OW]
					ix := kj - g.P
					for ox := range row {
						if ix >= 0 && ix < g.W {
							line[ix] += row[ox]
						}
						ix += g.S
					}
				}
			}
		}
	})
}

// ConvForward computes y (Cout, B, OH, OW) = conv(x, w) for x (C, B, H, W)
// and w (Cout, C, KH, KW); cols is scratch of Rows×Cols.
func ConvForward(g Geom, cout int, x, w, y, cols []float32) {
	Im2Col(g, x, cols)
	blas.Sgemm(false, false, cout, g.Cols(), g.Rows(), 1, w, g.Rows(), cols, g.Cols(), 0, y, g.Cols())
}

// ConvBackwardData computes dx (C, B, H, W) from dy (Cout, B, OH, OW):
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
