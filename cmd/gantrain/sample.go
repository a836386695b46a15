package main

import (
	"fmt"
	"math"

	"github.com/gantrain/gantrain/internal/checkpoint"
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
}

func newSampleCmd(s *streams) *cobra.Command {
	o := &sampleOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "sample (--run RUN | --checkpoint DIR) --out FILE.png",
		Short: "Generate images from a trained model",
		Long: `Generate a grid of images from a run's newest checkpoint (--run) or from a
checkpoint directory (--checkpoint). The latent vectors come from --seed:
the same seed gives the same vectors on any machine.`,
		Example: `  gantrain sample --run runs/smoke --n 64 --out g.png`,
		Args:    cobra.NoArgs,
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
	f.IntVar(&o.Nrow, "nrow", 0, "images per grid row (default: a square grid)")
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
	s, err := gen.NewSampler(m, min(o.N, 256))
	if err != nil {
		return err
	}
	defer s.Close()
	imgs, err := s.Generate(gen.Noise(o.Seed, o.N, m.Latent), nil)
	if err != nil {
		return err
	}
	nrow := o.Nrow
	if nrow == 0 {
		nrow = int(math.Ceil(math.Sqrt(float64(o.N))))
	}
	if err := imgio.WriteGrid(o.OutFile, imgs, o.N, m.H, m.W, nrow); err != nil {
		return err
	}
	fmt.Fprintln(o.Out, o.OutFile)
	return nil
}
