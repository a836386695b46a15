package nn

import "sync"

// Scratch memory shared by all ops. Most column matrices live only while
// their op runs (the backward-data products, transposed-convolution
// forwards, convolutions whose weight needs no gradient); ops run one at a
// time, so one buffer, as large as the largest of them, serves them all.
// Column matrices that a later op reads (a convolution's im2col, reused for
// its weight gradient) keep buffers of their own.
var scratch struct {
	sync.Mutex
	buf []float32
}

// withScratch calls f with n floats of shared scratch (contents undefined).
func withScratch(n int, f func(s []float32)) {
	scratch.Lock()
	defer scratch.Unlock()
	if cap(scratch.buf) < n {
		scratch.buf = make([]float32, n)
	}
	f(scratch.buf[:n])
}
