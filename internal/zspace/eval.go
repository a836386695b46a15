package zspace

import (
	"errors"
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/gen"
)

// Eval evaluates e with the vectors resolve supplies for its terms. resolve
// is called once per term, in the order of e.Terms() (a repeated term is
// resolved again), and must return vectors of one common, non-zero length;
// its errors come back prefixed with the term's source text. The arithmetic
// is done in float64 and the result rounded to float32; a result with a
// non-finite value (an overflow of float32, or NaN/Inf from resolve) is an
// error.
func Eval(e Expr, resolve func(Term) ([]float32, error)) ([]float32, error) {
	if e == nil {
		return nil, errors.New("zspace: nil expression")
	}
	terms := e.Terms()
	vecs := make([][]float32, len(terms))
	for i, t := range terms {
		v, err := resolve(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.Src, err)
		}
		if len(v) == 0 {
			return nil, fmt.Errorf("%s: empty vector", t.Src)
		}
		if i > 0 && len(v) != len(vecs[0]) {
			return nil, fmt.Errorf("%s has %d values but %s has %d", t.Src, len(v), terms[0].Src, len(vecs[0]))
		}
		vecs[i] = v
	}
	next := 0
	r := eval(e, vecs, &next)
	out := make([]float32, len(r))
	bad := 0
	for i, x := range r {
		out[i] = float32(x)
		if math.IsInf(float64(out[i]), 0) || math.IsNaN(float64(out[i])) {
			bad++
		}
	}
	if bad > 0 {
		return nil, fmt.Errorf("zspace: %d of the %d values of %s are not finite float32 numbers", bad, len(out), e)
	}
	return out, nil
}

// eval walks e depth first, left to right, which is the order of Terms, so
// the term vectors are taken from vecs in turn.
func eval(e Expr, vecs [][]float32, next *int) []float64 {
	switch e := e.(type) {
	case Term:
		v := vecs[*next]
		*next++
		r := make([]float64, len(v))
		for i, x := range v {
			r[i] = float64(x)
		}
		return r
	case Neg:
		r := eval(e.X, vecs, next)
		for i := range r {
			r[i] = -r[i]
		}
		return r
	case Scale:
		r := eval(e.X, vecs, next)
		for i := range r {
			r[i] *= e.K
		}
		return r
	case BinOp:
		x := eval(e.X, vecs, next)
		y := eval(e.Y, vecs, next)
		s := 1.0
		if e.Op == '-' {
			s = -1
		}
		for i := range x {
			x[i] += s * y[i]
		}
		return x
	}
	panic(fmt.Sprintf("zspace: unknown expression node %T", e))
}

// unit returns v/‖v‖, or an error if v is 0 or not finite.
func unit(v []float32, file string) ([]float32, error) {
	n := 0.0
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	n = math.Sqrt(n)
	if n == 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return nil, fmt.Errorf("%s: a direction must be a finite, non-zero vector (its norm is %v)", file, n)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / n)
	}
	return out, nil
}

// SeedResolver returns a resolve function for Eval for a generator with
// latent size z: a seed's vector is gen.Noise(seed, 1, z), a mean the
// float64 mean of its seeds' vectors rounded to float32, a row the row of
// the matrix loadNpy returns for the term's file name (loaded once per file
// name and kept; loadNpy may be nil if no expression names a file), and a
// direction that row scaled to length 1. Rows must have z values. The function is not safe for concurrent use.
func SeedResolver(z int, loadNpy func(path string) ([][]float32, error)) func(Term) ([]float32, error) {
	files := map[string][][]float32{}
	return func(t Term) ([]float32, error) {
		if z < 1 {
			return nil, fmt.Errorf("latent size %d", z)
		}
		switch t.Kind {
		case SeedTerm:
			if len(t.Seeds) != 1 {
				return nil, fmt.Errorf("seed term with %d seeds", len(t.Seeds))
			}
			return gen.Noise(t.Seeds[0], 1, z), nil
		case MeanTerm:
			if len(t.Seeds) == 0 {
				return nil, errors.New("mean of no seeds")
			}
			sum := make([]float64, z)
			for _, s := range t.Seeds {
				for i, x := range gen.Noise(s, 1, z) {
					sum[i] += float64(x)
				}
			}
			out := make([]float32, z)
			for i, x := range sum {
				out[i] = float32(x / float64(len(t.Seeds)))
			}
			return out, nil
		case RowTerm, DirTerm:
			rows, ok := files[t.File]
			if !ok {
				if loadNpy == nil {
					return nil, errors.New("no .npy loader")
				}
				var err error
				if rows, err = loadNpy(t.File); err != nil {
					return nil, err
				}
				files[t.File] = rows
			}
			if t.Row < 0 || t.Row >= len(rows) {
				return nil, fmt.Errorf("row %d out of range: %s has %d rows", t.Row, t.File, len(rows))
			}
			row := rows[t.Row]
			if len(row) != z {
				return nil, fmt.Errorf("%s has rows of %d values, the generator's latent size is %d", t.File, len(row), z)
			}
			if t.Kind == DirTerm {
				return unit(row, t.File)
			}
			return append([]float32(nil), row...), nil
		}
		return nil, fmt.Errorf("unknown term kind %v", t.Kind)
	}
}
