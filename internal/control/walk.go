package control

import (
	"fmt"
	"math"
	"sort"
)

// Walk runs steps of gradient ascent on the target from z0 (B, Z). Each
// step moves every row a distance rate along its gradient,
// z ← z + rate·∇z/‖∇z‖, and scales it back to its starting norm, so z
// stays on the shell ‖z‖ ≈ √Z where the generator was trained.
//
// With keep, the other attributes (in units of their scales) and, with a
// classifier and an attribute target, log p(c | x) for the class c the
// classifier gave the row at step 0 are held: the step is projected
// orthogonally to their gradients, so none of them changes to first
// order, and the drift they have accumulated is taken back by the
// smallest move that undoes it to first order (a Gauss–Newton step on
// the constraints, at most rate long). This costs one more backward pass
// per held feature.
//
// each is called with the step (0 is the start), its evaluation and the z
// used.
func Walk(c *Controller, z0 []float32, steps int, rate float64, keep bool, each func(k int, st *Step, z []float32) error) error {
	if steps < 1 || math.IsNaN(rate) || math.IsInf(rate, 0) || rate <= 0 {
		return fmt.Errorf("control: steps %d, rate %v", steps, rate)
	}
	zd, b := c.model.Latent, c.b
	z := append([]float32(nil), z0...)
	norm0 := make([]float64, b)
	for r := range norm0 {
		norm0[r] = norm(z[r*zd : (r+1)*zd])
	}
	// The held features: attribute indices, and −1 for the class.
	var held []int
	if keep {
		for i := range c.attrs {
			if i != c.obj.target {
				held = append(held, i)
			}
		}
		if c.HasClassifier() && c.obj.target >= 0 {
			held = append(held, -1)
		}
	}
	var first *Step
	for k := 0; ; k++ {
		if err := c.SetMode(TargetMode); err != nil {
			return err
		}
		st, err := c.Eval(z)
		if err != nil {
			return err
		}
		if k == 0 {
			first = st
			if st.LogP != nil {
				kc := len(st.LogP) / b
				cls := make([]int, b)
				for r := range cls {
					cls[r] = Argmax(st.LogP[r*kc : (r+1)*kc])
				}
				c.SetClasses(cls)
			}
		}
		if err := each(k, st, z); err != nil {
			return err
		}
		if k == steps {
			return nil
		}
		// Gradients (rows of J) and drifts of the held features, per row.
		jac := make([][]float32, len(held))   // (B, Z) each
		drift := make([][]float64, len(held)) // (B) each
		for h, i := range held {
			mode := Mode(i)
			if i < 0 {
				mode = ClassMode
			}
			if err := c.SetMode(mode); err != nil {
				return err
			}
			sh, err := c.Eval(z)
			if err != nil {
				return err
			}
			jac[h], drift[h] = sh.Grad, make([]float64, b)
			f := len(c.attrs)
			for r := 0; r < b; r++ {
				if i >= 0 {
					drift[h][r] = (sh.Attrs[r*f+i] - first.Attrs[r*f+i]) / c.opt.Scale[i]
				} else {
					// Only a fall below the start (or below p = 0.95, for
					// a row the classifier was unsure of) counts as drift:
					// the step restores confidence, never takes it away.
					kc := len(sh.LogP) / b
					cl := c.obj.classes[r]
					drift[h][r] = min(0, sh.LogP[r*kc+cl]-max(first.LogP[r*kc+cl], math.Log(0.95)))
				}
			}
			if i >= 0 {
				// In units of the attribute's scale, as the drift.
				for j := range jac[h] {
					jac[h][j] = float32(float64(jac[h][j]) / c.opt.Scale[i])
				}
			}
		}
		for r := 0; r < b; r++ {
			row, g := z[r*zd:(r+1)*zd], st.Grad[r*zd:(r+1)*zd]
			gs := make([][]float64, len(held))
			d := make([]float64, len(held))
			for h := range held {
				gs[h] = toF64(jac[h][r*zd : (r+1)*zd])
				d[h] = drift[h][r]
			}
			step, ok := constrainedStep(toF64(g), gs, d, rate)
			if !ok {
				continue
			}
			for i := range row {
				row[i] += float32(step[i])
			}
			s := norm0[r] / norm(row)
			for i := range row {
				row[i] = float32(float64(row[i]) * s)
			}
		}
	}
}

