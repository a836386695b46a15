package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/gen"
)

// accuracyReport is what eval --accuracy prints.
type accuracyReport struct {
	Accuracy   float64   `json:"accuracy"`
	Correct    int       `json:"correct"`
	N          int       `json:"n"`
	PerClass   []float64 `json:"per_class"`
	Classes    []string  `json:"classes"`
	Test       string    `json:"test"`
	Checkpoint string    `json:"checkpoint"`
	Step       int       `json:"step"`
	Labeled    int       `json:"labeled"` // data.labeled: 0 when every training label was used
	Supervised bool      `json:"supervised_only"`
}

// runAccuracy is eval --accuracy: the discriminator of a semi-supervised
// GAN as a classifier on its data's test split.
func runAccuracy(o *evalOptions) error {
	switch {
	case o.Run == "" && o.Checkpoint == "":
		return usagef("--accuracy needs --run or --checkpoint: it measures a model's discriminator as a classifier")
	case o.Samples != "" || o.Reference || o.Nearest > 0:
		return usagef("--accuracy measures the classifier alone; leave out --samples, --reference and --nearest")
	}
	ckpt, m, err := openClassifier(o.Run, o.Checkpoint)
	if err != nil {
		return err
	}
	cfg := ckpt.State.Config
	test, err := data.LoadTest(cfg.Data)
	if err != nil {
		return usageError{fmt.Errorf("--accuracy: the run's data: %w", err)}
	}
	if test.C != m.C || test.H != m.H || test.W != m.W {
		return usagef("--accuracy: the test images %s are %d×%d×%d, the model's %d×%d×%d", test.Source, test.C, test.H, test.W, m.C, m.H, m.W)
	}
	if test.NumClasses() > m.Classes {
		return usagef("--accuracy: the test images %s have %d classes, the model %d", test.Source, test.NumClasses(), m.Classes)
	}
	start := time.Now()
	c, err := gen.NewClassifier(m, 500)
	if err != nil {
		return err
	}
	defer c.Close()
	pred, err := c.Classify(data.Scaled(test.Pixels))
	if err != nil {
		return err
	}
	rep := accuracyReport{N: test.N, Test: test.Source, Checkpoint: ckpt.Dir, Step: ckpt.State.Step,
		Labeled: len(ckpt.State.Labeled), Supervised: cfg.Train.SupervisedOnly, Classes: ckpt.State.Classes}
	right, total := make([]int, m.Classes), make([]int, m.Classes)
	for i, y := range pred {
		l := int(test.Labels[i])
		total[l]++
		if y == l {
			right[l]++
			rep.Correct++
		}
	}
	rep.Accuracy = float64(rep.Correct) / float64(test.N)
	for k := range total {
		a := 0.0
		if total[k] > 0 {
			a = float64(right[k]) / float64(total[k])
		}
		rep.PerClass = append(rep.PerClass, a)
	}
	fmt.Fprintf(o.ErrOut, "gantrain: %s classifies %d of %d test images of %s correctly (%.2f%%) in %s\n",
		ckpt.Dir, rep.Correct, rep.N, test.Source, 100*rep.Accuracy, time.Since(start).Round(time.Millisecond))
	return json.NewEncoder(o.Out).Encode(rep)
}
