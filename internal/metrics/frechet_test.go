package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestStatsHand(t *testing.T) {
	// Rows (1,2), (3,6), (5,7): mean (3,5); centred (-2,-3), (0,1), (2,2);
	// unbiased covariance = Σ outer / 2 = [[8,10],[10,14]]/2.
	x := []float64{1, 2, 3, 6, 5, 7}
	mu, s, err := Stats(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	if mu[0] != 3 || mu[1] != 5 {
		t.Errorf("mean %v, want [3 5]", mu)
	}
	want := [2][2]float64{{4, 5}, {5, 7}}
	for i := range 2 {
		for j := range 2 {
			if !near(s.At(i, j), want[i][j], 1e-12) {
				t.Errorf("cov[%d][%d] = %v, want %v", i, j, s.At(i, j), want[i][j])
			}
		}
	}
	if _, _, err := Stats([]float64{1, 2}, 2); err == nil {
		t.Error("Stats of one sample: no error")
	}
	if _, _, err := Stats([]float64{1, 2, 3}, 2); err == nil {
		t.Error("Stats of a ragged matrix: no error")
	}
	if _, _, err := Stats([]float64{1, 2, math.NaN(), 4}, 2); err == nil {
		t.Error("Stats with NaN: no error")
	}
}

func diag(v ...float64) *mat.SymDense {
	s := mat.NewSymDense(len(v), nil)
	for i, x := range v {
		s.SetSym(i, i, x)
	}
	return s
}

func TestFrechetDiagonal(t *testing.T) {
	// |Δμ|² = 1+4+4 = 9; Σ(σ1+σ2−2√(σ1σ2)) = (1+4−4) + (4+1−4) + (9+0.25−3).
	fd, err := FrechetDistance([]float64{1, 2, 3}, diag(1, 4, 9), []float64{0, 0, 1}, diag(4, 1, 0.25))
	if err != nil {
		t.Fatal(err)
	}
	if !near(fd, 9+1+1+6.25, 1e-9) {
		t.Errorf("FD = %v, want 17.25", fd)
	}
	// Singular (rank-1) covariances: 1 + 4 − 2·2 on the first axis, 0 on the other.
	fd, err = FrechetDistance([]float64{0, 0}, diag(1, 0), []float64{0, 0}, diag(4, 0))
	if err != nil || !near(fd, 1, 1e-12) {
		t.Errorf("singular diagonal FD = %v, %v; want 1", fd, err)
	}
}

func TestFrechetNonDiagonal2D(t *testing.T) {
	// Σ1 = Q·diag(4,1)·Qᵀ and Σ2 = Q·diag(1,9)·Qᵀ with Q = [[0.6,−0.8],[0.8,0.6]]:
	// FD = |Δμ|² + (4+1−2·2) + (1+9−2·3) = 5 + 5.
	s1 := mat.NewSymDense(2, []float64{2.08, 1.44, 1.44, 2.92})
	s2 := mat.NewSymDense(2, []float64{6.12, -3.84, -3.84, 3.88})
	fd, err := FrechetDistance([]float64{0, 0}, s1, []float64{1, 2}, s2)
	if err != nil || !near(fd, 10, 1e-9) {
		t.Errorf("rotated FD = %v, %v; want 10", fd, err)
	}

	// Non-commuting pair. For a 2×2 matrix M with positive eigenvalues,
	// tr √M = √(tr M + 2√det M). Σ1 = [[2,1],[1,2]], Σ2 = diag(1,4):
	// Σ1Σ2 = [[2,4],[1,8]], tr 10, det = 3·4, so tr √(Σ1Σ2) = √(10 + 4√3).
	s1 = mat.NewSymDense(2, []float64{2, 1, 1, 2})
	fd, err = FrechetDistance([]float64{1, 0}, s1, []float64{0, 0}, diag(1, 4))
	want := 1 + 4 + 5 - 2*math.Sqrt(10+4*math.Sqrt(3))
	if err != nil || !near(fd, want, 1e-9) {
		t.Errorf("non-commuting FD = %v, %v; want %v", fd, err, want)
	}
	// The Fréchet distance is symmetric.
	fd2, err := FrechetDistance([]float64{0, 0}, diag(1, 4), []float64{1, 0}, s1)
	if err != nil || !near(fd2, want, 1e-9) {
		t.Errorf("swapped non-commuting FD = %v, %v; want %v", fd2, err, want)
	}
}

// randFeatures returns n rows of d correlated features: z·L + shift, z
// standard normal, L a random d×d mixing matrix.
func randFeatures(rng *rand.Rand, n, d int, shift float64) []float64 {
	l := make([]float64, d*d)
	for i := range l {
		l[i] = rng.NormFloat64() / math.Sqrt(float64(d))
	}
	x := make([]float64, n*d)
	z := make([]float64, d)
	for i := range n {
		for k := range z {
			z[k] = rng.NormFloat64()
		}
		for c := range d {
			s := shift
			for k := range d {
				s += z[k] * l[k*d+c]
			}
			x[i*d+c] = s
		}
	}
	return x
}

func TestFrechetIdenticalAndInvariances(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 400, 8
	a := randFeatures(rng, n, d, 0)
	b := randFeatures(rng, n, d, 0.5)

	mu, s, err := Stats(a, d)
	if err != nil {
		t.Fatal(err)
	}
	if fd, err := FrechetDistance(mu, s, mu, s); err != nil || fd > 1e-9 {
		t.Errorf("identical stats: FD = %v, %v; want 0", fd, err)
	}
	// Near 0 the result is not just clamped: a mean shift of 1e-3 alone
	// gives 1e-6.
	mu2 := slices.Clone(mu)
	mu2[3] += 1e-3
	if fd, err := FrechetDistance(mu, s, mu2, s); err != nil || !near(fd, 1e-6, 1e-9) {
		t.Errorf("identical covariances, means 1e-3 apart: FD = %v, %v; want 1e-6", fd, err)
	}

	base, err := FrechetFromFeatures(a, b, d)
	if err != nil {
		t.Fatal(err)
	}
	if base < 0.5 {
		t.Fatalf("FD between shifted sets = %v, implausibly small", base)
	}

	// Permuting the feature coordinates of both sets changes nothing.
	perm := rng.Perm(d)
	permute := func(x []float64) []float64 {
		out := make([]float64, len(x))
		for i := 0; i < len(x); i += d {
			for c, p := range perm {
				out[i+c] = x[i+p]
			}
		}
		return out
	}
	fd, err := FrechetFromFeatures(permute(a), permute(b), d)
	if err != nil || !near(fd, base, 1e-9) {
		t.Errorf("permuted FD = %v, %v; want %v", fd, err, base)
	}

	// Nor does an orthogonal change of basis applied to both.
	g := mat.NewDense(d, d, nil)
	for i := range d {
		for j := range d {
			g.Set(i, j, rng.NormFloat64())
		}
	}
	var qr mat.QR
	qr.Factorize(g)
	var q mat.Dense
	qr.QTo(&q)
	rotate := func(x []float64) []float64 {
		var out mat.Dense
		out.Mul(mat.NewDense(n, d, x), &q)
		return out.RawMatrix().Data
	}
	fd, err = FrechetFromFeatures(rotate(a), rotate(b), d)
	if err != nil || !near(fd, base, 1e-9) {
		t.Errorf("rotated FD = %v, %v; want %v", fd, err, base)
	}
}

func TestFrechetSingular(t *testing.T) {
	// 6 features of which the last 3 are linear combinations of the first
	// 3: rank-3 covariances.
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d = 200, 6
	mk := func(shift float64) []float64 {
		x := make([]float64, n*d)
		for i := range n {
			r := x[i*d : i*d+d]
			for c := range 3 {
				r[c] = rng.NormFloat64() + shift
			}
			r[3] = r[0] + r[1]
			r[4] = 2 * r[2]
			r[5] = r[0] - r[2]
		}
		return x
	}
	a, b := mk(0), mk(1)
	fd, err := FrechetFromFeatures(a, b, d)
	if err != nil || math.IsNaN(fd) || math.IsInf(fd, 0) || fd <= 0 {
		t.Errorf("singular FD = %v, %v; want finite and positive", fd, err)
	}
	mu, s, _ := Stats(a, d)
	if fd, err := FrechetDistance(mu, s, mu, s); err != nil || fd > 1e-6 {
		t.Errorf("identical singular stats: FD = %v, %v; want ≈ 0", fd, err)
	}
	// All-zero covariance against itself.
	z := mat.NewSymDense(3, nil)
	if fd, err := FrechetDistance([]float64{0, 0, 0}, z, []float64{0, 0, 0}, z); err != nil || fd != 0 {
		t.Errorf("zero covariances: FD = %v, %v; want 0", fd, err)
	}
}

func TestFrechetErrors(t *testing.T) {
	if _, err := FrechetDistance([]float64{0, 0}, diag(1, 1), []float64{0, 0, 0}, diag(1, 1, 1)); err == nil {
		t.Error("mismatched dimensions: no error")
	}
	if _, err := FrechetDistance([]float64{0, 0}, diag(1, 1), []float64{0, 0}, diag(1, 1, 1)); err == nil {
		t.Error("sigma of the wrong size: no error")
	}
	if _, err := FrechetDistance([]float64{0, math.NaN()}, diag(1, 1), []float64{0, 0}, diag(1, 1)); err == nil {
		t.Error("NaN mean: no error")
	}
	if _, err := FrechetDistance(nil, diag(1), nil, diag(1)); err == nil {
		t.Error("empty statistics: no error")
	}
}
