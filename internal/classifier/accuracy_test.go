package classifier

import (
	"testing"

	"github.com/gantrain/gantrain/internal/mnist"
)

// shippedCorrect is how many of MNIST's 10,000 test images the committed
// weights (weights/mnist-classifier.safetensors) classify as labelled:
// 99.30%, as the README says. Retraining the classifier must update both.
const shippedCorrect = 9930

// The evaluation classifier's accuracy on the full MNIST test set, pinned:
// a change to the weights, to a layer the classifier uses, or to the image
// scaling shows up here as a different count.
func TestShippedAccuracy(t *testing.T) {
	dir, err := mnist.DefaultDir() // GoMNIST is a dependency of internal/mnist, so it is in the module cache
	if err != nil {
		t.Fatal(err)
	}
	ds, err := mnist.Load(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 10000 {
		t.Fatalf("MNIST test set has %d images, want 10000", ds.N)
	}
	net, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	e, err := NewRunner(net, 500)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	r, err := e.Run(Images(ds, ds.N))
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, p := range r.Pred {
		if p == int(ds.Labels[i]) {
			correct++
		}
	}
	if correct != shippedCorrect {
		t.Errorf("%d of 10000 test images classified correctly, want %d", correct, shippedCorrect)
	}
	acc, err := e.Accuracy(ds)
	if err != nil {
		t.Fatal(err)
	}
	if acc != float64(correct)/10000 {
		t.Errorf("Accuracy() = %v, counted %d/10000", acc, correct)
	}
}
