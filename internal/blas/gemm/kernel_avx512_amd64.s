//go:build amd64 && !purego

#include "textflag.h"

// One step p of the 8×32 outer-product update: Z16, Z17 = B̃[p][0:32],
// broadcast Ã[p][i] into Z18…Z25 and accumulate into Z(2i), Z(2i+1).
// aoff is the byte offset of step p from SI (Ã); b0, b1 address the two
// halves of row p of B̃.
#define STEP(aoff, b0, b1) \
	VMOVUPS      b0, Z16              \
	VMOVUPS      b1, Z17              \
	VBROADCASTSS aoff(SI), Z18        \
	VBROADCASTSS aoff+4(SI), Z19      \
	VBROADCASTSS aoff+8(SI), Z20      \
	VBROADCASTSS aoff+12(SI), Z21     \
	VFMADD231PS  Z16, Z18, Z0         \
	VFMADD231PS  Z17, Z18, Z1         \
	VFMADD231PS  Z16, Z19, Z2         \
	VFMADD231PS  Z17, Z19, Z3         \
	VBROADCASTSS aoff+16(SI), Z22     \
	VBROADCASTSS aoff+20(SI), Z23     \
	VFMADD231PS  Z16, Z20, Z4         \
	VFMADD231PS  Z17, Z20, Z5         \
	VFMADD231PS  Z16, Z21, Z6         \
	VFMADD231PS  Z17, Z21, Z7         \
	VBROADCASTSS aoff+24(SI), Z24     \
	VBROADCASTSS aoff+28(SI), Z25     \
	VFMADD231PS  Z16, Z22, Z8         \
	VFMADD231PS  Z17, Z22, Z9         \
	VFMADD231PS  Z16, Z23, Z10        \
	VFMADD231PS  Z17, Z23, Z11        \
	VFMADD231PS  Z16, Z24, Z12        \
	VFMADD231PS  Z17, Z24, Z13        \
	VFMADD231PS  Z16, Z25, Z14        \
	VFMADD231PS  Z17, Z25, Z15

// func sgemmKernel8x32(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32)
TEXT ·sgemmKernel8x32(SB), NOSPLIT, $0-56
#include "tile8x32_amd64.h"

// func sgemmKernel1x64(kc int, a, b, c *float32, ldb, half int, alpha, beta float32)
//
// One row of C, 64 columns: the 8×32 kernel's row 0 over two panels, the
// same operations element for element (products summed in order of p from
// zero with one fused multiply-add each, then C = beta·C + alpha·acc), so
// the same bits. Ã is a packed panel (step p at a + p·32 bytes: mr = 8,
// only row 0 is read); row p of B̃ is 32 floats at b + p·ldb and 32 more
// at b + p·ldb + half (half = 32: 64 contiguous floats; 32·kc: two packed
// panels).
TEXT ·sgemmKernel1x64(SB), NOSPLIT, $0-56
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldb+32(FP), R11
	SHLQ $2, R11
	MOVQ half+40(FP), R12
	SHLQ $2, R12

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

row1:
	VBROADCASTSS (SI), Z16
	VFMADD231PS  (DI), Z16, Z0
	VFMADD231PS  64(DI), Z16, Z1
	VFMADD231PS  (DI)(R12*1), Z16, Z2
	VFMADD231PS  64(DI)(R12*1), Z16, Z3
	ADDQ         $32, SI
	ADDQ         R11, DI
	DECQ         CX
	JNZ          row1

	VBROADCASTSS alpha+48(FP), Z26
	VMULPS       Z26, Z0, Z0
	VMULPS       Z26, Z1, Z1
	VMULPS       Z26, Z2, Z2
	VMULPS       Z26, Z3, Z3
	MOVL         beta+52(FP), AX
	ANDL         $0x7fffffff, AX
	JZ           row1store
	VBROADCASTSS beta+52(FP), Z27
	VFMADD231PS  (DX), Z27, Z0
	VFMADD231PS  64(DX), Z27, Z1
	VFMADD231PS  128(DX), Z27, Z2
	VFMADD231PS  192(DX), Z27, Z3

row1store:
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VMOVUPS Z3, 192(DX)
	VZEROUPPER
	RET

// func sgemmOuter64(m int, a *float32, astep int, b, c *float32, ldc, n64 int, alpha, beta float32)
//
// An outer product (k = 1): for i < m and j < 64·n64, C[i][j] = beta·C[i][j]
// + alpha·(a_i·b_j), a_i = a[i·astep], each element computed with the 8×32
// kernel's operations for kc = 1 (a fused multiply-add onto zero, alpha,
// then beta's fused multiply-add), so with its bits.
TEXT ·sgemmOuter64(SB), NOSPLIT, $0-64
	MOVQ         m+0(FP), CX
	MOVQ         a+8(FP), SI
	MOVQ         astep+16(FP), R8
	SHLQ         $2, R8
	MOVQ         b+24(FP), DI
	MOVQ         c+32(FP), DX
	MOVQ         ldc+40(FP), R9
	SHLQ         $2, R9
	MOVQ         n64+48(FP), R10
	VBROADCASTSS alpha+56(FP), Z26
	VBROADCASTSS beta+60(FP), Z27
	MOVL         beta+60(FP), AX
	ANDL         $0x7fffffff, AX // zero: beta = ±0, C not read

outerrow:
	VBROADCASTSS (SI), Z16
	MOVQ         DI, R11
	MOVQ         DX, R12
	MOVQ         R10, BX

outercol:
	VPXORD      Z0, Z0, Z0
	VPXORD      Z1, Z1, Z1
	VPXORD      Z2, Z2, Z2
	VPXORD      Z3, Z3, Z3
	VFMADD231PS (R11), Z16, Z0
	VFMADD231PS 64(R11), Z16, Z1
	VFMADD231PS 128(R11), Z16, Z2
	VFMADD231PS 192(R11), Z16, Z3
	VMULPS      Z26, Z0, Z0
	VMULPS      Z26, Z1, Z1
	VMULPS      Z26, Z2, Z2
	VMULPS      Z26, Z3, Z3
	TESTL       AX, AX
	JZ          outerstore
	VFMADD231PS (R12), Z27, Z0
	VFMADD231PS 64(R12), Z27, Z1
	VFMADD231PS 128(R12), Z27, Z2
	VFMADD231PS 192(R12), Z27, Z3

outerstore:
	VMOVUPS Z0, (R12)
	VMOVUPS Z1, 64(R12)
	VMOVUPS Z2, 128(R12)
	VMOVUPS Z3, 192(R12)
	ADDQ    $256, R11
	ADDQ    $256, R12
	DECQ    BX
	JNZ     outercol
	ADDQ    R8, SI
	ADDQ    R9, DX
	DECQ    CX
	JNZ     outerrow
	VZEROUPPER
	RET
