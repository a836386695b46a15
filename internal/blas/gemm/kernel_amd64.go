//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// Available reports whether the fast micro-kernel runs on this machine: the
// assembly one needs AVX2 and FMA3 (x/sys/cpu also checks that the OS saves
// the YMM registers). Without it Implementation is correct but slow
// (kernelGo).
var Available = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// Description names the micro-kernel in use.
var Description = description()

func description() string {
	if Available {
		return "gantrain GEMM, AVX2+FMA (pure Go + assembly)"
	}
	return "gantrain GEMM (pure Go fallback kernel)"
}

// sgemmKernel6x16 computes the 6×16 block
//
//	C = alpha·Ã·B̃ + beta·C
//
// where Ã is a packed 6×kc panel (a[p·6 + i]) and B̃ a packed kc×16 panel
// (b[p·16 + j]), C row-major with leading dimension ldc, kc ≥ 1.
// beta = ±0 writes C without reading it. Implemented in kernel_amd64.s.
//
//go:noescape
func sgemmKernel6x16(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// kernel is the bounds-checked entry to the micro-kernel.
func kernel(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	if !Available {
		kernelGo(kc, a, b, c, ldc, alpha, beta)
		return
	}
	_ = a[mr*kc-1]
	_ = b[nr*kc-1]
	_ = c[(mr-1)*ldc+nr-1]
	sgemmKernel6x16(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
}
