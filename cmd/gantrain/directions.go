package main

import (
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/control"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/imgio"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/npy"
	"github.com/spf13/cobra"
)

type directionsOptions struct {
	*streams
	Run, Checkpoint string
	Feature         string
	Unsupervised    int
	Samples         int
	Seed            uint64
	Class           int
	OutFile, Grid   string
	Range           float64
	Steps           int
	Scale           int
}

func newDirectionsCmd(s *streams) *cobra.Command {
	o := &directionsOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "directions (--run RUN | --checkpoint DIR) (--feature F | --unsupervised K) --out dir.npy",
		Short: "Find directions in z that change a feature (InterFaceGAN) or that the generator amplifies most (SeFa)",
		Long: `--feature F (InterFaceGAN, Shen et al. 2020): generate --samples images
from latent vectors of --seed, score each with the feature (see gantrain
control --help), fit a linear model in z on 80% of them and save its unit
normal as a float32 .npy of shape (Z). For an attribute the model is least
squares on the score and the held-out R² is reported; for class:NAME it is
a logistic regression on "the classifier calls it NAME", with the held-out
AUC. Then 256 held-out z are moved along the direction by α = −2 … 2 and
the measured mean feature is printed beside what the fit predicts.

--unsupervised K (SeFa, Shen & Zhou 2021): no samples and no feature; the
K unit eigenvectors of AᵀA with the largest eigenvalues, for the weight A
of the generator's first layer, saved as (K, Z). Each is drawn as a row of
--grid (default: the --out name with .png): the z of --seed moved by α from
−--range to --range.

The result goes to stdout as one JSON object. Use a direction with
gantrain interpolate --dir FILE, or as dir(FILE) in an --expr.`,
		Example: `  gantrain directions --run runs/dcgan --feature thickness --out thick.npy
  gantrain directions --run runs/dcgan --feature class:9 --out nine.npy
  gantrain directions --run runs/dcgan --unsupervised 8 --out sefa.npy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("class") {
				o.Class = -1
			}
			return runDirections(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Run, "run", "", "run directory (its newest checkpoint is used)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "checkpoint directory")
	f.StringVar(&o.Feature, "feature", "", "fit a direction for this feature")
	f.IntVar(&o.Unsupervised, "unsupervised", 0, "find this many directions from the generator's first layer (SeFa)")
	f.IntVar(&o.Samples, "samples", 5000, "--feature: samples to score")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the samples (--feature) or of the grid's z (--unsupervised)")
	f.IntVar(&o.Class, "class", -1, "conditional models: the class of every sample")
	f.StringVarP(&o.OutFile, "out", "o", "", "output .npy file")
	f.StringVar(&o.Grid, "grid", "", "--unsupervised: the grid of the directions (.png)")
	f.Float64Var(&o.Range, "range", 3, "--unsupervised: the grid moves z from −range to +range")
	f.IntVar(&o.Steps, "steps", 9, "--unsupervised: images per row of the grid")
	f.IntVar(&o.Scale, "scale", 1, "--unsupervised: enlarge the grid by this factor")
	return cmd
}

type alongPoint struct {
	Alpha     float64 `json:"alpha"`
	Measured  float64 `json:"measured"`
	Predicted float64 `json:"predicted"`
}

type directionReport struct {
	Feature  string  `json:"feature"`
	Samples  int     `json:"samples"`
	Heldout  int     `json:"heldout"`
	R2       float64 `json:"heldout_r2,omitempty"`
	AUC      float64 `json:"heldout_auc,omitempty"`
	Positive float64 `json:"positive_rate,omitempty"`
	// Slope is the fit's change of the feature (for a class: of the logit)
	// per unit of distance along the direction.
	Slope float64      `json:"slope"`
	Along []alongPoint `json:"along"`
	Out   string       `json:"out"`
}

func runDirections(o *directionsOptions) error {
	if _, err := outFormat("--out", o.OutFile, "npy"); err != nil {
		return err
	}
	if (o.Feature == "") == (o.Unsupervised == 0) {
		return usagef("give one of --feature F or --unsupervised K")
	}
	if o.Feature != "" && (o.Samples < 500 || o.Samples > 1_000_000) {
		return usagef("--samples must be in 500..1000000, got %d", o.Samples)
	}
	if o.Unsupervised != 0 {
		if o.Unsupervised < 0 {
			return usagef("--unsupervised must be ≥ 1, got %d", o.Unsupervised)
		}
		if o.Grid == "" {
			o.Grid = strings.TrimSuffix(o.OutFile, filepath.Ext(o.OutFile)) + ".png"
		}
		if _, err := outFormat("--grid", o.Grid, "png"); err != nil {
			return err
		}
		if o.Steps < 2 || o.Steps > 101 || math.IsNaN(o.Range) || math.IsInf(o.Range, 0) || o.Range <= 0 || o.Scale < 1 || o.Scale > 16 {
			return usagef("--steps must be in 2..101, --range a positive number and --scale in 1..16")
		}
	}
	ck, m, err := openCheckpoint(o.Run, o.Checkpoint)
	if err != nil {
		return err
	}
	labelOf := func(n int) ([]int, error) { return rowLabels(m, o.Class, n) }
	if _, err := labelOf(1); err != nil {
		return err
	}
	if o.Unsupervised != 0 {
		return runSeFa(o, m, labelOf)
	}
	clf, classes, err := runClassifier(ck, m)
	if err != nil {
		return err
	}
	target, err := control.ParseFeature(o.Feature, m.C, classes)
	if err != nil {
		return usagef("--feature: %v", err)
	}
	n, zd := o.Samples, m.Latent
	labels, _ := labelOf(n)
	s, err := gen.NewSampler(m, 250)
	if err != nil {
		return err
	}
	defer s.Close()
	var ev *classifier.Runner
	if target.IsClass() {
		if ev, err = classifier.NewRunner(clf, 250); err != nil {
			return err
		}
		defer ev.Close()
	}
	// score returns the feature of G(z) and, for a class, whether the
	// classifier calls the image that class.
	score := func(z []float32, labels []int) ([]float64, []bool, error) {
		imgs, err := s.Generate(z, labels)
		if err != nil {
			return nil, nil, err
		}
		if !target.IsClass() {
			return control.AttrValues(imgs, m.C, m.H, m.W, []control.Attr{target.Attr}), nil, nil
		}
		r, err := ev.Run(imgs)
		if err != nil {
			return nil, nil, err
		}
		lp, is := make([]float64, r.N), make([]bool, r.N)
		for i := range lp {
			lp[i] = math.Log(max(r.Probs[i*classifier.Classes+target.Class], 1e-30))
			is[i] = r.Pred[i] == target.Class
		}
		return lp, is, nil
	}
	z := gen.Noise(o.Seed, n, zd)
	y, is, err := score(z, labels)
	if err != nil {
		return err
	}
	ntr := n * 4 / 5
	rep := directionReport{Feature: target.String(), Samples: n, Heldout: n - ntr, Out: o.OutFile}
	var fit control.Linear
	if target.IsClass() {
		if fit, err = control.FitLogistic(z[:ntr*zd], is[:ntr], zd, 1); err != nil {
			return fmt.Errorf("--feature %s: %w", target, err)
		}
		sc := make([]float64, n-ntr)
		pos := 0
		for i := range sc {
			sc[i] = fit.Predict(z[(ntr+i)*zd : (ntr+i+1)*zd])
			if is[ntr+i] {
				pos++
			}
		}
		rep.AUC = control.AUC(sc, is[ntr:])
		rep.Positive = float64(pos) / float64(n-ntr)
	} else {
		if fit, err = control.FitLinear(z[:ntr*zd], y[:ntr], zd); err != nil {
			return err
		}
		pred := make([]float64, n-ntr)
		for i := range pred {
			pred[i] = fit.Predict(z[(ntr+i)*zd : (ntr+i+1)*zd])
		}
		rep.R2 = control.R2(y[ntr:], pred)
	}
	dir, slope := fit.Direction()
	rep.Slope = slope
	// Move held-out z along the direction and compare with the fit.
	k := min(256, n-ntr)
	base := z[ntr*zd : (ntr+k)*zd]
	var lab []int
	if labels != nil {
		lab = labels[ntr : ntr+k]
	}
	for _, a := range []float64{-2, -1, 0, 1, 2} {
		moved := make([]float32, len(base))
		pred := 0.0
		for i := range moved {
			moved[i] = base[i] + float32(a)*dir[i%zd]
		}
		for r := 0; r < k; r++ {
			p := fit.Predict(moved[r*zd : (r+1)*zd])
			if target.IsClass() {
				p = 1 / (1 + math.Exp(-p)) // the fit's probability that the classifier says NAME
			}
			pred += p / float64(k)
		}
		v, isc, err := score(moved, lab)
		if err != nil {
			return err
		}
		meas := mean(v)
		if target.IsClass() {
			c := 0
			for _, b := range isc {
				if b {
					c++
				}
			}
			meas = float64(c) / float64(k)
		}
		rep.Along = append(rep.Along, alongPoint{Alpha: a, Measured: meas, Predicted: pred})
	}
	if err := npy.WriteFloat32File(o.OutFile, []int{zd}, dir); err != nil {
		return err
	}
	what := fmt.Sprintf("held-out R² %.3f", rep.R2)
	if target.IsClass() {
		what = fmt.Sprintf("held-out AUC %.3f", rep.AUC)
	}
	fmt.Fprintf(o.ErrOut, "gantrain: direction for %s from %d samples, %s\n", target, n, what)
	return json.NewEncoder(o.Out).Encode(rep)
}

type sefaReport struct {
	Layer       string    `json:"layer"`
	Eigenvalues []float64 `json:"eigenvalues"`
	Out         string    `json:"out"`
	Grid        string    `json:"grid"`
}

func runSeFa(o *directionsOptions, m *models.GAN, labelOf func(int) ([]int, error)) error {
	if o.Unsupervised > m.Latent {
		return usagef("--unsupervised %d: the latent space has %d dimensions", o.Unsupervised, m.Latent)
	}
	name, a, rows, err := control.FirstLayer(m)
	if err != nil {
		return err
	}
	dirs, vals, err := control.SeFa(a, rows, m.Latent, o.Unsupervised)
	if err != nil {
		return err
	}
	zd, k, cols := m.Latent, o.Unsupervised, o.Steps
	z0 := gen.Noise(o.Seed, 1, zd)
	z := make([]float32, 0, k*cols*zd)
	for j := 0; j < k; j++ {
		for c := 0; c < cols; c++ {
			a := -o.Range + 2*o.Range*float64(c)/float64(cols-1)
			for i := 0; i < zd; i++ {
				z = append(z, z0[i]+float32(a)*dirs[j*zd+i])
			}
		}
	}
	labels, err := labelOf(k * cols)
	if err != nil {
		return err
	}
	if labels != nil && o.Class < 0 {
		for i := range labels {
			labels[i] = 0
		}
	}
	s, err := gen.NewSampler(m, min(len(z)/zd, 256))
	if err != nil {
		return err
	}
	defer s.Close()
	imgs, err := s.Generate(z, labels)
	if err != nil {
		return err
	}
	if err := npy.WriteFloat32File(o.OutFile, []int{k, zd}, dirs); err != nil {
		return err
	}
	g, err := imgio.Grid(imgs, k*cols, m.C, m.H, m.W, cols)
	if err != nil {
		return err
	}
	if err := imgio.WritePNG(o.Grid, imgio.Scale(g, o.Scale)); err != nil {
		return err
	}
	return json.NewEncoder(o.Out).Encode(sefaReport{Layer: name, Eigenvalues: vals, Out: o.OutFile, Grid: o.Grid})
}
