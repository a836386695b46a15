package control

import (
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/gantrain/gantrain/internal/models"
	"gonum.org/v1/gonum/mat"
)

// Linear is a fitted linear model y ≈ W·z + B.
type Linear struct {
	W []float64
	B float64
}

// Predict returns W·z + B.
func (l Linear) Predict(z []float32) float64 {
	s := l.B
	for i, w := range l.W {
		s += w * float64(z[i])
	}
	return s
}

// Direction returns W/‖W‖ and ‖W‖ (the change of the prediction per unit
// of distance along the direction).
func (l Linear) Direction() ([]float32, float64) {
	n := 0.0
	for _, w := range l.W {
		n += w * w
	}
	n = math.Sqrt(n)
	d := make([]float32, len(l.W))
	for i, w := range l.W {
		d[i] = float32(w / n)
	}
	return d, n
}

// design returns the (n, Z+1) matrix of the rows of z with a column of ones.
func design(z []float32, n, zd int) *mat.Dense {
	x := mat.NewDense(n, zd+1, nil)
	for r := 0; r < n; r++ {
		for i := 0; i < zd; i++ {
			x.Set(r, i, float64(z[r*zd+i]))
		}
		x.Set(r, zd, 1)
	}
	return x
}

// FitLinear fits y ≈ W·z + B by least squares (with a tiny ridge term for
// stability) on n rows of z (n, Z).
func FitLinear(z []float32, y []float64, zd int) (Linear, error) {
	n := len(y)
	if n <= zd+1 || len(z) != n*zd {
		return Linear{}, fmt.Errorf("control: %d samples for a linear fit in %d dimensions", n, zd)
	}
	x := design(z, n, zd)
	var a mat.SymDense
	a.SymOuterK(1, x.T())
	for i := 0; i < zd; i++ {
		a.SetSym(i, i, a.At(i, i)+1e-6*float64(n))
	}
	var rhs mat.VecDense
	rhs.MulVec(x.T(), mat.NewVecDense(n, y))
	var ch mat.Cholesky
	if !ch.Factorize(&a) {
		return Linear{}, errors.New("control: singular least-squares system")
	}
	var w mat.VecDense
	if err := ch.SolveVecTo(&w, &rhs); err != nil {
		return Linear{}, err
	}
	l := Linear{W: make([]float64, zd), B: w.AtVec(zd)}
	for i := range l.W {
		l.W[i] = w.AtVec(i)
	}
	return l, nil
}

// FitLogistic fits p(y = 1 | z) = σ(W·z + B) by Newton's method (IRLS)
// with an L2 penalty of strength lambda on W.
func FitLogistic(z []float32, y []bool, zd int, lambda float64) (Linear, error) {
	n := len(y)
	if n <= zd+1 || len(z) != n*zd {
		return Linear{}, fmt.Errorf("control: %d samples for a logistic fit in %d dimensions", n, zd)
	}
	pos := 0
	for _, v := range y {
		if v {
			pos++
		}
	}
	if pos == 0 || pos == n {
		return Linear{}, fmt.Errorf("control: all %d samples are in one group (%d positive); no direction separates them", n, pos)
	}
	x := design(z, n, zd)
	w := mat.NewVecDense(zd+1, nil)
	for it := 0; it < 50; it++ {
		var eta mat.VecDense
		eta.MulVec(x, w)
		grad := mat.NewVecDense(zd+1, nil)
		h := mat.NewSymDense(zd+1, nil)
		wx := mat.NewDense(n, zd+1, nil)
		res := make([]float64, n)
		for r := 0; r < n; r++ {
			p := 1 / (1 + math.Exp(-eta.AtVec(r)))
			t := 0.0
			if y[r] {
				t = 1
			}
			res[r] = t - p
			s := math.Sqrt(math.Max(p*(1-p), 1e-12))
			for i := 0; i <= zd; i++ {
				wx.Set(r, i, s*x.At(r, i))
			}
		}
		grad.MulVec(x.T(), mat.NewVecDense(n, res))
		h.SymOuterK(1, wx.T())
		for i := 0; i < zd; i++ {
			grad.SetVec(i, grad.AtVec(i)-lambda*w.AtVec(i))
			h.SetSym(i, i, h.At(i, i)+lambda)
		}
		h.SetSym(zd, zd, h.At(zd, zd)+1e-9)
		var ch mat.Cholesky
		if !ch.Factorize(h) {
			return Linear{}, errors.New("control: singular Newton system in the logistic fit")
		}
		var step mat.VecDense
		if err := ch.SolveVecTo(&step, grad); err != nil {
			return Linear{}, err
		}
		w.AddVec(w, &step)
		if mat.Norm(&step, 2) < 1e-8*(1+mat.Norm(w, 2)) {
			break
		}
	}
	l := Linear{W: make([]float64, zd), B: w.AtVec(zd)}
	for i := range l.W {
		l.W[i] = w.AtVec(i)
	}
	return l, nil
}

