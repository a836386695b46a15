//go:build !amd64 || purego

package gemm

// Available reports whether the fast micro-kernel runs on this machine.
// Without it Implementation is correct but slow (kernelGo).
const Available = false

// Description names the micro-kernel in use.
const Description = "gantrain GEMM (pure Go fallback kernel)"

func kernel(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	kernelGo(kc, a, b, c, ldc, alpha, beta)
}
