// Command gemmbench compares the float32 GEMM engines of one build on the
// layer shapes of gantrain's DCGANs, interleaved: each round times every
// engine once on a shape, in rotating order, and the medians of the rounds
// are reported, so that a machine shared with other jobs disturbs all
// engines alike. Two rates are printed for each engine: GFLOP per second
// of wall time, and GFLOP per second of CPU time used by the process (user
// + system, all threads; the time other jobs take the cores from it does
// not count): on a loaded machine the second is the steadier measure of
// the code, the first of what a user waits. Build it with -tags openblas
// to include OpenBLAS.
//
//	go run -tags openblas ./internal/blas/gemmbench -threads 1,2 -rounds 15
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/parallel"
)

// shape is one product of a layer: C (m×n) = op(A) (m×k) · op(B) (k×n).
type shape struct {
	name    string
	tA, tB  bool
	m, n, k int
}

// dcgan28 are the GEMMs of the 28 px DCGAN (configs/dcgan.yaml) at batch
// 64: the convolutions' im2col products (output channels × batch·pixels ×
// input channels·16) and the linear layers (features × batch).
var dcgan28 = []shape{
	{"D.conv2 fwd, G.up1 bwd-data", false, false, 128, 3136, 1024},
	{"D.conv2 bwd-data, G.up1 fwd", true, false, 1024, 3136, 128},
	{"D.conv2 bwd-W, G.up1 bwd-W", false, true, 128, 1024, 3136},
	{"D.conv1 fwd, G.up2 bwd-data", false, false, 64, 12544, 16},
	{"D.conv1 bwd-W, G.up2 bwd-W", false, true, 64, 16, 12544},
	{"G.up2 fwd", true, false, 16, 12544, 64},
	{"G.fc fwd", false, false, 6272, 64, 100},
	{"G.fc bwd-W", false, true, 6272, 100, 64},
}

func main() {
	threadsFlag := flag.String("threads", "1,2", "comma-separated thread counts")
	rounds := flag.Int("rounds", 11, "interleaved rounds per shape (the median is reported)")
	minTime := flag.Duration("min", 20*time.Millisecond, "least time of one timed sample")
	only := flag.String("engines", "", "comma-separated engine names (default: all but gonum)")
	flag.Parse()
	var threads []int
	for _, f := range strings.Split(*threadsFlag, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || t < 1 {
			fmt.Fprintf(os.Stderr, "gemmbench: -threads %q: want positive integers\n", *threadsFlag)
			os.Exit(2)
		}
		threads = append(threads, t)
	}
	var engines []blas.Engine
	for _, e := range blas.Engines() {
		if *only == "" && e.Name != "gonum" && e.Name != "gantrain-generic" || slices.Contains(strings.Split(*only, ","), e.Name) {
			engines = append(engines, e)
		}
	}
	if len(engines) == 0 {
		fmt.Fprintf(os.Stderr, "gemmbench: -engines %q: none of this build's engines\n", *only)
		os.Exit(2)
	}
	fmt.Printf("engine in use: %s\n", blas.Name())
	fmt.Printf("medians of %d interleaved rounds: GFLOP per wall second / per CPU second\n", *rounds)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, th := range threads {
		parallel.SetThreads(th)
		fmt.Printf("\nthreads=%d\n%-30s %-16s", th, "layer", "M×N×K")
		for _, e := range engines {
			fmt.Printf(" %17s", e.Name)
		}
		fmt.Println()
		for _, s := range dcgan28 {
			fmt.Printf("%-30s %-16s", s.name, fmt.Sprintf("%s%s %d×%d×%d", tn(s.tA), tn(s.tB), s.m, s.n, s.k))
			med := measure(rng, s, engines, *rounds, *minTime)
			for i := range med[0] {
				fmt.Printf(" %17s", fmt.Sprintf("%.1f / %.1f", med[0][i], med[1][i]))
			}
			fmt.Println()
		}
	}
}

func tn(t bool) string {
	if t {
		return "T"
	}
	return "N"
}

// measure returns the median GFLOP/s of each engine by wall time [0] and
// by the process's CPU time [1].
func measure(rng *rand.Rand, s shape, engines []blas.Engine, rounds int, minTime time.Duration) [2][]float64 {
	a, b, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
	lda, ldb := s.k, s.n
	if s.tA {
		lda = s.m
	}
	if s.tB {
		ldb = s.k
	}
	call := func(e blas.Engine) { e.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n) }
	// Calls per sample: enough for minTime with the first engine.
	call(engines[0])
	t0 := time.Now()
	call(engines[0])
	reps := max(1, int(minTime/max(time.Since(t0), time.Microsecond)))
	for _, e := range engines { // warm up
		call(e)
	}
	flop := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(reps)
	var samples [2][][]float64
	for w := range samples {
		samples[w] = make([][]float64, len(engines))
	}
	for r := range rounds {
		for i := range engines {
			j := (i + r) % len(engines)
			t0, c0 := time.Now(), cpuTime()
			for range reps {
				call(engines[j])
			}
			c1 := cpuTime()
			samples[0][j] = append(samples[0][j], flop/time.Since(t0).Seconds()/1e9)
			samples[1][j] = append(samples[1][j], flop/max(c1-c0, time.Microsecond).Seconds()/1e9)
		}
	}
	var med [2][]float64
	for w := range samples {
		for _, x := range samples[w] {
			slices.Sort(x)
			med[w] = append(med[w], x[len(x)/2])
		}
	}
	return med
}

// cpuTime is the user and system time of the whole process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 2*rng.Float32() - 1
	}
	return s
}
