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
// The micro-kernel is chosen at start-up from the CPU's features (kernel.go):
// AVX-512 (8×32 tile), AVX2+FMA (6×16) or, where neither runs, plain Go.
// The zero value uses that kernel; WithKernel picks another.
//
// Sgemm is the only BLAS routine implemented: it is all that gantrain
// calls. Beside it, a small C over a long k (NT) takes a dot-product path
// cut along k (dot.go), whose pieces blas.Sgemm runs on several threads.
// It is safe for concurrent use (each call takes its own buffers from a
// sync.Pool).
type Implementation struct {
	k           *microKernel // nil: the active kernel
	blockedOnly bool         // never the dot-product path (Blocked)
}

// kcMax bounds the depth of one packed block. It is the same for every
// kernel: the kc blocks fix the order in which each element's products are
// summed, so that all the assembly kernels give the same bits.
const kcMax = 256

// On the blocked path, the element order of every dot product depends only
// on k (the kc blocks are a function of k alone, and the kernel adds them
// in order), never on m, n or where C is cut: blas.Sgemm's row or column
// blocks give results bitwise equal to one call on the whole matrix. The
// dot-product path (dot.go) sums in an order of its own, also a function
// of k alone; whether a product takes it depends on the whole product's
// shape, and blas.Sgemm computes the blocks of one that does not with
// Blocked.

