package gen

import (
	"fmt"

	"github.com/gantrain/gantrain/internal/kernels"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/nn"
	"gorgonia.org/gorgonia"
)

// Classifier runs a classifier model's discriminator (sgan: K class logits,
// the fake class implicit) in evaluation mode, with batch norm's running
// statistics, on batches of a fixed size.
type Classifier struct {
	model *models.GAN
	batch int
	m     *nn.Machine
	x     []float32 // graph input (C, H, W, batch)
	out   *gorgonia.Node
}

// NewClassifier compiles model's discriminator for batches of size batch.
func NewClassifier(model *models.GAN, batch int) (*Classifier, error) {
	if !model.Classifier {
		return nil, fmt.Errorf("gen: model %s does not classify (its discriminator has one output); the semi-supervised GAN (sgan) does", model.Name)
	}
	if batch < 1 {
		return nil, fmt.Errorf("gen: batch %d", batch)
	}
	g := nn.NewGraph(false)
	c := &Classifier{model: model, batch: batch}
	var x *gorgonia.Node
	x, c.x = g.Input("images", model.C, model.H, model.W, batch)
	c.out = model.D.Forward(g, x, nil)
	if g.Err() != nil {
		return nil, g.Err()
	}
	m, err := g.Compile()
	if err != nil {
		return nil, err
	}
	c.m = m
	return c, nil
}

// Logits returns the K class logits (n, K) of n images (n, C·H·W) in
// [−1, 1].
func (c *Classifier) Logits(images []float32) ([]float32, error) {
	pix := c.model.C * c.model.H * c.model.W
	if len(images)%pix != 0 {
		return nil, fmt.Errorf("gen: %d values is not a whole number of %d×%d×%d images", len(images), c.model.C, c.model.H, c.model.W)
	}
	n, k := len(images)/pix, c.model.Classes
	out := make([]float32, n*k)
	for lo := 0; lo < n; lo += c.batch {
		cnt := min(c.batch, n-lo)
		clear(c.x)
		kernels.ToBatchLast(images[lo*pix:(lo+cnt)*pix], c.x, pix, c.batch)
		if err := c.m.Run(); err != nil {
			return nil, fmt.Errorf("gen: discriminator: %w", err)
		}
		kernels.FromBatchLast(c.out.Value().Data().([]float32), out[lo*k:(lo+cnt)*k], k, c.batch)
	}
	return out, nil
}

// Classify returns the predicted class (the largest logit; the first on a
// tie) of each of n images (n, C·H·W).
func (c *Classifier) Classify(images []float32) ([]int, error) {
	logits, err := c.Logits(images)
	if err != nil {
		return nil, err
	}
	k := c.model.Classes
	out := make([]int, len(logits)/k)
	for i := range out {
		row := logits[i*k : (i+1)*k]
		for j, v := range row {
			if v > row[out[i]] {
				out[i] = j
			}
		}
	}
	return out, nil
}

// Close releases the compiled graph.
func (c *Classifier) Close() error { return c.m.Close() }
