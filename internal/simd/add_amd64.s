//go:build amd64 && !purego

#include "textflag.h"

// func addAVX2(dst, src *float32, n int)
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

loop32:
	CMPQ    CX, $32
	JL      loop8
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VADDPS  (DI), Y0, Y0
	VADDPS  32(DI), Y1, Y1
	VADDPS  64(DI), Y2, Y2
	VADDPS  96(DI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     loop32

loop8:
	CMPQ    CX, $8
	JL      tail
	VMOVUPS (SI), Y0
	VADDPS  (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     loop8

tail:
	TESTQ  CX, CX
	JE     done
	VMOVSS (SI), X0
	VADDSS (DI), X0, X0
	VMOVSS X0, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JMP    tail

done:
	VZEROUPPER
	RET

// func affineActAVX2(xs, ys *float32, n int, a, b float32, act int, slope float32)
// Frame: xs 0, ys 8, n 16, a 24, b 28, act 32, slope 40.
TEXT ·affineActAVX2(SB), NOSPLIT, $0-44
	MOVQ         xs+0(FP), SI
	MOVQ         ys+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y0
	VBROADCASTSS b+28(FP), Y1
	VBROADCASTSS slope+40(FP), Y2
	MOVQ         act+32(FP), AX
	CMPQ         AX, $1
	JEQ          relu
	CMPQ         AX, $2
	JEQ          leaky

ident:
	VMOVUPS (SI), Y4
	VMULPS  Y0, Y4, Y4
	VADDPS  Y1, Y4, Y4
	VMOVUPS Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     ident
	VZEROUPPER
	RET

relu:
	VMOVUPS (SI), Y4
	VMULPS  Y0, Y4, Y4
	VADDPS  Y1, Y4, Y4
	VPSRAD  $31, Y4, Y5  // all ones where the sign bit is set
	VPANDN  Y4, Y5, Y4   // Y4 &^ Y5: negatives (−0 too) → +0
	VMOVUPS Y4, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JNE     relu
	VZEROUPPER
	RET

leaky:
	MOVL         $0x3f800000, AX // 1.0
	MOVL         AX, X3
	VBROADCASTSS X3, Y3

leakyloop:
	VMOVUPS   (SI), Y4
	VMULPS    Y0, Y4, Y4
	VADDPS    Y1, Y4, Y4
	VBLENDVPS Y4, Y2, Y3, Y6 // slope where Y4's sign bit is set, else 1
	VMULPS    Y6, Y4, Y4
	VMOVUPS   Y4, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DI
	SUBQ      $8, CX
	JNE       leakyloop
	VZEROUPPER
	RET

// func actGradAVX2(y, dy, out *float32, n int, act int, slope float32)
// Frame: y 0, dy 8, out 16, n 24, act 32, slope 40.
TEXT ·actGradAVX2(SB), NOSPLIT, $0-44
	MOVQ         y+0(FP), SI
	MOVQ         dy+8(FP), DX
	MOVQ         out+16(FP), DI
	MOVQ         n+24(FP), CX
	VBROADCASTSS slope+40(FP), Y2
	VPXOR        Y7, Y7, Y7
	MOVL         $0x3f800000, AX // 1.0
	MOVL         AX, X3
	VBROADCASTSS X3, Y3
	MOVQ         act+32(FP), AX
	CMPQ         AX, $2
	JEQ          leakyg

relug:
	VMOVUPS  (SI), Y4
	VPCMPGTD Y7, Y4, Y5 // all ones where y's bits are a positive integer: y > 0
	VPAND    (DX), Y5, Y4
	VMOVUPS  Y4, (DI)
	ADDQ     $32, SI
	ADDQ     $32, DX
	ADDQ     $32, DI
	SUBQ     $8, CX
	JNE      relug
	VZEROUPPER
	RET

leakyg:
	VMOVUPS   (SI), Y4
	VPCMPGTD  Y7, Y4, Y5
	VBLENDVPS Y5, Y3, Y2, Y6 // 1 where y > 0, else slope
	VMULPS    (DX), Y6, Y4
	VMOVUPS   Y4, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $32, DI
	SUBQ      $8, CX
	JNE       leakyg
	VZEROUPPER
	RET
