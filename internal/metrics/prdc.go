package metrics

import (
	"errors"
	"fmt"
	"math"
)

// Default neighbourhood sizes: k = 3 for precision and recall (Kynkäänniemi
// et al. 2019) and k = 5 for density and coverage (Naeem et al. 2020).
const (
	DefaultKPR = 3
	DefaultKDC = 5
)

// Result holds the four PRDC metrics.
type Result struct {
	// Precision is the fraction of fakes inside at least one real k-NN ball
	// (k = kPR, radii from the real set).
	Precision float64
	// Recall is the fraction of reals inside at least one fake k-NN ball
	// (k = kPR, radii from the fake set).
	Recall float64
	// Density is (1/(k·m)) Σ_fakes Σ_reals 1[d(f, r) ≤ r_k(r)] with k = kDC.
	// It is not bounded by 1: for identical sets without distance ties it is
	// exactly (k+1)/k, since every real ball holds its own copy plus its k
	// nearest neighbours. (The authors' reference code compares with <,
	// which gives exactly 1 there; this package uses the ≤ of the
	// definitions throughout.)
	Density float64
	// Coverage is the fraction of reals whose nearest fake lies within their
	// own k-NN radius (k = kDC).
	Coverage float64
}

// PRDC computes precision and recall (Kynkäänniemi et al. 2019, k = kPR) and
// density and coverage (Naeem et al. 2020, k = kDC) of fake features against
// real features, with Euclidean distances.
//
// reals and fakes are row-major matrices with d columns (n = len(reals)/d
// reals, m = len(fakes)/d fakes). kPR or kDC ≤ 0 select DefaultKPR / DefaultKDC.
// The k-NN radius of a point is the distance to its k-th nearest neighbour in
// its own set, excluding itself; a point is "within" a radius when its
// distance is ≤ that radius. It needs n > max(kPR, kDC) and m > kPR.
//
// Squared distances are computed tile by tile (blockSize² entries per worker,
// never the whole n×m matrix) with |x|² + |y|² − 2·x·y after both sets are
// shifted by the real mean, on internal/parallel's thread count. The result
// does not depend on the number of threads. The inputs are not modified.
func PRDC(reals, fakes []float64, d, kPR, kDC int) (Result, error) {
	if kPR <= 0 {
		kPR = DefaultKPR
	}
	if kDC <= 0 {
		kDC = DefaultKDC
	}
	n, err := rows(reals, d, "real")
	if err != nil {
		return Result{}, err
	}
	m, err := rows(fakes, d, "fake")
	if err != nil {
		return Result{}, err
	}
	if kr := max(kPR, kDC); n <= kr {
		return Result{}, fmt.Errorf("metrics: PRDC needs more than %d real samples, got %d", kr, n)
	}
	if m <= kPR {
		return Result{}, fmt.Errorf("metrics: PRDC needs more than %d fake samples, got %d", kPR, m)
	}
	if !allFinite(reals) || !allFinite(fakes) {
		return Result{}, errors.New("metrics: PRDC features contain NaN or Inf")
	}

	// Distances are translation invariant; shifting both sets by the real
	// mean keeps |x|² small and so limits cancellation in |x|²+|y|²−2x·y.
	mu := colMeans(reals, n, d)
	r := newSet(centred(reals, mu), n, d)
	f := newSet(centred(fakes, mu), m, d)

	rKth := kthNeighbourSq(r, max(kPR, kDC))
	rPR, rDC := rKth[kPR-1], rKth[kDC-1]
	fPR := kthNeighbourSq(f, kPR)[kPR-1]

	return crossPass(r, f, rPR, rDC, fPR, kDC), nil
}

// colMeans returns the mean of each of the d columns of the n rows of x.
func colMeans(x []float64, n, d int) []float64 {
	mu := make([]float64, d)
	for i := range n {
		for c, v := range x[i*d : i*d+d] {
			mu[c] += v
		}
	}
	for c := range mu {
		mu[c] /= float64(n)
	}
	return mu
}

// rows checks that x holds whole rows of d columns and returns their number.
func rows(x []float64, d int, name string) (int, error) {
	if d <= 0 {
		return 0, fmt.Errorf("metrics: feature dimension must be positive, got %d", d)
	}
	if len(x)%d != 0 {
		return 0, fmt.Errorf("metrics: %s features have %d values, not a multiple of d = %d", name, len(x), d)
	}
	return len(x) / d, nil
}

