package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/gantrain/gantrain/internal/parallel"
)

// eachKernel runs f with the portable and (when the CPU has it) the SIMD
// kernel, with tiles small enough to give several blocks and partial ones,
// and with more workers than blocks can keep busy.
func eachKernel(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	defer func(u bool, b, th int) {
		useSIMD, blockSize = u, b
		parallel.SetThreads(th)
	}(useSIMD, blockSize, parallel.Threads())
	for _, simd := range []bool{false, true} {
		if simd && !haveSIMD() {
			t.Log("no AVX2/FMA: SIMD kernel not tested")
			continue
		}
		for _, bs := range []int{8, 24, 128} {
			for _, th := range []int{1, 3} {
				useSIMD, blockSize = simd, bs
				parallel.SetThreads(th)
				t.Run(fmt.Sprintf("simd=%v/block=%d/threads=%d", simd, bs, th), f)
			}
		}
	}
}

func gauss(rng *rand.Rand, n, d int, shift float64) []float64 {
	x := make([]float64, n*d)
	for i := range x {
		x[i] = rng.NormFloat64() + shift
	}
	return x
}

func checkResult(t *testing.T, got, want Result, tol float64) {
	t.Helper()
	if !near(got.Precision, want.Precision, tol) || !near(got.Recall, want.Recall, tol) ||
		!near(got.Density, want.Density, tol) || !near(got.Coverage, want.Coverage, tol) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestPRDCHand1D(t *testing.T) {
	// Reals 0 1 3 6 10, fakes 0.4 2.6 2.9 20 21.5, kPR = 1, kDC = 2.
	//
	// Real 1-NN radii: 1 1 2 3 4. Fakes inside a real ball: 0.4 (of 0),
	// 2.6 and 2.9 (of 3); 20 and 21.5 are > 4 from 10. Precision 3/5.
	// Fake 1-NN radii: 2.2 0.3 0.3 1.5 1.5. Reals inside a fake ball: 0 and
	// 1 (0.4 and 0.6 from 0.4), 3 (0.1 from 2.9); 6 is 3.1 from 2.9 and
	// 5.6 from 0.4. Recall 3/5.
	// Real 2-NN radii: 3 2 3 4 7. Real balls holding each fake:
	// 0.4 → 0, 1, 3 (3); 2.6 → 0, 1, 3, 6 (4); 2.9 → 0, 1, 3, 6 (4; 7.1 > 7
	// from 10); 20, 21.5 → none. Density 11/(2·5) = 1.1.
	// Nearest fake of each real: 0.4, 0.6, 0.1, 3.1, 7.1 against radii
	// 3 2 3 4 7: all but 10 covered. Coverage 4/5.
	real := []float64{0, 1, 3, 6, 10}
	fake := []float64{0.4, 2.6, 2.9, 20, 21.5}
	eachKernel(t, func(t *testing.T) {
		got, err := PRDC(real, fake, 1, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, got, Result{Precision: 0.6, Recall: 0.6, Density: 1.1, Coverage: 0.8}, 1e-12)
	})
}

func TestPRDCIdentical(t *testing.T) {
	// With fakes = reals every fake lies in its own real's ball (distance
	// 0): precision = recall = coverage = 1. Each real ball of radius r_k
	// holds the real's own copy and its k nearest neighbours, exactly k+1
	// fakes when distances have no ties, so density = (k+1)/k. The k-th
	// neighbour sits exactly on the boundary: this needs the radius and
	// the real–fake distance to be computed bit-for-bit alike.
	rng := rand.New(rand.NewPCG(5, 6))
	x := gauss(rng, 150, 5, 3)
	eachKernel(t, func(t *testing.T) {
		for _, k := range []int{3, 5} {
			got, err := PRDC(x, slices.Clone(x), 5, 3, k)
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, got, Result{Precision: 1, Recall: 1, Density: float64(k+1) / float64(k), Coverage: 1}, 1e-12)
		}
	})
}

func TestPRDCFarAway(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	real := gauss(rng, 120, 6, 0)
	fake := slices.Clone(real)
	for i := range fake {
		fake[i] += 100
	}
	eachKernel(t, func(t *testing.T) {
		got, err := PRDC(real, fake, 6, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, got, Result{}, 0)
	})
}

