//go:build amd64 && !purego

#include "textflag.h"

// The bf16 micro-kernel and its packing (bf16.go). The Go assembler does
// not know the AVX512_BF16 instructions, so they are written as bytes,
// encoded by GNU as 2.40; each is named in the comment beside it.

// VDPBF16PS Z16, Z18, Z0: Z0.fp32[l] += Z16.bf16[2l]·Z18.bf16[2l] + Z16.bf16[2l+1]·Z18.bf16[2l+1]
#define DP0 BYTE $0x62; BYTE $0xb2; BYTE $0x6e; BYTE $0x40; BYTE $0x52; BYTE $0xc0
// VDPBF16PS Z17, Z18, Z1
#define DP1 BYTE $0x62; BYTE $0xb2; BYTE $0x6e; BYTE $0x40; BYTE $0x52; BYTE $0xc9
// VDPBF16PS Z16, Z19, Z2
#define DP2 BYTE $0x62; BYTE $0xb2; BYTE $0x66; BYTE $0x40; BYTE $0x52; BYTE $0xd0
// VDPBF16PS Z17, Z19, Z3
#define DP3 BYTE $0x62; BYTE $0xb2; BYTE $0x66; BYTE $0x40; BYTE $0x52; BYTE $0xd9
// VDPBF16PS Z16, Z20, Z4
#define DP4 BYTE $0x62; BYTE $0xb2; BYTE $0x5e; BYTE $0x40; BYTE $0x52; BYTE $0xe0
// VDPBF16PS Z17, Z20, Z5
#define DP5 BYTE $0x62; BYTE $0xb2; BYTE $0x5e; BYTE $0x40; BYTE $0x52; BYTE $0xe9
// VDPBF16PS Z16, Z21, Z6
#define DP6 BYTE $0x62; BYTE $0xb2; BYTE $0x56; BYTE $0x40; BYTE $0x52; BYTE $0xf0
// VDPBF16PS Z17, Z21, Z7
#define DP7 BYTE $0x62; BYTE $0xb2; BYTE $0x56; BYTE $0x40; BYTE $0x52; BYTE $0xf9
// VDPBF16PS Z16, Z22, Z8
#define DP8 BYTE $0x62; BYTE $0x32; BYTE $0x4e; BYTE $0x40; BYTE $0x52; BYTE $0xc0
// VDPBF16PS Z17, Z22, Z9
#define DP9 BYTE $0x62; BYTE $0x32; BYTE $0x4e; BYTE $0x40; BYTE $0x52; BYTE $0xc9
// VDPBF16PS Z16, Z23, Z10
#define DP10 BYTE $0x62; BYTE $0x32; BYTE $0x46; BYTE $0x40; BYTE $0x52; BYTE $0xd0
// VDPBF16PS Z17, Z23, Z11
#define DP11 BYTE $0x62; BYTE $0x32; BYTE $0x46; BYTE $0x40; BYTE $0x52; BYTE $0xd9
// VDPBF16PS Z16, Z24, Z12
#define DP12 BYTE $0x62; BYTE $0x32; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe0
// VDPBF16PS Z17, Z24, Z13
#define DP13 BYTE $0x62; BYTE $0x32; BYTE $0x3e; BYTE $0x40; BYTE $0x52; BYTE $0xe9
// VDPBF16PS Z16, Z25, Z14
#define DP14 BYTE $0x62; BYTE $0x32; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf0
// VDPBF16PS Z17, Z25, Z15
#define DP15 BYTE $0x62; BYTE $0x32; BYTE $0x36; BYTE $0x40; BYTE $0x52; BYTE $0xf9

// One step p of the 8×32 update over bf16 pairs: Z16, Z17 = B̃[p][0:32]
// (each float slot holds the pair B[2p][j], B[2p+1][j] as two bf16),
// broadcast the slot Ã[p][i] (the pair A[i][2p], A[i][2p+1]) into
// Z18…Z25, and add both products of each pair into Z(2i), Z(2i+1) in fp32.
#define STEP(aoff, b0, b1) \
	VMOVUPS      b0, Z16              \
	VMOVUPS      b1, Z17              \
	VBROADCASTSS aoff(SI), Z18        \
	VBROADCASTSS aoff+4(SI), Z19      \
	VBROADCASTSS aoff+8(SI), Z20      \
	VBROADCASTSS aoff+12(SI), Z21     \
	DP0                               \
	DP1                               \
	DP2                               \
	DP3                               \
	VBROADCASTSS aoff+16(SI), Z22     \
	VBROADCASTSS aoff+20(SI), Z23     \
	DP4                               \
	DP5                               \
	DP6                               \
	DP7                               \
	VBROADCASTSS aoff+24(SI), Z24     \
	VBROADCASTSS aoff+28(SI), Z25     \
	DP8                               \
	DP9                               \
	DP10                              \
	DP11                              \
	DP12                              \
	DP13                              \
	DP14                              \
	DP15

