// Package losses holds the GAN objectives as graph ops: binary cross-entropy
// on logits (the original GAN and DCGAN), the Wasserstein critic means, the
// hinge loss and the least-squares (LSGAN) loss.
//
// Each op records, when it runs, the values the training loop logs (the loss
// and the mean discriminator output), so nothing has to be read back from
// graph nodes whose buffers gorgonia may reuse.
package losses

import (
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BCEElem returns the binary cross-entropy of one logit x against target t,
// ℓ = −t·log σ(x) − (1−t)·log(1−σ(x)), and its derivative σ(x) − t. It uses
// the stable form ℓ = max(x, 0) − x·t + log(1 + e^−|x|), exact for any x.
func BCEElem(x, t float64) (loss, grad float64) {
	return math.Max(x, 0) - x*t + math.Log1p(math.Exp(-math.Abs(x))), sigmoid(x) - t
}

// BCEWithLogits returns the mean of BCEElem over x for one target, and the
// mean of σ(x) (what D(·) reports), accumulated in float64.
func BCEWithLogits(x []float32, target float64) (loss float64, meanProb float64) {
	for _, v := range x {
		l, _ := BCEElem(float64(v), target)
		loss += l
		meanProb += sigmoid(float64(v))
	}
	n := float64(len(x))
	return loss / n, meanProb / n
}

// BCEWithLogitsGrad writes d(mean loss)/dx, scaled by g, into dx.
func BCEWithLogitsGrad(x []float32, target, g float64, dx []float32) {
	n := float64(len(x))
	for i, v := range x {
		_, d := BCEElem(float64(v), target)
		dx[i] = float32(g * d / n)
	}
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Stat is what a loss op saw in its last run.
type Stat struct {
	Loss float64 // the loss value
	Mean float64 // mean σ(logit) for BCE (D(x) or D(G(z))), mean critic value for Wasserstein
}

// BCE adds the mean binary cross-entropy of logits (1, B) against a constant
// target (1 for real, 0 for fake) to the graph; name says which loss it is
// in error messages ("D loss on real images").
func BCE(g *nn.Graph, name string, logits *gorgonia.Node, target float64) (*gorgonia.Node, *Stat) {
	st := &Stat{}
	if g.Err() != nil {
		return nil, st
	}
	s := logits.Shape().Clone()
	n, _ := g.Apply(nn.OpSpec{
		Name: name,
		In:   []tensor.Shape{s}, DiffWRT: []bool{true},
		Forward: func(v [][]float32, out []float32) error {
			st.Loss, st.Mean = BCEWithLogits(v[0], target)
			if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
				return fmt.Errorf("is %v (binary cross-entropy of non-finite logits)", st.Loss)
			}
			out[0] = float32(st.Loss)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, _ := g.Apply(nn.OpSpec{
				Name: "bce_with_logits_grad", In: []tensor.Shape{s, nil}, Out: s,
				Forward: func(v [][]float32, dx []float32) error {
					BCEWithLogitsGrad(v[0], target, float64(v[1][0]), dx)
					return nil
				},
			}, v[0], grad)
			return gorgonia.Nodes{dx}, g.Err()
		},
	}, logits)
	return n, st
}

// Mean adds sign·mean(x) to the graph: the Wasserstein critic loss is
// Mean(C(fake), +1) + Mean(C(real), −1), the generator's Mean(C(fake), −1).
// name labels it in error messages.
func Mean(g *nn.Graph, name string, x *gorgonia.Node, sign float64) (*gorgonia.Node, *Stat) {
	st := &Stat{}
	if g.Err() != nil {
		return nil, st
	}
	s := x.Shape().Clone()
	size := float64(s.TotalSize())
	n, _ := g.Apply(nn.OpSpec{
		Name: name,
		In:   []tensor.Shape{s}, DiffWRT: []bool{true},
		Forward: func(v [][]float32, out []float32) error {
			var acc float64
			for _, f := range v[0] {
				acc += float64(f)
			}
			st.Mean = acc / size
			st.Loss = sign * st.Mean
			if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
				return fmt.Errorf("is %v", st.Loss)
			}
			out[0] = float32(st.Loss)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, _ := g.Apply(nn.OpSpec{
				Name: "mean_grad", In: []tensor.Shape{nil}, Out: s,
				Forward: func(v [][]float32, dx []float32) error {
					d := float32(sign * float64(v[0][0]) / size)
					for i := range dx {
						dx[i] = d
					}
					return nil
				},
			}, grad)
			return gorgonia.Nodes{dx}, g.Err()
		},
	}, x)
	return n, st
}

// Sum adds two scalar losses.
func Sum(g *nn.Graph, a, b *gorgonia.Node) *gorgonia.Node {
	if g.Err() != nil {
		return nil
	}
	n, err := gorgonia.Add(a, b)
	if err != nil {
		g.Fail(fmt.Errorf("losses: sum: %w", err))
		return nil
	}
	return n
}