// workspace holds the pack buffers of one goroutine's call.
type workspace struct {
	a, b, t []float32 // packed A, packed B, an edge tile of C
	fa, fb  []float32 // for bf16: A, and one panel of a transposed B, packed as float32 before pairing
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
func (impl Implementation) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
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
	kern := impl.kernel()
	if !impl.blockedOnly { // a block's path and kernel are its product's (BlockedFor)
		if segs := impl.Segments(transA, transB, m, n, k); segs > 0 {
			impl.SgemmSplit(nil, segs, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
			return
		}
		kern = kern.For(m, n, k)
	}
	sgemm(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
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
func sgemm(kern *microKernel, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	if k == 1 && kern.outer64 != nil && !transB && n%64 == 0 {
		// An outer product (the input gradient of D's one-output layer):
		// row by row, without tiles, packing or a loop over k.
		astep := lda
		if transA {
			astep = 1
		}
		kern.outer64(m, a, astep, b, c, ldc, n, alpha, beta)
		return
	}
	if swapped(kern, transA, transB, m, n, k) {
		// Cᵀ = op(B)ᵀ·op(A)ᵀ fills fewer tiles: compute it, with C's
		// tiles stored transposed. Each element's products are the same,
		// in the same order, so the bits are too.
		blocked(kern, true, !transB, !transA, n, m, k, alpha, b, ldb, a, lda, beta, c, ldc)
		return
	}
	blocked(kern, false, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// swapped reports whether the driver computes Cᵀ rather than C:
//
//   - when the mr×nr tiles cover m×n with over 1.25 times the padding they
//     would have on n×m (C = a tall 64×16, say, on 8×32 tiles);
//   - for op(A) = Aᵀ with a long m, a narrow n and k > 1 (the 64 px G's
//     first layer, TN 8192×64×100). Packing op(A) into panels reads each
//     row of the stored k×m A in pieces of at most mcMax floats, k pieces
//     of a few cache lines, lda apart; swapped, that A is a row-major op(B)
//     packed a whole row block (up to ncMax floats) at a time: 118–129 →
//     147–156 GFLOP/s on one thread, 244–256 → 300–307 on two. With k = 1
//     (an outer product) the transposed stores of C cost more than they
//     save (22 → 11 GFLOP/s), and a wide n has no narrow side to gain on.
func swapped(kern *microKernel, transA, transB bool, m, n, k int) bool {
	area := func(m, n int) int { return roundUp(m, kern.mr) * roundUp(n, kern.nr) }
	if 4*area(m, n) > 5*area(n, m) {
		return true
	}
	return transA && !transB && k > 1 && n <= 64 && m >= 1024
}

// directMaxK bounds k for reading op(B) in place: B̃'s rows are then ldb
// apart, and many such rows alias in the L1 cache.
const directMaxK = 128

// aliases reports whether k rows ldb floats apart fall into too few sets of
// the L2 cache to stay there while op(B) is read in place. A set-associative
// cache maps an address by its offset within one way's span (64 KiB for a
// 1 MiB 16-way L2, as on Zen 5 and recent Xeons); rows ldb·4 bytes apart
// repeat their offset every span/gcd(ldb·4, span) rows, and the rows that
// share an offset compete for the set's ways. The 64 px D's first layer
// (ldb = 65536: every row at the same offset) ran at 90 GFLOP/s read in
// place and 146 packed; the 28 px one (ldb = 12544: 64 offsets) is faster
// in place (161 against 66 packed, for k = 64). A row of a 32-float panel
// is two cache lines: up to eight rows per offset fill one set.
func aliases(ldb, k int) bool {
	const span = 64 << 10
	period := span / gcd(ldb*4, span)
	return ceilDiv(k, period) > 8
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// blocked computes C = alpha·op(A)·op(B) + beta·C, or, with ct, stores the
// m×n product transposed: element (i, j) at c[j·ldc + i].
func blocked(kern *microKernel, ct, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	mr, nr := kern.mr, kern.nr
	// Split k into equal blocks of at most kcMax (k = 257 gives 129+128, not
	// 256+1), and n likewise into blocks of at most ncMax, multiples of nr.
	kc0 := ceilDiv(k, ceilDiv(k, kcMax))
	nc0 := roundUp(ceilDiv(n, ceilDiv(n, kern.ncMax)), nr)
	mc0 := min(kern.mcMax, roundUp(m, mr))
	// With one block of A and a short k, the kernel reads a row-major
	// op(B) in place: packing it would cost more than the few A panels
	// that reuse it gain. With one panel of A (a matrix-vector product,
	// m = 1), every element of B is read once whatever k: packing would
	// only add a copy.
	direct := kern.direct && !transB && (m <= mc0 && k <= directMaxK && !aliases(ldb, k) || m <= mr)

	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	// A bf16 kernel's panels hold pairs of steps: kc steps, ceil(kc/2)
	// slots (bf16.go). They are packed as float32 first (fa, fb).
	slots := kc0
	if kern.bf16 {
		slots = (kc0 + 1) / 2
		ws.fa = grow(ws.fa, mc0*kc0)
		ws.fb = grow(ws.fb, nr*kc0)
	}
	ws.a = grow(ws.a, mc0*slots)
	if direct {
		ws.b = grow(ws.b, nr*slots)
	} else {
		ws.b = grow(ws.b, roundUp(min(nc0, n), nr)*slots)
	}
	ws.t = grow(ws.t, mr*nr)

	for jc := 0; jc < n; jc += nc0 {
		nc := min(nc0, n-jc)
		for pc := 0; pc < k; pc += kc0 {
			kc := min(kc0, k-pc)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			ks := kc // the kernel's steps: slots of pairs for bf16
			if kern.bf16 {
				ks = (kc + 1) / 2
			}
			bb := bBlock{packed: ws.b}
			switch {
			case direct:
				bb = bBlock{src: b, ld: ldb, pc: pc, jc: jc, packed: ws.b}
			case kern.bf16 && !transB:
				packBPairs(nr, b, ldb, pc, kc, jc, nc, ws.b)
			case kern.bf16:
				// A panel at a time, so that the float32 copy stays in cache.
				for jr := 0; jr < nc; jr += nr {
					packB(nr, true, b, ldb, pc, kc, jc+jr, min(nr, nc-jr), ws.fb)
					pairPanels(ws.b[jr*ks:], ws.fb, nr, kc, 1)
				}
			default:
				packB(nr, transB, b, ldb, pc, kc, jc, nc, ws.b)
			}
			for ic := 0; ic < m; ic += mc0 {
				mc := min(mc0, m-ic)
				if kern.bf16 {
					packA(mr, transA, a, lda, ic, mc, pc, kc, ws.fa)
					pairPanels(ws.a, ws.fa, mr, kc, ceilDiv(mc, mr))
				} else {
					packA(mr, transA, a, lda, ic, mc, pc, kc, ws.a)
				}
				cc := c[ic*ldc+jc:]
				if ct {
					cc = c[jc*ldc+ic:]
				}
				macroKernel(kern, ct, mc, nc, ks, alpha, ws.a, bb, bet, cc, ldc, ws.t)
			}
		}
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// bBlock is the kc×nc block of op(B) that macroKernel reads: packed (src
// nil: panels of nr columns in packed), or in place (src, row-major with
// leading dimension ld, the block at row pc and column jc), where only a
// last, partial panel is packed.
type bBlock struct {
	src        []float32
	ld, pc, jc int
	packed     []float32
}

// macroKernel computes C[:mc, :nc] = alpha·Ã·B̃ + beta·C from the packed
// block Ã (mc×kc, panels of mr rows) and the block B̃ (kc×nc). Edge tiles,
// and with ct all tiles (C stored transposed), go through the mr×nr
// scratch tile t and the same kernel, so they compute exactly what an
// interior tile would.
func macroKernel(kern *microKernel, ct bool, mc, nc, kc int, alpha float32, ap []float32, bb bBlock, beta float32, c []float32, ldc int, t []float32) {
	mr, nr := kern.mr, kern.nr
	jr0 := 0
	if kern.row64 != nil && mc == 1 && !ct {
		// One row of C (a matrix-vector product): 64 columns at a time
		// without the tile's padding rows, from op(B) in place or from
		// two packed panels.
		for ; jr0+64 <= nc; jr0 += 64 {
			if bb.src != nil {
				kern.row64(kc, ap, bb.src[bb.pc*bb.ld+bb.jc+jr0:], c[jr0:], bb.ld, 32, alpha, beta)
			} else {
				kern.row64(kc, ap, bb.packed[jr0*kc:], c[jr0:], nr, nr*kc, alpha, beta)
			}
		}
	}
	for jr := jr0; jr < nc; jr += nr {
		nrr := min(nr, nc-jr)
		var bpan []float32
		ldb := nr
		switch {
		case bb.src == nil:
			bpan = bb.packed[jr*kc : (jr+nr)*kc]
		case nrr == nr:
			bpan, ldb = bb.src[bb.pc*bb.ld+bb.jc+jr:], bb.ld
		default:
			bpan = bb.packed[:nr*kc]
			packB(nr, false, bb.src, bb.ld, bb.pc, kc, bb.jc+jr, nrr, bpan)
		}
		for ir := 0; ir < mc; ir += mr {
			mrr := min(mr, mc-ir)
			apan := ap[ir*kc : (ir+mr)*kc]
			if ct {
				cc := c[jr*ldc+ir:]
				full := mrr == mr && nrr == nr && mr == 8
				if beta != 0 {
					loadT(t, nr, cc, ldc, mrr, nrr, full)
				}
				kern.runDirect(kc, apan, bpan, t, nr, ldb, alpha, beta)
				storeT(cc, ldc, t, nr, mrr, nrr, full)
				continue
			}
			cc := c[ir*ldc+jr:]
			if mrr == mr && nrr == nr {
				kern.runDirect(kc, apan, bpan, cc, ldc, ldb, alpha, beta)
				continue
			}
			if beta != 0 {
				for i := range mrr {
					copy(t[i*nr:i*nr+nrr], cc[i*ldc:i*ldc+nrr])
				}
			}
			kern.runDirect(kc, apan, bpan, t, nr, ldb, alpha, beta)
			for i := range mrr {
				copy(cc[i*ldc:i*ldc+nrr], t[i*nr:i*nr+nrr])
			}
		}
	}
}

// loadT sets t[i·nr + j] = c[j·ldc + i] for i < mrr, j < nrr; full (an
// 8×nr tile, nr a multiple of 8) uses the 8×8 block transposes.
func loadT(t []float32, nr int, c []float32, ldc, mrr, nrr int, full bool) {
	if full {
		for j := 0; j < nr; j += 8 {
			transposeRows8(t[j:], nr, c[j*ldc:], ldc, 8)
		}
		return
	}
	for i := range mrr {
		for j := range nrr {
			t[i*nr+j] = c[j*ldc+i]
		}
	}
}

// storeT sets c[j·ldc + i] = t[i·nr + j] for i < mrr, j < nrr.
func storeT(c []float32, ldc int, t []float32, nr, mrr, nrr int, full bool) {
	if full {
		transposeRows8(c, ldc, t, nr, nr)
		return
	}
	for i := range mrr {
		for j := range nrr {
			c[j*ldc+i] = t[i*nr+j]
		}
	}
}

// packA copies op(A)[ic:ic+mc, pc:pc+kc] into dst as ceil(mc/mr) panels;
// panel q holds rows ic+q·mr… as dst[q·mr·kc + p·mr + i], zero-padded.
// Source rows are read sequentially: strided reads across many rows of a
// big matrix cost several times more (cache lines and TLB entries).
func packA(mr int, trans bool, a []float32, lda, ic, mc, pc, kc int, dst []float32) {
	full := mc - mc%mr // rows in full panels
	if trans {
		// op(A)[r][p] = a[p·lda + r]: row p of a feeds step p of every panel.
		for p := range kc {
			row := a[(pc+p)*lda+ic : (pc+p)*lda+ic+mc]
			switch mr {
			case 8:
				for ir := 0; ir < full; ir += 8 {
					*(*[8]float32)(dst[ir*kc+p*8:]) = *(*[8]float32)(row[ir:])
				}
			case 6:
				for ir := 0; ir < full; ir += 6 {
					*(*[6]float32)(dst[ir*kc+p*6:]) = *(*[6]float32)(row[ir:])
				}
			default:
				for ir := 0; ir < full; ir += mr {
					copy(dst[ir*kc+p*mr:ir*kc+p*mr+mr], row[ir:])
				}
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
		row := func(i int) []float32 { return a[(r0+i)*lda+pc : (r0+i)*lda+pc+kc] }
		switch {
		case mrr == 8 && mr == 8:
			transposeRows8(d, 8, a[r0*lda+pc:], lda, kc)
			continue
		case mrr == 6 && mr == 6:
			transpose6(d, kc, row(0), row(1), row(2), row(3), row(4), row(5))
			continue
		}
		// A partial panel (the last rows; the only one of a
		// matrix-vector product): zero it whole, then fill its rows.
		clear(d)
		for i := range mrr {
			for p, v := range row(i) {
				d[p*mr+i] = v
			}
		}
	}
}

// packB copies op(B)[pc:pc+kc, jc:jc+nc] into dst as ceil(nc/nr) panels;
// panel q holds columns jc+q·nr… as dst[q·nr·kc + p·nr + j], zero-padded.
func packB(nr int, trans bool, b []float32, ldb, pc, kc, jc, nc int, dst []float32) {
	if !trans {
		// op(B)[p][j] = b[p·ldb + j]: row p of b feeds step p of every panel.
		full := nc - nc%nr
		for p := range kc {
			row := b[(pc+p)*ldb+jc : (pc+p)*ldb+jc+nc]
			copyRowToPanels(dst[p*nr:], kc*nr, row, full/nr, nr)
			if full < nc {
				d := dst[full*kc+p*nr : full*kc+p*nr+nr]
				copy(d, row[full:])
				clear(d[nc-full:])
			}
		}
		return
	}
	// op(B)[p][j] = b[j·ldb + p]: a full panel reads its rows of b 16 side
	// by side and writes each step's values contiguously.
	for jr := 0; jr < nc; jr += nr {
		nrr := min(nr, nc-jr)
		d := dst[jr*kc : (jr+nr)*kc]
		row := func(j int) []float32 { return b[(jc+jr+j)*ldb+pc : (jc+jr+j)*ldb+pc+kc] }
		if nrr == nr {
			for j := 0; j < nr; j += 8 {
				transposeRows8(d[j:], nr, b[(jc+jr+j)*ldb+pc:], ldb, kc)
			}
			continue
		}
		clear(d)
		for j := range nrr {
			for p, v := range row(j) {
				d[p*nr+j] = v
			}
		}
	}
}

// copyRowToPanels writes row[q·nr : (q+1)·nr] to d[q·step:], q < panels:
// one step of each full panel of op(B), with copyPanels (AVX) where it runs.
func copyRowToPanels(d []float32, step int, row []float32, panels, nr int) {
	if panels == 0 {
		return
	}
	_ = d[(panels-1)*step+nr-1]
	_ = row[panels*nr-1]
	if haveTranspose8x8 && nr%8 == 0 {
		copyPanels(&d[0], step, &row[0], panels, nr)
		return
	}
	for q := range panels {
		copy(d[q*step:q*step+nr], row[q*nr:(q+1)*nr])
	}
}

// transpose6 sets d[p·6 + i] = si[p] for p < kc; every si has length kc.
func transpose6(d []float32, kc int, s0, s1, s2, s3, s4, s5 []float32) {
	d = d[:kc*6]
	s0, s1, s2, s3, s4, s5 = s0[:kc], s1[:kc], s2[:kc], s3[:kc], s4[:kc], s5[:kc]
	for p := range kc {
		dp := (*[6]float32)(d[p*6:])
		dp[0], dp[1], dp[2], dp[3], dp[4], dp[5] = s0[p], s1[p], s2[p], s3[p], s4[p], s5[p]
	}
}
