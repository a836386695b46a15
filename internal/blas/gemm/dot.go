package gemm

import "sync"

// The k-split dot-product path, for the weight gradients of convolutions
// with few channels: C = alpha·A·Bᵀ + beta·C (NT) with a small C and a long
// k (the 28 px D's first layer: 64×16×12544; the 64 px one: 64×48×65536).
// The blocked path packs both operands transposed into panels, and those
// transposes took about half its time there; here every element of C is a
// dot product of a row of A and a row of B, both contiguous in k, read by
// a kernel that keeps 16 partial sums per element in vector lanes: A's
// rows in place, B's in place or, when they alias in L2, copied a block at
// a time. k is cut
// into segments that depend on k alone, each computed on its own (the
// caller may run them on different threads) and then added in order, so
// the result is the same bits at any thread count, and on both assembly
// kernels. The bits differ from the blocked path's (a different order of
// the sums), so the choice depends only on the whole product's shape
// (Segments): Sgemm takes this path for the shapes Segments accepts, and a
// caller that cuts a bigger product into blocks (blas.Sgemm over threads)
// computes the blocks with Blocked, which never takes it.

// dotKernel is an assembly tile kernel: for each element (i, j) of a tm×tn
// tile, with rows a_i = a + i·lda and b_j = b + j·ldb (floats), it adds
// a_i[p]·b_j[p] for p < kb (a positive multiple of 16) into lane p mod 16
// of acc[(i·tn + j)·16 …], one fused multiply-add per product, in order of p.
type dotKernel struct {
	tm, tn int
	fn     func(kb int, a *float32, lda int, b *float32, ldb int, acc *float32)
}

const (
	// The path's shapes: k ≥ dotMinK, m·n ≤ dotMaxC, m a multiple of 8
	// and n of 4, so that both kernels (tiles 8×3 or 8×2, and 2×2) take
	// the same shapes.
	dotMinK                  = 4096
	dotMaxC                  = 4096
	dotQuantumM, dotQuantumN = 8, 4
	// A segment is about dotSegK long, and there are at most dotMaxSegs.
	dotSegK    = 4096
	dotMaxSegs = 8
	// dotKB is the depth of one block of a segment: tm rows of A (16 KiB)
	// stay in L1 while a row of tiles runs, the n rows of B (2 KiB each:
	// 32 KiB at 28 px, 96 KiB at 64 px) and the m·n·16 partial sums (at
	// most 256 KiB) in L2. 256 and 1024 were slower on the 28 and 64 px
	// products, 2048 and 4096 much slower.
	dotKB = 512
)

// Segments reports into how many k segments the product C = alpha·op(A)·
// op(B) + beta·C is cut on the dot-product path, or 0 when it takes the
// blocked path (Sgemm). It depends on the shape and the kernel's having
// the path (both assembly kernels do), nothing else.
func (impl Implementation) Segments(transA, transB bool, m, n, k int) int {
	if impl.kernel().float32().dotTile(m, n) == nil || transA || !transB || k < dotMinK || m*n > dotMaxC ||
		m%dotQuantumM != 0 || n%dotQuantumN != 0 {
		return 0
	}
	return min(dotMaxSegs, ceilDiv(k, dotSegK))
}

// dotTile returns the first of the kernel's dot-product tiles that fits
// m×n, or nil. Which one computes a product does not change its bits.
func (k *microKernel) dotTile(m, n int) *dotKernel {
	for _, d := range k.dot {
		if m%d.tm == 0 && n%d.tn == 0 {
			return d
		}
	}
	return nil
}

// Blocked returns impl without the dot-product path: its Sgemm always
// takes the blocked one.
func (impl Implementation) Blocked() Implementation {
	impl.blockedOnly = true
	return impl
}

// BlockedFor is Blocked for the blocks of an m×n×k product: its kernel is
// the one the whole product takes (microKernel.For), whatever the blocks'
// own shapes, so that a bf16 Implementation gives the same bits at any
// thread count.
func (impl Implementation) BlockedFor(m, n, k int) Implementation {
	impl.k = impl.kernel().For(m, n, k)
	return impl.Blocked()
}

func (impl Implementation) kernel() *microKernel {
	if impl.k == nil {
		return active
	}
	return impl.k
}

// segment returns the bounds [lo, hi) of segment s of segs over k: equal
// lengths, multiples of 16, the last one shorter (possibly empty).
func segment(s, segs, k int) (lo, hi int) {
	l := roundUp(ceilDiv(k, segs), 16)
	return min(k, s*l), min(k, (s+1)*l)
}