// R2 is the coefficient of determination of predictions pred for y.
func R2(y, pred []float64) float64 {
	m := 0.0
	for _, v := range y {
		m += v
	}
	m /= float64(len(y))
	var ssr, sst float64
	for i := range y {
		ssr += (y[i] - pred[i]) * (y[i] - pred[i])
		sst += (y[i] - m) * (y[i] - m)
	}
	return 1 - ssr/sst
}

// AUC is the area under the ROC curve of score for the positives of y: the
// probability that a random positive scores above a random negative (ties
// count half).
func AUC(score []float64, y []bool) float64 {
	r := ranks(score)
	var sum float64
	pos := 0
	for i, v := range y {
		if v {
			sum += r[i]
			pos++
		}
	}
	neg := len(y) - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (sum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg))
}

// FirstLayer returns the generator's first-layer weight A (out, Z): the
// first two-dimensional parameter with Z columns that is not a label
// embedding (g.fc.weight of the DCGAN, g.fc1.weight of the MLP GAN).
func FirstLayer(m *models.GAN) (name string, a []float32, rows int, err error) {
	for _, p := range m.G.Params() {
		s := p.Shape()
		if len(s) == 2 && s[1] == m.Latent && p.Name != "g.embed.weight" {
			return p.Name, p.Data(), s[0], nil
		}
	}
	return "", nil, 0, fmt.Errorf("control: model %s has no fully connected first layer on z", m.Name)
}

// SeFa returns the k unit eigenvectors of AᵀA with the largest eigenvalues
// (rows of a (k, Z) matrix) and those eigenvalues, for A (rows, Z): the
// directions in z that the first layer amplifies most (Shen & Zhou 2021).
func SeFa(a []float32, rows, zd, k int) ([]float32, []float64, error) {
	if k < 1 || k > zd {
		return nil, nil, fmt.Errorf("control: %d directions asked, the latent space has %d", k, zd)
	}
	am := mat.NewDense(rows, zd, nil)
	for r := 0; r < rows; r++ {
		for i := 0; i < zd; i++ {
			am.Set(r, i, float64(a[r*zd+i]))
		}
	}
	var ata mat.SymDense
	ata.SymOuterK(1, am.T())
	var eig mat.EigenSym
	if !eig.Factorize(&ata, true) {
		return nil, nil, errors.New("control: eigendecomposition failed")
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, zd)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return vals[order[x]] > vals[order[y]] })
	out := make([]float32, k*zd)
	ev := make([]float64, k)
	for j := 0; j < k; j++ {
		c := order[j]
		ev[j] = vals[c]
		// A fixed sign: the largest component positive, so that the same
		// weights give the same file.
		big := 0
		for i := 0; i < zd; i++ {
			if math.Abs(vecs.At(i, c)) > math.Abs(vecs.At(big, c)) {
				big = i
			}
		}
		s := 1.0
		if vecs.At(big, c) < 0 {
			s = -1
		}
		for i := 0; i < zd; i++ {
			out[j*zd+i] = float32(s * vecs.At(i, c))
		}
	}
	return out, ev, nil
}
