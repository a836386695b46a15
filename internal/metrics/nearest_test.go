package metrics

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// Nearest against a brute-force search with distances summed directly,
// (x−y)² term by term, in every kernel, tile and thread setting.
func TestNearestBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const d, nq, nb, k = 13, 37, 101, 4
	q, b := gauss(rng, nq, d, 5), gauss(rng, nb, d, 5)
	copy(q[3*d:4*d], b[17*d:18*d]) // an exact copy: distance 0
	type nn struct {
		j int
		d float64
	}
	want := make([][]nn, nq)
	for i := range nq {
		all := make([]nn, nb)
		for j := range nb {
			var s float64
			for c := range d {
				e := q[i*d+c] - b[j*d+c]
				s += e * e
			}
			all[j] = nn{j, math.Sqrt(s)}
		}
		sort.SliceStable(all, func(a, c int) bool { return all[a].d < all[c].d })
		want[i] = all[:k]
	}
	eachKernel(t, func(t *testing.T) {
		idx, dist, err := Nearest(q, b, d, k)
		if err != nil {
			t.Fatal(err)
		}
		for i := range nq {
			for r := range k {
				w, gi, gd := want[i][r], idx[i*k+r], dist[i*k+r]
				if gi != w.j || math.Abs(gd-w.d) > 1e-9*(1+w.d) {
					t.Fatalf("query %d, neighbour %d: got %d at %.12g, want %d at %.12g", i, r, gi, gd, w.j, w.d)
				}
			}
		}
		if idx[3*k] != 17 || dist[3*k] > 1e-6 {
			t.Errorf("the copy of base row 17: nearest %d at %g", idx[3*k], dist[3*k])
		}
	})
}

func TestNearestTiesAndErrors(t *testing.T) {
	// Base rows 1 and 3 are equal: the lower index comes first.
	b := []float64{0, 0, 1, 1, 5, 5, 1, 1}
	idx, dist, err := Nearest([]float64{1, 1.5}, b, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if idx[0] != 1 || idx[1] != 3 || idx[2] != 0 || dist[0] != 0.5 || dist[1] != 0.5 {
		t.Errorf("idx %v dist %v", idx, dist)
	}
	if idx, _, _ := Nearest([]float64{1, 1.5}, b, 2, 1); idx[0] != 1 {
		t.Errorf("k=1: nearest %d, want 1 (the first of two equal rows)", idx[0])
	}
	for _, bad := range []struct {
		q, b []float64
		k    int
	}{
		{[]float64{1, 1}, b, 5},
		{[]float64{1, 1}, b, 0},
		{[]float64{1}, b, 1},
		{[]float64{math.NaN(), 1}, b, 1},
	} {
		if _, _, err := Nearest(bad.q, bad.b, 2, bad.k); err == nil {
			t.Errorf("Nearest(%v, k=%d): no error", bad.q, bad.k)
		}
	}
}
