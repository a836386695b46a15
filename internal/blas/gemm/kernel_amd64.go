//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// asmKernels are the assembly micro-kernels, fastest first. x/sys/cpu's
// feature bits also check that the OS saves the YMM (and ZMM) registers.
func asmKernels() []*microKernel {
	avx512 := &microKernel{
		name: "avx512", desc: "AVX-512", mr: 8, nr: 32, mcMax: 128, ncMax: 4096,
		runs: cpu.X86.HasAVX512F && cpu.X86.HasAVX,
		why:  "the CPU has no AVX-512F", direct: true,
		dot: []*dotKernel{{tm: 8, tn: 3, fn: dotTile8x3}, {tm: 8, tn: 2, fn: dotTile8x2}},
		row64: func(kc int, a, b, c []float32, ldb, half int, alpha, beta float32) {
			_ = b[(kc-1)*ldb+half+31]
			_ = c[63]
			sgemmKernel1x64(kc, &a[0], &b[0], &c[0], ldb, half, alpha, beta)
		},
		outer64: func(m int, a []float32, astep int, b, c []float32, ldc, n int, alpha, beta float32) {
			_ = a[(m-1)*astep]
			_ = b[n-1]
			_ = c[(m-1)*ldc+n-1]
			sgemmOuter64(m, &a[0], astep, &b[0], &c[0], ldc, n/64, alpha, beta)
		},
		fn: func(kc int, a, b, c []float32, ldc, ldb int, alpha, beta float32) {
			sgemmKernel8x32(kc, &a[0], &b[0], &c[0], ldc, ldb, alpha, beta)
		},
	}
	avx2 := &microKernel{
		name: "avx2", desc: "AVX2+FMA", mr: 6, nr: 16, mcMax: 144, ncMax: 4096,
		runs: cpu.X86.HasAVX2 && cpu.X86.HasFMA,
		why:  "the CPU lacks AVX2 or FMA3",
		dot:  []*dotKernel{{tm: 2, tn: 2, fn: dotTile2x2}},
		fn: func(kc int, a, b, c []float32, ldc, _ int, alpha, beta float32) {
			sgemmKernel6x16(kc, &a[0], &b[0], &c[0], ldc, alpha, beta)
		},
	}
	return []*microKernel{avx512, avx2}
}

// sgemmKernel8x32 is the AVX-512F micro-kernel (microKernel's contract,
// mr×nr = 8×32: 16 ZMM accumulators; rows of B̃ ldb floats apart).
// Implemented in kernel_avx512_amd64.s.
//
//go:noescape
func sgemmKernel8x32(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32)

// sgemmKernel1x64 is row 0 of sgemmKernel8x32 over two panels of B̃ (64
// columns, the second half floats after the first): the same bits,
// without the seven padding rows of a one-row A. Implemented in
// kernel_avx512_amd64.s.
//
//go:noescape
func sgemmKernel1x64(kc int, a, b, c *float32, ldb, half int, alpha, beta float32)

// sgemmOuter64 is an outer product (k = 1) over 64·n64 columns with the
// 8×32 kernel's operations per element, so its bits. Implemented in
// kernel_avx512_amd64.s.
//
//go:noescape
func sgemmOuter64(m int, a *float32, astep int, b, c *float32, ldc, n64 int, alpha, beta float32)

// sgemmKernel6x16 is the AVX2+FMA micro-kernel (mr×nr = 6×16: 12 YMM
// accumulators). Implemented in kernel_avx2_amd64.s.
//
//go:noescape
func sgemmKernel6x16(kc int, a, b, c *float32, ldc int, alpha, beta float32)

// dotTile8x3, dotTile8x2 (AVX-512F) and dotTile2x2 (AVX2+FMA) are the
// dot-product tile kernels (dotKernel's contract). Implemented in
// dot_amd64.s.
//
//go:noescape
func dotTile8x2(kb int, a *float32, lda int, b *float32, ldb int, acc *float32)

//go:noescape
func dotTile8x3(kb int, a *float32, lda int, b *float32, ldb int, acc *float32)

//go:noescape
func dotTile2x2(kb int, a *float32, lda int, b *float32, ldb int, acc *float32)

// haveTranspose8x8 reports whether the AVX packing routines (transpose8x8,
// copyPanels) run here.
var haveTranspose8x8 = cpu.X86.HasAVX

// transpose8x8 transposes blocks 8×8 blocks of 8 source rows: column
// 8b+q of rows src[i·srcStride] becomes dst[(8b+q)·dstStride + i], i < 8.
// Strides are in floats. Implemented in pack_amd64.s.
//
//go:noescape
func transpose8x8(dst *float32, dstStride int, src *float32, srcStride int, blocks int)

// copyPanels copies, for q < panels, the nr floats at src + q·nr to
// dst + q·dstStep (nr a positive multiple of 8). Implemented in
// pack_amd64.s (AVX).
//
//go:noescape
func copyPanels(dst *float32, dstStep int, src *float32, panels, nr int)

// transposeRows8 sets d[p·stride + i] = s[i·lds + p] for i < 8, p < kc:
// eight rows of length kc, lds apart in s, become kc steps of 8 values,
// stride apart in d.
func transposeRows8(d []float32, stride int, s []float32, lds, kc int) {
	_ = d[(kc-1)*stride+7]
	_ = s[7*lds+kc-1]
	kb := kc &^ 7
	if haveTranspose8x8 && kb > 0 {
		transpose8x8(&d[0], stride, &s[0], lds, kb/8)
	} else {
		kb = 0
	}
	for i := range 8 {
		row := s[i*lds+kb : i*lds+kc]
		for p, v := range row {
			d[(kb+p)*stride+i] = v
		}
	}
}
