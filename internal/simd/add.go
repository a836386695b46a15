// Package simd holds the vector loops of gantrain's non-GEMM passes that
// the Go compiler does not vectorize, in assembly where the CPU allows it
// (AVX2 on amd64), with a plain Go loop elsewhere. Every function gives the
// bits the plain loop gives.
package simd

// Add sets dst[i] += src[i]; dst and src have the same length.
func Add(dst, src []float32) {
	if len(src) != len(dst) {
		panic("simd.Add: lengths differ")
	}
	if len(dst) == 0 {
		return
	}
	if hasAVX2 {
		addAVX2(&dst[0], &src[0], len(dst))
		return
	}
	addGo(dst, src)
}

func addGo(dst, src []float32) {
	for i, v := range src {
		dst[i] += v
	}
}
