//go:build !amd64

package metrics

func haveSIMD() bool { return false }

func dot4x8(x *float64, ldx uintptr, p *float64, d, np int, out *float64, ldo uintptr) {
	panic("metrics: dot4x8 needs amd64")
}