func toF64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func dot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// constrainedStep returns rate·p/‖p‖ for p the part of g orthogonal to
// every constraint gradient cs[h], plus the smallest move δ with
// cs[h]·δ = −drift[h] for all h (at most rate long). ok is false when g
// has no usable direction.
func constrainedStep(g []float64, cs [][]float64, drift []float64, rate float64) ([]float64, bool) {
	n := len(g)
	// Orthonormal basis q of the constraint gradients (modified
	// Gram–Schmidt), with R: cs[h] = Σ_j r[h][j]·q[j].
	var q [][]float64
	coef := make([][]float64, len(cs))
	for h, c := range cs {
		v := append([]float64(nil), c...)
		coef[h] = make([]float64, len(cs))
		for j, qj := range q {
			p := dot(v, qj)
			coef[h][j] = p
			for i := range v {
				v[i] -= p * qj[i]
			}
		}
		nv := math.Sqrt(dot(v, v))
		if nv > 1e-9*math.Sqrt(dot(c, c)) && nv > 0 {
			for i := range v {
				v[i] /= nv
			}
			coef[h][len(q)] = nv
			q = append(q, v)
		}
	}
	p := append([]float64(nil), g...)
	for _, qj := range q {
		pp := dot(p, qj)
		for i := range p {
			p[i] -= pp * qj[i]
		}
	}
	np := math.Sqrt(dot(p, p))
	if np == 0 || math.IsNaN(np) || math.IsInf(np, 0) {
		return nil, false
	}
	step := make([]float64, n)
	for i := range p {
		step[i] = rate * p[i] / np
	}
	if len(q) == 0 {
		return step, true
	}
	// δ = Σ_j y_j q_j with Σ_j coef[h][j]·y_j = −drift[h]: least squares
	// over the constraints (dependent ones were dropped from q; their
	// equations are still used).
	m := len(q)
	ata := make([]float64, m*m)
	atb := make([]float64, m)
	for h := range cs {
		for a := 0; a < m; a++ {
			atb[a] += coef[h][a] * -drift[h]
			for bb := 0; bb < m; bb++ {
				ata[a*m+bb] += coef[h][a] * coef[h][bb]
			}
		}
	}
	for a := 0; a < m; a++ {
		ata[a*m+a] += 1e-9
	}
	y, ok := solve(ata, atb, m)
	if !ok {
		return step, true
	}
	delta := make([]float64, n)
	for j, qj := range q {
		for i := range delta {
			delta[i] += y[j] * qj[i]
		}
	}
	if nd := math.Sqrt(dot(delta, delta)); nd > rate {
		for i := range delta {
			delta[i] *= rate / nd
		}
	}
	for i := range step {
		step[i] += delta[i]
	}
	return step, true
}

// solve solves the m×m system a·x = b by Gaussian elimination with
// partial pivoting.
func solve(a, b []float64, m int) ([]float64, bool) {
	a, b = append([]float64(nil), a...), append([]float64(nil), b...)
	for col := 0; col < m; col++ {
		piv := col
		for r := col + 1; r < m; r++ {
			if math.Abs(a[r*m+col]) > math.Abs(a[piv*m+col]) {
				piv = r
			}
		}
		if a[piv*m+col] == 0 {
			return nil, false
		}
		for j := 0; j < m; j++ {
			a[col*m+j], a[piv*m+j] = a[piv*m+j], a[col*m+j]
		}
		b[col], b[piv] = b[piv], b[col]
		for r := col + 1; r < m; r++ {
			f := a[r*m+col] / a[col*m+col]
			for j := col; j < m; j++ {
				a[r*m+j] -= f * a[col*m+j]
			}
			b[r] -= f * b[col]
		}
	}
	x := make([]float64, m)
	for r := m - 1; r >= 0; r-- {
		s := b[r]
		for j := r + 1; j < m; j++ {
			s -= a[r*m+j] * x[j]
		}
		x[r] = s / a[r*m+r]
	}
	return x, true
}

// Argmax is the index of the largest value of v (the first of equals).
func Argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
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
