// Command gemmbench compares the float32 GEMM engines of one build on the
// layer shapes of gantrain's 28 px DCGAN and 64 px colour DCGAN,
// interleaved: each round runs every engine once, in rotating order, each
// in a fresh process of its own (one engine's caches and threads must not
// slow the next: OpenBLAS in the same process slows gantrain's kernel by a
// third), and the medians of the rounds are reported, so that a machine
// shared with other jobs disturbs all engines alike.
//
// Each engine is also timed on a 2048³ product: built with -tags openblas
// (make bench-gemm), OpenBLAS's rate there is the machine's SGEMM peak as
// numpy reaches it, and every cell gives its percentage of that peak at the
// same thread count. The flop/B column is each product's arithmetic
// intensity (flop per byte of A, B and C moved at least once): products of
// low intensity are bound by memory, whose bandwidth (a big copy) is
// printed under each table. Rates are GFLOP per second of wall time, or
// with -cpu per second of CPU time used by the process (user + system, all
// threads): on a machine loaded by other jobs the second is the steadier
// measure of the code, the first of what a user waits.
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

// peak is the product the machine's SGEMM peak is taken on: OpenBLAS's
// rate on it is what the layer shapes are compared with.
var peak = shape{"SGEMM peak (square)", false, false, 2048, 2048, 2048}

// dcgan28 are the GEMMs of the 28 px DCGAN (configs/dcgan-paper.yaml) at
// batch 64, as `gantrain bench` records them (its "gemm" list): the
// convolutions' im2col products (output channels × batch·pixels × input
// channels·16) and the linear layers (features × batch). The last three
// are matrix-vector products (D's one output).
var dcgan28 = []shape{
	{"D.conv2 fwd, G.up1 bwd-data", false, false, 128, 3136, 1024},
	{"D.conv2 bwd-data, G.up1 fwd", true, false, 1024, 3136, 128},
	{"D.conv2 bwd-W, G.up1 bwd-W", false, true, 128, 1024, 3136},
	{"D.conv1 fwd, G.up2 bwd-data", false, false, 64, 12544, 16},
	{"D.conv1 bwd-W, G.up2 bwd-W", false, true, 64, 16, 12544},
	{"G.up2 fwd, D.conv1 bwd-data", true, false, 16, 12544, 64},
	{"G.fc fwd", false, false, 6272, 64, 100},
	{"G.fc bwd-W", false, true, 6272, 100, 64},
	{"D.fc fwd", false, false, 1, 64, 6272},
	{"D.fc bwd-data", true, false, 6272, 64, 1},
	{"D.fc bwd-W", false, true, 1, 6272, 64},
}

// dcgan64 are the GEMMs of the 64 px colour DCGAN (configs/emoji-dcgan.yaml,
// pytorch/examples' DCGAN, width 64) at batch 64, as `gantrain bench`
// records them. D's main.0/2/5/8/11 convolutions are G's main.12/9/6/3/0
// transposed ones read backwards, so each product serves one layer of each.
var dcgan64 = []shape{
	{"64: D.main.2 fwd, G.main.9 bwd-data", false, false, 128, 16384, 1024},
	{"64: D.main.2 bwd-data, G.main.9 fwd", true, false, 1024, 16384, 128},
	{"64: D.main.2 bwd-W, G.main.9 bwd-W", false, true, 128, 1024, 16384},
	{"64: D.main.5 fwd, G.main.6 bwd-data", false, false, 256, 4096, 2048},
	{"64: D.main.5 bwd-data, G.main.6 fwd", true, false, 2048, 4096, 256},
	{"64: D.main.5 bwd-W, G.main.6 bwd-W", false, true, 256, 2048, 4096},
	{"64: D.main.8 fwd, G.main.3 bwd-data", false, false, 512, 1024, 4096},
	{"64: D.main.8 bwd-data, G.main.3 fwd", true, false, 4096, 1024, 512},
	{"64: D.main.8 bwd-W, G.main.3 bwd-W", false, true, 512, 4096, 1024},
	{"64: D.main.0 fwd, G.main.12 bwd-data", false, false, 64, 65536, 48},
	{"64: D.main.0 bwd-data, G.main.12 fwd", true, false, 48, 65536, 64},
	{"64: D.main.0 bwd-W, G.main.12 bwd-W", false, true, 64, 48, 65536},
	{"64: G.main.0 fwd", true, false, 8192, 64, 100},
	{"64: G.main.0 bwd-W", false, true, 100, 8192, 64},
	{"64: D.main.11 fwd", false, false, 1, 64, 8192},
	{"64: D.main.11 bwd-data", true, false, 8192, 64, 1},
	{"64: D.main.11 bwd-W", false, true, 1, 8192, 64},
}