func allFinite(x []float64) bool {
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func centred(x, mu []float64) []float64 {
	d := len(mu)
	out := make([]float64, len(x))
	for i := 0; i < len(x); i += d {
		o := out[i : i+d]
		for c, v := range x[i : i+d] {
			o[c] = v - mu[c]
		}
	}
	return out
}

// kthNeighbourSq returns, for j = 0..k−1, the squared distance of every row
// of x to its (j+1)-th nearest other row: out[j][i].
//
// Only the tiles on and above the block diagonal are computed; an
// off-diagonal tile feeds both its rows and its columns. Each worker keeps
// its own sorted k-smallest list per row (partial selection by insertion,
// no sort of the full row) and the lists are merged at the end.
func kthNeighbourSq(x *set, k int) [][]float64 {
	n := x.n
	bs := tileSide()
	nb := (n + bs - 1) / bs
	workers := numWorkers(nb)
	inf := math.Inf(1)
	tops := make([][]float64, workers)
	bufs := make([][]float64, workers)
	for w := range tops {
		t := make([]float64, n*k)
		for i := range t {
			t[i] = inf
		}
		tops[w] = t
		bufs[w] = make([]float64, bs*bs)
	}
	last := k - 1
	forRowBlocks(nb, workers, func(w, bi int) {
		top, buf := tops[w], bufs[w]
		i0, i1 := bi*bs, min(n, (bi+1)*bs)
		for bj := bi; bj < nb; bj++ {
			j0, j1 := bj*bs, min(n, (bj+1)*bs)
			sqDistTile(buf, bs, x, i0, i1, x, j0, j1)
			for i := i0; i < i1; i++ {
				row := buf[(i-i0)*bs : (i-i0)*bs+j1-j0]
				ti := top[i*k : i*k+k]
				if bi == bj {
					for c, v := range row {
						if v < ti[last] && j0+c != i {
							insertSmallest(ti, v)
						}
					}
					continue
				}
				for c, v := range row {
					if v < ti[last] {
						insertSmallest(ti, v)
					}
					j := j0 + c
					if v < top[j*k+last] {
						insertSmallest(top[j*k:j*k+k], v)
					}
				}
			}
		}
	})
	merged := tops[0]
	for _, t := range tops[1:] {
		for i := range n {
			mi := merged[i*k : i*k+k]
			for _, v := range t[i*k : i*k+k] {
				if v < mi[last] {
					insertSmallest(mi, v)
				}
			}
		}
	}
	out := make([][]float64, k)
	for j := range out {
		o := make([]float64, n)
		for i := range o {
			o[i] = merged[i*k+j]
		}
		out[j] = o
	}
	return out
}

// insertSmallest inserts v into the ascending list t, dropping its largest
// element. The caller has checked v < t[len(t)-1].
func insertSmallest(t []float64, v float64) {
	i := len(t) - 1
	for i > 0 && t[i-1] > v {
		t[i] = t[i-1]
		i--
	}
	t[i] = v
}

// crossPass scans all real×fake squared distances once. rPR, rDC are the
// reals' squared k-NN radii for precision and density/coverage, fPR the
// fakes' squared radii for recall.
func crossPass(r, f *set, rPR, rDC, fPR []float64, kDC int) Result {
	n, m := r.n, f.n
	bs := tileSide()
	nbr := (n + bs - 1) / bs
	nbf := (m + bs - 1) / bs
	workers := numWorkers(nbr)

	// Per-real state: a row block is handled by one work item, so these
	// are written by one goroutine per index.
	nearest := make([]float64, n)
	recalled := make([]bool, n)
	// Per-fake state is touched by every row block: one copy per worker.
	hit := make([][]bool, workers)
	dens := make([][]int32, workers)
	bufs := make([][]float64, workers)
	for w := range workers {
		hit[w] = make([]bool, m)
		dens[w] = make([]int32, m)
		bufs[w] = make([]float64, bs*bs)
	}

	forRowBlocks(nbr, workers, func(w, bi int) {
		buf, hw, dw := bufs[w], hit[w], dens[w]
		i0, i1 := bi*bs, min(n, (bi+1)*bs)
		for i := i0; i < i1; i++ {
			nearest[i] = math.Inf(1)
		}
		for bj := range nbf {
			j0, j1 := bj*bs, min(m, (bj+1)*bs)
			sqDistTile(buf, bs, r, i0, i1, f, j0, j1)
			hb, db, fr := hw[j0:j1], dw[j0:j1], fPR[j0:j1]
			for i := i0; i < i1; i++ {
				row := buf[(i-i0)*bs : (i-i0)*bs+len(fr)]
				near, rec := nearest[i], recalled[i]
				p, q := rPR[i], rDC[i]
				for c, v := range row {
					near = min(near, v)
					if v <= fr[c] {
						rec = true
					}
					if v <= p {
						hb[c] = true
					}
					if v <= q {
						db[c]++
					}
				}
				nearest[i], recalled[i] = near, rec
			}
		}
	})

	var res Result
	var nPrec, nDens int
	for j := range m {
		h := false
		for w := range workers {
			h = h || hit[w][j]
			nDens += int(dens[w][j])
		}
		if h {
			nPrec++
		}
	}
	var nRec, nCov int
	for i := range n {
		if recalled[i] {
			nRec++
		}
		if nearest[i] <= rDC[i] {
			nCov++
		}
	}
	res.Precision = float64(nPrec) / float64(m)
	res.Recall = float64(nRec) / float64(n)
	res.Density = float64(nDens) / (float64(kDC) * float64(m))
	res.Coverage = float64(nCov) / float64(n)
	return res
}
