//go:build amd64 && !purego

#include "textflag.h"

// The dot-product tile kernels of dot.go. Each adds, for every element
// (i, j) of its tile and every lane l < 16, the products a_i[p]·b_j[p] with
// p ≡ l (mod 16), p < kb, in order of p, one fused multiply-add each, into
// acc[(i·tn + j)·16 + l]. The two kernels keep the 16 lanes of one element
// in one ZMM or two YMM registers: the same chains of the same operations,
// so they give the same bits.

// func dotTile2x2(kb int, a *float32, lda int, b *float32, ldb int, acc *float32)
//
// AVX2+FMA, the same contract on a 2×2 tile: Y(4i+2j) and Y(4i+2j+1) hold
// lanes 0–7 and 8–15 of element (i, j).
TEXT ·dotTile2x2(SB), NOSPLIT, $0-48
	MOVQ kb+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R9
	MOVQ acc+40(FP), DX
	SHLQ $2, R8
	SHLQ $2, R9
	SHRQ $4, CX

	VMOVUPS 0(DX), Y0
	VMOVUPS 32(DX), Y1
	VMOVUPS 64(DX), Y2
	VMOVUPS 96(DX), Y3
	VMOVUPS 128(DX), Y4
	VMOVUPS 160(DX), Y5
	VMOVUPS 192(DX), Y6
	VMOVUPS 224(DX), Y7

