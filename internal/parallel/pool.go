package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The pool keeps Threads()-1 worker goroutines that spin for a while after
// their last chunk before they block. Starting a goroutine on an idle core
// means waking that core's OS thread, and on a virtual machine whose idle
// virtual CPU has halted that takes the host's scheduler: about 90 µs on
// the Firecracker VMs gantrain is developed on (measured with a goroutine
// started while the caller spins: it begins 89 µs later, at the median),
// as long as a 28 px batch-norm layer takes. A spinning worker sees a new
// job within a fraction of a microsecond. Workers spin at most spinFor
// after their last chunk, then block until the next job: an idle gantrain
// uses no CPU.
const spinFor = 300 * time.Microsecond

// job is one For call: chunks [i·n/t, (i+1)·n/t) for i < t, claimed in
// order through next by the caller and the workers alike.
type job struct {
	fn   func(lo, hi int)
	n, t int
	next atomic.Int64 // next chunk to claim
	done atomic.Int64 // chunks finished
}

// claim returns the next unclaimed chunk's index, or t when none is left.
func (j *job) claim() int {
	i := int(j.next.Add(1) - 1)
	return min(i, j.t)
}

func (j *job) chunk(i int) { j.fn(i*j.n/j.t, (i+1)*j.n/j.t) }

type worker struct {
	job    atomic.Pointer[job] // the job to help with; nil when done with it
	parked atomic.Bool         // blocked on wake
	wake   chan struct{}       // capacity 1
}

type pool struct {
	mu      sync.Mutex // held by the one For that uses the workers
	workers []*worker
}

var thePool pool

// numCPU is the number of cores the process may use.
var numCPU = runtime.NumCPU()

// run runs job j on the caller and the pool's workers and reports true, or
// reports false at once when another For holds the pool, or when
// there are more threads than cores: spinning workers would then take
// cores from the goroutines doing the work (train.threads = 4 on 2 cores,
// 3 rounds: 774–808 real images/s with the pool, 805–831 without).
func (p *pool) run(j *job) bool {
	if Threads() > numCPU || !p.mu.TryLock() {
		return false
	}
	defer p.mu.Unlock()
	t := j.t
	for len(p.workers) < t-1 {
		w := &worker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, w)
		go w.loop()
	}
	for _, w := range p.workers[:t-1] {
		// This replaces a job the worker was given but has not looked at
		// yet (it woke too late: the caller ran all of it); the worker
		// clears only the job it ran (loop), never this one.
		w.job.Store(j)
		if w.parked.Load() {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
	for i := j.claim(); i < t; i = j.claim() {
		j.chunk(i)
		j.done.Add(1)
	}
	// The chunks left are running on workers: wait for them.
	for spins := 1; j.done.Load() < int64(t); spins++ {
		if spins%1024 == 0 {
			runtime.Gosched()
		}
	}
	return true
}

// loop is a worker's life: wait for a job, run chunks of it until none is
// left, free itself, and only then report the last chunk done, so that the
// caller's next job finds it free.
func (w *worker) loop() {
	for {
		j := w.wait()
		i := j.claim()
		if i == j.t {
			w.job.CompareAndSwap(j, nil)
			continue
		}
		for i < j.t {
			j.chunk(i)
			next := j.claim()
			if next == j.t {
				w.job.CompareAndSwap(j, nil)
			}
			j.done.Add(1)
			i = next
		}
	}
}

// wait returns the worker's next job: spinning for up to spinFor, then
// blocked on wake.
func (w *worker) wait() *job {
	start := time.Now()
	for spins := 1; ; spins++ {
		if j := w.job.Load(); j != nil {
			return j
		}
		if spins%1024 != 0 {
			continue
		}
		runtime.Gosched()
		if time.Since(start) < spinFor {
			continue
		}
		// Park. The caller sets job before it reads parked, the worker sets
		// parked before it reads job: one of them sees the other.
		w.parked.Store(true)
		for {
			if j := w.job.Load(); j != nil {
				w.parked.Store(false)
				return j
			}
			<-w.wake
		}
	}
}
