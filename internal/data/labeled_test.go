package data

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
)

// data.labeled: balanced over the classes, the same for the same seed,
// another for another seed, and refused where it cannot be balanced.
func TestPickLabeled(t *testing.T) {
	ds := indexDataset(1000) // label = index mod 10, 100 per class
	for _, n := range []int{10, 100, 105, 1000} {
		idx, err := PickLabeled(ds, n, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(idx) != n || !slices.IsSorted(idx) {
			t.Fatalf("n %d: %d indices, sorted %v", n, len(idx), slices.IsSorted(idx))
		}
		counts := make([]int, 10)
		for i, j := range idx {
			if i > 0 && idx[i-1] == j {
				t.Fatalf("n %d: image %d twice", n, j)
			}
			counts[ds.Labels[j]]++
		}
		for c, k := range counts {
			want := n / 10
			if c < n%10 {
				want++
			}
			if k != want {
				t.Errorf("n %d: class %d has %d labelled images, want %d", n, c, k, want)
			}
		}
	}
	a, _ := PickLabeled(ds, 100, 1)
	b, _ := PickLabeled(ds, 100, 1)
	c, _ := PickLabeled(ds, 100, 2)
	if !slices.Equal(a, b) || slices.Equal(a, c) {
		t.Errorf("seed 1 twice: equal %v; seeds 1 and 2: equal %v", slices.Equal(a, b), slices.Equal(a, c))
	}
	if slices.Equal(a[:10], []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Error("the first images of each class, not a draw")
	}
	_, err := PickLabeled(ds, 9, 1)
	wantErr(t, err, "data.labeled 9", "number of classes (10)")
	_, err = PickLabeled(ds, 1001, 1)
	wantErr(t, err, "data.labeled 1001", "images (1000)")
	few := indexDataset(1000)
	few.Labels[0], few.Labels[10] = 1, 1 // class 0 keeps 98
	_, err = PickLabeled(few, 999, 1)
	wantErr(t, err, "class 0", "98 images")
	unl := indexDataset(20)
	unl.Labels, unl.Classes = nil, nil
	_, err = PickLabeled(unl, 10, 1)
	wantErr(t, err, "unlabelled")
}

// The labelled images fill at least one batch, labels kept.
func TestTiled(t *testing.T) {
	ds := indexDataset(50)
	tl := Tiled(ds, []int{3, 14, 25}, 8)
	if tl.N != 9 || tl.Check() != nil {
		t.Fatalf("%d images (%v), want 9", tl.N, tl.Check())
	}
	for i := range tl.N {
		want := []int{3, 14, 25}[i%3]
		if got := int(tl.Pixels[4*i]); got != want || int(tl.Labels[i]) != want%10 {
			t.Errorf("image %d is %d labelled %d, want %d labelled %d", i, got, tl.Labels[i], want, want%10)
		}
	}
	if Tiled(ds, []int{1, 2, 3, 4, 5, 6, 7, 8, 9}, 8).N != 9 {
		t.Error("tiled a set larger than a batch")
	}
}

// The test split: the t10k files beside the training files, labelled and
// preprocessed as the run's data; none for an image file or a folder.
func TestLoadTest(t *testing.T) {
	ds, err := LoadTest(config.Data{Name: "idx", Path: tinyDir, Background: "white"})
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 100 || !ds.Labelled() || ds.H != 28 || !strings.Contains(ds.Source, "t10k-images") {
		t.Errorf("test split: %d images of %d px from %s, labelled %v", ds.N, ds.H, ds.Source, ds.Labelled())
	}
	small, err := LoadTest(config.Data{Name: "idx", Path: tinyDir, Background: "white", Size: 16})
	if err != nil || small.H != 16 || small.N != 100 {
		t.Errorf("resized test split: %v", err)
	}
	_, err = LoadTest(config.Data{Name: "idx", Path: filepath.Join(tinyDir, "train-images-idx3-ubyte.gz"), Background: "white"})
	wantErr(t, err, "is an image file", "no test split")
	_, err = LoadTest(config.Data{Name: "folder", Path: "/some/folder", Background: "white"})
	wantErr(t, err, "/some/folder", "no test split")
}
