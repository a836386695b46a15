#include "textflag.h"

// func dot4x8(x *float64, ldx uintptr, p *float64, d, np int, out *float64, ldo uintptr)
//
// Registers: SI, R10, R9, R11 the 4 x rows; DI the panel pointer (advances
// through consecutive panels); AX the byte offset k·8 into the x rows; CX the
// k counter; DX the output column pointer; R8 ldo; R12 panels left; R13 the
// output row pointer. Y0..Y7 accumulate row r, columns 0-3 (even) / 4-7
// (odd); Y8, Y9 hold the panel's 8 values for one k; Y10..Y13 the broadcast
// x values.
TEXT ·dot4x8(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ ldx+8(FP), BX
	MOVQ p+16(FP), DI
	MOVQ np+32(FP), R12
	MOVQ out+40(FP), DX
	MOVQ ldo+48(FP), R8
	LEAQ (SI)(BX*1), R10
	LEAQ (R10)(BX*1), R9
	LEAQ (R9)(BX*1), R11
	TESTQ R12, R12
	JEQ   done

panel:
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ   AX, AX
	MOVQ   d+24(FP), CX
	TESTQ  CX, CX
	JEQ    store

loop:
	VMOVUPD      (DI), Y8
	VMOVUPD      32(DI), Y9
	VBROADCASTSD (SI)(AX*1), Y10
	VFMADD231PD  Y8, Y10, Y0
	VFMADD231PD  Y9, Y10, Y1
	VBROADCASTSD (R10)(AX*1), Y11
	VFMADD231PD  Y8, Y11, Y2
	VFMADD231PD  Y9, Y11, Y3
	VBROADCASTSD (R9)(AX*1), Y12
	VFMADD231PD  Y8, Y12, Y4
	VFMADD231PD  Y9, Y12, Y5
	VBROADCASTSD (R11)(AX*1), Y13
	VFMADD231PD  Y8, Y13, Y6
	VFMADD231PD  Y9, Y13, Y7
	ADDQ         $64, DI
	ADDQ         $8, AX
	DECQ         CX
	JNZ          loop

store:
	MOVQ    DX, R13
	VMOVUPD Y0, (R13)
	VMOVUPD Y1, 32(R13)
	ADDQ    R8, R13
	VMOVUPD Y2, (R13)
	VMOVUPD Y3, 32(R13)
	ADDQ    R8, R13
	VMOVUPD Y4, (R13)
	VMOVUPD Y5, 32(R13)
	ADDQ    R8, R13
	VMOVUPD Y6, (R13)
	VMOVUPD Y7, 32(R13)
	ADDQ    $64, DX
	DECQ    R12
	JNZ     panel

done:
	VZEROUPPER
	RET
