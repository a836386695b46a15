package data

import (
	"fmt"
	"slices"

	"github.com/gantrain/gantrain/internal/rng"
)

// labeledStream is the rng stream that picks the labelled images of a
// semi-supervised run (data.labeled), apart from the data order's.
const labeledStream = 0x6c6162656c6564 // "labeled"

// PickLabeled chooses n images of ds to keep their labels, balanced over
// the classes: each of the K classes gets ⌊n/K⌋, and classes 0 … n mod K − 1
// one more. Within a class the images are drawn from seed without
// replacement. The indices come back sorted.
func PickLabeled(ds *Dataset, n int, seed uint64) ([]int, error) {
	if !ds.Labelled() {
		return nil, fmt.Errorf("data: %s is unlabelled; data.labeled needs labels", ds.Source)
	}
	k := ds.NumClasses()
	if n < k || n > ds.N {
		return nil, fmt.Errorf("data: data.labeled %d: want between the number of classes (%d) and the number of images (%d) of %s", n, k, ds.N, ds.Source)
	}
	byClass := make([][]int, k)
	for i, l := range ds.Labels {
		byClass[l] = append(byClass[l], i)
	}
	r := rng.New(seed, labeledStream)
	var out []int
	for c, idx := range byClass {
		want := n / k
		if c < n%k {
			want++
		}
		if len(idx) < want {
			return nil, fmt.Errorf("data: data.labeled %d: class %s of %s has %d images, fewer than the %d it needs", n, ds.Classes[c], ds.Source, len(idx), want)
		}
		r.Shuffle(idx)
		out = append(out, idx[:want]...)
	}
	slices.Sort(out)
	return out, nil
}

// Tiled returns the images idx of ds, with their labels, repeated as often
// as it takes to fill one batch of batch images (at least once).
func Tiled(ds *Dataset, idx []int, batch int) *Dataset {
	reps := max(1, (batch+len(idx)-1)/len(idx))
	size := ds.ImageSize()
	out := &Dataset{N: reps * len(idx), C: ds.C, H: ds.H, W: ds.W, Source: ds.Source, Classes: ds.Classes,
		Pixels: make([]uint8, 0, reps*len(idx)*size), Labels: make([]uint8, 0, reps*len(idx))}
	for range reps {
		for _, i := range idx {
			out.Pixels = append(out.Pixels, ds.Pixels[i*size:(i+1)*size]...)
			out.Labels = append(out.Labels, ds.Labels[i])
		}
	}
	return out
}
