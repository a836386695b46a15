package classifier

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/rng"
)

// The MNIST network keeps its names and shapes; other shapes get one more
// stride-2 convolution at 64 px, fc1 sized to what the convolutions leave
// and fc2 sized to the classes.
func TestShapes(t *testing.T) {
	names := func(n *Net) []string {
		var out []string
		for _, p := range n.Params() {
			out = append(out, fmt.Sprint(p.Name, p.Shape()))
		}
		return out
	}
	want := []string{"c1.weight[16 1 5 5]", "c1.bias[16]", "c2.weight[32 16 4 4]", "c2.bias[32]",
		"c3.weight[32 32 4 4]", "c3.bias[32]", "fc1.weight[64 1568]", "fc1.bias[64]", "fc2.weight[10 64]", "fc2.bias[10]"}
	if got := names(New(rng.New(1, 1))); !slices.Equal(got, want) {
		t.Errorf("MNIST classifier %v, want %v", got, want)
	}
	for _, c := range []struct {
		s    Shape
		last string
		fc1  string
	}{
		{Shape{3, 32, 32, 5}, "fc2.weight[5 64]", "fc1.weight[64 2048]"},
		{Shape{3, 64, 64, 4}, "fc2.weight[4 64]", "fc1.weight[64 2048]"},
		{Shape{1, 64, 64, 12}, "fc2.weight[12 64]", "fc1.weight[64 2048]"},
		{Shape{3, 28, 28, 10}, "fc2.weight[10 64]", "fc1.weight[64 1568]"},
	} {
		n, err := NewShape(c.s, rng.New(1, 1))
		if err != nil {
			t.Fatal(err)
		}
		got := names(n)
		if !slices.Contains(got, c.last) || !slices.Contains(got, c.fc1) || got[0] != fmt.Sprintf("c1.weight[16 %d 5 5]", c.s.C) {
			t.Errorf("%v: %v", c.s, got)
		}
		if c.s.H == 64 && !slices.Contains(got, "c4.weight[32 32 4 4]") {
			t.Errorf("%v: no c4: %v", c.s, got)
		}
		// Runs, round-trips through safetensors with its shape and mode.
		n.Meta["mode"] = ModeRotation
		imgs := make([]float32, 3*c.s.Size())
		r := rng.New(2, 2)
		for i := range imgs {
			imgs[i] = float32(2*r.Float64() - 1)
		}
		res := run(t, n, imgs)
		var buf bytes.Buffer
		if err := n.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := Load(buf.Bytes(), "buf")
		if err != nil {
			t.Fatal(err)
		}
		if back.Shape != c.s || back.Mode() != ModeRotation {
			t.Errorf("loaded %v %s, want %v rotation", back.Shape, back.Mode(), c.s)
		}
		if res2 := run(t, back, imgs); !slices.Equal(res.Probs, res2.Probs) || len(res.Probs) != 3*c.s.K {
			t.Errorf("%v: outputs differ after a round trip", c.s)
		}
	}
	for _, bad := range []Shape{{2, 28, 28, 10}, {3, 48, 48, 10}, {3, 32, 64, 10}, {1, 28, 28, 1}} {
		if _, err := NewShape(bad, rng.New(1, 1)); err == nil {
			t.Errorf("NewShape(%v) accepted", bad)
		}
	}
}

