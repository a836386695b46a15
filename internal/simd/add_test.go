package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdd checks Add against the plain loop, bit for bit, on every length
// up to 100 (the 32- and 8-wide loops and the scalar tail) at unaligned
// offsets, and that it touches nothing outside dst.
func TestAdd(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 100; n++ {
		for off := 0; off < 3; off++ {
			src := make([]float32, n+off+1)
			dst := make([]float32, n+off+1)
			for i := range src {
				src[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(7)-3)))
				dst[i] = float32(rng.NormFloat64())
			}
			want := append([]float32(nil), dst...)
			addGo(want[off:off+n], src[off:off+n])
			Add(dst[off:off+n], src[off:off+n])
			for i := range dst {
				if math.Float32bits(dst[i]) != math.Float32bits(want[i]) {
					t.Fatalf("n=%d off=%d: dst[%d] = %g, want %g", n, off, i, dst[i], want[i])
				}
			}
		}
	}
}

func TestAddLengthsDiffer(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Add of lengths 3 and 2 did not panic")
		}
	}()
	Add(make([]float32, 3), make([]float32, 2))
}

func BenchmarkAdd64(b *testing.B) {
	dst, src := make([]float32, 64), make([]float32, 64)
	for b.Loop() {
		Add(dst, src)
	}
}
