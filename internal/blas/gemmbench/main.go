// Command gemmbench compares the float32 GEMM engines of one build on the
// layer shapes of gantrain's 28 px DCGAN, interleaved: each round runs
// every engine once, in rotating order, each in a fresh process of its own
// (one engine's caches and threads must not slow the next: OpenBLAS in the
// same process slows gantrain's kernel by a third), and the medians of the
// rounds are reported, so that a machine shared with other jobs disturbs
// all engines alike. Two rates are printed for each engine: GFLOP per
// second of wall time, and GFLOP per second of CPU time used by the process
// (user + system, all threads; the time other jobs take the cores from it
// does not count): on a loaded machine the second is the steadier measure
// of the code, the first of what a user waits. Build it with -tags openblas
// to include OpenBLAS.
//
//	go run -tags openblas ./internal/blas/gemmbench -threads 1,2 -rounds 11
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
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

// dcgan28 are the GEMMs of the 28 px DCGAN (configs/dcgan-paper.yaml) at batch
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

// sample is one child's result: GFLOP/s by wall and by CPU time per shape.
type sample struct {
	Wall, CPU []float64
}

func main() {
	threadsFlag := flag.String("threads", "1,2", "comma-separated thread counts")
	rounds := flag.Int("rounds", 11, "interleaved rounds (the median is reported)")
	minTime := flag.Duration("min", 20*time.Millisecond, "least wall time of one timed sample")
	only := flag.String("engines", "", "comma-separated engine names (default: all but gonum and gantrain-generic)")
	match := flag.String("shapes", "", "only the layers whose name contains this")
	child := flag.String("child", "", "internal: time this engine once and print JSON")
	flag.Parse()

	var shapes []shape
	for _, s := range dcgan28 {
		if strings.Contains(s.name, *match) {
			shapes = append(shapes, s)
		}
	}
	if *child != "" {
		th, _ := strconv.Atoi(*threadsFlag)
		parallel.SetThreads(th)
		for _, e := range blas.Engines() {
			if e.Name == *child {
				json.NewEncoder(os.Stdout).Encode(measure(e, shapes, *minTime))
				return
			}
		}
		fmt.Fprintf(os.Stderr, "gemmbench: no engine %q\n", *child)
		os.Exit(2)
	}

	var threads []int
	for _, f := range strings.Split(*threadsFlag, ",") {
		t, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || t < 1 {
			fmt.Fprintf(os.Stderr, "gemmbench: -threads %q: want positive integers\n", *threadsFlag)
			os.Exit(2)
		}
		threads = append(threads, t)
	}
	var engines []string
	for _, e := range blas.Engines() {
		if *only == "" && e.Name != "gonum" && e.Name != "gantrain-generic" || slices.Contains(strings.Split(*only, ","), e.Name) {
			engines = append(engines, e.Name)
		}
	}
	if len(engines) == 0 || len(shapes) == 0 {
		fmt.Fprintf(os.Stderr, "gemmbench: -engines %q, -shapes %q: nothing to measure\n", *only, *match)
		os.Exit(2)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gemmbench: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("engine in use: %s\n", blas.Name())
	fmt.Printf("medians of %d interleaved rounds, one process per engine and round:\nGFLOP per wall second / per CPU second\n", *rounds)
	for _, th := range threads {
		res := make([][]sample, len(engines))
		for r := range *rounds {
			for i := range engines {
				j := (i + r) % len(engines)
				out, err := exec.Command(self, "-child", engines[j], "-threads", strconv.Itoa(th),
					"-shapes", *match, "-min", minTime.String()).Output()
				var s sample
				if err == nil {
					err = json.Unmarshal(out, &s)
				}
				if err != nil {
					fmt.Fprintf(os.Stderr, "gemmbench: %s: %v\n", engines[j], err)
					os.Exit(1)
				}
				res[j] = append(res[j], s)
			}
		}
		fmt.Printf("\nthreads=%d\n%-30s %-16s", th, "layer", "M×N×K")
		for _, e := range engines {
			fmt.Printf(" %17s", e)
		}
		fmt.Println()
		for q, s := range shapes {
			fmt.Printf("%-30s %-16s", s.name, fmt.Sprintf("%s%s %d×%d×%d", tn(s.tA), tn(s.tB), s.m, s.n, s.k))
			for j := range engines {
				var w, c []float64
				for _, x := range res[j] {
					w, c = append(w, x.Wall[q]), append(c, x.CPU[q])
				}
				fmt.Printf(" %17s", fmt.Sprintf("%.1f / %.1f", median(w), median(c)))
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

func median(x []float64) float64 {
	slices.Sort(x)
	return x[len(x)/2]
}

// measure times e on each shape: GFLOP/s by wall time and by the process's
// CPU time, after one untimed call.
func measure(e blas.Engine, shapes []shape, minTime time.Duration) sample {
	rng := rand.New(rand.NewPCG(1, 2))
	var out sample
	for _, s := range shapes {
		a, b, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		call := func() { e.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, b, ldb, 0, c, s.n) }
		call()
		t0, c0 := time.Now(), cpuTime()
		reps := 0
		for reps == 0 || time.Since(t0) < minTime {
			call()
			reps++
		}
		wall, cpu := time.Since(t0), max(cpuTime()-c0, time.Microsecond)
		flop := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(reps)
		out.Wall = append(out.Wall, flop/wall.Seconds()/1e9)
		out.CPU = append(out.CPU, flop/cpu.Seconds()/1e9)
	}
	return out
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
