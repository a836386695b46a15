package metrics

import "golang.org/x/sys/cpu"

// dot4x8 computes, for np consecutive column panels, the dot products of 4
// rows of x (row stride ldx bytes, starting at x) with the 8 columns of each
// panel (a panel is d×8 float64s, k-major, see packPanels), and stores them
// as 4 rows of 8 float64s per panel at out (row stride ldo bytes; panel q
// goes to out + 64·q bytes). Each dot product is the sequential FMA chain
// s = fma(x[k], y[k], s), k = 0..d−1, from s = 0. Requires AVX2 and FMA.
//
//go:noescape
func dot4x8(x *float64, ldx uintptr, p *float64, d, np int, out *float64, ldo uintptr)

// haveSIMD reports whether the CPU and the OS support AVX2 and FMA
// (x/sys/cpu checks that the OS saves the YMM state).
func haveSIMD() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }
