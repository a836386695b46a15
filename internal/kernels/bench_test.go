package kernels

import "testing"

// The DCGAN's largest layer shapes, batch 64.
var (
	geoConv2 = mustGeom(64, 64, 14, 14, 4, 4, 2, 1) // D conv2: 64×14×14 → 128×7×7
	geoUp1   = mustGeom(64, 64, 14, 14, 4, 4, 2, 1) // G up1 is its adjoint: 128×7×7 → 64×14×14
)

func mustGeom(c, b, h, w, kh, kw, s, p int) Geom {
	g, err := NewGeom(c, b, h, w, kh, kw, s, p)
	if err != nil {
		panic(err)
	}
	return g
}

func BenchmarkIm2ColConv2(b *testing.B) {
	g := geoConv2
	x := make([]float32, g.C*g.B*g.H*g.W)
	cols := make([]float32, g.Rows()*g.Cols())
	b.SetBytes(int64(4 * len(cols)))
	for i := 0; i < b.N; i++ {
		Im2Col(g, x, cols)
	}
}

func BenchmarkCol2ImConv2(b *testing.B) {
	g := geoConv2
	x := make([]float32, g.C*g.B*g.H*g.W)
	cols := make([]float32, g.Rows()*g.Cols())
	b.SetBytes(int64(4 * len(cols)))
	for i := 0; i < b.N; i++ {
		Col2Im(g, cols, x)
	}
}

func BenchmarkConvForwardConv2(b *testing.B) {
	g := geoConv2
	x := make([]float32, g.C*g.B*g.H*g.W)
	w := make([]float32, 128*g.Rows())
	y := make([]float32, 128*g.Cols())
	cols := make([]float32, g.Rows()*g.Cols())
	for i := 0; i < b.N; i++ {
		ConvForward(g, 128, x, w, y, cols)
	}
	b.ReportMetric(2*128*float64(g.Rows()*g.Cols())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkBNForwardTrain(b *testing.B) {
	const c, m = 64, 64 * 14 * 14
	x := make([]float32, c*m)
	y := make([]float32, c*m)
	gamma, beta := make([]float32, c), make([]float32, c)
	mean, inv := make([]float32, c), make([]float32, c)
	st := NewBNStats(c, 0.1, 1e-5)
	b.SetBytes(int64(8 * len(x)))
	for i := 0; i < b.N; i++ {
		BNForwardTrain(x, y, gamma, beta, mean, inv, m, st, true, ReLU)
	}
}

func BenchmarkLeakyReLU(b *testing.B) {
	x := make([]float32, 64*14*14*64)
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	y := make([]float32, len(x))
	b.SetBytes(int64(8 * len(x)))
	for i := 0; i < b.N; i++ {
		copy(y, x)
		actInPlace(LeakyReLU, y)
		actGrad(LeakyReLU, y, x, y)
	}
}

// BenchmarkConvTransposeUp1 is the generator's 128→64 transposed
// convolution (7×7 → 14×14), forward and both gradients.
func BenchmarkConvTransposeUp1(b *testing.B) {
	g := geoUp1 // the adjoint geometry: 64×14×14 ↔ 128×7×7
	x := make([]float32, 128*g.OH*g.OW*g.B)
	w := make([]float32, 128*g.Rows())
	y := make([]float32, g.C*g.H*g.W*g.B)
	dw := make([]float32, len(w))
	cols := make([]float32, g.Rows()*g.Cols())
	for i := 0; i < b.N; i++ {
		ConvBackwardData(g, 128, x, w, y, cols)           // forward
		ConvForward(g, 128, y, w, x, cols)                // gradient wrt x (conv of dy)
		ConvTBackwardFilter(g, 128, x, y, dw, cols, true) // gradient wrt w, reusing im2col(dy)
	}
	b.ReportMetric(3*2*128*float64(g.Rows()*g.Cols())*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func BenchmarkBNBackward(b *testing.B) {
	const c, m = 64, 64 * 14 * 14
	x, y, dy, dx := make([]float32, c*m), make([]float32, c*m), make([]float32, c*m), make([]float32, c*m)
	gamma, mean, inv := make([]float32, c), make([]float32, c), make([]float32, c)
	dg, db := make([]float32, c), make([]float32, c)
	b.SetBytes(int64(16 * len(x)))
	for i := 0; i < b.N; i++ {
		BNBackward(x, y, dy, gamma, mean, inv, dx, dg, db, m, ReLU)
	}
}
