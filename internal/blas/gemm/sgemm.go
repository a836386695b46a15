// Package gemm is gantrain's own single-threaded float32 matrix product
// (GEMM), in Go with an AVX2+FMA assembly micro-kernel on amd64. It is a
// package of its own, without cgo, because Go assembly cannot live in a
// package that uses cgo (internal/blas does, with -tags openblas).
package gemm

import (
	"sync"

	"gonum.org/v1/gonum/blas"
)

// Implementation is gantrain's own single-threaded float32 GEMM, organised
// like GotoBLAS/BLIS: op(A) is packed into panels of mr rows, op(B) into
// panels of nr columns (the packing absorbs the transposes and the leading
// dimensions, so one micro-kernel serves all four cases), and the loops are
// blocked so that a packed mc×kc block of A stays in L2 and a kc×nr panel of
// B in L1 while the micro-kernel computes one mr×nr block of C over kc.
//
// The micro-kernel is AVX2+FMA assembly on amd64 (kernel_amd64.s). Where
// that cannot run (Available is false: other architectures, -tags purego,
// CPUs without AVX2/FMA) a plain-Go kernel takes its place: correct, and
// testable everywhere, but slower than gonum, which internal/blas then uses.
//
// Only Sgemm is implemented: it is all that gantrain calls. It is safe for
// concurrent use (each call takes its own pack buffers from a sync.Pool).
type Implementation struct{}

// Blocking parameters. mr and nr are fixed by the micro-kernel (6×16:
// 12 YMM accumulators). One kc×nr panel of packed B, kcMax·nr·4 = 16 KiB,
// stays in the 32 KiB L1 while the kernel sweeps the packed mc×kc block of A,
// mcMax·kcMax·4 = 144 KiB, held in L2 (512 KiB–1 MiB); the packed kc×nc
// block of B, up to kcMax·ncMax·4 = 4 MiB, lives in L3.
const (
	mr    = 6
	nr    = 16
	kcMax = 256
	mcMax = 144 // multiple of mr
	ncMax = 4096
)

// The element order of every dot product depends only on k (the kc blocks
// are a function of k alone, and the kernel adds them in order), never on m,
// n or where C is cut: blas.Sgemm's row or column blocks give results
// bitwise equal to one call on the whole matrix.

// workspace holds the pack buffers of one goroutine's call.
type workspace struct {
	a, b []float32
}

