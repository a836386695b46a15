//go:build !amd64 || purego

package simd

const hasAVX2 = false

func addAVX2(dst, src *float32, n int) { panic("unreachable") }

func affineActAVX2(xs, ys *float32, n int, a, b float32, act int, slope float32) {
	panic("unreachable")
}

func actGradAVX2(y, dy, out *float32, n int, act int, slope float32) { panic("unreachable") }

func adamAVX2(p, g, m, v *float32, n int, k *AdamConsts) { panic("unreachable") }