// sgemmSegment sets dst[i·n + j] (i < m, j < n) to the sum of
// A[i][p]·B[j][p] over segment s of segs of k (A m×k, B n×k, row-major),
// for a shape Segments accepted with segs.
func (impl Implementation) sgemmSegment(s, segs, m, n, k int, a []float32, lda int, b []float32, ldb int, dst []float32) {
	d := impl.kernel().float32().dotTile(m, n)
	if d == nil || s < 0 || s >= segs {
		panic("gemm: sgemmSegment on a shape Segments refused")
	}
	if len(a) < (m-1)*lda+k || len(b) < (n-1)*ldb+k || len(dst) < m*n {
		panic("gemm: sgemmSegment: short operand")
	}
	lo, hi := segment(s, segs, k)
	ws := workspaces.Get().(*workspace)
	defer workspaces.Put(ws)
	ws.t = grow(ws.t, m*n*16)
	acc := ws.t
	clear(acc)
	// B's rows are read once per row of tiles: when they alias in L2
	// (rows 256 KiB apart, as in the 64 px D's first layer), each block of
	// them is copied into contiguous rows first. A's rows are read in
	// place: a row of tiles keeps tm of them in L1.
	copyB := aliases(ldb, n)
	for pc := lo; pc < hi; pc += dotKB {
		kb := min(dotKB, hi-pc)
		if full := kb &^ 15; full > 0 {
			bs, bld := b[pc:], ldb
			if copyB {
				ws.b = grow(ws.b, n*full)
				copyRows(ws.b, full, b[pc:], ldb, n)
				bs, bld = ws.b, full
			}
			dotTiles(d, full, m, n, a[pc:], lda, bs, bld, acc)
		}
		if tail := kb % 16; tail > 0 {
			// The last products of the last segment: zero-padded to 16
			// (the padding adds 0·0 to the high lanes).
			p0 := pc + kb - tail
			ws.a = grow(ws.a, m*16)
			ws.b = grow(ws.b, n*16)
			padRows(ws.a, a[p0:], lda, m, tail)
			padRows(ws.b, b[p0:], ldb, n, tail)
			dotTiles(d, 16, m, n, ws.a, 16, ws.b, 16, acc)
		}
	}
	// Tile by tile, as dotTiles stored them: element (i, j) of a tile
	// holds its 16 lanes at (i·tn + j)·16.
	e := 0
	for i0 := 0; i0 < m; i0 += d.tm {
		for j0 := 0; j0 < n; j0 += d.tn {
			for i := i0; i < i0+d.tm; i++ {
				row := dst[i*n+j0 : i*n+j0+d.tn]
				for j := range row {
					row[j] = sum16((*[16]float32)(acc[e : e+16]))
					e += 16
				}
			}
		}
	}
}

// dotTiles runs the tile kernel over the m×n elements on kb products:
// A's rows (as, ald apart) and B's (bs, bld apart), partial sums in acc,
// tile by tile (tiles in row-major order, tm·tn·16 floats each). A row of
// tiles reads the same tm rows of A (which stay in L1) and all of B's.
func dotTiles(d *dotKernel, kb, m, n int, as []float32, ald int, bs []float32, bld int, acc []float32) {
	_ = as[(m-1)*ald+kb-1]
	_ = bs[(n-1)*bld+kb-1]
	_ = acc[m*n*16-1]
	t := 0
	for i := 0; i < m; i += d.tm {
		for j := 0; j < n; j += d.tn {
			d.fn(kb, &as[i*ald], ald, &bs[j*bld], bld, &acc[t])
			t += d.tm * d.tn * 16
		}
	}
}

// copyRows copies rows×kb floats, rows ld apart in src, to dst, kb apart.
func copyRows(dst []float32, kb int, src []float32, ld, rows int) {
	for i := range rows {
		copy(dst[i*kb:(i+1)*kb], src[i*ld:i*ld+kb])
	}
}

// padRows copies the first n floats of rows rows (ld apart in src) to dst,
// 16 apart, zero-filling each row of dst to 16.
func padRows(dst, src []float32, ld, rows, n int) {
	for i := range rows {
		d := dst[i*16 : (i+1)*16]
		copy(d, src[i*ld:i*ld+n])
		clear(d[n:])
	}
}

// sum16 adds the 16 lanes pairwise, in a fixed order.
func sum16(l *[16]float32) float32 {
	t0, t1, t2, t3 := l[0]+l[8], l[1]+l[9], l[2]+l[10], l[3]+l[11]
	t4, t5, t6, t7 := l[4]+l[12], l[5]+l[13], l[6]+l[14], l[7]+l[15]
	t0, t1, t2, t3 = t0+t4, t1+t5, t2+t6, t3+t7
	return (t0 + t2) + (t1 + t3)
}

// combine sets C = alpha·Σ parts + beta·C: parts holds segs m×n partial
// products (sgemmSegment's dst, one after another), added in order of s.
// beta = 0 writes C without reading it.
func combine(m, n, segs int, parts []float32, alpha, beta float32, c []float32, ldc int) {
	_ = parts[segs*m*n-1]
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		for j := range row {
			e := i*n + j
			sum := parts[e]
			for s := 1; s < segs; s++ {
				sum += parts[s*m*n+e]
			}
			t := float32(alpha * sum)
			if beta == 0 {
				row[j] = t
			} else {
				row[j] = float32(beta*row[j]) + t
			}
		}
	}
}

// partsPool holds the partial products of SgemmSplit's segments.
var partsPool = sync.Pool{New: func() any { return new([]float32) }}

// SgemmSplit computes C = alpha·A·Bᵀ + beta·C on the dot-product path:
// segs segments of k (Segments' answer for the shape, > 0), each an m×n
// partial product of its own, then added in order. forEach runs the
// segments: it calls its fn on chunks [lo, hi) covering [0, n) (blas.Sgemm
// passes parallel.For, so the segments run on several threads); nil runs
// them one after another. The bits do not depend on how forEach cuts.
func (impl Implementation) SgemmSplit(forEach func(n int, fn func(lo, hi int)), segs, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	buf := partsPool.Get().(*[]float32)
	defer partsPool.Put(buf)
	*buf = grow(*buf, segs*m*n)
	parts := *buf
	run := func(lo, hi int) {
		for s := lo; s < hi; s++ {
			impl.sgemmSegment(s, segs, m, n, k, a, lda, b, ldb, parts[s*m*n:(s+1)*m*n])
		}
	}
	if forEach == nil {
		run(0, segs)
	} else {
		forEach(segs, run)
	}
	combine(m, n, segs, parts, alpha, beta, c, ldc)
}