var workspaces = sync.Pool{New: func() any { return new(workspace) }}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// with gonum's (and the reference BLAS's) argument checks and conventions:
// beta = 0 overwrites C without reading it; alpha = 0 or k = 0 only scales C.
func (Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	transA, transB := checkTrans(tA), checkTrans(tB)
	if m < 0 {
		panic("blas: m < 0")
	}
	if n < 0 {
		panic("blas: n < 0")
	}
	if k < 0 {
		panic("blas: k < 0")
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	if lda < max(1, colsA) {
		panic("blas: bad lda")
	}
	if ldb < max(1, colsB) {
		panic("blas: bad ldb")
	}
	if ldc < max(1, n) {
		panic("blas: bad ldc")
	}
	if m == 0 || n == 0 {
		return
	}
	if rowsA > 0 && len(a) < (rowsA-1)*lda+colsA {
		panic("blas: insufficient length of a")
	}
	if rowsB > 0 && len(b) < (rowsB-1)*ldb+colsB {
		panic("blas: insufficient length of b")
	}
	if len(c) < (m-1)*ldc+n {
		panic("blas: insufficient length of c")
	}
	if alpha == 0 || k == 0 {
		scaleC(m, n, beta, c, ldc)
		return
	}
	sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

func checkTrans(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic("blas: illegal transpose")
}

// scaleC sets C = beta·C; beta = 0 writes zeros without reading C.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// sgemm is the blocked driver; arguments are checked, m, n, k ≥ 1, alpha ≠ 0.
func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	// Split k into equal blocks of at most kcMax (k = 257 gives 129+128, not
	// 256+1), and n likewise into blocks of at most ncMax, multiples of nr.
	kc0 := ceilDiv(k, ceilDiv(k, kcMax))
	nc0 := roundUp(ceilDiv(n, ceilDiv(n, ncMax)), nr)
	mc0 := min(mcMax, roundUp(m, mr))

	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	ws.a = grow(ws.a, mc0*kc0)
	ws.b = grow(ws.b, roundUp(min(nc0, n), nr)*kc0)

	for jc := 0; jc < n; jc += nc0 {
		nc := min(nc0, n-jc)
		for pc := 0; pc < k; pc += kc0 {
			kc := min(kc0, k-pc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			packB(transB, b, ldb, pc, kc, jc, nc, ws.b)
			for ic := 0; ic < m; ic += mc0 {
				mc := min(mc0, m-ic)
				packA(transA, a, lda, ic, mc, pc, kc, ws.a)
				macroKernel(mc, nc, kc, alpha, ws.a, ws.b, bet, c[ic*ldc+jc:], ldc)
			}
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// macroKernel computes C[:mc, :nc] = alpha·Ã·B̃ + beta·C from the packed
// block Ã (mc×kc, panels of mr rows) and B̃ (kc×nc, panels of nr columns).
// Edge tiles go through a full mr×nr scratch tile and the same kernel, so
// they compute exactly what an interior tile would.
func macroKernel(mc, nc, kc int, alpha float32, ap, bp []float32, beta float32, c []float32, ldc int) {
	for jr := 0; jr < nc; jr += nr {
		nrr := min(nr, nc-jr)
		bpan := bp[jr*kc : (jr+nr)*kc]
		for ir := 0; ir < mc; ir += mr {
			mrr := min(mr, mc-ir)
			apan := ap[ir*kc : (ir+mr)*kc]
			cc := c[ir*ldc+jr:]
			if mrr == mr && nrr == nr {
				kernel(kc, apan, bpan, cc, ldc, alpha, beta)
				continue
			}
			var t [mr * nr]float32
			if beta != 0 {
				for i := range mrr {
					copy(t[i*nr:i*nr+nrr], cc[i*ldc:i*ldc+nrr])
				}
			}
			kernel(kc, apan, bpan, t[:], nr, alpha, beta)
			for i := range mrr {
				copy(cc[i*ldc:i*ldc+nrr], t[i*nr:i*nr+nrr])
			}
		}
	}
}

// packA copies op(A)[ic:ic+mc, pc:pc+kc] into dst as ceil(mc/mr) panels;
// panel q holds rows ic+q·mr… as dst[q·mr·kc + p·mr + i], zero-padded.
// Source rows are read sequentially: strided reads across many rows of a
// big matrix cost several times more (cache lines and TLB entries).
func packA(trans bool, a []float32, lda, ic, mc, pc, kc int, dst []float32) {
	full := mc - mc%mr // rows in full panels
	if trans {
		// op(A)[r][p] = a[p·lda + r]: row p of a feeds step p of every panel.
		for p := range kc {
			row := a[(pc+p)*lda+ic : (pc+p)*lda+ic+mc]
			for ir := 0; ir < full; ir += mr {
				*(*[mr]float32)(dst[ir*kc+p*mr:]) = *(*[mr]float32)(row[ir:])
			}
			if full < mc {
				d := dst[full*kc+p*mr : full*kc+p*mr+mr]
				copy(d, row[full:])
				clear(d[mc-full:])
			}
		}
		return
	}
	// op(A)[r][p] = a[r·lda + p]: interleave mr rows.
	for ir := 0; ir < mc; ir += mr {
		mrr := min(mr, mc-ir)
		d := dst[ir*kc : (ir+mr)*kc]
		r0 := ic + ir
		if mrr == mr {
			row := func(i int) []float32 { return a[(r0+i)*lda+pc : (r0+i)*lda+pc+kc] }
			transpose6(d, kc, row(0), row(1), row(2), row(3), row(4), row(5))
			continue
		}
		for i := range mr {
			if i >= mrr {
				for p := range kc {
					d[p*mr+i] = 0
				}
				continue
			}
			src := a[(r0+i)*lda+pc : (r0+i)*lda+pc+kc]
			for p, v := range src {
				d[p*mr+i] = v
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as ceil(nc/nr) panels;
// panel q holds columns jc+q·nr… as dst[q·nr·kc + p·nr + j], zero-padded.
func packB(trans bool, b []float32, ldb, pc, kc, jc, nc int, dst []float32) {
	if !trans {
		// op(B)[p][j] = b[p·ldb + j]: row p of b feeds step p of every panel.
		full := nc - nc%nr
		for p := range kc {
			row := b[(pc+p)*ldb+jc : (pc+p)*ldb+jc+nc]
			for jr := 0; jr < full; jr += nr {
				copy16((*[nr]float32)(dst[jr*kc+p*nr:]), (*[nr]float32)(row[jr:]))
			}
			if full < nc {
				d := dst[full*kc+p*nr : full*kc+p*nr+nr]
				copy(d, row[full:])
				clear(d[nc-full:])
			}
		}
		return
	}
	// op(B)[p][j] = b[j·ldb + p]: a full panel reads nr rows of b side by
	// side and writes each step's nr values contiguously.
	for jr := 0; jr < nc; jr += nr {
		nrr := min(nr, nc-jr)
		d := dst[jr*kc : (jr+nr)*kc]
		row := func(j int) []float32 { return b[(jc+jr+j)*ldb+pc : (jc+jr+j)*ldb+pc+kc] }
		if nrr == nr {
			transpose16(d, kc, row(0), row(1), row(2), row(3), row(4), row(5), row(6), row(7),
				row(8), row(9), row(10), row(11), row(12), row(13), row(14), row(15))
			continue
		}
		for j := range nr {
			if j >= nrr {
				for p := range kc {
					d[p*nr+j] = 0
				}
				continue
			}
			for p, v := range row(j) {
				d[p*nr+j] = v
			}
		}
	}
}

// transpose6 sets d[p·6 + i] = si[p] for p < kc; every si has length kc.
func transpose6(d []float32, kc int, s0, s1, s2, s3, s4, s5 []float32) {
	d = d[:kc*mr]
	s0, s1, s2, s3, s4, s5 = s0[:kc], s1[:kc], s2[:kc], s3[:kc], s4[:kc], s5[:kc]
	for p := range kc {
		dp := (*[mr]float32)(d[p*mr:])
		dp[0], dp[1], dp[2], dp[3], dp[4], dp[5] = s0[p], s1[p], s2[p], s3[p], s4[p], s5[p]
	}
}

// transpose16 sets d[p·16 + j] = sj[p] for p < kc; every sj has length kc.
func transpose16(d []float32, kc int, s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15 []float32) {
	d = d[:kc*nr]
	s0, s1, s2, s3 = s0[:kc], s1[:kc], s2[:kc], s3[:kc]
	s4, s5, s6, s7 = s4[:kc], s5[:kc], s6[:kc], s7[:kc]
	s8, s9, s10, s11 = s8[:kc], s9[:kc], s10[:kc], s11[:kc]
	s12, s13, s14, s15 = s12[:kc], s13[:kc], s14[:kc], s15[:kc]
	for p := range kc {
		dp := (*[nr]float32)(d[p*nr:])
		dp[0], dp[1], dp[2], dp[3] = s0[p], s1[p], s2[p], s3[p]
		dp[4], dp[5], dp[6], dp[7] = s4[p], s5[p], s6[p], s7[p]
		dp[8], dp[9], dp[10], dp[11] = s8[p], s9[p], s10[p], s11[p]
		dp[12], dp[13], dp[14], dp[15] = s12[p], s13[p], s14[p], s15[p]
	}
}

// copy16 copies 16 floats as four 16-byte moves: the compiler inlines
// those, where a 64-byte array copy becomes a call to memmove.
func copy16(d, s *[nr]float32) {
	*(*[4]float32)(d[0:4]) = *(*[4]float32)(s[0:4])
	*(*[4]float32)(d[4:8]) = *(*[4]float32)(s[4:8])
	*(*[4]float32)(d[8:12]) = *(*[4]float32)(s[8:12])
	*(*[4]float32)(d[12:16]) = *(*[4]float32)(s[12:16])
}
