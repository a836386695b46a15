package losses

import (
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/nn"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The semi-supervised GAN (Salimans et al. 2016): D has K logits l_k and an
// implicit fake class of logit 0, so
//
//	Z(x) = Σ_k exp l_k,  D(x) = Z/(Z+1) = σ(LSE(l)),  LSE(l) = log Z.
//
// Its unsupervised losses are binary cross-entropies of the logit LSE(l):
// on real images −log D(x) = softplus(LSE) − LSE = softplus(−LSE), on G's
// samples −log(1 − D) = softplus(LSE), and G's non-saturating loss
// −log D(G(z)) = softplus(−LSE). LSE is taken about its maximum and
// softplus in BCEElem's form, so they are exact for logits of ±1000.

// LSE returns log Σ_k exp x[k·b+j] of column j of feature-major logits
// x (K, B), and writes softmax into p (K values) when p is not nil.
func LSE(x []float32, k, b, j int, p []float64) float64 {
	m := math.Inf(-1)
	for c := 0; c < k; c++ {
		m = math.Max(m, float64(x[c*b+j]))
	}
	var s float64
	for c := 0; c < k; c++ {
		e := math.Exp(float64(x[c*b+j]) - m)
		if p != nil {
			p[c] = e
		}
		s += e
	}
	if p != nil {
		for c := range p[:k] {
			p[c] /= s
		}
	}
	return m + math.Log(s)
}

// SGANBCE returns the mean over the batch of BCEElem(LSE(l_j), target) for
// logits x (K, B) — target 1: −log D(x) (real images; G's non-saturating
// loss), 0: −log(1 − D(x)) (G's samples) — and the mean D(x) = σ(LSE).
// With dx not nil it writes the gradient, scaled by g:
// (σ(LSE_j) − target)·softmax(l_j)_k / B.
func SGANBCE(x []float32, k int, target, g float64, dx []float32) (loss, meanD float64) {
	b := len(x) / k
	p := make([]float64, k)
	for j := 0; j < b; j++ {
		lse := LSE(x, k, b, j, p)
		l, d := BCEElem(lse, target)
		loss += l
		meanD += sigmoid(lse)
		if dx != nil {
			for c := 0; c < k; c++ {
				dx[c*b+j] = float32(g * d * p[c] / float64(b))
			}
		}
	}
	return loss / float64(b), meanD / float64(b)
}

// SGAN adds the mean of SGANBCE over logits (K, B) against target to the
// graph; Stat.Mean is the mean D(x). name labels it in error messages.
func SGAN(g *nn.Graph, name string, logits *gorgonia.Node, target float64) (*gorgonia.Node, *Stat) {
	st := &Stat{}
	if g.Err() != nil {
		return nil, st
	}
	s := logits.Shape().Clone()
	k := s[0]
	n, _ := g.Apply(nn.OpSpec{
		Name: name,
		In:   []tensor.Shape{s}, DiffWRT: []bool{true},
		Forward: func(v [][]float32, out []float32) error {
			st.Loss, st.Mean = SGANBCE(v[0], k, target, 1, nil)
			if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
				return fmt.Errorf("is %v (log-sum-exp cross-entropy of non-finite logits)", st.Loss)
			}
			out[0] = float32(st.Loss)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			dx, _ := g.Apply(nn.OpSpec{
				Name: "sgan_bce_grad", In: []tensor.Shape{s, nil}, Out: s,
				Forward: func(v [][]float32, dx []float32) error {
					SGANBCE(v[0], k, target, float64(v[1][0]), dx)
					return nil
				},
			}, v[0], grad)
			return gorgonia.Nodes{dx}, g.Err()
		},
	}, logits)
	return n, st
}

// FeatureDistance returns ‖mean_j a[:, j] − mean_j b[:, j]‖² for
// feature-major features a, b (F, B) — Salimans et al.'s feature matching
// — and, when da or db is not nil, the gradients scaled by g:
// ∂/∂a[f, j] = 2(μa_f − μb_f)/B, ∂/∂b[f, j] = −2(μa_f − μb_f)/B.
func FeatureDistance(a, b []float32, f int, g float64, da, db []float32) float64 {
	n := len(a) / f
	var loss float64
	for i := 0; i < f; i++ {
		var sa, sb float64
		for j := 0; j < n; j++ {
			sa += float64(a[i*n+j])
			sb += float64(b[i*n+j])
		}
		d := (sa - sb) / float64(n)
		loss += d * d
		ga := float32(g * 2 * d / float64(n))
		for j := 0; j < n; j++ {
			if da != nil {
				da[i*n+j] = ga
			}
			if db != nil {
				db[i*n+j] = -ga
			}
		}
	}
	return loss
}

// FeatureMatching adds FeatureDistance(real, fake) to the graph: features
// (F, B) of D's intermediate layer on real images and on G's samples.
// Stat.Loss is the distance.
func FeatureMatching(g *nn.Graph, real, fake *gorgonia.Node) (*gorgonia.Node, *Stat) {
	st := &Stat{}
	if g.Err() != nil {
		return nil, st
	}
	s := real.Shape().Clone()
	if !s.Eq(fake.Shape()) {
		g.Fail(fmt.Errorf("losses: feature matching: real features %v, fake %v", s, fake.Shape()))
		return nil, st
	}
	f := s[0]
	n, _ := g.Apply(nn.OpSpec{
		Name: "G feature matching loss",
		In:   []tensor.Shape{s, s}, DiffWRT: []bool{true, true},
		Forward: func(v [][]float32, out []float32) error {
			st.Loss = FeatureDistance(v[0], v[1], f, 1, nil, nil)
			if math.IsNaN(st.Loss) || math.IsInf(st.Loss, 0) {
				return fmt.Errorf("is %v", st.Loss)
			}
			out[0] = float32(st.Loss)
			return nil
		},
		Backward: func(need []bool, v gorgonia.Nodes, _, grad *gorgonia.Node) (gorgonia.Nodes, error) {
			out := gorgonia.Nodes{nil, nil}
			for i := range need {
				if !need[i] {
					continue
				}
				out[i], _ = g.Apply(nn.OpSpec{
					Name: "feature_matching_grad", In: []tensor.Shape{s, s, nil}, Out: s,
					Forward: func(v [][]float32, d []float32) error {
						if i == 0 {
							FeatureDistance(v[0], v[1], f, float64(v[2][0]), d, nil)
						} else {
							FeatureDistance(v[0], v[1], f, float64(v[2][0]), nil, d)
						}
						return nil
					},
				}, v[0], v[1], grad)
			}
			return out, g.Err()
		},
	}, real, fake)
	return n, st
}
