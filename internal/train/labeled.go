package train

import (
	"fmt"
	"slices"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/models"
)

// labeledData is the labelled part of a semi-supervised run's data: the
// images of data.labeled (all of them when it is 0) and their batcher.
// Its methods are no-ops on nil (the other models).
type labeledData struct {
	idx     []int // the labelled images' indices; nil: every image
	n, k    int   // labelled images, classes
	batcher *data.Batcher
	imgs    []float32
	labels  []int
}

func newLabeledData(cfg config.Config, ds *data.Dataset) (*labeledData, error) {
	l := &labeledData{n: ds.N, k: ds.NumClasses()}
	sub := ds
	if cfg.Data.Labeled > 0 {
		var err error
		if l.idx, err = data.PickLabeled(ds, cfg.Data.Labeled, cfg.Seed); err != nil {
			return nil, err
		}
		l.n = len(l.idx)
		sub = data.Tiled(ds, l.idx, cfg.Train.BatchSize)
	}
	var err error
	if l.batcher, err = data.NewLabeledBatcher(sub, cfg.Train.BatchSize, cfg.Seed, cfg.Data.Flip); err != nil {
		return nil, err
	}
	l.imgs = make([]float32, cfg.Train.BatchSize*ds.ImageSize())
	l.labels = make([]int, cfg.Train.BatchSize)
	return l, nil
}

// next loads the next labelled batch into t.
func (l *labeledData) next(t *Trainer) error {
	if _, err := l.batcher.Next(l.imgs, l.labels); err != nil {
		return err
	}
	t.SetLabeledBatch(l.imgs, l.labels)
	return nil
}

func (l *labeledData) describe(cfg config.Config) string {
	what := "all images also without labels"
	if cfg.Train.SupervisedOnly {
		what = "no other images (train.supervised_only: the classifier alone)"
	}
	if l.idx == nil {
		return fmt.Sprintf("semi-supervised: every one of the %d images with its label", l.n)
	}
	per := fmt.Sprintf("%d per class", l.n/l.k)
	if l.n%l.k != 0 {
		per = fmt.Sprintf("%d or %d per class", l.n/l.k+1, l.n/l.k)
	}
	return fmt.Sprintf("semi-supervised: %d labelled images (%s, drawn from seed %d, listed in the checkpoints' state.json), %s", l.n, per, cfg.Seed, what)
}

func (l *labeledData) recorded() []int {
	if l == nil {
		return nil
	}
	return l.idx
}

func (l *labeledData) state() *data.BatcherState {
	if l == nil {
		return nil
	}
	s := l.batcher.State()
	return &s
}

// restore continues the labelled batches from a checkpoint, whose labelled
// images must be the ones drawn now.
func (l *labeledData) restore(c *checkpoint.Checkpoint) error {
	if l == nil {
		return nil
	}
	if !slices.Equal(c.State.Labeled, l.idx) {
		return fmt.Errorf("checkpoint %s: its %d labelled images are not the %d that data.labeled %d and seed %d draw from this data", c.Dir, len(c.State.Labeled), len(l.idx), len(l.idx), c.State.Config.Seed)
	}
	if c.State.LabeledBatcher == nil {
		return fmt.Errorf("checkpoint %s: no position of the labelled batches (labeled_batcher in %s)", c.Dir, checkpoint.StateFile)
	}
	if err := l.batcher.Restore(*c.State.LabeledBatcher); err != nil {
		return fmt.Errorf("checkpoint %s: labelled images: %w", c.Dir, err)
	}
	return nil
}

// testData measures a classifier model on a labelled test split.
type testData struct {
	ds   *data.Dataset
	imgs []float32
	c    *gen.Classifier
}

func newTestData(model *models.GAN, ds *data.Dataset) (*testData, error) {
	if ds.C != model.C || ds.H != model.H || ds.W != model.W || !ds.Labelled() {
		return nil, fmt.Errorf("data: the test images %s are %d×%d×%d (labelled: %v), the model's %d×%d×%d", ds.Source, ds.C, ds.H, ds.W, ds.Labelled(), model.C, model.H, model.W)
	}
	c, err := gen.NewClassifier(model, min(500, ds.N))
	if err != nil {
		return nil, err
	}
	return &testData{ds: ds, imgs: data.Scaled(ds.Pixels), c: c}, nil
}

// accuracy is the fraction of the test images whose largest logit is
// their class.
func (t *testData) accuracy() (float64, error) {
	pred, err := t.c.Classify(t.imgs)
	if err != nil {
		return 0, err
	}
	right := 0
	for i, y := range pred {
		if y == int(t.ds.Labels[i]) {
			right++
		}
	}
	return float64(right) / float64(len(pred)), nil
}

func (t *testData) close() { t.c.Close() }
