// Package rng is gantrain's random number generator: PCG (math/rand/v2's
// PCG-DXSM, whose output the Go project keeps stable across releases and
// platforms) with normal variates from the Box–Muller transform in float64.
//
// Everything random in gantrain (weight initialisation, data order, latent
// vectors, labels) comes from here, so a seed means the same numbers on every
// machine. The state is two uint64 words and can be saved and restored
// exactly, which is what exact resume needs.
package rng

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
)

// RNG is a seeded, serialisable random source. The zero value is not usable;
// call New.
type RNG struct {
	pcg *rand.PCG
	// A Box–Muller step makes two normals; the second is kept here.
	spare    float64
	hasSpare bool
}

// New returns a generator for seed. stream separates independent sequences
// drawn from the same user seed (weights, data order, noise, …).
func New(seed, stream uint64) *RNG {
	return &RNG{pcg: rand.NewPCG(seed, stream^0x9e3779b97f4a7c15)}
}

// Uint64 returns a uniformly distributed 64-bit value.
func (r *RNG) Uint64() uint64 { return r.pcg.Uint64() }

// Float64 returns a uniform value in [0, 1) with 53 random bits.
func (r *RNG) Float64() float64 { return float64(r.pcg.Uint64()>>11) / (1 << 53) }

// IntN returns a uniform value in [0, n) without modulo bias. n must be > 0.
func (r *RNG) IntN(n int) int {
	if n <= 0 {
		panic("rng: IntN with n <= 0")
	}
	// Lemire's nearly-divisionless method.
	bound := uint64(n)
	for {
		hi, lo := bits.Mul64(r.pcg.Uint64(), bound)
		if lo >= bound || lo >= (-bound)%bound {
			return int(hi)
		}
	}
}

// Normal returns a standard normal variate (Box–Muller, float64).
func (r *RNG) Normal() float64 {
	if r.hasSpare {
		r.hasSpare = false
		return r.spare
	}
	var u1 float64
	for u1 == 0 {
		u1 = r.Float64()
	}
	u2 := r.Float64()
	rad := math.Sqrt(-2 * math.Log(u1))
	s, c := math.Sincos(2 * math.Pi * u2)
	r.spare = rad * s
	r.hasSpare = true
	return rad * c
}

// FillNormal fills dst with mean + std·N(0,1), rounded to float32.
func (r *RNG) FillNormal(dst []float32, mean, std float64) {
	for i := range dst {
		dst[i] = float32(mean + std*r.Normal())
	}
}

// Perm returns a uniformly random permutation of [0, n) (Fisher–Yates).
func (r *RNG) Perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	r.Shuffle(p)
	return p
}

// Shuffle permutes p uniformly at random (Fisher–Yates).
func (r *RNG) Shuffle(p []int) {
	for i := len(p) - 1; i > 0; i-- {
		j := r.IntN(i + 1)
		p[i], p[j] = p[j], p[i]
	}
}

// MarshalBinary encodes the full state (PCG state and the pending normal).
func (r *RNG) MarshalBinary() ([]byte, error) {
	p, err := r.pcg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(p)+9)
	out = append(out, p...)
	var spare [8]byte
	binary.LittleEndian.PutUint64(spare[:], math.Float64bits(r.spare))
	out = append(out, spare[:]...)
	if r.hasSpare {
		out = append(out, 1)
	} else {
		out = append(out, 0)
	}
	return out, nil
}

// UnmarshalBinary restores a state written by MarshalBinary.
func (r *RNG) UnmarshalBinary(b []byte) error {
	if len(b) < 9 {
		return fmt.Errorf("rng: state too short (%d bytes)", len(b))
	}
	n := len(b) - 9
	if r.pcg == nil {
		r.pcg = rand.NewPCG(0, 0)
	}
	if err := r.pcg.UnmarshalBinary(b[:n]); err != nil {
		return fmt.Errorf("rng: %w", err)
	}
	r.spare = math.Float64frombits(binary.LittleEndian.Uint64(b[n : n+8]))
	switch b[n+8] {
	case 0:
		r.hasSpare = false
	case 1:
		r.hasSpare = true
	default:
		return fmt.Errorf("rng: bad state flag %d", b[n+8])
	}
	return nil
}
