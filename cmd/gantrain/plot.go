package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/gantrain/gantrain/internal/plots"
	"github.com/spf13/cobra"
)

func newPlotCmd(s *streams) *cobra.Command {
	var run string
	cmd := &cobra.Command{
		Use:   "plot --run RUN",
		Short: "Draw a run's loss and metric curves and its progress animation",
		Long: `Write <run>/plots/losses.png (loss_d, loss_g, and D(x), D(G(z)) or the
WGAN Earth-Mover estimate), <run>/plots/metrics.png (FCD, modes and more
from the evaluations during training) and <run>/samples/progress.gif (the
fixed-noise grids over training). Training does this when it ends.`,
		Example: `  gantrain plot --run runs/dcgan-20261126-221500`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRunToPlot(run); err != nil {
				return err
			}
			files, err := plots.All(run)
			if err != nil {
				return err
			}
			for _, f := range files {
				fmt.Fprintln(s.Out, f)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "run directory")
	return cmd
}

// checkRunToPlot checks that run is a run directory with something to draw
// and room for plots/.
func checkRunToPlot(run string) error {
	if run == "" {
		return usagef("say which run with --run RUN")
	}
	fi, err := os.Stat(run)
	if err != nil {
		return usagef("--run %s: %v", run, unwrapPathErr(err))
	}
	if !fi.IsDir() {
		return usagef("--run %s: not a directory", run)
	}
	_, errM := os.Stat(filepath.Join(run, "metrics.jsonl"))
	_, errS := os.Stat(filepath.Join(run, "samples"))
	if errM != nil && errS != nil {
		return usagef("--run %s: not a run directory (no metrics.jsonl or samples/)", run)
	}
	return checkOutDir("--run", filepath.Join(run, "plots"))
}
