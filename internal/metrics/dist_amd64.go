package metrics

// cpuid and xgetbv are in dist_amd64.s.
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
func xgetbv() (eax, edx uint32)

// dot4x8 computes, for np consecutive column panels, the dot products of 4
// rows of x (row stride ldx bytes, starting at x) with the 8 columns of each
// panel (a panel is d×8 float64s, k-major, see packPanels), and stores them
// as 4 rows of 8 float64s per panel at out (row stride ldo bytes; panel q
// goes to out + 64·q bytes). Each dot product is the sequential FMA chain
// s = fma(x[k], y[k], s), k = 0..d−1, from s = 0. Requires AVX2 and FMA.
//
//go:noescape
func dot4x8(x *float64, ldx uintptr, p *float64, d, np int, out *float64, ldo uintptr)

// haveSIMD reports whether the CPU and the OS support AVX2 and FMA (the
// YMM state must be enabled in XCR0).
func haveSIMD() bool {
	maxID, _, _, _ := cpuid(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false
	}
	if xcr0, _ := xgetbv(); xcr0&6 != 6 {
		return false
	}
	_, ebx7, _, _ := cpuid(7, 0)
	const avx2 = 1 << 5
	return ebx7&avx2 != 0
}
