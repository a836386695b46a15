package simd

import "math"

// Act is an activation of the ReLU family that AffineAct and ActGrad apply.
type Act int

// The activations.
const (
	Identity Act = iota
	ReLU
	LeakyReLU
)

// AffineAct sets ys[i] = act(xs[i]·a + b), the product rounded before the
// sum (no fused multiply-add), for len(xs) elements. ReLU maps every
// negative value (−0 too) to +0; LeakyReLU multiplies every value whose
// sign bit is set by slope.
func AffineAct(xs, ys []float32, a, b float32, act Act, slope float32) {
	ys = ys[:len(xs)]
	n := 0
	if hasAVX2 && len(xs) >= 8 {
		n = len(xs) &^ 7
		affineActAVX2(&xs[0], &ys[0], n, a, b, int(act), slope)
	}
	affineActGo(xs[n:], ys[n:], a, b, act, slope)
}

func affineActGo(xs, ys []float32, a, b float32, act Act, slope float32) {
	ys = ys[:len(xs)]
	for i, v := range xs {
		ys[i] = float32(v*a) + b
	}
	factor := [2]float32{1, slope} // by the sign bit
	switch act {
	case ReLU:
		for i, v := range ys {
			bits := math.Float32bits(v)
			ys[i] = math.Float32frombits(bits &^ uint32(int32(bits)>>31))
		}
	case LeakyReLU:
		for i, v := range ys {
			ys[i] = v * factor[math.Float32bits(v)>>31]
		}
	}
}

// ActGrad sets out[i] = dy[i]·act'(·), the derivative taken from the
// activation's output y: 1 where y > 0 (its bits a positive integer), else
// 0 for ReLU (dy's bits masked off) and slope for LeakyReLU.
func ActGrad(y, dy, out []float32, act Act, slope float32) {
	y, dy = y[:len(out)], dy[:len(out)]
	n := 0
	if hasAVX2 && len(out) >= 8 && act != Identity {
		n = len(out) &^ 7
		actGradAVX2(&y[0], &dy[0], &out[0], n, int(act), slope)
	}
	actGradGo(y[n:], dy[n:], out[n:], act, slope)
}

func actGradGo(y, dy, out []float32, act Act, slope float32) {
	factor := [2]float32{slope, 1} // by y > 0
	for i, v := range y {
		var pos uint32 // 1 where y's bits are a positive integer: y > 0, not −0
		if int32(math.Float32bits(v)) > 0 {
			pos = 1
		}
		switch act {
		case Identity:
			out[i] = dy[i]
		case ReLU:
			out[i] = math.Float32frombits(math.Float32bits(dy[i]) & -pos)
		case LeakyReLU:
			out[i] = dy[i] * factor[pos]
		}
	}
}