func run(t *testing.T, n *Net, imgs []float32) *Result {
	t.Helper()
	e, err := NewRunner(n, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r, err := e.Run(imgs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Rotate against hand-written turns of a 2-channel 3×3 image.
func TestRotate(t *testing.T) {
	img := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 17, 18, 19}
	want := map[int][]float32{
		0: img,
		1: {3, 6, 9, 2, 5, 8, 1, 4, 7, 13, 16, 19, 12, 15, 18, 11, 14, 17}, // counter-clockwise
		2: {9, 8, 7, 6, 5, 4, 3, 2, 1, 19, 18, 17, 16, 15, 14, 13, 12, 11},
		3: {7, 4, 1, 8, 5, 2, 9, 6, 3, 17, 14, 11, 18, 15, 12, 19, 16, 13},
	}
	for q, w := range want {
		if got := Rotate(img, 2, 3, q); !slices.Equal(got, w) {
			t.Errorf("Rotate q=%d: %v, want %v", q, got, w)
		}
	}
}

// synthetic makes n C×s×s images: a bar, horizontal for class 0 and
// vertical for class 1, at a random place, on a −1 background; or (ell)
// an L shape, whose rotation can be told.
func synthetic(n, c, s int, ell bool, seed uint64) *data.Dataset {
	r := rng.New(seed, 9)
	ds := &data.Dataset{N: n, C: c, H: s, W: s, Source: "synthetic", Pixels: make([]uint8, n*c*s*s)}
	if !ell {
		ds.Classes = []string{"horizontal", "vertical"}
		ds.Labels = make([]uint8, n)
	}
	for i := 0; i < n; i++ {
		img := ds.Pixels[i*c*s*s : (i+1)*c*s*s]
		lab := i % 2
		x0, y0 := s/4+r.IntN(s/4), s/4+r.IntN(s/4)
		for k := 0; k < s/2; k++ {
			var pts [][2]int
			switch {
			case ell:
				pts = [][2]int{{y0 + k, x0}, {y0 + s/2 - 1, x0 + k/2}} // a tall stem and a short foot
			case lab == 0:
				pts = [][2]int{{y0, x0 + k}}
			default:
				pts = [][2]int{{y0 + k, x0}}
			}
			for _, p := range pts {
				for ch := 0; ch < c; ch++ {
					img[ch*s*s+p[0]*s+p[1]] = uint8(255 - 60*ch)
				}
			}
		}
		if !ell {
			ds.Labels[i] = uint8(lab)
		}
	}
	return ds
}

// The classifier learns an easy labelled task and the rotation task at
// 32 px RGB; the held-out accuracy is what it measures on images it did
// not train on.
func TestTrainDataShapes(t *testing.T) {
	o := TrainOptions{Epochs: 2, Batch: 16, LR: 2e-3, DecayEpochs: 0, Shift: 1, Seed: 1}
	ds := synthetic(320, 3, 32, false, 1)
	tr, held := Split(ds, 0.25, 1)
	if tr.N != 240 || held.N != 80 {
		t.Fatalf("split %d + %d", tr.N, held.N)
	}
	net, acc, err := TrainData(tr, held, o)
	if err != nil {
		t.Fatal(err)
	}
	if net.Shape != (Shape{3, 32, 32, 2}) || net.Mode() != ModeLabels || acc < 0.95 {
		t.Errorf("labels: shape %v mode %s held-out accuracy %.3f, want ≥ 0.95", net.Shape, net.Mode(), acc)
	}
	if _, _, err := TrainData(synthetic(64, 1, 28, true, 2), synthetic(16, 1, 28, true, 3), o); err == nil {
		t.Error("unlabelled data trained as labelled")
	}
	o.Rotation, o.Epochs = true, 3
	net, acc, err = TrainData(synthetic(320, 1, 28, true, 2), synthetic(40, 1, 28, true, 3), o)
	if err != nil {
		t.Fatal(err)
	}
	if net.Shape.K != 4 || net.Mode() != ModeRotation || acc < 0.9 {
		t.Errorf("rotation: shape %v mode %s held-out accuracy %.3f, want ≥ 0.9", net.Shape, net.Mode(), acc)
	}
	if math.IsNaN(acc) {
		t.Error("NaN accuracy")
	}
}

// Split keeps every image once; DataKey follows the content.
func TestSplitAndKey(t *testing.T) {
	ds := synthetic(50, 1, 28, false, 4)
	tr, held := Split(ds, 0.1, 7)
	if tr.N+held.N != ds.N || held.N != 5 {
		t.Fatalf("split %d + %d of %d", tr.N, held.N, ds.N)
	}
	seen := map[string]int{}
	for _, part := range []*data.Dataset{tr, held} {
		for i := 0; i < part.N; i++ {
			seen[string(part.Pixels[i*784:(i+1)*784])+string(rune(part.Labels[i]))]++
		}
	}
	total := 0
	for _, v := range seen {
		total += v
	}
	if total != ds.N {
		t.Errorf("split holds %d images, want %d", total, ds.N)
	}
	k := DataKey(ds)
	if DataKey(synthetic(50, 1, 28, false, 4)) != k {
		t.Error("the same data has two keys")
	}
	ds.Pixels[100]++
	if DataKey(ds) == k {
		t.Error("a changed pixel keeps the key")
	}
	ds.Pixels[100]--
	ds.Labels[3] ^= 1
	if DataKey(ds) == k {
		t.Error("a changed label keeps the key")
	}
}
