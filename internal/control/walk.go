package control

import (
	"fmt"
	"math"
	"sort"
)

// Walk runs steps of normalised gradient ascent from z0 (B, Z): each step
// moves every row a distance rate along its gradient of the objective,
// z ← z + rate·∇z/‖∇z‖, then scales the row back to its starting norm, so
// z stays on the shell ‖z‖ ≈ √Z where the generator was trained. each is
// called with the step (0 is the start), its evaluation and the z used.
func Walk(c *Controller, z0 []float32, steps int, rate float64, each func(k int, st *Step, z []float32) error) error {
	if steps < 1 || math.IsNaN(rate) || math.IsInf(rate, 0) || rate <= 0 {
		return fmt.Errorf("control: steps %d, rate %v", steps, rate)
	}
	zd := c.model.Latent
	z := append([]float32(nil), z0...)
	norm0 := make([]float64, c.b)
	for r := range norm0 {
		norm0[r] = norm(z[r*zd : (r+1)*zd])
	}
	for k := 0; ; k++ {
		st, err := c.Eval(z)
		if err != nil {
			return err
		}
		if k == 0 {
			c.SetReference(st)
		}
		if err := each(k, st, z); err != nil {
			return err
		}
		if k == steps {
			return nil
		}
		for r := 0; r < c.b; r++ {
			row, g := z[r*zd:(r+1)*zd], st.Grad[r*zd:(r+1)*zd]
			gn := norm(g)
			if gn == 0 || math.IsNaN(gn) || math.IsInf(gn, 0) {
				continue
			}
			for i := range row {
				row[i] += float32(rate * float64(g[i]) / gn)
			}
			s := norm0[r] / norm(row)
			for i := range row {
				row[i] = float32(float64(row[i]) * s)
			}
		}
	}
}

func norm(v []float32) float64 {
	s := 0.0
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// Norm is the Euclidean norm of v.
func Norm(v []float32) float64 { return norm(v) }

// Spearman is Spearman's rank correlation between xs and ys (average ranks
// for ties); 0 when either is constant.
func Spearman(xs, ys []float64) float64 {
	rx, ry := ranks(xs), ranks(ys)
	return pearson(rx, ry)
}

func ranks(v []float64) []float64 {
	idx := make([]int, len(v))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return v[idx[a]] < v[idx[b]] })
	r := make([]float64, len(v))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && v[idx[j+1]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j)/2 + 1
		for t := i; t <= j; t++ {
			r[idx[t]] = avg
		}
		i = j + 1
	}
	return r
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Median of v (v is not changed).
func Median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n == 0 {
		return math.NaN()
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// StdDevs returns the standard deviation of each column of v (n, cols),
// at least floor.
func StdDevs(v []float64, cols int, floor float64) []float64 {
	n := len(v) / cols
	out := make([]float64, cols)
	for c := 0; c < cols; c++ {
		var s, ss float64
		for r := 0; r < n; r++ {
			x := v[r*cols+c]
			s += x
			ss += x * x
		}
		m := s / float64(n)
		out[c] = math.Max(math.Sqrt(math.Max(ss/float64(n)-m*m, 0)), floor)
	}
	return out
}