func TestPRDCModeCollapse(t *testing.T) {
	// Reals: two clusters 100 apart; fakes only from the first.
	rng := rand.New(rand.NewPCG(9, 10))
	const d, half = 4, 100
	a := gauss(rng, half, d, 0)
	real := append(slices.Clone(a), gauss(rng, half, d, 50)...)

	eachKernel(t, func(t *testing.T) {
		// Fakes = copies of cluster A: every A real is covered and
		// recalled, no B real is; each A real ball holds k+1 fakes.
		got, err := PRDC(real, a, d, 3, 5)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, got, Result{Precision: 1, Recall: 0.5, Density: 1.2, Coverage: 0.5}, 1e-12)
	})

	// Fresh samples of cluster A.
	fake := gauss(rng, half, d, 0)
	got, err := PRDC(real, fake, d, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got.Precision < 0.8 || got.Recall > 0.5 || got.Recall < 0.3 ||
		got.Coverage > 0.5 || got.Coverage < 0.35 || got.Density < 0.6 || got.Density > 1.4 {
		t.Errorf("mode collapse: %+v; want precision ≥ 0.8, recall and coverage in ~[0.3, 0.5], density ≈ 1", got)
	}
}

// naivePRDC is the definition, written directly: Σ(x−y)² distances, full
// sorts.
func naivePRDC(real, fake []float64, d, kPR, kDC int) Result {
	n, m := len(real)/d, len(fake)/d
	dist := func(a []float64, i int, b []float64, j int) float64 {
		var s float64
		for k := range d {
			t := a[i*d+k] - b[j*d+k]
			s += t * t
		}
		return s
	}
	kth := func(x []float64, n, k int) []float64 {
		out := make([]float64, n)
		for i := range n {
			var ds []float64
			for j := range n {
				if j != i {
					ds = append(ds, dist(x, i, x, j))
				}
			}
			slices.Sort(ds)
			out[i] = ds[k-1]
		}
		return out
	}
	rPR, rDC, fPR := kth(real, n, kPR), kth(real, n, kDC), kth(fake, m, kPR)
	var prec, rec, dens, cov int
	for j := range m {
		in := false
		for i := range n {
			v := dist(real, i, fake, j)
			in = in || v <= rPR[i]
			if v <= rDC[i] {
				dens++
			}
		}
		if in {
			prec++
		}
	}
	for i := range n {
		in, nearest := false, math.Inf(1)
		for j := range m {
			v := dist(real, i, fake, j)
			in = in || v <= fPR[j]
			nearest = min(nearest, v)
		}
		if in {
			rec++
		}
		if nearest <= rDC[i] {
			cov++
		}
	}
	return Result{
		Precision: float64(prec) / float64(m),
		Recall:    float64(rec) / float64(n),
		Density:   float64(dens) / float64(kDC*m),
		Coverage:  float64(cov) / float64(n),
	}
}

func TestPRDCMatchesDefinition(t *testing.T) {
	// Partly overlapping sets, sizes and d that fill no tile or panel
	// exactly; the metrics must be away from 0 and 1 to mean anything.
	rng := rand.New(rand.NewPCG(11, 12))
	const d = 7
	real := gauss(rng, 203, d, 0)
	fake := gauss(rng, 157, d, 0.7)
	for i := range fake {
		if i%d == 0 {
			fake[i] *= 1.5
		}
	}
	want := naivePRDC(real, fake, d, 3, 5)
	for _, v := range []float64{want.Precision, want.Recall, want.Coverage} {
		if v < 0.05 || v > 0.95 {
			t.Fatalf("reference %+v too close to 0 or 1 to be a useful test", want)
		}
	}
	want2 := naivePRDC(real, fake, d, 2, 4)
	eachKernel(t, func(t *testing.T) {
		got, err := PRDC(real, fake, d, 3, 5)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, got, want, 1e-12)
		got, err = PRDC(real, fake, d, 2, 4)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, got, want2, 1e-12)
	})
}

