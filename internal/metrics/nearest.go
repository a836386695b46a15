package metrics

import (
	"errors"
	"fmt"
	"math"
)

// Nearest finds, for each row of queries, its k nearest rows of base by
// Euclidean distance. queries and base are row-major with d columns. It
// returns idx and dist, (nq, k) row-major: the indices into base and the
// distances, nearest first (equal distances: the lower index first). It
// needs k ≤ the number of base rows.
//
// The distances come from the same tiled |x|² + |y|² − 2·x·y arithmetic as
// PRDC, after both sets are shifted by the mean of base, in
// internal/parallel's threads; the result does not depend on their number.
func Nearest(queries, base []float64, d, k int) (idx []int, dist []float64, err error) {
	nq, err := rows(queries, d, "query")
	if err != nil {
		return nil, nil, err
	}
	nb, err := rows(base, d, "base")
	if err != nil {
		return nil, nil, err
	}
	if k < 1 || k > nb {
		return nil, nil, fmt.Errorf("metrics: %d nearest neighbours among %d rows", k, nb)
	}
	if !allFinite(queries) || !allFinite(base) {
		return nil, nil, errors.New("metrics: nearest-neighbour features contain NaN or Inf")
	}
	mu := colMeans(base, nb, d)
	q := newSet(centred(queries, mu), nq, d)
	b := newSet(centred(base, mu), nb, d)

	idx, dist = make([]int, nq*k), make([]float64, nq*k)
	for i := range dist {
		dist[i], idx[i] = math.Inf(1), -1
	}
	bs := tileSide()
	nbq, nbb := (nq+bs-1)/bs, (nb+bs-1)/bs
	workers := numWorkers(nbq)
	bufs := make([][]float64, workers)
	for w := range bufs {
		bufs[w] = make([]float64, bs*bs)
	}
	// A query row block is one work item: its rows of idx and dist are
	// written by one goroutine, scanning base in index order.
	forRowBlocks(nbq, workers, func(w, bi int) {
		buf := bufs[w]
		i0, i1 := bi*bs, min(nq, (bi+1)*bs)
		for bj := range nbb {
			j0, j1 := bj*bs, min(nb, (bj+1)*bs)
			sqDistTile(buf, bs, q, i0, i1, b, j0, j1)
			for i := i0; i < i1; i++ {
				row := buf[(i-i0)*bs : (i-i0)*bs+j1-j0]
				di, ii := dist[i*k:(i+1)*k], idx[i*k:(i+1)*k]
				for c, v := range row {
					if v >= di[k-1] { // strict: an equal later index stays out
						continue
					}
					p := k - 1
					for p > 0 && di[p-1] > v {
						di[p], ii[p] = di[p-1], ii[p-1]
						p--
					}
					di[p], ii[p] = v, j0+c
				}
			}
		}
	})
	for i, v := range dist {
		dist[i] = math.Sqrt(v)
	}
	return idx, dist, nil
}
