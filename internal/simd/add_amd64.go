//go:build amd64 && !purego

package simd

import "golang.org/x/sys/cpu"

var hasAVX2 = cpu.X86.HasAVX2

// addAVX2 sets dst[i] += src[i] for i < n, n ≥ 1.
//
//go:noescape
func addAVX2(dst, src *float32, n int)

// affineActAVX2 is AffineAct on n elements, n a positive multiple of 8.
//
//go:noescape
func affineActAVX2(xs, ys *float32, n int, a, b float32, act int, slope float32)

// actGradAVX2 is ActGrad (ReLU or LeakyReLU) on n elements, n a positive
// multiple of 8.
//
//go:noescape
func actGradAVX2(y, dy, out *float32, n int, act int, slope float32)

// adamAVX2 is adamGo on n elements, n a positive multiple of 8.
//
//go:noescape
func adamAVX2(pp, gg, mm, vv *float32, n int, k *AdamConsts)
