package main

import (
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/classifier"
	"github.com/gantrain/gantrain/internal/control"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/imgio"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/npy"
	"github.com/spf13/cobra"
)

type controlOptions struct {
	*streams
	Run, Checkpoint string
	Feature         string
	Decrease, Keep  bool
	Steps           int
	Rate            float64
	N               int
	Seed            uint64
	Z               string
	Class           int
	OutFile         string
	Scale           int
	Delay           int
}

func newControlCmd(s *streams) *cobra.Command {
	o := &controlOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "control (--run RUN | --checkpoint DIR) --feature F [--decrease] [--steps K] [--rate η] [--keep] [--n N] [--seed S | --z z.npy] --out grid.png|anim.gif|images.npy",
		Short: "Change one feature of generated images by moving z (controllable generation)",
		Long: `Gradient ascent on z through the frozen generator: starting from --n
latent vectors of --seed, every step moves each z a distance --rate along
the gradient of the feature's score, z ← z + η·∇z/‖∇z‖, and scales it back
to its starting norm, so z stays on the shell ‖z‖ ≈ √Z where the generator
was trained. --decrease descends instead.

Features (internal/control has the formulas): ink, thickness, slant, size,
x, y (the centroid; y grows downwards), for colour images brightness, red,
green, blue, and class:NAME, log p(NAME | x) under the evaluation
classifier (class:9; MNIST runs only).

--keep holds every other attribute (in units of its spread over 256
reference samples) and, for an attribute target, the classifier's
log-probability of the class it saw at step 0: the step is projected
orthogonally to their gradients and their accumulated drift is taken
back, so that a thicker 3 stays a 3. It costs one more backward pass per
held feature.

Output: one row per starting z and one column per step (step 0 first) as
a PNG grid, an animated GIF (one frame per step) or a float32 .npy of shape
(N, K+1, C, H, W). On stdout, one JSON line per step: the mean score, the
mean ‖z‖, the other feature that changed most (mean |change| in units of
its spread) and, with a classifier, the fraction of rows whose class is
still that of step 0. On stderr a summary: in how many rows the score rose
and the median Spearman correlation of score and step.

For a conditional model the class of each row stays fixed (--class, or
0, 1, 2, … down the rows) while z moves.`,
		Example: `  gantrain control --run runs/dcgan --feature thickness --keep --out thicker.png
  gantrain control --run runs/dcgan --feature slant --steps 12 --out slant.gif
  gantrain control --run runs/dcgan --feature class:9 --seed 4 --n 4 --out to-nine.png
  gantrain control --run runs/dcgan --z fours.npy --feature class:9 --out to-nine.gif`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("class") {
				o.Class = -1
			}
			return runControl(o, cmd.Flags().Changed("n"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Run, "run", "", "run directory (its newest checkpoint is used)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "checkpoint directory")
	f.StringVar(&o.Feature, "feature", "", "feature to change: ink, thickness, slant, size, x, y, brightness, red, green, blue, class:NAME")
	f.BoolVar(&o.Decrease, "decrease", false, "decrease the feature instead")
	f.BoolVar(&o.Keep, "keep", false, "keep the other features and the class")
	f.IntVar(&o.Steps, "steps", 8, "gradient steps")
	f.Float64Var(&o.Rate, "rate", 0.4, "distance z moves per step")
	f.IntVarP(&o.N, "n", "n", 8, "starting latent vectors (rows)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the starting latent vectors")
	f.StringVar(&o.Z, "z", "", "start from the latent vectors of this .npy file (N, Z) instead of --seed")
	f.IntVar(&o.Class, "class", -1, "conditional models: the class of every row")
	f.StringVarP(&o.OutFile, "out", "o", "", "output: .png grid, .gif animation or .npy array")
	f.IntVar(&o.Scale, "scale", 0, "enlarge images by this factor (default 1 for png, 4 for gif)")
	f.IntVar(&o.Delay, "delay", 25, "gif: hundredths of a second per frame")
	return cmd
}

// refSeed draws the reference samples that set each feature's scale.
const refSeed = 0x5ca1e

// outFormat reads the output format from the name: png, gif or npy.
func outFormat(flag, out string, allowed ...string) (string, error) {
	if out == "" {
		return "", usagef("%s: say where to write (%s)", flag, strings.Join(allowed, ", "))
	}
	ext := strings.TrimPrefix(filepath.Ext(out), ".")
	for _, a := range allowed {
		if ext == a {
			if dir := filepath.Dir(out); dir != "." {
				if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
					return "", usagef("%s %s: directory %s does not exist", flag, out, dir)
				}
			}
			return ext, nil
		}
	}
	return "", usagef("%s %s: name the file .%s", flag, out, strings.Join(allowed, ", ."))
}

// runClassifier returns the evaluation classifier and its class names for
// a run's images, or nil if none applies (data other than MNIST).
func runClassifier(c *checkpoint.Checkpoint, m *models.GAN) (*classifier.Net, []string, error) {
	if c.State.Config.Data.Name != "mnist" || m.C != 1 || m.H != 28 || m.W != 28 {
		return nil, nil, nil
	}
	net, err := classifier.Default()
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, classifier.Classes)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	return net, names, nil
}