loop2:
	VMOVUPS     (DI), Y8
	VMOVUPS     32(DI), Y9
	VMOVUPS     (DI)(R9*1), Y10
	VMOVUPS     32(DI)(R9*1), Y11
	VMOVUPS     (SI), Y12
	VMOVUPS     32(SI), Y13
	VFMADD231PS Y8, Y12, Y0
	VFMADD231PS Y9, Y13, Y1
	VFMADD231PS Y10, Y12, Y2
	VFMADD231PS Y11, Y13, Y3
	VMOVUPS     (SI)(R8*1), Y14
	VMOVUPS     32(SI)(R8*1), Y15
	VFMADD231PS Y8, Y14, Y4
	VFMADD231PS Y9, Y15, Y5
	VFMADD231PS Y10, Y14, Y6
	VFMADD231PS Y11, Y15, Y7
	ADDQ        $64, SI
	ADDQ        $64, DI
	DECQ        CX
	JNZ         loop2

	VMOVUPS Y0, 0(DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VZEROUPPER
	RET

// The 8-row tile kernels' arguments: CX = kb/16 steps, SI, R8 = a and
// lda in bytes (R10 = 3·lda, R14 = row 4 of a), DI, R9 = b and ldb in
// bytes, DX = acc.
#define ARGS8 \
	MOVQ kb+0(FP), CX      \
	MOVQ a+8(FP), SI       \
	MOVQ lda+16(FP), R8    \
	MOVQ b+24(FP), DI      \
	MOVQ ldb+32(FP), R9    \
	MOVQ acc+40(FP), DX    \
	SHLQ $2, R8            \
	SHLQ $2, R9            \
	LEAQ (R8)(R8*2), R10   \
	LEAQ (SI)(R8*4), R14   \
	SHRQ $4, CX

// Z0…Z15 from and to the first 16 accumulators at DX.
#define LOAD16 \
	VMOVUPS 0(DX), Z0 \
	VMOVUPS 64(DX), Z1 \
	VMOVUPS 128(DX), Z2 \
	VMOVUPS 192(DX), Z3 \
	VMOVUPS 256(DX), Z4 \
	VMOVUPS 320(DX), Z5 \
	VMOVUPS 384(DX), Z6 \
	VMOVUPS 448(DX), Z7 \
	VMOVUPS 512(DX), Z8 \
	VMOVUPS 576(DX), Z9 \
	VMOVUPS 640(DX), Z10 \
	VMOVUPS 704(DX), Z11 \
	VMOVUPS 768(DX), Z12 \
	VMOVUPS 832(DX), Z13 \
	VMOVUPS 896(DX), Z14 \
	VMOVUPS 960(DX), Z15

#define STORE16 \
	VMOVUPS Z0, 0(DX) \
	VMOVUPS Z1, 64(DX) \
	VMOVUPS Z2, 128(DX) \
	VMOVUPS Z3, 192(DX) \
	VMOVUPS Z4, 256(DX) \
	VMOVUPS Z5, 320(DX) \
	VMOVUPS Z6, 384(DX) \
	VMOVUPS Z7, 448(DX) \
	VMOVUPS Z8, 512(DX) \
	VMOVUPS Z9, 576(DX) \
	VMOVUPS Z10, 640(DX) \
	VMOVUPS Z11, 704(DX) \
	VMOVUPS Z12, 768(DX) \
	VMOVUPS Z13, 832(DX) \
	VMOVUPS Z14, 896(DX) \
	VMOVUPS Z15, 960(DX)

// func dotTile8x2(kb int, a *float32, lda int, b *float32, ldb int, acc *float32)
//
// AVX-512F, an 8×2 tile: Z(2i+j) accumulates element (i, j). The driver
// keeps the eight A rows in L1 across a row of tiles and streams B's.
TEXT ·dotTile8x2(SB), NOSPLIT, $0-48
	ARGS8

	LOAD16

loop8:
	VMOVUPS     (DI), Z16
	VMOVUPS     (DI)(R9*1), Z17
	VMOVUPS     (SI), Z18
	VMOVUPS     (SI)(R8*1), Z19
	VFMADD231PS Z16, Z18, Z0
	VFMADD231PS Z17, Z18, Z1
	VMOVUPS     (SI)(R8*2), Z20
	VFMADD231PS Z16, Z19, Z2
	VFMADD231PS Z17, Z19, Z3
	VMOVUPS     (SI)(R10*1), Z21
	VFMADD231PS Z16, Z20, Z4
	VFMADD231PS Z17, Z20, Z5
	VMOVUPS     (R14), Z22
	VFMADD231PS Z16, Z21, Z6
	VFMADD231PS Z17, Z21, Z7
	VMOVUPS     (R14)(R8*1), Z23
	VFMADD231PS Z16, Z22, Z8
	VFMADD231PS Z17, Z22, Z9
	VMOVUPS     (R14)(R8*2), Z24
	VFMADD231PS Z16, Z23, Z10
	VFMADD231PS Z17, Z23, Z11
	VMOVUPS     (R14)(R10*1), Z25
	VFMADD231PS Z16, Z24, Z12
	VFMADD231PS Z17, Z24, Z13
	VFMADD231PS Z16, Z25, Z14
	VFMADD231PS Z17, Z25, Z15
	ADDQ        $64, SI
	ADDQ        $64, R14
	ADDQ        $64, DI
	DECQ        CX
	JNZ         loop8

	STORE16
	VZEROUPPER
	RET

// func dotTile8x3(kb int, a *float32, lda int, b *float32, ldb int, acc *float32)
//
// AVX-512F, an 8×3 tile: Z(3i+j) accumulates element (i, j).
TEXT ·dotTile8x3(SB), NOSPLIT, $0-48
	ARGS8

	LOAD16
	VMOVUPS 1024(DX), Z16
	VMOVUPS 1088(DX), Z17
	VMOVUPS 1152(DX), Z18
	VMOVUPS 1216(DX), Z19
	VMOVUPS 1280(DX), Z20
	VMOVUPS 1344(DX), Z21
	VMOVUPS 1408(DX), Z22
	VMOVUPS 1472(DX), Z23

loop83:
	VMOVUPS     (DI), Z24
	VMOVUPS     (DI)(R9*1), Z25
	VMOVUPS     (DI)(R9*2), Z26
	VMOVUPS     (SI), Z27
	VFMADD231PS Z24, Z27, Z0
	VFMADD231PS Z25, Z27, Z1
	VFMADD231PS Z26, Z27, Z2
	VMOVUPS     (SI)(R8*1), Z28
	VFMADD231PS Z24, Z28, Z3
	VFMADD231PS Z25, Z28, Z4
	VFMADD231PS Z26, Z28, Z5
	VMOVUPS     (SI)(R8*2), Z27
	VFMADD231PS Z24, Z27, Z6
	VFMADD231PS Z25, Z27, Z7
	VFMADD231PS Z26, Z27, Z8
	VMOVUPS     (SI)(R10*1), Z28
	VFMADD231PS Z24, Z28, Z9
	VFMADD231PS Z25, Z28, Z10
	VFMADD231PS Z26, Z28, Z11
	VMOVUPS     (R14), Z27
	VFMADD231PS Z24, Z27, Z12
	VFMADD231PS Z25, Z27, Z13
	VFMADD231PS Z26, Z27, Z14
	VMOVUPS     (R14)(R8*1), Z28
	VFMADD231PS Z24, Z28, Z15
	VFMADD231PS Z25, Z28, Z16
	VFMADD231PS Z26, Z28, Z17
	VMOVUPS     (R14)(R8*2), Z27
	VFMADD231PS Z24, Z27, Z18
	VFMADD231PS Z25, Z27, Z19
	VFMADD231PS Z26, Z27, Z20
	VMOVUPS     (R14)(R10*1), Z28
	VFMADD231PS Z24, Z28, Z21
	VFMADD231PS Z25, Z28, Z22
	VFMADD231PS Z26, Z28, Z23
	ADDQ        $64, SI
	ADDQ        $64, R14
	ADDQ        $64, DI
	DECQ        CX
	JNZ         loop83

	STORE16
	VMOVUPS Z16, 1024(DX)
	VMOVUPS Z17, 1088(DX)
	VMOVUPS Z18, 1152(DX)
	VMOVUPS Z19, 1216(DX)
	VMOVUPS Z20, 1280(DX)
	VMOVUPS Z21, 1344(DX)
	VMOVUPS Z22, 1408(DX)
	VMOVUPS Z23, 1472(DX)
	VZEROUPPER
	RET