func TestSqDistTile(t *testing.T) {
	// Against Σ(x−y)², and the exact symmetry and zero self-distance the
	// PRDC boundary cases rely on.
	rng := rand.New(rand.NewPCG(13, 14))
	for _, d := range []int{1, 3, 8, 13} {
		const na, nb = 11, 19
		xa, xb := gauss(rng, na, d, 1), gauss(rng, nb, d, 1)
		copy(xb[5*d:6*d], xa[2*d:3*d]) // a shared point
		eachKernel(t, func(t *testing.T) {
			a, b := newSet(xa, na, d), newSet(xb, nb, d)
			ab := make([]float64, na*24)
			ba := make([]float64, nb*16)
			sqDistTile(ab, 24, a, 0, na, b, 0, nb)
			sqDistTile(ba, 16, b, 0, nb, a, 0, na)
			for i := range na {
				for j := range nb {
					var want float64
					for k := range d {
						t := xa[i*d+k] - xb[j*d+k]
						want += t * t
					}
					got := ab[i*24+j]
					if !near(got, want, 1e-12*(1+want)) {
						t.Fatalf("d=%d: d²(a%d, b%d) = %v, want %v", d, i, j, got, want)
					}
					if got != ba[j*16+i] {
						t.Fatalf("d=%d: d²(a%d, b%d) = %v but d²(b%d, a%d) = %v", d, i, j, got, j, i, ba[j*16+i])
					}
				}
			}
			if ab[2*24+5] != 0 {
				t.Errorf("d=%d: distance of a point to its copy = %v, want exactly 0", d, ab[2*24+5])
			}
			aa := make([]float64, na*16)
			sqDistTile(aa, 16, a, 0, na, a, 0, na)
			for i := range na {
				if aa[i*16+i] != 0 {
					t.Errorf("d=%d: d²(a%d, a%d) = %v, want exactly 0", d, i, i, aa[i*16+i])
				}
			}
			// A tile that starts inside b (at 8, a panel boundary).
			sub := make([]float64, 7*16)
			sqDistTile(sub, 16, a, 2, 9, b, 8, nb)
			for i := 2; i < 9; i++ {
				for j := 8; j < nb; j++ {
					if sub[(i-2)*16+j-8] != ab[i*24+j] {
						t.Fatalf("d=%d: sub-tile d²(a%d, b%d) = %v, full tile %v", d, i, j, sub[(i-2)*16+j-8], ab[i*24+j])
					}
				}
			}
		})
	}
}