// func sbgemmKernel8x32(kc int, a, b, c *float32, ldc, ldb int, alpha, beta float32)
//
// sgemmKernel8x32 with VDPBF16PS for VFMADD231PS: kc steps of bf16 pairs,
// 2·kc products per element of C.
TEXT ·sbgemmKernel8x32(SB), NOSPLIT, $0-56
#include "tile8x32_amd64.h"

// VCVTNE2PS2BF16 Z0, Z2, Z4: Z4.bf16[0:16] = Z0's 16 floats, [16:32] = Z2's
// (round to nearest even).
#define CVT_0_2_4 BYTE $0x62; BYTE $0xf2; BYTE $0x6f; BYTE $0x48; BYTE $0x72; BYTE $0xe0
// VCVTNE2PS2BF16 Z1, Z3, Z4
#define CVT_1_3_4 BYTE $0x62; BYTE $0xf2; BYTE $0x67; BYTE $0x48; BYTE $0x72; BYTE $0xe1

// func bf16Pairs32(dst, src *float32, steps int, idx *uint16)
//
// For s < steps: the 64 floats at src + s·64 (an even step of a 32-wide
// panel, then the odd step) become 32 pair slots at dst + s·32: slot j =
// bf16(even[j]) | bf16(odd[j])<<16. idx is the 32-word interleave.
TEXT ·bf16Pairs32(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ steps+16(FP), CX
	MOVQ idx+24(FP), AX
	VMOVDQU16 (AX), Z31
loop32:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS 128(SI), Z2
	VMOVUPS 192(SI), Z3
	CVT_0_2_4
	VPERMW  Z4, Z31, Z5
	VMOVUPS Z5, (DI)
	CVT_1_3_4
	VPERMW  Z4, Z31, Z5
	VMOVUPS Z5, 64(DI)
	ADDQ    $256, SI
	ADDQ    $128, DI
	DECQ    CX
	JNZ     loop32
	VZEROUPPER
	RET

// func bf16Pairs8(dst, src *float32, steps2 int, idx *uint16)
//
// For s < steps2: the 32 floats at src + s·32 (two pairs of steps of an
// 8-wide panel) become 16 pair slots at dst + s·16, as in bf16Pairs32.
TEXT ·bf16Pairs8(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ steps2+16(FP), CX
	MOVQ idx+24(FP), AX
	VMOVDQU16 (AX), Z31
loop8:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z2
	CVT_0_2_4
	VPERMW  Z4, Z31, Z5
	VMOVUPS Z5, (DI)
	ADDQ    $128, SI
	ADDQ    $64, DI
	DECQ    CX
	JNZ     loop8
	VZEROUPPER
	RET

// func bf16PairRows32(dst *float32, dstStep int, e, o *float32, panels int, idx *uint16)
//
// For q < panels: the 32 floats at e + q·32 (a row of op(B)) and at o +
// q·32 (the next row) become 32 pair slots at dst + q·dstStep floats, as
// in bf16Pairs32: one step of each of panels packed panels, converted as
// they are copied.
TEXT ·bf16PairRows32(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ dstStep+8(FP), DX
	SHLQ $2, DX
	MOVQ e+16(FP), SI
	MOVQ o+24(FP), BX
	MOVQ panels+32(FP), CX
	MOVQ idx+40(FP), AX
	VMOVDQU16 (AX), Z31
loopRows:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z1
	VMOVUPS (BX), Z2
	VMOVUPS 64(BX), Z3
	CVT_0_2_4
	VPERMW  Z4, Z31, Z5
	VMOVUPS Z5, (DI)
	CVT_1_3_4
	VPERMW  Z4, Z31, Z5
	VMOVUPS Z5, 64(DI)
	ADDQ    $128, SI
	ADDQ    $128, BX
	ADDQ    DX, DI
	DECQ    CX
	JNZ     loopRows
	VZEROUPPER
	RET
