package main

import (
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gantrain/gantrain/internal/checkpoint"
	"github.com/gantrain/gantrain/internal/fsutil"
	"github.com/gantrain/gantrain/internal/gen"
	"github.com/gantrain/gantrain/internal/imgio"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/rng"
	"github.com/spf13/cobra"
)

type sampleOptions struct {
	*streams
	Run, Checkpoint string
	N               int
	Seed            uint64
	OutFile         string
	Nrow            int
	Class           string
}

func newSampleCmd(s *streams) *cobra.Command {
	o := &sampleOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "sample (--run RUN | --checkpoint DIR) --out FILE.png",
		Short: "Generate images from a trained model",
		Long: `Generate a grid of images from a run's newest checkpoint (--run) or from a
checkpoint directory (--checkpoint). The latent vectors come from --seed:
the same seed gives the same vectors on any machine.

For a conditional model (cgan), --class 7 draws --n images of digit 7, and
--class 0,3,7 draws --n images of each, one row per class, the same latent
vectors in every row. Without --class the labels cycle through 0..9. The
labels, in grid order, are written beside the PNG as <out>.labels.txt.`,
		Example: `  gantrain sample --run runs/smoke --n 64 --out g.png
  gantrain sample --run runs/cgan --class 3 --n 16 --out threes.png`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSample(o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Run, "run", "", "run directory (its newest checkpoint is used)")
	f.StringVar(&o.Checkpoint, "checkpoint", "", "checkpoint directory (checkpoints/step-NNNNNN)")
	f.IntVarP(&o.N, "n", "n", 64, "number of images")
	f.Uint64Var(&o.Seed, "seed", 1, "seed of the latent vectors")
	f.StringVarP(&o.OutFile, "out", "o", "samples.png", "output PNG file")
	f.IntVar(&o.Nrow, "nrow", 0, "images per grid row (default: a square grid, or --n with --class)")
	f.StringVar(&o.Class, "class", "", "conditional models: class or comma-separated classes to draw")
	return cmd
}

// openCheckpoint resolves --run / --checkpoint and loads the model.
func openCheckpoint(run, dir string) (*checkpoint.Checkpoint, *models.GAN, error) {
	switch {
	case run != "" && dir != "":
		return nil, nil, usagef("give --run or --checkpoint, not both")
	case run == "" && dir == "":
		return nil, nil, usagef("say which model to use with --run RUN or --checkpoint DIR")
	case run != "":
		var err error
		if dir, err = checkpoint.Latest(run); err != nil {
			return nil, nil, err
		}
	}
	c, err := checkpoint.Read(dir)
	if err != nil {
		return nil, nil, err
	}
	cfg := c.State.Config
	m, err := models.New(c.State.Model, cfg.LatentDim, rng.New(0, 0))
	if err != nil {
		return nil, nil, fmt.Errorf("checkpoint %s: %w", dir, err)
	}
	if err := c.LoadModel(m); err != nil {
		return nil, nil, err
	}
	return c, m, nil
}

func runSample(o *sampleOptions) error {
	if o.N < 1 || o.N > 1_000_000 {
		return usagef("--n must be between 1 and 1000000, got %d", o.N)
	}
	if o.Nrow < 0 {
		return usagef("--nrow must be ≥ 0, got %d", o.Nrow)
	}
	_, m, err := openCheckpoint(o.Run, o.Checkpoint)
	if err != nil {
		return err
	}
	classes, err := parseClasses(o.Class, m)
	if err != nil {
		return err
	}
	z := gen.Noise(o.Seed, o.N, m.Latent)
	var labels []int
	nrow := o.Nrow
	switch {
	case classes != nil:
		// The same n latent vectors for every class, one row per class.
		zs := make([]float32, 0, len(classes)*len(z))
		for _, c := range classes {
			zs = append(zs, z...)
			for i := 0; i < o.N; i++ {
				labels = append(labels, c)
			}
		}
		z = zs
		if nrow == 0 {
			nrow = o.N
		}
	case m.Conditional:
		for i := 0; i < o.N; i++ {
			labels = append(labels, i%m.Classes)
		}
		if nrow == 0 {
			nrow = m.Classes
		}
	}
	n := len(z) / m.Latent
	if nrow == 0 {
		nrow = int(math.Ceil(math.Sqrt(float64(n))))
	}
	s, err := gen.NewSampler(m, min(n, 256))
	if err != nil {
		return err
	}
	defer s.Close()
	imgs, err := s.Generate(z, labels)
	if err != nil {
		return err
	}
	if err := imgio.WriteGrid(o.OutFile, imgs, n, m.H, m.W, nrow); err != nil {
		return err
	}
	if labels != nil {
		var b strings.Builder
		for _, l := range labels {
			fmt.Fprintln(&b, l)
		}
		path := strings.TrimSuffix(o.OutFile, filepath.Ext(o.OutFile)) + ".labels.txt"
		if err := fsutil.WriteBytes(path, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	fmt.Fprintln(o.Out, o.OutFile)
	return nil
}

// parseClasses reads --class: nil when absent.
func parseClasses(s string, m *models.GAN) ([]int, error) {
	if s == "" {
		return nil, nil
	}
	if !m.Conditional {
		return nil, usagef("--class: model %s is not conditional (train a cgan for that)", m.Name)
	}
	var out []int
	for _, f := range strings.Split(s, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 0 || c >= m.Classes {
			return nil, usagef("--class %s: %q is not a class in 0..%d", s, f, m.Classes-1)
		}
		out = append(out, c)
	}
	return out, nil
}
