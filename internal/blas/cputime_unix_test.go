//go:build unix

package blas

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+system CPU time: on a loaded machine it
// measures a single-threaded benchmark better than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
