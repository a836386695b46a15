package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/evaluate"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/mnist"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/npy"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/spf13/cobra"
)

type evalOptions struct {
	*streams
	Run, Checkpoint, Samples string
	Reference                bool
	N                        int
	Seed                     uint64
	NoPRDC                   bool
}

func newEvalCmd(s *streams) *cobra.Command {
	o := &evalOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "eval (--run RUN | --checkpoint DIR | --samples FILE.npy | --reference) [--n 10000]",
		Short: "Measure a generator: FCD, classifier score, modes, precision/recall",
		Long: `Measure samples in the feature space of gantrain's MNIST classifier
(embedded; 99.3% test accuracy) against the 10,000 MNIST test digits, and
print one JSON object on stdout:

  fcd               Fréchet distance between the features of the samples and
                    of the test digits (the MNIST analogue of FID; lower is better)
  classifier_score  exp E[KL(p(y|x) ‖ p(y))], the analogue of the Inception
                    score: 10 when every digit is clear and all are equally common
  modes             digits that receive at least 1% of the samples (mode collapse
                    shows as fewer than 10), kl_uniform the KL divergence of the
                    digit histogram from uniform
  precision, recall (Kynkäänniemi et al. 2019, k = 3) and density, coverage
                    (Naeem et al. 2020, k = 5): fidelity and diversity
  cond_acc          conditional models: how often the asked-for digit comes out

--reference prints the same for 10,000 real training digits (the best a
model can do) and for uniform noise (the worst), so each number has a scale.`,
		Example: `  gantrain eval --run runs/dcgan
  gantrain eval --samples samples.npy
  gantrain eval --reference`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runEval(o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.Run, "run", "", "run directory (its newest checkpoint)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "checkpoint directory")
	f.StringVar(&o.Samples, "samples", "", "images to measure: float32 .npy (N, 1, 28, 28) in [−1, 1]; labels from <stem>.labels.npy if present")
	f.BoolVar(&o.Reference, "reference", false, "measure real training digits and noise")
	f.IntVarP(&o.N, "n", "n", 10000, "samples to generate")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the samples' latent vectors")
	f.BoolVar(&o.NoPRDC, "no-prdc", false, "skip precision/recall/density/coverage")
	return cmd
}

// evalPlan is a checked eval command: what to measure and the data to
// measure it against.
type evalPlan struct {
	images      []float32 // --samples
	asked       []int     // their labels, if any
	ckpt        *checkpoint.Checkpoint
	m           *models.GAN
	test, train *mnist.Dataset // train: --reference only
	// ev, for a run on other data than MNIST: its stored classifier and
	// real images of the data as the reference.
	ev *evaluate.Evaluator
}

func runEval(o *evalOptions) error {
	p, err := prepareEval(o)
	if err != nil {
		return err
	}
	return p.run(o)
}

// prepareEval checks the flags and reads the samples or the checkpoint and
// the MNIST digits, before any generation or evaluation.
func prepareEval(o *evalOptions) (*evalPlan, error) {
	sources := 0
	for _, on := range []bool{o.Run != "" || o.Checkpoint != "", o.Samples != "", o.Reference} {
		if on {
			sources++
		}
	}
	if sources != 1 {
		return nil, usagef("give one of --run/--checkpoint, --samples or --reference")
	}
	if o.N < 10 || o.N > 100000 {
		return nil, usagef("--n must be between 10 and 100000, got %d", o.N)
	}
	p := &evalPlan{}
	var err error
	switch {
	case o.Samples != "":
		if p.images, p.asked, err = readSamples(o.Samples); err != nil {
			return nil, err
		}
	case o.Run != "" || o.Checkpoint != "":
		if p.ckpt, p.m, err = openCheckpoint(o.Run, o.Checkpoint); err != nil {
			return nil, err
		}
		if d := p.ckpt.State.Config.Data; d.Name != "mnist" {
			runDir := o.Run
			if runDir == "" {
				runDir = filepath.Dir(filepath.Dir(p.ckpt.Dir))
			}
			ds, _, err := data.Load(d, data.LoadOptions{BatchSize: p.ckpt.State.Config.Train.BatchSize, Progress: o.ErrOut, Bar: o.IsTerminal})
			if err != nil {
				return nil, fmt.Errorf("the run's data: %w", err)
			}
			var clf string
			if p.ev, clf, err = dataEvaluator(d, ds, runDir, filepath.Join(runDir, "config.yaml")); err != nil {
				if errors.Is(err, classifier.ErrNotStored) {
					return nil, usagef("%v", err)
				}
				return nil, err
			}
			fmt.Fprintf(o.ErrOut, "gantrain: evaluating with the classifier %s against %d real images of %s\n", clf, min(ds.N, maxReference), ds.Source)
			return p, nil
		}
	}
	if p.test, err = loadMNIST("test"); err != nil {
		return nil, err
	}
	if o.Reference {
		if p.train, err = loadMNIST("train"); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// run generates (for a checkpoint), evaluates and prints the report.
func (p *evalPlan) run(o *evalOptions) error {
	start := time.Now()
	images, asked := p.images, p.asked
	if p.m != nil {
		m := p.m
		z := gen.Noise(o.Seed, o.N, m.Latent)
		if m.Conditional {
			for i := 0; i < o.N; i++ {
				asked = append(asked, i%m.Classes)
			}
		}
		s, err := gen.NewSampler(m, 500)
		if err != nil {
			return err
		}
		defer s.Close()
		if images, err = s.Generate(z, asked); err != nil {
			return err
		}
		fmt.Fprintf(o.ErrOut, "gantrain: generated %d samples from %s in %s\n", o.N, p.ckpt.Dir, time.Since(start).Round(time.Millisecond))
	}
	ev := p.ev
	if ev == nil {
		var err error
		if ev, err = evaluate.New(p.test, p.test.N); err != nil {
			return err
		}
	}
	defer ev.Close()
	if o.Reference {
		train := p.train
		real := classifier.Images(train, o.N)
		labels := make([]int, len(real)/784)
		for i := range labels {
			labels[i] = int(train.Labels[i])
		}
		rReal, err := ev.Evaluate(real, labels, !o.NoPRDC)
		if err != nil {
			return err
		}
		noise := make([]float32, o.N*784)
		r := rng.New(o.Seed, 7)
		for i := range noise {
			noise[i] = float32(2*r.Float64() - 1)
		}
		rNoise, err := ev.Evaluate(noise, nil, !o.NoPRDC)
		if err != nil {
			return err
		}
		return json.NewEncoder(o.Out).Encode(map[string]*evaluate.Report{"real_train_digits": rReal, "uniform_noise": rNoise})
	}
	rep, err := ev.Evaluate(images, asked, !o.NoPRDC)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "gantrain: evaluated %d images in %s (total %s)\n", rep.N, time.Duration(rep.Seconds*float64(time.Second)).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return json.NewEncoder(o.Out).Encode(rep)
}

// maxReference is the most real images an evaluation compares with.
const maxReference = 10000

// usesShippedClassifier says whether data is measured with the embedded
// MNIST classifier (MNIST at 28×28×1).
func usesShippedClassifier(d config.Data, ds *data.Dataset) bool {
	return d.Name == "mnist" && ds.C == 1 && ds.H == 28 && ds.W == 28
}

// dataEvaluator prepares an evaluator for data other than MNIST: the
// classifier stored for it (beside the run, else in the classifier store)
// and up to maxReference of its images, evenly spaced, as the reference.
// It returns the classifier's path; classifier.ErrNotStored, wrapped with
// the command to run (with cfgFile), when there is none.
func dataEvaluator(d config.Data, ds *data.Dataset, runDir, cfgFile string) (*evaluate.Evaluator, string, error) {
	net, path, err := classifier.Find(ds, false, runDir, classifier.StoreDir(d.Cache))
	if errors.Is(err, classifier.ErrNotStored) {
		return nil, "", fmt.Errorf("%w (%s, %d×%d×%d); train one with: gantrain classifier train --config %s", err, ds.Source, ds.C, ds.H, ds.W, cfgFile)
	}
	if err != nil {
		return nil, "", err
	}
	idx := make([]int, min(ds.N, maxReference))
	for i := range idx {
		idx[i] = i * ds.N / len(idx)
	}
	ref := classifier.Subset(ds, idx)
	ev, err := evaluate.NewImages(net, classifier.ImagesData(ref, ref.N))
	return ev, path, err
}

// loadMNIST loads one split of the real MNIST files.
func loadMNIST(split string) (*mnist.Dataset, error) {
	dir, err := mnist.DefaultDir()
	if err != nil {
		return nil, err
	}
	return mnist.Load(dir, split)
}

// readSamples reads images (N, 1, 28, 28) from .npy and their labels from
// <stem>.labels.npy when that file exists.
func readSamples(path string) ([]float32, []int, error) {
	a, err := npy.ReadFloat32File(path)
	if err != nil {
		return nil, nil, usageError{err}
	}
	s := a.Shape
	if len(s) != 4 || s[1] != 1 || s[2] != 28 || s[3] != 28 || s[0] < 2 {
		return nil, nil, usagef("--samples %s: shape %v, want (N, 1, 28, 28) with N ≥ 2", path, s)
	}
	lp := strings.TrimSuffix(path, ".npy") + ".labels.npy"
	if _, err := os.Stat(lp); err != nil {
		return a.Data, nil, nil
	}
	l, err := npy.ReadInt64File(lp)
	if err != nil {
		return nil, nil, usageError{err}
	}
	if len(l.Shape) != 1 || l.Shape[0] != s[0] {
		return nil, nil, usagef("%s: shape %v, want (%d)", lp, l.Shape, s[0])
	}
	asked := make([]int, len(l.Data))
	for i, v := range l.Data {
		if v < 0 || v >= classifier.Classes {
			return nil, nil, usagef("%s: label %d at %d is not a digit", lp, v, i)
		}
		asked[i] = int(v)
	}
	return a.Data, asked, nil
}
