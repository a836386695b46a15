// Package optim holds gantrain's optimisers, Adam and RMSProp, with PyTorch's
// update rules and exportable state (gorgonia's solvers keep theirs private,
// which makes exact resume impossible).
package optim

import (
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/parallel"
	"github.com/gantrain/gantrain/internal/simd"
)

// Optimizer updates parameters in place from their gradients and then sets
// the gradients to zero (gorgonia adds into them on every run).
type Optimizer interface {
	// Step applies one update. params[i] and grads[i] have equal length.
	Step(params, grads [][]float32) error
	// State returns the optimiser's buffers by name ("exp_avg.3", …) and
	// its step count; SetState restores them.
	State() (step int, bufs map[string][]float32)
	SetState(step int, bufs map[string][]float32) error
	Name() string
}

// New makes the optimiser a spec describes.
func New(s config.OptimSpec) (Optimizer, error) {
	switch s.Name {
	case "adam":
		if len(s.Betas) != 2 {
			return nil, fmt.Errorf("optim: adam needs two betas, got %v", s.Betas)
		}
		return &Adam{LR: s.LR, Beta1: s.Betas[0], Beta2: s.Betas[1], Eps: s.Eps}, nil
	case "rmsprop":
		return &RMSProp{LR: s.LR, Alpha: s.Alpha, Eps: s.Eps}, nil
	}
	return nil, fmt.Errorf("optim: unknown optimiser %q", s.Name)
}

const chunk = 1 << 13

func checkShapes(params, grads [][]float32, bufs ...[][]float32) error {
	if len(params) != len(grads) {
		return fmt.Errorf("optim: %d params but %d gradients", len(params), len(grads))
	}
	for i := range params {
		if len(params[i]) != len(grads[i]) {
			return fmt.Errorf("optim: param %d has %d values but its gradient %d", i, len(params[i]), len(grads[i]))
		}
		for _, b := range bufs {
			if len(b[i]) != len(params[i]) {
				return fmt.Errorf("optim: state of param %d has %d values, want %d", i, len(b[i]), len(params[i]))
			}
		}
	}
	return nil
}

func alloc(params [][]float32) [][]float32 {
	out := make([][]float32, len(params))
	for i, p := range params {
		out[i] = make([]float32, len(p))
	}
	return out
}

// Adam is torch.optim.Adam (no weight decay, no amsgrad):
//
//	m ← β1·m + (1−β1)·g,  v ← β2·v + (1−β2)·g²
//	p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
type Adam struct {
	LR, Beta1, Beta2, Eps float64

	t    int
	m, v [][]float32
}

// Name implements Optimizer.
func (a *Adam) Name() string { return "adam" }

// Step implements Optimizer.
func (a *Adam) Step(params, grads [][]float32) error {
	if a.m == nil {
		a.m, a.v = alloc(params), alloc(params)
	}
	if err := checkShapes(params, grads, a.m, a.v); err != nil {
		return err
	}
	a.t++
	bc1 := 1 - math.Pow(a.Beta1, float64(a.t))
	bc2 := 1 - math.Pow(a.Beta2, float64(a.t))
	b1, b2 := float32(a.Beta1), float32(a.Beta2)
	k := simd.AdamConsts{
		C1: 1 - b1, B2: b2, C2: 1 - b2, // in float32, as torch's lerp_ and mul_
		StepSize: float32(a.LR / bc1), BC2Sqrt: float32(math.Sqrt(bc2)), Eps: float32(a.Eps),
	}
	for i := range params {
		p, g, m, v := params[i], grads[i], a.m[i], a.v[i]
		parallel.For(len(p), chunk, func(lo, hi int) {
			simd.Adam(p[lo:hi], g[lo:hi], m[lo:hi], v[lo:hi], k)
		})
	}
	return nil
}

// State implements Optimizer.
func (a *Adam) State() (int, map[string][]float32) {
	bufs := map[string][]float32{}
	for i := range a.m {
		bufs[fmt.Sprintf("exp_avg.%d", i)] = a.m[i]
		bufs[fmt.Sprintf("exp_avg_sq.%d", i)] = a.v[i]
	}
	return a.t, bufs
}

// SetState implements Optimizer.
func (a *Adam) SetState(step int, bufs map[string][]float32) error {
	n := len(bufs) / 2
	if len(bufs)%2 != 0 {
		return fmt.Errorf("optim: adam state has %d buffers, want pairs", len(bufs))
	}
	m, v := make([][]float32, n), make([][]float32, n)
	for i := 0; i < n; i++ {
		var ok1, ok2 bool
		m[i], ok1 = bufs[fmt.Sprintf("exp_avg.%d", i)]
		v[i], ok2 = bufs[fmt.Sprintf("exp_avg_sq.%d", i)]
		if !ok1 || !ok2 {
			return fmt.Errorf("optim: adam state lacks the buffers of param %d", i)
		}
	}
	if step < 0 {
		return fmt.Errorf("optim: negative step %d", step)
	}
	a.t, a.m, a.v = step, m, v
	if n == 0 {
		a.m, a.v = nil, nil
	}
	return nil
}

// RMSProp is torch.optim.RMSprop (no momentum, not centered):
//
//	s ← α·s + (1−α)·g²,  p ← p − lr·g/(√s + ε)
type RMSProp struct {
	LR, Alpha, Eps float64

	t int
	s [][]float32
}

// Name implements Optimizer.
func (r *RMSProp) Name() string { return "rmsprop" }

// Step implements Optimizer.
func (r *RMSProp) Step(params, grads [][]float32) error {
	if r.s == nil {
		r.s = alloc(params)
	}
	if err := checkShapes(params, grads, r.s); err != nil {
		return err
	}
	r.t++
	alpha, lr, eps := float32(r.Alpha), float32(r.LR), float32(r.Eps)
	for i := range params {
		p, g, s := params[i], grads[i], r.s[i]
		parallel.For(len(p), chunk, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				gj := g[j]
				s[j] = s[j]*alpha + (1-alpha)*gj*gj
				p[j] -= lr * gj / (float32(math.Sqrt(float64(s[j]))) + eps)
				g[j] = 0
			}
		})
	}
	return nil
}

// State implements Optimizer.
func (r *RMSProp) State() (int, map[string][]float32) {
	bufs := map[string][]float32{}
	for i := range r.s {
		bufs[fmt.Sprintf("square_avg.%d", i)] = r.s[i]
	}
	return r.t, bufs
}

// SetState implements Optimizer.
func (r *RMSProp) SetState(step int, bufs map[string][]float32) error {
	s := make([][]float32, len(bufs))
	for i := range s {
		var ok bool
		if s[i], ok = bufs[fmt.Sprintf("square_avg.%d", i)]; !ok {
			return fmt.Errorf("optim: rmsprop state lacks the buffer of param %d", i)
		}
	}
	if step < 0 {
		return fmt.Errorf("optim: negative step %d", step)
	}
	r.t, r.s = step, s
	if len(s) == 0 {
		r.s = nil
	}
	return nil
}
