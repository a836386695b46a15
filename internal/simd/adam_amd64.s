//go:build amd64 && !purego

#include "textflag.h"

// func adamAVX2(pp, gg, mm, vv *float32, n int, k *AdamConsts)
//
// adamGo on n elements, n a positive multiple of 8, eight at a time, the
// same operations in the same order (no fused multiply-add), so the same
// bits: VSQRTPS and VDIVPS round correctly, as float32(math.Sqrt) and
// the float32 division do.
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ pp+0(FP), DI
	MOVQ gg+8(FP), SI
	MOVQ mm+16(FP), BX
	MOVQ vv+24(FP), DX
	MOVQ n+32(FP), CX
	MOVQ k+40(FP), AX
	VBROADCASTSS 0(AX), Y10  // c1
	VBROADCASTSS 4(AX), Y11  // b2
	VBROADCASTSS 8(AX), Y12  // c2
	VBROADCASTSS 12(AX), Y13 // stepSize
	VBROADCASTSS 16(AX), Y14 // bc2sqrt
	VBROADCASTSS 20(AX), Y15 // eps
	VXORPS       Y9, Y9, Y9  // zero

loop:
	VMOVUPS (SI), Y0         // g
	VMOVUPS (BX), Y1         // m
	VSUBPS  Y1, Y0, Y2       // g - m
	VMULPS  Y10, Y2, Y2      // (g - m)·c1
	VADDPS  Y2, Y1, Y1       // m + …
	VMOVUPS Y1, (BX)
	VMOVUPS (DX), Y3         // v
	VMULPS  Y11, Y3, Y3      // v·b2
	VMULPS  Y0, Y12, Y4      // c2·g
	VMULPS  Y0, Y4, Y4       // (c2·g)·g
	VADDPS  Y4, Y3, Y3       // v·b2 + …
	VMOVUPS Y3, (DX)
	VSQRTPS Y3, Y5           // √v
	VDIVPS  Y14, Y5, Y5      // √v / bc2sqrt
	VADDPS  Y15, Y5, Y5      // + eps
	VMULPS  Y1, Y13, Y6      // stepSize·m
	VDIVPS  Y5, Y6, Y6       // / denom
	VMOVUPS (DI), Y7
	VSUBPS  Y6, Y7, Y7       // p - …
	VMOVUPS Y7, (DI)
	VMOVUPS Y9, (SI)         // g = 0
	ADDQ    $32, DI
	ADDQ    $32, SI
	ADDQ    $32, BX
	ADDQ    $32, DX
	SUBQ    $8, CX
	JNZ     loop
	VZEROUPPER
	RET