func TestPRDCErrors(t *testing.T) {
	x := make([]float64, 12)
	for i := range x {
		x[i] = float64(i * i)
	}
	// x holds 6 points in 2-D.
	for name, c := range map[string]struct {
		real, fake  []float64
		d, kPR, kDC int
	}{
		"d = 0":            {x, x, 0, 1, 1},
		"ragged real":      {x[:11], x, 2, 1, 1},
		"ragged fake":      {x, x[:11], 2, 1, 1},
		"kPR ≥ reals":      {x[:6], x, 2, 3, 1},
		"kPR ≥ fakes":      {x, x[:6], 2, 3, 1},
		"kDC ≥ reals":      {x, x, 2, 1, 6},
		"NaN":              {append(slices.Clone(x[:10]), math.NaN(), 0), x, 2, 1, 1},
		"Inf in the fakes": {x, append(slices.Clone(x[:10]), math.Inf(1), 0), 2, 1, 1},
	} {
		if _, err := PRDC(c.real, c.fake, c.d, c.kPR, c.kDC); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := PRDC(x, x, 2, 5, 5); err != nil {
		t.Errorf("6 points, k = 5: %v", err)
	}
}

// TestPRDCTiming runs the 10k × 10k, d = 64 case once when
// GOTEST_METRICS_TIMING is set (it takes seconds, so not by default).
func TestPRDCTiming(t *testing.T) {
	if os.Getenv("GOTEST_METRICS_TIMING") == "" {
		t.Skip("set GOTEST_METRICS_TIMING=1 to time PRDC on 10k × 10k, d = 64")
	}
	rng := rand.New(rand.NewPCG(15, 16))
	const n, d = 10000, 64
	real, fake := gauss(rng, n, d, 0), gauss(rng, n, d, 0.1)
	start := time.Now()
	res, err := PRDC(real, fake, d, 3, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PRDC %d×%d, d=%d, %d threads, SIMD %v: %v  %+v", n, n, d, parallel.Threads(), useSIMD, time.Since(start), res)
}

func TestPRDCDuplicates(t *testing.T) {
	// Every real twice, fakes one copy each, k = 1: every real radius is
	// exactly 0, so everything hinges on a point's distance to its copy
	// being exactly 0. Precision = recall = coverage = 1; each real ball
	// holds exactly one fake, so density = 2n/n = 2.
	rng := rand.New(rand.NewPCG(17, 18))
	const d = 13
	x := gauss(rng, 60, d, 2)
	real := append(slices.Clone(x), x...)
	eachKernel(t, func(t *testing.T) {
		got, err := PRDC(real, x, d, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, got, Result{Precision: 1, Recall: 1, Density: 2, Coverage: 1}, 1e-12)
	})
}

func TestPRDCSubsetBoundary(t *testing.T) {
	// Fakes = exact copies of the even-indexed reals. A real is covered
	// iff it or one of its k nearest neighbours is a fake: when only the
	// k-th is, the nearest fake sits exactly on the radius (≤ counts).
	// Likewise each real ball holds exactly the fakes among the real and
	// its k nearest neighbours. Neighbour identities come from the naive
	// distances (no ties with continuous data).
	rng := rand.New(rand.NewPCG(19, 20))
	const n, d = 90, 3
	real := gauss(rng, n, d, 0)
	var fake []float64
	for i := 0; i < n; i += 2 {
		fake = append(fake, real[i*d:i*d+d]...)
	}
	m := len(fake) / d
	for _, k := range []int{1, 2, 5} {
		covered, inBalls, onlyKth := 0, 0, 0
		for i := range n {
			idx := make([]int, 0, n-1)
			for j := range n {
				if j != i {
					idx = append(idx, j)
				}
			}
			dist := func(j int) float64 {
				var s float64
				for c := range d {
					t := real[i*d+c] - real[j*d+c]
					s += t * t
				}
				return s
			}
			slices.SortFunc(idx, func(a, b int) int { return int(math.Copysign(1, dist(a)-dist(b))) })
			fakes := 0
			for _, j := range append([]int{i}, idx[:k]...) {
				if j%2 == 0 {
					fakes++
				}
			}
			inBalls += fakes
			if fakes > 0 {
				covered++
			}
			if fakes == 1 && idx[k-1]%2 == 0 {
				onlyKth++
			}
		}
		// Some real must be covered only through its k-th neighbour,
		// otherwise the boundary is not tested.
		if onlyKth == 0 {
			t.Fatalf("k=%d: no real is covered through its k-th neighbour alone", k)
		}
		want := Result{Precision: 1, Density: float64(inBalls) / float64(k*m), Coverage: float64(covered) / float64(n)}
		eachKernel(t, func(t *testing.T) {
			got, err := PRDC(real, fake, d, 1, k)
			if err != nil {
				t.Fatal(err)
			}
			want.Recall = got.Recall // checked against the definition elsewhere
			checkResult(t, got, want, 1e-12)
		})
	}
}

func TestPRDCBoundaryExact(t *testing.T) {
	// 1-D, k = 1, values whose distances are exact in floating point (the
	// shift by the real mean 12.5 keeps them multiples of 0.5), arranged so
	// that every hit lies exactly on a radius: "within" must mean ≤.
	//
	// Reals 0 4 20 26, radii 4 4 6 6; fakes 8 14 40 43, radii 6 6 3 3.
	// Precision: 8 is 4 from real 4, 14 is 6 from real 20: 2/4.
	// Recall: real 4 is 4 from fake 8 (radius 6), real 20 is 6 from fake
	// 14 (radius 6): 2/4. Density: one real ball each for 8 and 14: 2/4.
	// Coverage: the nearest fakes of reals 4 and 20 are at 4 and 6: 2/4.
	real := []float64{0, 4, 20, 26}
	fake := []float64{8, 14, 40, 43}
	want := Result{Precision: 0.5, Recall: 0.5, Density: 0.5, Coverage: 0.5}
	// The same in 3-D, with two coordinates constant across both sets.
	var real3, fake3 []float64
	for i := range real {
		real3 = append(real3, 5, real[i], -3)
		fake3 = append(fake3, 5, fake[i], -3)
	}
	eachKernel(t, func(t *testing.T) {
		got, err := PRDC(real, fake, 1, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, got, want, 0)
		got, err = PRDC(real3, fake3, 3, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		checkResult(t, got, want, 0)
	})
}
