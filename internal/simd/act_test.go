package simd

import (
	"math"
	"math/rand/v2"
	"testing"
)

// special are values the sign-bit tricks must get right.
var special = []float32{0, float32(math.Copysign(0, -1)), 1, -1, 1e-40, -1e-40,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 3.5, -2.25}

func testVector(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		if rng.IntN(4) == 0 {
			v[i] = special[rng.IntN(len(special))]
		} else {
			v[i] = float32(rng.NormFloat64())
		}
	}
	return v
}

func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: [%d] = %g (%#x), want %g (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// TestAffineAct checks the AVX2 path against a scalar formula written out
// here (not the package's Go path), bit for bit, on every length to 40 and
// on ±0, ±Inf, NaN and subnormals.
func TestAffineAct(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ref := func(v, a, b float32, act Act, slope float32) float32 {
		y := float32(v*a) + b
		neg := math.Signbit(float64(y))
		switch {
		case act == ReLU && neg:
			return 0
		case act == LeakyReLU && neg:
			return y * slope
		case act == LeakyReLU:
			return y * 1
		}
		return y
	}
	for _, act := range []Act{Identity, ReLU, LeakyReLU} {
		for n := 0; n <= 40; n++ {
			xs := testVector(rng, n)
			a, b := float32(rng.NormFloat64()), float32(rng.NormFloat64())
			if n%5 == 0 {
				a, b = 1, 0
			}
			got := make([]float32, n)
			AffineAct(xs, got, a, b, act, 0.2)
			want := make([]float32, n)
			for i, v := range xs {
				want[i] = ref(v, a, b, act, 0.2)
			}
			sameBits(t, "AffineAct", got, want)
		}
	}
}

// TestActGrad checks ActGrad likewise: dy where y > 0, else 0 (ReLU) or
// dy·slope (LeakyReLU); y = ±0 counts as not positive, as in PyTorch.
func TestActGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, act := range []Act{Identity, ReLU, LeakyReLU} {
		for n := 0; n <= 40; n++ {
			y, dy := testVector(rng, n), testVector(rng, n)
			got := make([]float32, n)
			ActGrad(y, dy, got, act, 0.2)
			want := make([]float32, n)
			for i := range y {
				pos := y[i] > 0 || math.IsNaN(float64(y[i])) && !math.Signbit(float64(y[i]))
				switch {
				case act == Identity || pos && act == ReLU:
					want[i] = dy[i]
				case act == ReLU:
					want[i] = 0
				case pos:
					want[i] = dy[i] * 1
				default:
					want[i] = dy[i] * 0.2
				}
			}
			for i := range y {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Logf("act %d n %d i %d y %g (%#x) dy %g", act, n, i, y[i], math.Float32bits(y[i]), dy[i])
				}
			}
			sameBits(t, "ActGrad", got, want)
		}
	}
}
