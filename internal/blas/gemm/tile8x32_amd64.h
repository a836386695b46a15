// The body of the 8×32 AVX-512 micro-kernels (sgemmKernel8x32 in
// kernel_avx512_amd64.s, sbgemmKernel8x32 in bf16_amd64.s), after their
// TEXT line: the loop over kc steps, unrolled by 4, of STEP (which the
// including file defines: one step of the 8×32 update from Ã at SI and
// B̃ at DI, into Z0…Z15), then C = alpha·acc (+ beta·C).

// Row store with beta: C[r] = beta·C[r] + (alpha·acc), one rounding for the
// beta term's FMA (the AVX2 kernel's formula, so both give the same bits).
#define STOREB(lo, hi) \
	VFMADD231PS (DX), Z27, lo         \
	VFMADD231PS 64(DX), Z27, hi       \
	VMOVUPS     lo, (DX)              \
	VMOVUPS     hi, 64(DX)            \
	ADDQ        R8, DX

// Row store without beta: C[r] = alpha·acc (C is not read).
#define STORE0(lo, hi) \
	VMOVUPS lo, (DX)                  \
	VMOVUPS hi, 64(DX)                \
	ADDQ    R8, DX

// Prefetch the 128 bytes of one row of C (up to three cache lines).
#define PREC \
	PREFETCHT0 (AX)                   \
	PREFETCHT0 64(AX)                 \
	PREFETCHT0 127(AX)                \
	ADDQ       R8, AX


	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ ldb+40(FP), R11
	SHLQ $2, R11            // one row of B̃
	LEAQ (R11)(R11*2), R12  // three rows
	MOVQ R11, R13
	SHLQ $2, R13            // four rows

	// The 8 rows of C are read (beta ≠ 0) or written after kc steps.
	MOVQ DX, AX
	PREC
	PREC
	PREC
	PREC
	PREC
	PREC
	PREC
	PREC

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

	MOVQ CX, R9
	SHRQ $2, R9
	JZ   tail

loop4:
	// Prefetch rows p+8…p+11 of B̃.
	LEAQ       (DI)(R13*2), R14
	PREFETCHT0 (R14)
	PREFETCHT0 64(R14)
	PREFETCHT0 (R14)(R11*1)
	PREFETCHT0 64(R14)(R11*1)
	STEP(0, (DI), 64(DI))
	STEP(32, (DI)(R11*1), 64(DI)(R11*1))
	PREFETCHT0 (R14)(R11*2)
	PREFETCHT0 64(R14)(R11*2)
	PREFETCHT0 (R14)(R12*1)
	PREFETCHT0 64(R14)(R12*1)
	STEP(64, (DI)(R11*2), 64(DI)(R11*2))
	STEP(96, (DI)(R12*1), 64(DI)(R12*1))
	ADDQ $128, SI
	ADDQ R13, DI
	DECQ R9
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP(0, (DI), 64(DI))
	ADDQ $32, SI
	ADDQ R11, DI
	DECQ CX
	JNZ  loop1

store:
	VBROADCASTSS alpha+48(FP), Z26
	VMULPS       Z26, Z0, Z0
	VMULPS       Z26, Z1, Z1
	VMULPS       Z26, Z2, Z2
	VMULPS       Z26, Z3, Z3
	VMULPS       Z26, Z4, Z4
	VMULPS       Z26, Z5, Z5
	VMULPS       Z26, Z6, Z6
	VMULPS       Z26, Z7, Z7
	VMULPS       Z26, Z8, Z8
	VMULPS       Z26, Z9, Z9
	VMULPS       Z26, Z10, Z10
	VMULPS       Z26, Z11, Z11
	VMULPS       Z26, Z12, Z12
	VMULPS       Z26, Z13, Z13
	VMULPS       Z26, Z14, Z14
	VMULPS       Z26, Z15, Z15

	// beta = ±0 (all bits but the sign clear): do not read C.
	MOVL beta+52(FP), AX
	ANDL $0x7fffffff, AX
	JZ   nobeta

	VBROADCASTSS beta+52(FP), Z27
	STOREB(Z0, Z1)
	STOREB(Z2, Z3)
	STOREB(Z4, Z5)
	STOREB(Z6, Z7)
	STOREB(Z8, Z9)
	STOREB(Z10, Z11)
	STOREB(Z12, Z13)
	STOREB(Z14, Z15)
	VZEROUPPER
	RET

nobeta:
	STORE0(Z0, Z1)
	STORE0(Z2, Z3)
	STORE0(Z4, Z5)
	STORE0(Z6, Z7)
	STORE0(Z8, Z9)
	STORE0(Z10, Z11)
	STORE0(Z12, Z13)
	STORE0(Z14, Z15)
	VZEROUPPER
	RET
