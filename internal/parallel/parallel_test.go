package parallel

import (
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// chunksOf runs For and returns the chunks fn was called with, sorted.
func chunksOf(n, minChunk int) [][2]int {
	var mu sync.Mutex
	var got [][2]int
	For(n, minChunk, func(lo, hi int) {
		mu.Lock()
		got = append(got, [2]int{lo, hi})
		mu.Unlock()
	})
	sort.Slice(got, func(a, b int) bool { return got[a][0] < got[b][0] })
	return got
}

func withThreads(t *testing.T, n int) {
	old := Threads()
	SetThreads(n)
	t.Cleanup(func() { SetThreads(old) })
}

// The chunks are [i·n/t, (i+1)·n/t), each once, whichever goroutine runs
// them, with t = min(Threads(), ceil(n/minChunk)).
func TestForChunks(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 4} {
		withThreads(t, threads)
		for _, c := range []struct{ n, minChunk int }{{1, 1}, {2, 1}, {7, 1}, {10, 3}, {100, 1}, {100, 60}, {1000, 0}} {
			want := min(threads, (c.n+max(c.minChunk, 1)-1)/max(c.minChunk, 1))
			var exp [][2]int
			for i := range want {
				exp = append(exp, [2]int{i * c.n / want, (i + 1) * c.n / want})
			}
			for rep := range 50 { // again and again: workers spinning, then not
				if got := chunksOf(c.n, c.minChunk); fmt.Sprint(got) != fmt.Sprint(exp) {
					t.Fatalf("threads %d, For(%d, %d), call %d: chunks %v, want %v", threads, c.n, c.minChunk, rep, got, exp)
				}
			}
		}
	}
}

// waitingChunks starts For over two chunks that each wait for the other to
// start, and returns a channel closed when For returns: run one after the
// other, they would never finish.
func waitingChunks() <-chan struct{} {
	var started [2]chan struct{}
	for i := range started {
		started[i] = make(chan struct{})
	}
	finished := make(chan struct{})
	go func() {
		For(2, 1, func(lo, hi int) {
			close(started[lo])
			<-started[1-lo]
		})
		close(finished)
	}()
	return finished
}

// With two threads the two chunks run at the same time.
func TestForRunsChunksConcurrently(t *testing.T) {
	withThreads(t, 2)
	for rep := range 20 {
		if rep == 10 {
			time.Sleep(3 * spinFor) // the worker has parked: it must wake
		}
		select {
		case <-waitingChunks():
		case <-time.After(20 * time.Second):
			t.Fatalf("call %d: the chunks did not run concurrently", rep)
		}
	}
}

// For called from many goroutines at once, and from inside For, covers
// every index exactly once each time (run with -race).
func TestForConcurrentAndNested(t *testing.T) {
	withThreads(t, 3)
	const n = 1000
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := range 30 {
				counts := make([]atomic.Int32, n)
				For(10, 1, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						For(n/10, 1, func(l, h int) {
							for k := l; k < h; k++ {
								counts[i*(n/10)+k].Add(1)
							}
						})
					}
				})
				for i := range counts {
					if c := counts[i].Load(); c != 1 {
						t.Errorf("goroutine %d, call %d: index %d covered %d times", g, rep, i, c)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

// With more threads than cores the pool steps aside (its workers would spin
// on cores the working goroutines need), and For still covers each index.
func TestPoolStepsAsideWhenOversubscribed(t *testing.T) {
	withThreads(t, 2)
	saved := numCPU
	t.Cleanup(func() { numCPU = saved })
	var ran atomic.Int32
	fn := func(lo, hi int) { ran.Add(int32(hi - lo)) }
	numCPU = 1
	if thePool.run(&job{fn: fn, n: 10, t: 2}) {
		t.Error("the pool ran a job with 2 threads on 1 core")
	}
	if got := chunksOf(10, 1); fmt.Sprint(got) != "[[0 5] [5 10]]" {
		t.Errorf("2 threads on 1 core: chunks %v", got)
	}
	numCPU = 2
	if !thePool.run(&job{fn: fn, n: 10, t: 2}) || ran.Load() != 10 {
		t.Errorf("2 threads on 2 cores: pool ran %v, covered %d of 10", ran.Load() == 10, ran.Load())
	}
}

// A worker that was handed a job but had not woken for it before the
// caller finished the job alone still holds that job when the next For
// comes. It must be given the new job, not skipped: here the two chunks
// wait for each other, so a skipped worker means a hang.
func TestForWakesWorkerHoldingStaleJob(t *testing.T) {
	withThreads(t, 2)
	if numCPU < 2 {
		t.Skip("one core: the pool is not used")
	}
	For(2, 1, func(lo, hi int) {}) // the pool has its worker
	w := thePool.workers[0]
	deadline := time.Now().Add(10 * time.Second)
	for !w.parked.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not park")
		}
		time.Sleep(time.Millisecond)
	}
	stale := &job{fn: func(lo, hi int) {}, n: 2, t: 2}
	stale.next.Store(2) // done by its caller
	w.job.Store(stale)  // handed over, no wake-up sent
	select {
	case <-waitingChunks():
	case <-time.After(10 * time.Second):
		t.Fatal("the worker holding a stale job was not given the new one")
	}
}
