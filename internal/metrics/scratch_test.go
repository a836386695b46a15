package metrics

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestScratchTiming(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n, d := 10000, 64
	a := make([]float64, n*d)
	b := make([]float64, n*d)
	for i := range a {
		a[i] = rng.NormFloat64()
		b[i] = rng.NormFloat64() + 0.1
	}
	st := time.Now()
	res, err := PRDC(a, b, d, 3, 5)
	t.Logf("%v %+v %v", err, res, time.Since(st))
}
