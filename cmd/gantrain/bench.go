package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/gantrain/gantrain/internal/data"
	"github.com/gantrain/gantrain/internal/train"
	"github.com/spf13/cobra"
)

type benchOptions struct {
	*streams
	ConfigPath string
	Sets       []string
	Iters      int
	Warmup     int
	Real       bool
	CPUProfile string
}

func newBenchCmd(s *streams) *cobra.Command {
	o := &benchOptions{streams: s}
	cmd := &cobra.Command{
		Use:   "bench [--config FILE] [--set key=value]... [--iters N]",
		Short: "Measure training speed",
		Long: `Run training iterations of a configuration after a warm-up and print one
JSON object on stdout: model, BLAS, threads, batch, real images/s, ms per
iteration with its D/G split, matrix-multiplication GFLOP/s and peak RSS.
Batches are synthetic unless --real (then the configured data set).
Set the thread count with --set train.threads=N. The "gemm" list gives the
time of the matrix products by shape (op(A)·op(B), M×N×K); --cpuprofile
writes a profile of the timed iterations for go tool pprof.`,
		Example: `  gantrain bench --config configs/dcgan.yaml --iters 50
  gantrain bench --config configs/wgan.yaml --set train.threads=1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBench(o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.ConfigPath, "config", "c", "", "YAML configuration file (default: built-in DCGAN defaults)")
	f.StringArrayVar(&o.Sets, "set", nil, "override a configuration key (repeatable)")
	f.IntVar(&o.Iters, "iters", 50, "timed iterations")
	f.IntVar(&o.Warmup, "warmup", 5, "untimed iterations first")
	f.BoolVar(&o.Real, "real", false, "use real batches from the configured data set")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the timed iterations to `FILE` (go tool pprof)")
	return cmd
}

func runBench(o *benchOptions) error {
	if o.Iters < 1 || o.Warmup < 0 {
		return usagef("--iters must be ≥ 1 and --warmup ≥ 0")
	}
	if o.CPUProfile != "" {
		if err := o.checkOut("--cpuprofile", o.CPUProfile); err != nil {
			return err
		}
	}
	cfg, err := loadConfig(configSources{File: o.ConfigPath, Sets: o.Sets})
	if err != nil {
		return err
	}
	var ds *data.Dataset
	if o.Real {
		if ds, err = loadData(&cfg, o.streams); err != nil {
			return err
		}
		if err := checkTrainable(cfg, ds); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.ErrOut, "gantrain: benchmarking %s: %d warm-up and %d timed iterations\n", cfg.Model, o.Warmup, o.Iters)
	var prof bytes.Buffer
	var profW io.Writer // nil: no profile
	if o.CPUProfile != "" {
		profW = &prof
	}
	res, err := train.Bench(cfg, ds, o.Iters, o.Warmup, profW)
	if err != nil {
		return err
	}
	if profW != nil {
		if err := o.writeOut(o.CPUProfile, func(w io.Writer) error { _, err := prof.WriteTo(w); return err }); err != nil {
			return err
		}
	}
	fmt.Fprintln(o.ErrOut, "gantrain: "+res.String())
	return json.NewEncoder(o.Out).Encode(res)
}
