//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

// bf16Kernel is the AVX512_BF16 micro-kernel: sgemmKernel8x32's tile and
// blocking over bf16 pair panels (bf16.go). It is never the default;
// BF16() chooses it.
var bf16Kernel = &microKernel{
	name: "avx512-bf16", desc: "AVX-512 BF16", mr: 8, nr: 32, mcMax: 128, ncMax: 4096,
	runs: cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512BF16,
	why:  "the CPU has no AVX512_BF16", bf16: true,
	fn: func(kc int, a, b, c []float32, ldc, ldb int, alpha, beta float32) {
		sbgemmKernel8x32(kc, &a[0], &b[0], &c[0], ldc, ldb, alpha, beta)
	},
}

// sbgemmKernel8x32 is sgemmKernel8x32 on bf16 pair panels: kc slots, each
// two products per element. Implemented in bf16_amd64.s.
//
//go:noescape
func sbgemmKernel8x32(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32)

// bf16Pairs32 and bf16Pairs8 convert steps of a 32- or 8-lane float32
// panel into bf16 pair slots (bf16_amd64.s; pairSteps's contract).
//
//go:noescape
func bf16Pairs32(dst, src *float32, steps int, idx *uint16)

//go:noescape
func bf16Pairs8(dst, src *float32, steps2 int, idx *uint16)

// interleave32 and interleave8 are the VPERMW word orders: for 32 lanes,
// bf16 word j of the even step and word 16+j of the odd one (the two
// halves VCVTNE2PS2BF16 makes) side by side; for 8 lanes, the same
// within each of two consecutive pairs of steps.
var interleave32, interleave8 = func() (a, b [32]uint16) {
	for j := range 16 {
		a[2*j], a[2*j+1] = uint16(j), uint16(16+j)
	}
	for h := range 2 {
		for j := range 8 {
			b[16*h+2*j], b[16*h+2*j+1] = uint16(16*h+j), uint16(16*h+8+j)
		}
	}
	return
}()

// pairSteps converts the first pairs of steps of one panel (w lanes) with
// the assembly routines and returns how many it did.
func pairSteps(d, s []float32, w, pairs int) int {
	if !bf16Kernel.runs {
		return 0
	}
	switch w {
	case 32:
		if pairs > 0 {
			_ = s[pairs*64-1]
			_ = d[pairs*32-1]
			bf16Pairs32(&d[0], &s[0], pairs, &interleave32[0])
		}
		return pairs
	case 8:
		n := pairs / 2
		if n > 0 {
			_ = s[n*32-1]
			_ = d[n*16-1]
			bf16Pairs8(&d[0], &s[0], n, &interleave8[0])
		}
		return 2 * n
	}
	return 0
}

// The products bf16 leaves to float32 run on the AVX-512 kernel (BF16
// refuses to run when GEMM_KERNEL forces another).
func init() { bf16Kernel.f32 = kernels[0] }

//go:noescape
func bf16PairRows32(dst *float32, dstStep int, e, o *float32, panels int, idx *uint16)

// pairRows writes pair(e[q·32 + j], o[q·32 + j]) to d[q·step + j] for the
// first of panels 32-lane panels (j < 32) with the assembly routine and
// returns how many it did.
func pairRows(d []float32, step int, e, o []float32, panels int) int {
	if !bf16Kernel.runs || panels == 0 {
		return 0
	}
	_ = d[(panels-1)*step+31]
	_ = e[panels*32-1]
	_ = o[panels*32-1]
	bf16PairRows32(&d[0], step, &e[0], &o[0], panels, &interleave32[0])
	return panels
}
