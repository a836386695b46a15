package evaluate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gantrain/gantrain/internal/classifier"
)

func points(r *rand.Rand, n int) []float64 {
	x := make([]float64, n*classifier.Features)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	return x
}

// Samples drawn like the data look like held-out images; copies of
// training images (with a little noise) are flagged.
func TestMemorize(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	d := classifier.Features
	train, held := points(r, 2000), points(r, 500)
	fresh, copies := points(r, 1000), make([]float64, 1000*d)
	for i := range 1000 {
		j := r.IntN(2000)
		for c := range d {
			copies[i*d+c] = train[j*d+c] + 0.01*r.NormFloat64()
		}
	}
	m, nb, err := Memorize(train, held, fresh, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.TrainImages != 2000 || m.HeldOutImages != 500 || m.Samples != 1000 || nb.K != 3 || len(nb.Idx) != 3000 {
		t.Fatalf("counts %+v, k %d, %d neighbours", m, nb.K, len(nb.Idx))
	}
	if math.Abs(m.MedianRatio-1) > 0.05 || m.NearerThanHeldOutP5 > 0.1 {
		t.Errorf("new samples: median ratio %.3f (want ≈ 1), nearer than p5 %.3f (want ≈ 0.05)", m.MedianRatio, m.NearerThanHeldOutP5)
	}
	m, nb, err = Memorize(train, held, copies, 3)
	if err != nil {
		t.Fatal(err)
	}
	if m.MedianRatio > 0.05 || m.NearerThanHeldOutP5 < 0.99 || m.SampleNN.Median > 0.2 {
		t.Errorf("copies: median ratio %.3f, nearer than p5 %.3f, median %.3f", m.MedianRatio, m.NearerThanHeldOutP5, m.SampleNN.Median)
	}
	for i := 0; i < 3000; i += 3 {
		if nb.Dist[i] > nb.Dist[i+1] || nb.Dist[i+1] > nb.Dist[i+2] {
			t.Fatalf("neighbours of sample %d not in order: %v", i/3, nb.Dist[i:i+3])
		}
	}
	if _, _, err := Memorize(train, held[:d], fresh, 3); err == nil {
		t.Error("one held-out image: no error")
	}
}

func TestQuantile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.5, 3}, {0.05, 1.2}, {1, 5}, {0.9, 4.6}} {
		if got := quantile(s, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("quantile(%g) = %g, want %g", c.q, got, c.want)
		}
	}
}
