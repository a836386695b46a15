package gemm

import (
	"fmt"
	"testing"
)

// BenchmarkDotSplit times the k-split path, one thread, on the weight
// gradients of the two models' first D layers and two shapes near them.
func BenchmarkDotSplit(b *testing.B) {
	for _, sh := range [][3]int{{64, 16, 12544}, {64, 48, 65536}, {64, 32, 12544}, {128, 32, 4096}} {
		m, n, k := sh[0], sh[1], sh[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			a := make([]float32, m*k)
			bb := make([]float32, n*k)
			for i := range a {
				a[i] = float32(i%7) - 3
			}
			for i := range bb {
				bb[i] = float32(i%5) - 2
			}
			c := make([]float32, m*n)
			impl := Implementation{}
			segs := impl.Segments(false, true, m, n, k)
			if segs == 0 {
				b.Skipf("no k-split path for this kernel (%s)", impl.kernel().name)
			}
			for range b.N {
				impl.SgemmSplit(nil, segs, m, n, k, 1, a, k, bb, k, 0, c, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
