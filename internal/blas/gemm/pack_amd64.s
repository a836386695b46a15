//go:build amd64 && !purego

#include "textflag.h"

// func transpose8x8(dst *float32, dstStride int, src *float32, srcStride int, blocks int)
//
// For b < blocks: the 8×8 block of the 8 source rows (src + i·srcStride,
// i < 8) at columns 8b…8b+7 is written transposed: source column 8b+q
// becomes the 8 floats at dst + (8b+q)·dstStride. Strides are in floats.
// AVX (8×8 transpose in YMM registers: unpack, shuffle, lane permute).
TEXT ·transpose8x8(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStride+8(FP), R9
	MOVQ src+16(FP), SI
	MOVQ srcStride+24(FP), R8
	MOVQ blocks+32(FP), CX
	SHLQ $2, R8
	SHLQ $2, R9
	LEAQ (R8)(R8*2), R10   // 3 source rows
	LEAQ (SI)(R8*4), R11   // source row 4
	LEAQ (R9)(R9*2), R12   // 3 destination rows
	TESTQ CX, CX
	JZ    done

loop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R10*1), Y3
	VMOVUPS (R11), Y4
	VMOVUPS (R11)(R8*1), Y5
	VMOVUPS (R11)(R8*2), Y6
	VMOVUPS (R11)(R10*1), Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(R9*1)
	VMOVUPS Y10, (DI)(R9*2)
	VMOVUPS Y11, (DI)(R12*1)
	LEAQ    (DI)(R9*4), DI
	VMOVUPS Y12, (DI)
	VMOVUPS Y13, (DI)(R9*1)
	VMOVUPS Y14, (DI)(R9*2)
	VMOVUPS Y15, (DI)(R12*1)
	LEAQ    (DI)(R9*4), DI

	ADDQ $32, SI
	ADDQ $32, R11
	DECQ CX
	JNZ  loop

done:
	VZEROUPPER
	RET

// func copyPanels(dst *float32, dstStep int, src *float32, panels, nr int)
//
// For q < panels: the nr floats at src + q·nr go to dst + q·dstStep (one
// step of each of a row's B panels). nr is a positive multiple of 8;
// dstStep is in floats. AVX (32-byte moves).
TEXT ·copyPanels(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStep+8(FP), R9
	MOVQ src+16(FP), SI
	MOVQ panels+24(FP), CX
	MOVQ nr+32(FP), R8
	SHLQ $2, R9
	TESTQ CX, CX
	JZ    cpdone

cppanel:
	MOVQ DI, R10
	MOVQ R8, DX

cp8:
	VMOVUPS (SI), Y0
	VMOVUPS Y0, (R10)
	ADDQ    $32, SI
	ADDQ    $32, R10
	SUBQ    $8, DX
	JNZ     cp8
	ADDQ    R9, DI
	DECQ    CX
	JNZ     cppanel

cpdone:
	VZEROUPPER
	RET