// rowLabels gives the class of each row of a conditional model.
func rowLabels(m *models.GAN, class, n int) ([]int, error) {
	if !m.Conditional {
		if class >= 0 {
			return nil, usagef("--class: model %s is not conditional", m.Name)
		}
		return nil, nil
	}
	if class >= m.Classes {
		return nil, usagef("--class %d: the model has classes 0..%d", class, m.Classes-1)
	}
	labels := make([]int, n)
	for i := range labels {
		labels[i] = i % m.Classes
		if class >= 0 {
			labels[i] = class
		}
	}
	return labels, nil
}

// featureScales measures the spread of every attribute (and of log p of a
// class target) over reference samples.
func featureScales(m *models.GAN, clf *classifier.Net, target control.Feature) ([]float64, float64, error) {
	const n = 256
	labels, _ := rowLabels(m, -1, n)
	s, err := gen.NewSampler(m, 128)
	if err != nil {
		return nil, 0, err
	}
	defer s.Close()
	imgs, err := s.Generate(gen.Noise(refSeed, n, m.Latent), labels)
	if err != nil {
		return nil, 0, err
	}
	attrs := control.Attrs(m.C)
	scale := control.StdDevs(control.AttrValues(imgs, m.C, m.H, m.W, attrs), len(attrs), 1e-3)
	if !target.IsClass() {
		for i, a := range attrs {
			if a == target.Attr {
				return scale, scale[i], nil
			}
		}
		return nil, 0, fmt.Errorf("feature %s: not defined for %d-channel images", target, m.C)
	}
	ev, err := classifier.NewRunner(clf, 128)
	if err != nil {
		return nil, 0, err
	}
	defer ev.Close()
	r, err := ev.Run(imgs)
	if err != nil {
		return nil, 0, err
	}
	lp := make([]float64, n)
	for i := range lp {
		lp[i] = math.Log(max(r.Probs[i*classifier.Classes+target.Class], 1e-30))
	}
	return scale, control.StdDevs(lp, 1, 0.1)[0], nil
}

type controlLine struct {
	Step        int      `json:"step"`
	Score       float64  `json:"score"`
	ZNorm       float64  `json:"z_norm"`
	Other       string   `json:"other"`
	OtherChange float64  `json:"other_change"`
	SameClass   *float64 `json:"same_class,omitempty"`
}

