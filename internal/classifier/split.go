package classifier

import (
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/rng"
)

// Split divides ds into a training part and a held-out part of about
// frac·N images (at least one, and at least one left to train on), picked
// by a permutation drawn from seed. Both are copies.
func Split(ds *data.Dataset, frac float64, seed uint64) (train, held *data.Dataset) {
	nHeld := min(max(int(frac*float64(ds.N)+0.5), 1), ds.N-1)
	perm := make([]int, ds.N)
	for i := range perm {
		perm[i] = i
	}
	r := rng.New(seed, 3)
	for i := ds.N - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return Subset(ds, perm[nHeld:]), Subset(ds, perm[:nHeld])
}

// Subset copies the images idx of ds (and their labels) into a new Dataset.
func Subset(ds *data.Dataset, idx []int) *data.Dataset {
	size := ds.ImageSize()
	out := &data.Dataset{N: len(idx), C: ds.C, H: ds.H, W: ds.W, Source: ds.Source, Classes: ds.Classes,
		Pixels: make([]uint8, 0, len(idx)*size)}
	for _, i := range idx {
		out.Pixels = append(out.Pixels, ds.Pixels[i*size:(i+1)*size]...)
		if ds.Labelled() {
			out.Labels = append(out.Labels, ds.Labels[i])
		}
	}
	return out
}
