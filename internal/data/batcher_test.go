package data

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
)

func TestPixelScale(t *testing.T) {
	if pixelScale[0] != -1 || pixelScale[255] != 1 {
		t.Errorf("scale(0) = %v, scale(255) = %v; want -1, 1", pixelScale[0], pixelScale[255])
	}
	for p := range 256 {
		// torchvision: ToTensor divides by 255, Normalize subtracts 0.5 and divides by 0.5, all in float32.
		x := float32(p) / float32(255)
		x -= float32(0.5)
		x /= float32(0.5)
		if pixelScale[p] != x {
			t.Errorf("scale(%d) = %v, want %v", p, pixelScale[p], x)
		}
		if p > 0 && pixelScale[p] <= pixelScale[p-1] {
			t.Errorf("scale not increasing at %d", p)
		}
	}
}

func TestBatcherScalesTiny(t *testing.T) {
	ds, _, err := Load(config.Data{Name: "idx", Path: tinyDir, Background: "white"}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBatcher(ds, 32, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	imgs := make([]float32, 32*784)
	labels := make([]int, 32)
	if _, err := b.Next(imgs, labels); err != nil {
		t.Fatal(err)
	}
	lo, hi := slices.Min(imgs), slices.Max(imgs)
	if lo != -1 || hi != 1 {
		t.Errorf("batch values span [%v, %v], want [-1, 1]", lo, hi)
	}
	for _, l := range labels {
		if l < 0 || l > 9 {
			t.Errorf("label %d", l)
		}
	}
}

// Every image appears exactly once per epoch; the dropped remainder differs
// between epochs; labels travel with their images.
func TestBatcherEpochCoversEachImageOnce(t *testing.T) {
	const n, batch = 103, 10
	ds := indexDataset(n)
	b, err := NewBatcher(ds, batch, 42, false)
	if err != nil {
		t.Fatal(err)
	}
	if b.BatchesPerEpoch() != 10 {
		t.Fatalf("BatchesPerEpoch = %d, want 10", b.BatchesPerEpoch())
	}
	imgs := make([]float32, batch*4)
	labels := make([]int, batch)
	var orders [][]int
	for e := range 3 {
		seen := make(map[int]bool)
		var order []int
		for k := range b.BatchesPerEpoch() {
			if b.Epoch() != e || b.Pos() != k {
				t.Fatalf("before batch %d of epoch %d: Epoch %d, Pos %d", k, e, b.Epoch(), b.Pos())
			}
			got, err := b.Next(imgs, labels)
			if err != nil || got != e {
				t.Fatalf("Next: epoch %d, %v; want %d", got, err, e)
			}
			for j := range batch {
				i := decodeIndex(imgs[4*j:])
				if i < 0 || i >= n || seen[i] {
					t.Fatalf("epoch %d: image %d out of range or repeated", e, i)
				}
				if labels[j] != i%10 {
					t.Errorf("image %d has label %d, want %d", i, labels[j], i%10)
				}
				seen[i] = true
				order = append(order, i)
			}
		}
		if len(seen) != n-n%batch {
			t.Errorf("epoch %d saw %d images, want %d", e, len(seen), n-n%batch)
		}
		orders = append(orders, order)
	}
	if slices.Equal(orders[0], orders[1]) || slices.Equal(orders[1], orders[2]) {
		t.Error("epochs repeat the same order")
	}
	if b.Epoch() != 3 || b.Pos() != 0 {
		t.Errorf("after 3 epochs: Epoch %d, Pos %d", b.Epoch(), b.Pos())
	}
}

// Every image is reachable: over many epochs the dropped remainder moves.
func TestBatcherRemainderRotates(t *testing.T) {
	const n, batch = 7, 3
	b, err := NewBatcher(indexDataset(n), batch, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[int]bool)
	for _, i := range drain(t, b, 20*b.BatchesPerEpoch()) {
		seen[i] = true
	}
	if len(seen) != n {
		t.Errorf("saw %d distinct images in 20 epochs, want %d", len(seen), n)
	}
}

func TestBatcherSeeds(t *testing.T) {
	ds := indexDataset(64)
	seq := func(seed uint64) []int {
		b, err := NewBatcher(ds, 8, seed, false)
		if err != nil {
			t.Fatal(err)
		}
		return drain(t, b, 20)
	}
	a, a2, c := seq(7), seq(7), seq(8)
	if !slices.Equal(a, a2) {
		t.Error("same seed, different sequences")
	}
	if slices.Equal(a, c) {
		t.Error("different seeds, same sequence")
	}
}

// Saving the state at any point, restoring it into a fresh Batcher (via
// JSON) and continuing gives exactly the batches of an uninterrupted run.
func TestBatcherResume(t *testing.T) {
	const n, batch, total = 50, 7, 40 // 7 batches per epoch; stops mid-epoch and at boundaries
	ds := indexDataset(n)
	ref, err := NewBatcher(ds, batch, 99, false)
	if err != nil {
		t.Fatal(err)
	}
	want := drain(t, ref, total)
	for stop := range total {
		first, err := NewBatcher(ds, batch, 99, false)
		if err != nil {
			t.Fatal(err)
		}
		got := drain(t, first, stop)
		js, err := json.Marshal(first.State())
		if err != nil {
			t.Fatal(err)
		}
		var st BatcherState
		if err := json.Unmarshal(js, &st); err != nil {
			t.Fatal(err)
		}
		second, err := NewBatcher(ds, batch, 12345, false) // the seed is superseded by the state
		if err != nil {
			t.Fatal(err)
		}
		if err := second.Restore(st); err != nil {
			t.Fatal(err)
		}
		if second.Epoch() != first.Epoch() || second.Pos() != first.Pos() {
			t.Fatalf("stop %d: restored at %d/%d, saved at %d/%d", stop, second.Epoch(), second.Pos(), first.Epoch(), first.Pos())
		}
		got = append(got, drain(t, second, total-stop)...)
		if !slices.Equal(got, want) {
			t.Fatalf("stop %d: resumed sequence differs", stop)
		}
	}
}

func TestBatcherRestoreErrors(t *testing.T) {
	ds := indexDataset(20)
	b, err := NewBatcher(ds, 5, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	good := b.State()
	for name, tc := range map[string]struct {
		edit func(*BatcherState)
		want string
	}{
		"pos too large":  {func(s *BatcherState) { s.Pos = 4 }, "position 4 out of range 0..3"},
		"negative pos":   {func(s *BatcherState) { s.Pos = -1 }, "position -1 out of range"},
		"negative epoch": {func(s *BatcherState) { s.Epoch = -2 }, "negative epoch"},
		"batch size":     {func(s *BatcherState) { s.BatchSize = 4 }, "batch size 4 over 20 images"},
		"dataset size":   {func(s *BatcherState) { s.N = 21 }, "over 21 images"},
		"bad rng":        {func(s *BatcherState) { s.RNG = []byte("junk") }, "rng"},
		"no rng":         {func(s *BatcherState) { s.RNG = nil }, "rng"},
	} {
		t.Run(name, func(t *testing.T) {
			s := good
			s.RNG = slices.Clone(good.RNG)
			tc.edit(&s)
			wantErr(t, b.Restore(s), "restoring batcher", tc.want)
		})
	}
	if err := b.Restore(good); err != nil {
		t.Errorf("restoring a good state: %v", err)
	}
}

func TestNewBatcherErrors(t *testing.T) {
	ds := indexDataset(10)
	for _, bs := range []int{0, -1, 11} {
		_, err := NewBatcher(ds, bs, 1, false)
		wantErr(t, err, "batch size", "out of range 1..10")
	}
	if _, err := NewBatcher(nil, 1, 1, false); err == nil {
		t.Error("nil dataset accepted")
	}
	bad := indexDataset(10)
	bad.Pixels = bad.Pixels[:39]
	_, err := NewBatcher(bad, 2, 1, false)
	wantErr(t, err, "39 pixel bytes")
	bad = indexDataset(10)
	bad.Labels = bad.Labels[:9]
	_, err = NewBatcher(bad, 2, 1, false)
	wantErr(t, err, "9 labels for 10 images")

	b, err := NewBatcher(ds, 10, 1, false) // batch size N: one batch per epoch
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Next(make([]float32, 39), nil)
	wantErr(t, err, "image buffer has 39 values, want 40")
	_, err = b.Next(make([]float32, 40), make([]int, 3))
	wantErr(t, err, "label buffer has 3 values, want 10")
	noLabels := indexDataset(10)
	noLabels.Labels = nil
	b, err = NewBatcher(noLabels, 5, 1, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Next(make([]float32, 20), nil); err != nil {
		t.Errorf("Next without labels: %v", err)
	}
	_, err = b.Next(make([]float32, 20), make([]int, 5))
	wantErr(t, err, "dataset has none")
}

// drain takes k batches and returns the image indices in order.
func drain(t *testing.T, b *Batcher, k int) []int {
	t.Helper()
	imgs := make([]float32, b.BatchSize()*4)
	var out []int
	for range k {
		if _, err := b.Next(imgs, nil); err != nil {
			t.Fatal(err)
		}
		for j := range b.BatchSize() {
			out = append(out, decodeIndex(imgs[4*j:]))
		}
	}
	return out
}

// flipDataset has n RGB images of 2×3 whose pixel (c, y, x) is
// 1 + 36·(i mod 7) + 6c + 3y + x: distinct within an image, so a mirrored
// image is recognisable.
func flipDataset(n int) *Dataset {
	ds := &Dataset{N: n, C: 3, H: 2, W: 3, Source: "flip"}
	ds.Pixels = make([]uint8, n*18)
	for i := range n {
		for j := range 18 {
			ds.Pixels[i*18+j] = uint8(1 + 36*(i%7) + j)
		}
	}
	return ds
}

// mirrored reports whether img (18 scaled values) is src mirrored
// left-right, and orig whether it is src unchanged.
func mirrored(img []float32, src []uint8) (orig, mirror bool) {
	orig, mirror = true, true
	for c := range 3 {
		for y := range 2 {
			for x := range 3 {
				got := unscale(img[c*6+y*3+x])
				orig = orig && got == int(src[c*6+y*3+x])
				mirror = mirror && got == int(src[c*6+y*3+2-x])
			}
		}
	}
	return orig, mirror
}

// With data.flip each drawn image is itself or its mirror image, about half
// of each, differently each epoch; without it, never mirrored.
func TestBatcherFlips(t *testing.T) {
	const n = 420
	ds := flipDataset(n)
	for _, flip := range []bool{false, true} {
		b, err := NewBatcher(ds, n, 5, flip)
		if err != nil {
			t.Fatal(err)
		}
		imgs := make([]float32, n*18)
		var perEpoch [][]bool
		for range 2 {
			if _, err := b.Next(imgs, nil); err != nil {
				t.Fatal(err)
			}
			flips, k := make([]bool, n), 0
			for j := range n {
				// Find the source from the first pixel: it is the first pixel of
				// the image (unchanged) or its third (mirrored).
				first := unscale(imgs[j*18])
				var src []uint8
				for i := range n {
					s := ds.Pixels[i*18 : i*18+18]
					if int(s[0]) == first || int(s[2]) == first {
						src = s
						break
					}
				}
				orig, mirror := mirrored(imgs[j*18:j*18+18], src)
				if !orig && !mirror {
					t.Fatalf("flip %v: image %d is neither an image nor its mirror", flip, j)
				}
				flips[j] = mirror
				if mirror {
					k++
				}
			}
			if !flip && k != 0 {
				t.Fatalf("flip off: %d images mirrored", k)
			}
			if flip && (k < n/4 || k > 3*n/4) {
				t.Errorf("flip on: %d of %d mirrored, want about half", k, n)
			}
			perEpoch = append(perEpoch, flips)
		}
		if flip && slices.Equal(perEpoch[0], perEpoch[1]) {
			t.Error("the same flips in two epochs")
		}
	}
}

// Resuming reproduces the flips exactly; a state with other flips is
// refused.
func TestBatcherResumeFlips(t *testing.T) {
	const n, batch, total = 30, 4, 25
	ds := flipDataset(n)
	seq := func(b *Batcher, k int) []float32 {
		var out []float32
		imgs := make([]float32, batch*18)
		for range k {
			if _, err := b.Next(imgs, nil); err != nil {
				t.Fatal(err)
			}
			out = append(out, imgs...)
		}
		return out
	}
	ref, _ := NewBatcher(ds, batch, 8, true)
	want := seq(ref, total)
	for _, stop := range []int{0, 3, 7, 11, 20} {
		first, _ := NewBatcher(ds, batch, 8, true)
		got := seq(first, stop)
		second, _ := NewBatcher(ds, batch, 1, true)
		if err := second.Restore(first.State()); err != nil {
			t.Fatal(err)
		}
		got = append(got, seq(second, total-stop)...)
		if !slices.Equal(got, want) {
			t.Fatalf("stop %d: resumed batches differ", stop)
		}
	}
	noFlip, _ := NewBatcher(ds, batch, 8, false)
	wantErr(t, noFlip.Restore(ref.State()), "data.flip true", "the config says false")
}
