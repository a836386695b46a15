//go:build amd64 && !purego

#include "textflag.h"

// One step p of the 6×16 outer-product update: Y12, Y13 = B̃[p][0:16],
// broadcast Ã[p][i] and accumulate into Y(2i), Y(2i+1).
// aoff, boff are byte offsets of step p from SI (Ã) and DI (B̃).
#define STEP(aoff, boff) \
	VMOVUPS      boff(DI), Y12        \
	VMOVUPS      boff+32(DI), Y13     \
	VBROADCASTSS aoff(SI), Y14        \
	VBROADCASTSS aoff+4(SI), Y15      \
	VFMADD231PS  Y12, Y14, Y0         \
	VFMADD231PS  Y13, Y14, Y1         \
	VFMADD231PS  Y12, Y15, Y2         \
	VFMADD231PS  Y13, Y15, Y3         \
	VBROADCASTSS aoff+8(SI), Y14      \
	VBROADCASTSS aoff+12(SI), Y15     \
	VFMADD231PS  Y12, Y14, Y4         \
	VFMADD231PS  Y13, Y14, Y5         \
	VFMADD231PS  Y12, Y15, Y6         \
	VFMADD231PS  Y13, Y15, Y7         \
	VBROADCASTSS aoff+16(SI), Y14     \
	VBROADCASTSS aoff+20(SI), Y15     \
	VFMADD231PS  Y12, Y14, Y8         \
	VFMADD231PS  Y13, Y14, Y9         \
	VFMADD231PS  Y12, Y15, Y10        \
	VFMADD231PS  Y13, Y15, Y11

// Row store with beta: C[r] = beta·C[r] + (alpha·acc), one rounding for the
// beta term's FMA.
#define STOREB(lo, hi) \
	VFMADD231PS (DX), Y13, lo         \
	VFMADD231PS 32(DX), Y13, hi       \
	VMOVUPS     lo, (DX)              \
	VMOVUPS     hi, 32(DX)            \
	ADDQ        R8, DX

// Row store without beta: C[r] = alpha·acc (C is not read).
#define STORE0(lo, hi) \
	VMOVUPS lo, (DX)                  \
	VMOVUPS hi, 32(DX)                \
	ADDQ    R8, DX

// func sgemmKernel6x16(kc int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-48
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	// Prefetch the 6 rows of C (each spans at most two cache lines): they
	// are read (beta ≠ 0) or written at the end, after kc steps.
	MOVQ       DX, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)
	ADDQ       R8, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)
	ADDQ       R8, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)
	ADDQ       R8, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)
	ADDQ       R8, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)
	ADDQ       R8, AX
	PREFETCHT0 (AX)
	PREFETCHT0 63(AX)

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	MOVQ CX, R9
	SHRQ $2, R9
	JZ   tail

loop4:
	STEP(0, 0)
	STEP(24, 64)
	STEP(48, 128)
	STEP(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ R9
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop1

store:
	VBROADCASTSS alpha+40(FP), Y12
	VMULPS       Y12, Y0, Y0
	VMULPS       Y12, Y1, Y1
	VMULPS       Y12, Y2, Y2
	VMULPS       Y12, Y3, Y3
	VMULPS       Y12, Y4, Y4
	VMULPS       Y12, Y5, Y5
	VMULPS       Y12, Y6, Y6
	VMULPS       Y12, Y7, Y7
	VMULPS       Y12, Y8, Y8
	VMULPS       Y12, Y9, Y9
	VMULPS       Y12, Y10, Y10
	VMULPS       Y12, Y11, Y11

	// beta = ±0 (all bits but the sign clear): do not read C.
	MOVL beta+44(FP), AX
	ANDL $0x7fffffff, AX
	JZ   nobeta

	VBROADCASTSS beta+44(FP), Y13
	STOREB(Y0, Y1)
	STOREB(Y2, Y3)
	STOREB(Y4, Y5)
	STOREB(Y6, Y7)
	STOREB(Y8, Y9)
	STOREB(Y10, Y11)
	VZEROUPPER
	RET

nobeta:
	STORE0(Y0, Y1)
	STORE0(Y2, Y3)
	STORE0(Y4, Y5)
	STORE0(Y6, Y7)
	STORE0(Y8, Y9)
	STORE0(Y10, Y11)
	VZEROUPPER
	RET