// bytes is the least memory traffic of the product: A and B read once, C
// written once. flop/bytes is its arithmetic intensity: below about 10
// flop per byte a product is bound by memory, not by the FMA units.
func (s shape) bytes() float64 { return 4 * float64(s.m*s.k+s.k*s.n+s.m*s.n) }
func (s shape) flop() float64  { return 2 * float64(s.m) * float64(s.n) * float64(s.k) }

// String writes the shape as blas.Shape does: "NT 128×1024×3136".
func (s shape) String() string {
	return blas.Shape{TransA: s.tA, TransB: s.tB, M: s.m, N: s.n, K: s.k}.String()
}

// sample is one child's result: GFLOP/s by wall and by CPU time per shape.
type sample struct {
	Wall, CPU []float64
	CopyGBs   float64 // memory bandwidth: GB/s read + written by a big copy
}

func main() {
	threadsFlag := flag.String("threads", "1,2", "comma-separated thread counts")
	rounds := flag.Int("rounds", 11, "interleaved rounds (the median is reported)")
	minTime := flag.Duration("min", 20*time.Millisecond, "least wall time of one timed sample")
	only := flag.String("engines", "", "comma-separated engine names (default: all but gonum and gantrain-generic)")
	match := flag.String("shapes", "", "only the layers whose name contains this")
	byCPU := flag.Bool("cpu", false, "rates per second of CPU time, not of wall time")
	child := flag.String("child", "", "internal: time this engine once and print JSON")
	flag.Parse()

	// The peak comes first: every row is compared with OpenBLAS's rate on it.
	shapes := []shape{peak}
	for _, s := range slices.Concat(dcgan28, dcgan64) {
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
	fmt.Printf("medians of %d interleaved rounds, one process per engine and round\n", *rounds)
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
		med := func(j, q int) float64 {
			var w []float64
			for _, x := range res[j] {
				if *byCPU {
					w = append(w, x.CPU[q])
				} else {
					w = append(w, x.Wall[q])
				}
			}
			return median(w)
		}
		peakEngine := slices.Index(engines, "openblas")
		unit := "wall"
		if *byCPU {
			unit = "CPU"
		}
		fmt.Printf("\nthreads=%d: GFLOP per %s second", th, unit)
		if peakEngine >= 0 {
			fmt.Printf(" (%% of peak: of OpenBLAS's rate on the %d³ product, same threads)", peak.m)
		}
		fmt.Printf("\n%-38s %-18s %6s", "layer", "M×N×K", "flop/B")
		for _, e := range engines {
			fmt.Printf(" %22s", e)
		}
		fmt.Println()
		for q, s := range shapes {
			fmt.Printf("%-38s %-18s %6.1f", s.name, s, s.flop()/s.bytes())
			for j := range engines {
				cell := fmt.Sprintf("%.1f", med(j, q))
				if peakEngine >= 0 {
					cell += fmt.Sprintf(" (%3.0f%%)", 100*med(j, q)/med(peakEngine, 0))
				}
				fmt.Printf(" %22s", cell)
			}
			fmt.Println()
		}
		var bw []float64
		for _, x := range res[0] {
			bw = append(bw, x.CopyGBs)
		}
		fmt.Printf("memory: copying %d MiB runs at %.1f GB/s (read + write, %d threads): a product of intensity I flop/B can reach at most I×that\n",
			copyFloats*4>>20, median(bw), th)
	}
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
	out.CopyGBs = copyRate(minTime)
	return out
}

// copyFloats is the size of the copy that measures memory bandwidth: far
// beyond the caches.
const copyFloats = 64 << 20

// copyRate is the rate at which the process's threads copy a big array
// (each its share, as the GEMM splits its work), in GB/s read + written.
func copyRate(minTime time.Duration) float64 {
	src, dst := make([]float32, copyFloats), make([]float32, copyFloats)
	for i := range src {
		src[i] = float32(i)
	}
	run := func() {
		parallel.For(copyFloats, 1<<16, func(lo, hi int) { copy(dst[lo:hi], src[lo:hi]) })
	}
	run()
	t0, reps := time.Now(), 0
	for reps < 3 || time.Since(t0) < minTime {
		run()
		reps++
	}
	return 8 * float64(copyFloats) * float64(reps) / time.Since(t0).Seconds() / 1e9
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
