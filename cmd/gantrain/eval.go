package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/evaluate"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/imgio"
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
	Nearest                  int
	NearestOut               string
	Accuracy                 bool
}

func newEvalCmd(s *streams) *cobra.Command {
	o := &evalOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "eval (--run RUN | --checkpoint DIR | --samples FILE.npy | --reference) [--n 10000] [--accuracy]",
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
model can do) and for uniform noise (the worst), so each number has a scale.

--nearest N checks for memorization: it finds each sample's nearest
training images in the classifier's feature space and compares those
distances with the distances of held-out real images to the training set
(MNIST: the 10,000 test digits against the 60,000 training digits; other
data: a held-out tenth of it, drawn from seed 1, against the other nine
tenths and, with data.flip, their mirror images). "memorization" in the
report holds both spreads, their median ratio (about 1 or more for new
images, far below 1 for copies) and the fraction of samples nearer a
training image than 95% of held-out images are (about 0.05 for new
images). The grid (--nearest-out, default nearest.png in the run) shows
the N samples nearest to a training image, the likeliest copies, each
followed by its three nearest training images.

--accuracy measures a semi-supervised GAN (model sgan) as what it is for,
a classifier: the fraction of its data's test images (MNIST's and
Fashion-MNIST's 10,000 t10k images; an IDX directory's t10k files) whose
largest discriminator logit is their class, overall and per class.`,
		Example: `  gantrain eval --run runs/dcgan
  gantrain eval --run runs/emoji64 --n 2000 --nearest 16
  gantrain eval --samples samples.npy
  gantrain eval --reference
  gantrain eval --run runs/sgan --accuracy`,
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
	f.IntVar(&o.Nearest, "nearest", 0, "memorization check: grid of the N samples nearest to a training image, beside their nearest training images")
	f.StringVar(&o.NearestOut, "nearest-out", "", "where --nearest's grid goes (default: nearest.png in the run)")
	f.BoolVar(&o.Accuracy, "accuracy", false, "semi-supervised GAN (sgan): the test-set accuracy of its discriminator as a classifier")
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
	// For --nearest: training and held-out real images in [−1, 1], the
	// images' shape, and where the grid goes.
	memoTrain, memoHeld []float32
	c, h, w             int
	nearestOut          string
}

func runEval(o *evalOptions) error {
	if o.Accuracy {
		return runAccuracy(o)
	}
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
	if o.Nearest < 0 || o.Nearest > o.N {
		return nil, usagef("--nearest must be between 0 and --n (%d), got %d", o.N, o.Nearest)
	}
	if o.NearestOut != "" && o.Nearest == 0 {
		return nil, usagef("--nearest-out needs --nearest N")
	}
	p := &evalPlan{}
	if o.Nearest > 0 {
		if o.Run == "" && o.Checkpoint == "" {
			return nil, usagef("--nearest needs --run or --checkpoint: it compares a model's samples with its training images")
		}
		p.nearestOut = o.NearestOut
		if p.nearestOut == "" {
			if o.Run == "" {
				return nil, usagef("--nearest with --checkpoint: give --nearest-out FILE.png")
			}
			p.nearestOut = filepath.Join(o.Run, "nearest.png")
		}
		if p.nearestOut == stdoutName {
			return nil, usagef("--nearest-out -: stdout carries the JSON report; give a file")
		}
		if err := o.checkOut("--nearest-out", p.nearestOut); err != nil {
			return nil, err
		}
	}
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
		p.c, p.h, p.w = p.m.C, p.m.H, p.m.W
		if d := p.ckpt.State.Config.Data; o.Nearest > 0 && d.Path != "" && data.Inside(p.nearestOut, d.Path) {
			return nil, usagef("--nearest-out %s is inside the data folder %s, which gantrain never writes", p.nearestOut, d.Path)
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
			if o.Nearest > 0 {
				if ds.N < 20 {
					p.ev.Close()
					return nil, usagef("--nearest: %s has %d images; the memorization check needs at least 20", ds.Source, ds.N)
				}
				tr, held := classifier.Split(ds, 0.1, 1)
				p.memoTrain, p.memoHeld = classifier.ImagesData(tr, tr.N), classifier.ImagesData(held, held.N)
				if d.Flip {
					p.memoTrain = append(p.memoTrain, mirrored(p.memoTrain, ds.W)...)
				}
			}
			return p, nil
		}
	}
	if p.test, err = loadMNIST("test"); err != nil {
		return nil, err
	}
	if o.Reference || o.Nearest > 0 {
		if p.train, err = loadMNIST("train"); err != nil {
			return nil, err
		}
	}
	if o.Nearest > 0 {
		p.memoTrain, p.memoHeld = classifier.Images(p.train, p.train.N), classifier.Images(p.test, p.test.N)
		if p.ckpt.State.Config.Data.Flip {
			p.memoTrain = append(p.memoTrain, mirrored(p.memoTrain, p.w)...)
		}
	}
	return p, nil
}

// mirrored returns the horizontal mirror images of imgs (n, c·h·w): every
// row of w pixels, of every channel of every image, reversed.
func mirrored(imgs []float32, w int) []float32 {
	out := make([]float32, len(imgs))
	for r := 0; r < len(imgs)/w; r++ { // one row of one channel of one image
		src, dst := imgs[r*w:(r+1)*w], out[r*w:(r+1)*w]
		for x, v := range src {
			dst[w-1-x] = v
		}
	}
	return out
}

// run generates (for a checkpoint), evaluates and prints the report.
func (p *evalPlan) run(o *evalOptions) error {
	if o.Reference {
		return p.reference(o)
	}
	rep, err := p.report(o, nil)
	if err != nil {
		return err
	}
	return json.NewEncoder(o.Out).Encode(rep)
}

// report generates the samples (for a checkpoint) and measures them, the
// memorization check included. shared, when not nil, measures MNIST runs
// and samples in place of an evaluator made for the call (gantrain ablate
// evaluates many runs against the same digits); the caller closes it.
func (p *evalPlan) report(o *evalOptions, shared *evaluate.Evaluator) (*evaluate.Report, error) {
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
			return nil, err
		}
		defer s.Close()
		if images, err = s.Generate(z, asked); err != nil {
			return nil, err
		}
		fmt.Fprintf(o.ErrOut, "gantrain: generated %d samples from %s in %s\n", o.N, p.ckpt.Dir, time.Since(start).Round(time.Millisecond))
	}
	ev := p.ev
	switch {
	case ev != nil:
		defer ev.Close()
	case shared != nil:
		ev = shared
	default:
		var err error
		if ev, err = evaluate.New(p.test, p.test.N); err != nil {
			return nil, err
		}
		defer ev.Close()
	}
	rep, feats, err := ev.EvaluateFeatures(images, asked, !o.NoPRDC)
	if err != nil {
		return nil, err
	}
	if o.Nearest > 0 {
		if err := p.memorization(o, ev, rep, images, feats); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(o.ErrOut, "gantrain: evaluated %d images in %s (total %s)\n", rep.N, time.Duration(rep.Seconds*float64(time.Second)).Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	return rep, nil
}

// reference prints eval --reference's report: real training digits and
// uniform noise.
func (p *evalPlan) reference(o *evalOptions) error {
	ev, err := evaluate.New(p.test, p.test.N)
	if err != nil {
		return err
	}
	defer ev.Close()
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

// memorization adds eval --nearest's report to rep and writes its grid.
func (p *evalPlan) memorization(o *evalOptions, ev *evaluate.Evaluator, rep *evaluate.Report, images []float32, feats []float64) error {
	trainFeat, err := ev.Features(p.memoTrain)
	if err != nil {
		return err
	}
	heldFeat, err := ev.Features(p.memoHeld)
	if err != nil {
		return err
	}
	const k = 3
	m, nb, err := evaluate.Memorize(trainFeat, heldFeat, feats, k)
	if err != nil {
		return err
	}
	rep.Memorization = m
	// The o.Nearest samples nearest to a training image, nearest first.
	order := make([]int, m.Samples)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return nb.Dist[order[a]*k] < nb.Dist[order[b]*k] })
	pix := p.c * p.h * p.w
	grid := make([]float32, 0, o.Nearest*(k+1)*pix)
	for _, i := range order[:o.Nearest] {
		grid = append(grid, images[i*pix:(i+1)*pix]...)
		for _, j := range nb.Idx[i*k : (i+1)*k] {
			grid = append(grid, p.memoTrain[j*pix:(j+1)*pix]...)
		}
	}
	g, err := imgio.Grid(grid, o.Nearest*(k+1), p.c, p.h, p.w, k+1)
	if err != nil {
		return err
	}
	img := imgio.Scale(g, max(1, 64/p.h))
	if err := o.writeOut(p.nearestOut, func(w io.Writer) error { return imgio.EncodePNG(w, img) }); err != nil {
		return err
	}
	fmt.Fprintf(o.ErrOut, "gantrain: memorization: %.1f%% of %d samples are nearer a training image than 95%% of %d held-out images are (about 5%% for new images); median distance %.3g against %.3g held out (ratio %.2f); the %d nearest samples and their training neighbours: %s\n",
		100*m.NearerThanHeldOutP5, m.Samples, m.HeldOutImages, m.SampleNN.Median, m.HeldOutNN.Median, m.MedianRatio, o.Nearest, p.nearestOut)
	return nil
}
