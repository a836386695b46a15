// Package parallel runs loops on gantrain's worker threads.
//
// The number of threads is set once (train.threads); For splits [0, n) into
// contiguous chunks whose boundaries depend only on n and the thread count,
// never on scheduling, so results stay bit-for-bit reproducible.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

var threads atomic.Int64

func init() { threads.Store(int64(runtime.NumCPU())) }

// SetThreads sets the worker count (n < 1 means all cores) and limits the
// Go runtime to as many cores (GOMAXPROCS), so that n = 1 really uses one
// core: gonum's pure-Go BLAS, for one, starts its own goroutines.
func SetThreads(n int) {
	if n < 1 {
		n = runtime.NumCPU()
	}
	threads.Store(int64(n))
	runtime.GOMAXPROCS(n)
}

// Threads returns the worker count.
func Threads() int { return int(threads.Load()) }

// For calls fn on disjoint contiguous chunks [lo, hi) covering [0, n), using
// up to Threads() goroutines. minChunk is the smallest amount of work worth a
// goroutine; with n <= minChunk, fn runs on the calling goroutine.
//
// With t goroutines the chunks are [i·n/t, (i+1)·n/t) for i < t, whoever
// runs them. The calling goroutine runs chunks too, beside the pool's
// spinning workers (pool.go); a chunk no worker has taken by the time the
// caller is free is run by the caller, so a worker slow to wake never makes
// For slower than running the chunks one after the other.
func For(n, minChunk int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	t := Threads()
	if minChunk < 1 {
		minChunk = 1
	}
	if maxT := (n + minChunk - 1) / minChunk; t > maxT {
		t = maxT
	}
	if t <= 1 {
		fn(0, n)
		return
	}
	j := &job{fn: fn, n: n, t: t}
	if thePool.run(j) {
		return
	}
	// No pool: a For inside a For, For called from several goroutines at
	// once, or more threads than cores. A goroutine per chunk, as before
	// the pool.
	var wg sync.WaitGroup
	wg.Add(t - 1)
	for i := 1; i < t; i++ {
		go func() {
			defer wg.Done()
			j.chunk(i)
		}()
	}
	j.chunk(0)
	wg.Wait()
}
