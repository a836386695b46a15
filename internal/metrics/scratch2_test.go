package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

func fmaTile(out []float64, x []float64, i0, i1 int, y []float64, j0, j1, d int) {
	w := j1 - j0
	for i := i0; i+4 <= i1; i += 4 {
		x0 := x[i*d : i*d+d]
		x1 := x[(i+1)*d : (i+2)*d][:len(x0)]
		x2 := x[(i+2)*d : (i+3)*d][:len(x0)]
		x3 := x[(i+3)*d : (i+4)*d][:len(x0)]
		o0 := out[(i-i0)*w : (i-i0)*w+w]
		o1 := out[(i-i0+1)*w : (i-i0+2)*w][:len(o0)]
		o2 := out[(i-i0+2)*w : (i-i0+3)*w][:len(o0)]
		o3 := out[(i-i0+3)*w : (i-i0+4)*w][:len(o0)]
		for j := j0; j+2 <= j1; j += 2 {
			y0 := y[j*d : j*d+d][:len(x0)]
			y1 := y[(j+1)*d : (j+2)*d][:len(x0)]
			var s00, s01, s10, s11, s20, s21, s30, s31 float64
			for k, a := range x0 {
				b0, b1 := y0[k], y1[k]
				s00 = math.FMA(a, b0, s00)
				s01 = math.FMA(a, b1, s01)
				c := x1[k]
				s10 = math.FMA(c, b0, s10)
				s11 = math.FMA(c, b1, s11)
				c = x2[k]
				s20 = math.FMA(c, b0, s20)
				s21 = math.FMA(c, b1, s21)
				c = x3[k]
				s30 = math.FMA(c, b0, s30)
				s31 = math.FMA(c, b1, s31)
			}
			c := j - j0
			o0[c], o0[c+1] = s00, s01
			o1[c], o1[c+1] = s10, s11
			o2[c], o2[c+1] = s20, s21
			o3[c], o3[c+1] = s30, s31
		}
	}
}

func TestScratchKernel(t *testing.T) {
	n, d := 128, 64
	x := make([]float64, n*d)
	for i := range x {
		x[i] = rand.Float64()
	}
	xn := rowNorms(x, n, d)
	out := make([]float64, n*n)
	reps := 200
	st := time.Now()
	for range reps {
		sqDistTile(out, x, xn, 0, n, x, xn, 0, n, d)
	}
	el := time.Since(st)
	t.Logf("go: %.2f Gpairdim/s", float64(reps*n*n*d)/el.Seconds()/1e9)
	st = time.Now()
	for range reps {
		fmaTile(out, x, 0, n, x, 0, n, d)
	}
	el = time.Since(st)
	t.Logf("fma: %.2f Gpairdim/s", float64(reps*n*n*d)/el.Seconds()/1e9)
}