func runControl(o *controlOptions, nSet bool) error {
	format, err := outFormat("--out", o.OutFile, "png", "gif", "npy")
	if err != nil {
		return err
	}
	switch {
	case o.Steps < 1 || o.Steps > 1000:
		return usagef("--steps must be in 1..1000, got %d", o.Steps)
	case math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) || o.Rate <= 0:
		return usagef("--rate must be a positive number, got %v", o.Rate)
	case o.N < 1 || o.N > 1024:
		return usagef("--n must be in 1..1024, got %d", o.N)
	case o.Scale < 0 || o.Scale > 16 || o.Delay < 1:
		return usagef("--scale must be in 1..16 and --delay ≥ 1")
	}
	if o.Scale == 0 {
		o.Scale = map[string]int{"png": 1, "gif": 4, "npy": 1}[format]
	}
	ck, m, err := openCheckpoint(o.Run, o.Checkpoint)
	if err != nil {
		return err
	}
	clf, classes, err := runClassifier(ck, m)
	if err != nil {
		return err
	}
	if o.Feature == "" {
		return usagef("--feature: say which feature to change (ink, thickness, slant, size, x, y, brightness, red, green, blue, class:NAME)")
	}
	target, err := control.ParseFeature(o.Feature, m.C, classes)
	if err != nil {
		return usagef("--feature: %v", err)
	}
	z0 := gen.Noise(o.Seed, o.N, m.Latent)
	if o.Z != "" {
		if z0, err = readZ(o.Z, m.Latent); err != nil {
			return err
		}
		if n := len(z0) / m.Latent; nSet && n != o.N {
			return usagef("--n %d but --z %s holds %d vectors", o.N, o.Z, n)
		} else if n > 1024 {
			return usagef("--z %s: %d vectors, at most 1024", o.Z, n)
		}
		o.N = len(z0) / m.Latent
	}
	labels, err := rowLabels(m, o.Class, o.N)
	if err != nil {
		return err
	}
	scale, tscale, err := featureScales(m, clf, target)
	if err != nil {
		return err
	}
	ctl, err := control.New(m, clf, control.Options{Target: target, Decrease: o.Decrease,
		Scale: scale, TargetScale: tscale, Batch: o.N, Labels: labels})
	if err != nil {
		return err
	}
	defer ctl.Close()

	attrs := ctl.Attrs()
	f, pix := len(attrs), m.C*m.H*m.W
	steps := make([]*control.Step, 0, o.Steps+1)
	enc := json.NewEncoder(o.Out)
	err = control.Walk(ctl, z0, o.Steps, o.Rate, o.Keep, func(k int, st *control.Step, z []float32) error {
		steps = append(steps, st)
		line := controlLine{Step: k, Score: mean(st.Score), Other: "none"}
		for r := 0; r < o.N; r++ {
			line.ZNorm += control.Norm(z[r*m.Latent:(r+1)*m.Latent]) / float64(o.N)
		}
		for i, a := range attrs {
			if !target.IsClass() && a == target.Attr {
				continue
			}
			ch := 0.0
			for r := 0; r < o.N; r++ {
				ch += math.Abs(st.Attrs[r*f+i]-steps[0].Attrs[r*f+i]) / scale[i] / float64(o.N)
			}
			if line.Other == "none" || ch > line.OtherChange {
				line.Other, line.OtherChange = a.String(), ch
			}
		}
		if st.LogP != nil {
			same := sameClassRate(steps[0].LogP, st.LogP, o.N)
			line.SameClass = &same
		}
		return enc.Encode(line)
	})
	if err != nil {
		return err
	}
	// Summary: per row, did the score rise, and its Spearman ρ with the step.
	rose, rhos := 0, make([]float64, o.N)
	idx := make([]float64, len(steps))
	for k := range idx {
		idx[k] = float64(k)
	}
	for r := 0; r < o.N; r++ {
		s := make([]float64, len(steps))
		for k, st := range steps {
			s[k] = st.Score[r]
		}
		rhos[r] = control.Spearman(idx, s)
		if o.Decrease {
			rhos[r] = -rhos[r]
		}
		if (s[len(s)-1] > s[0]) != o.Decrease {
			rose++
		}
	}
	dir := "rose"
	if o.Decrease {
		dir = "fell"
	}
	msg := fmt.Sprintf("gantrain: %s %s in %d of %d rows (median Spearman ρ with the step %.3f)", target, dir, rose, o.N, control.Median(rhos))
	if last := steps[len(steps)-1]; last.LogP != nil {
		msg += fmt.Sprintf("; the classifier's digit stayed the same in %.0f%% of rows", 100*sameClassRate(steps[0].LogP, last.LogP, o.N))
	}
	fmt.Fprintln(o.ErrOut, msg)

	// Images (N, K+1, C·H·W): row r, column k.
	cols := len(steps)
	imgs := make([]float32, o.N*cols*pix)
	for k, st := range steps {
		for r := 0; r < o.N; r++ {
			copy(imgs[(r*cols+k)*pix:(r*cols+k+1)*pix], st.Images[r*pix:(r+1)*pix])
		}
	}
	switch format {
	case "npy":
		err = npy.WriteFloat32File(o.OutFile, []int{o.N, cols, m.C, m.H, m.W}, imgs)
	case "png":
		var g image.Image
		if g, err = imgio.Grid(imgs, o.N*cols, m.C, m.H, m.W, cols); err == nil {
			err = imgio.WritePNG(o.OutFile, imgio.Scale(g, o.Scale))
		}
	case "gif":
		frames := make([]image.Image, cols)
		delays := make([]int, cols)
		nrow := int(math.Ceil(math.Sqrt(float64(o.N))))
		for k, st := range steps {
			g, err := imgio.Grid(st.Images, o.N, m.C, m.H, m.W, nrow)
			if err != nil {
				return err
			}
			frames[k], delays[k] = imgio.Scale(g, o.Scale), o.Delay
		}
		delays[cols-1] = 4 * o.Delay
		err = imgio.WriteGIF(o.OutFile, frames, delays)
	}
	return err
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// sameClassRate is the fraction of the n rows whose most probable class is
// the same under both log-probability tables (n, K).
func sameClassRate(a, b []float64, n int) float64 {
	k := len(a) / n
	same := 0
	for r := 0; r < n; r++ {
		if control.Argmax(a[r*k:(r+1)*k]) == control.Argmax(b[r*k:(r+1)*k]) {
			same++
		}
	}
	return float64(same) / float64(n)
}
