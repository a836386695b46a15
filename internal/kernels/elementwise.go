package kernels

import (
	"math"

	"github.com/gantrain/gantrain/internal/parallel"
	"github.com/gantrain/gantrain/internal/simd"
)

// grain is the number of elements below which an elementwise loop is not
// worth splitting across threads.
const grain = 1 << 14

// Act names an activation whose derivative can be computed from its output.
type Act int

// Activations.
const (
	Identity Act = iota
	ReLU
	LeakyReLU // slope 0.2 for x < 0, as in the DCGAN paper
	Tanh
	Sigmoid
)

// LeakySlope is the negative-side slope of LeakyReLU.
const LeakySlope = 0.2

func (a Act) String() string {
	switch a {
	case Identity:
		return "identity"
	case ReLU:
		return "relu"
	case LeakyReLU:
		return "leaky_relu"
	case Tanh:
		return "tanh"
	case Sigmoid:
		return "sigmoid"
	}
	return "act?"
}

// ActForward computes y = act(x) elementwise (x and y may alias).
func ActForward(a Act, x, y []float32) {
	parallel.For(len(x), grain, func(lo, hi int) {
		copy(y[lo:hi], x[lo:hi])
		actInPlace(a, y[lo:hi])
	})
}

// ActBackward computes dx = dy·act'(x) using only the output y = act(x).
func ActBackward(a Act, y, dy, dx []float32) {
	parallel.For(len(y), grain, func(lo, hi int) {
		actGrad(a, y[lo:hi], dy[lo:hi], dx[lo:hi])
	})
}

// The ReLU family runs in package simd (AVX2 where the CPU has it, a
// branch-free Go loop elsewhere): the sign of a pre-activation is random,
// and a mispredicted branch per element cost more than the arithmetic.

// family maps a to simd's activations; ok is false for Tanh and Sigmoid.
func family(a Act) (simd.Act, bool) {
	switch a {
	case Identity:
		return simd.Identity, true
	case ReLU:
		return simd.ReLU, true
	case LeakyReLU:
		return simd.LeakyReLU, true
	}
	return 0, false
}

// negZero is −0, the float that adds to anything without changing it.
var negZero = float32(math.Copysign(0, -1))

// actInPlace applies a to every element of ys.
func actInPlace(a Act, ys []float32) {
	if f, ok := family(a); ok {
		if f != simd.Identity {
			simd.AffineAct(ys, ys, 1, negZero, f, LeakySlope) // v·1 + (−0) is v, −0 too
		}
		return
	}
	switch a {
	case Tanh:
		for i, v := range ys {
			ys[i] = float32(math.Tanh(float64(v)))
		}
	case Sigmoid:
		for i, v := range ys {
			ys[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	}
}

// actGrad writes out = dy·act'(·) computed from the activation's output y.
// For ReLU and LeakyReLU the derivative at 0 is taken as that of the
// negative side, as PyTorch does.
func actGrad(a Act, y, dy, out []float32) {
	y, dy = y[:len(out)], dy[:len(out)]
	if f, ok := family(a); ok {
		if f == simd.Identity {
			copy(out, dy)
			return
		}
		simd.ActGrad(y, dy, out, f, LeakySlope)
		return
	}
	switch a {
	case Tanh:
		for i, v := range y {
			out[i] = dy[i] * (1 - v*v)
		}
	case Sigmoid:
		for i, v := range y {
			out[i] = dy[i] * v * (1 - v)
		}
	}
}

// BiasAct writes y = act(x + b[r]) for each row r of x (rows × n).
func BiasAct(x, b, y []float32, n int, a Act) {
	parallel.For(len(b), 1+grain/max(n, 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			xs, ys := x[r*n:(r+1)*n], y[r*n:(r+1)*n]
			if f, ok := family(a); ok {
				simd.AffineAct(xs, ys, 1, b[r], f, LeakySlope) // u·1 + b: exactly u + b
				continue
			}
			for i, u := range xs {
				ys[i] = u + b[r]
			}
			actInPlace(a, ys)
		}
	})
}

// RowSums sets s[r] to the sum of row r of x (rows × n), accumulated in float64.
func RowSums(x, s []float32, n int) {
	parallel.For(len(s), 1+grain/max(n, 1), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			var acc float64
			for _, v := range x[r*n : (r+1)*n] {
				acc += float64(v)
			}
			s[r] = float32(acc)
		}
	})
}

// ToBatchLast copies k ≤ b vectors of n values, stored one after another in
// src (k, n), into the first k columns of dst (n, b): the batch-last layout
// of graph inputs.
func ToBatchLast(src, dst []float32, n, b int) {
	k := len(src) / n
	for i := 0; i < k; i++ {
		for j, v := range src[i*n : (i+1)*n] {
			dst[j*b+i] = v
		}
	}
}

// FromBatchLast copies the first k columns of src (n, b) into dst (k, n),
// k = len(dst)/n: graph outputs back to vectors one after another.
func FromBatchLast(src, dst []float32, n, b int) {
	k := len(dst) / n
	for i := 0; i < k; i++ {
		row := dst[i*n : (i+1)*n]
		for j := range row {
			row[j] = src[j*b+i]
		}
	}
}
