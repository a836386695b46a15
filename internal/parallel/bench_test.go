package parallel

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func spinWork(d time.Duration) {
	for t := time.Now(); time.Since(t) < d; {
	}
}

// BenchmarkFor times For over two chunks of work d each, after a serial
// stretch of gap: the ideal is gap + d; run one after the other, gap + 2d.
func BenchmarkFor(b *testing.B) {
	old := Threads()
	SetThreads(2)
	defer SetThreads(old)
	for _, d := range []time.Duration{5 * time.Microsecond, 50 * time.Microsecond} {
		for _, gap := range []time.Duration{0, 50 * time.Microsecond, time.Millisecond} {
			for _, how := range []string{"pool", "goroutines"} {
				b.Run(fmt.Sprintf("%s/work=%v/gap=%v", how, d, gap), func(b *testing.B) {
					fn := func(lo, hi int) { spinWork(d) }
					for range b.N {
						spinWork(gap)
						if how == "pool" {
							For(2, 1, fn)
							continue
						}
						var wg sync.WaitGroup
						wg.Add(1)
						go func() { defer wg.Done(); fn(1, 2) }()
						fn(0, 1)
						wg.Wait()
					}
				})
			}
		}
	}
}