// SoftmaxCrossEntropy returns the mean over the batch of −log softmax(x)[y]
// for logits x (K, B) — feature-major — and integer labels y (stored as
// float32 class indices), with the gradient (softmax(x) − onehot(y))/B.
// It uses the log-sum-exp form, exact for large logits.
func SoftmaxCrossEntropy(x []float32, k int, labels []float32, g float64, dx []float32) (loss float64, correct int, err error) {
	b := len(labels)
	p := make([]float64, k)
	for j := 0; j < b; j++ {
		y := int(labels[j])
		if float32(y) != labels[j] || y < 0 || y >= k {
			return 0, 0, fmt.Errorf("label %v at %d is not a class index in [0, %d)", labels[j], j, k)
		}
		m := math.Inf(-1)
		arg := 0
		for c := 0; c < k; c++ {
			if v := float64(x[c*b+j]); v > m {
				m, arg = v, c
			}
		}
		var s float64
		for c := 0; c < k; c++ {
			p[c] = math.Exp(float64(x[c*b+j]) - m)
			s += p[c]
		}
		loss += math.Log(s) + m - float64(x[y*b+j])
		if arg == y {
			correct++
		}
		if dx != nil {
			for c := 0; c < k; c++ {
				d := p[c] / s
				if c == y {
					d--
				}
				dx[c*b+j] = float32(g * d / float64(b))
			}
		}
	}
	return loss / float64(b), correct, nil
}

// CrossEntropy adds the mean softmax cross-entropy of logits (K, B) against
// labels (B) to the graph. Stat.Mean is the batch accuracy.
func CrossEntropy(g *nn.Graph, logits, labels *gorgonia.Node) (*gorgonia.Node, *Stat) {
	st := &Stat{}
	if g.Err() != nil {
		return nil, st
	}
	s, ls := logits.Shape().Clone(), labels.Shape().Clone()
	k, b := s[0], s[1]
	n, _ := g.Apply(nn.OpSpec{
		Name: "cross_entropy", In: []tensor.Shape{s, ls}, DiffWRT: []bool{true, false},
		Forward: func(v [][]float32, out []float32) error {
			loss, correct, err := SoftmaxCrossEntropy(v[0], k, v[1], 1, nil)
			if err != nil {
				return err
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return fmt.Errorf("is %v", loss)
			}
			st.Loss, st.Mean = loss, float64(correct)/float64(b)
			out[0] = float32(loss)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, _ := g.Apply(nn.OpSpec{
				Name: "cross_entropy_grad", In: []tensor.Shape{s, ls, nil}, Out: s,
				Forward: func(v [][]float32, dx []float32) error {
					_, _, err := SoftmaxCrossEntropy(v[0], k, v[1], float64(v[2][0]), dx)
					return err
				},
			}, v[0], v[1], grad)
			return gorgonia.Nodes{dx, nil}, g.Err()
		},
	}, logits, labels)
	return n, st
}

// HingeElem is one term of the hinge loss (Lim & Ye 2017; Miyato et al.
// 2018) and its derivative: for the discriminator on real images
// max(0, 1 − x) (sign +1), on fake images max(0, 1 + x) (sign −1). At the
// kink the derivative is taken as 0, as PyTorch's relu does.
func HingeElem(x, sign float64) (loss, grad float64) {
	m := 1 - sign*x
	if m > 0 {
		return m, -sign
	}
	return 0, 0
}

// LSElem is one term of the least-squares loss (Mao et al. 2017) with
// target t: ½(x − t)², and its derivative x − t. The 0-1-1 coding: D
// pushes real to 1 and fake to 0, G pushes fake to 1.
func LSElem(x, t float64) (loss, grad float64) {
	return 0.5 * (x - t) * (x - t), x - t
}

// Hinge adds the mean hinge loss of D's outputs (1, B) to the graph: sign
// +1 for real images (mean max(0, 1 − D(x))), −1 for fake ones (mean
// max(0, 1 + D(G(z)))). The generator's hinge loss is Mean(D(G(z)), −1).
// Stat.Mean is the mean raw output.
func Hinge(g *nn.Graph, name string, x *gorgonia.Node, sign float64) (*gorgonia.Node, *Stat) {
	return elementwise(g, name, "hinge_grad", x, func(v float64) (float64, float64) { return HingeElem(v, sign) })
}

// LeastSquares adds the mean of ½(D(·) − target)² over D's outputs (1, B)
// to the graph (LSGAN). Stat.Mean is the mean raw output.
func LeastSquares(g *nn.Graph, name string, x *gorgonia.Node, target float64) (*gorgonia.Node, *Stat) {
	return elementwise(g, name, "least_squares_grad", x, func(v float64) (float64, float64) { return LSElem(v, target) })
}

// elementwise adds mean f(x) over x to the graph, f returning a term and
// its derivative, accumulated in float64.
func elementwise(g *nn.Graph, name, gradName string, x *gorgonia.Node, f func(float64) (float64, float64)) (*gorgonia.Node, *Stat) {
	st := &Stat{}
	if g.Err() != nil {
		return nil, st
	}
	s := x.Shape().Clone()
	size := float64(s.TotalSize())
	n, _ := g.Apply(nn.OpSpec{
		Name: name,
		In:   []tensor.Shape{s}, DiffWRT: []bool{true},
		Forward: func(v [][]float32, out []float32) error {
			var acc, mean float64
			for _, e := range v[0] {
				l, _ := f(float64(e))
				acc += l
				mean += float64(e)
			}
			st.Loss, st.Mean = acc/size, mean/size
			if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
				return fmt.Errorf("is %v", st.Loss)
			}
			out[0] = float32(st.Loss)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, _ := g.Apply(nn.OpSpec{
				Name: gradName, In: []tensor.Shape{s, nil}, Out: s,
				Forward: func(v [][]float32, dx []float32) error {
					gs := float64(v[1][0]) / size
					for i, e := range v[0] {
						_, d := f(float64(e))
						dx[i] = float32(gs * d)
					}
					return nil
				},
			}, v[0], grad)
			return gorgonia.Nodes{dx}, g.Err()
		},
	}, x)
	return n, st
}
