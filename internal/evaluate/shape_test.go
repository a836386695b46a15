package evaluate

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/rng"
)

func noise(n, size int, seed uint64, scale float64) []float32 {
	r := rng.New(seed, 5)
	out := make([]float32, n*size)
	for i := range out {
		out[i] = float32(scale * (2*r.Float64() - 1))
	}
	return out
}

// An evaluator at 32 px RGB: a labels classifier gives class metrics over
// its K classes; a rotation classifier gives the feature metrics only,
// with the class metrics null in the JSON, never zero. Images of another
// shape are refused.
func TestEvaluatorAnyShape(t *testing.T) {
	s := classifier.Shape{C: 3, H: 32, W: 32, K: 5}
	ref := noise(200, s.Size(), 1, 1)
	for _, mode := range []string{classifier.ModeLabels, classifier.ModeRotation} {
		net, err := classifier.NewShape(s, rng.New(3, 1))
		if err != nil {
			t.Fatal(err)
		}
		net.Meta["mode"] = mode
		ev, err := NewImages(net, ref)
		if err != nil {
			t.Fatal(err)
		}
		asked := make([]int, 200)
		for i := range asked {
			asked[i] = i % 5
		}
		same, err := ev.Evaluate(noise(200, s.Size(), 2, 1), asked, true)
		if err != nil {
			t.Fatal(err)
		}
		far, err := ev.Evaluate(noise(200, s.Size(), 2, 0.1), nil, false)
		if err != nil {
			t.Fatal(err)
		}
		if !(far.FCD > 3*same.FCD) || same.Precision == nil {
			t.Errorf("%s: FCD of the same distribution %.4f, of a shrunk one %.4f; want the second larger", mode, same.FCD, far.FCD)
		}
		if (same.CondAcc != nil) != (mode == classifier.ModeLabels) {
			t.Errorf("%s: cond_acc %v", mode, same.CondAcc)
		}
		b, _ := json.Marshal(far)
		switch mode {
		case classifier.ModeLabels:
			if far.Modes == nil || *far.Modes > 5 || far.ClassifierScore == nil || *far.ClassifierScore > 5 || far.Classes != 5 {
				t.Errorf("labels: %s", b)
			}
		default:
			if far.Modes != nil || far.ClassifierScore != nil || far.KLUniform != nil || far.CondAcc != nil || far.Classes != 0 ||
				!strings.Contains(string(b), `"classifier_score":null`) || !strings.Contains(string(b), `"modes":null`) {
				t.Errorf("rotation: %s", b)
			}
		}
		if _, err := ev.Evaluate(noise(10, 784, 2, 1), nil, false); err == nil {
			t.Errorf("%s: 28×28×1 images accepted by a 3×32×32 evaluator", mode)
		}
		ev.Close()
	}
}
