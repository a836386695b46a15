package gemm

// kernelGo is the micro-kernel in plain Go for an mr×nr tile: the fallback
// where no assembly one can run (other architectures, -tags purego, x86
// CPUs without AVX2 or FMA), and the reference the assembly kernels are
// tested against. It computes what they compute (products summed in order
// of p from zero, then C = beta·C + alpha·sum), though not necessarily bit
// for bit (the assembly fuses multiply and add). It is slow: where it is
// the kernel, Available is false and gantrain uses gonum.
func kernelGo(mr, nr, kc int, a, b, c []float32, ldc, ldb int, alpha, beta float32) {
	acc := make([]float32, mr*nr)
	a = a[:mr*kc]
	for p := range kc {
		ap := a[p*mr : p*mr+mr]
		bp := b[p*ldb : p*ldb+nr]
		for i, av := range ap {
			row := acc[i*nr : i*nr+nr]
			for j, bv := range bp {
				row[j] += av * bv
			}
		}
	}
	for i := range mr {
		row := c[i*ldc : i*ldc+nr]
		for j := range row {
			t := float32(alpha * acc[i*nr+j])
			if beta == 0 {
				row[j] = t
			} else {
				row[j] = float32(beta*row[j]) + t
			}
		}
	}
}

// genericKernel is kernelGo on a 6×16 tile.
var genericKernel = &microKernel{
	name: "generic", desc: "generic Go", mr: 6, nr: 16, mcMax: 144, ncMax: 4096, runs: true, direct: true,
	fn: func(kc int, a, b, c []float32, ldc, ldb int, alpha, beta float32) {
		kernelGo(6, 16, kc, a, b, c, ldc, ldb, alpha, beta)
	},
}
