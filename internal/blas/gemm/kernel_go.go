package gemm

// kernelGo is the micro-kernel in plain Go: the fallback where the assembly
// one cannot run (other architectures, -tags purego, x86 CPUs without AVX2
// or FMA). It computes what the assembly kernel computes (products summed in
// order of p from zero, then C = beta·C + alpha·sum), though not necessarily
// bit for bit (the assembly fuses multiply and add). It is slow: where it
// is the kernel, Available is false and gantrain uses gonum.
func kernelGo(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	var acc [mr * nr]float32
	a = a[:mr*kc]
	b = b[:nr*kc]
	for p := range kc {
		ap := (*[mr]float32)(a[p*mr:])
		bp := (*[nr]float32)(b[p*nr:])
		for i, av := range ap {
			row := (*[nr]float32)(acc[i*nr:])
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
