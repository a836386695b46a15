package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gantrain/gantrain/internal/export"
	"github.com/spf13/cobra"
)

func newExportCmd(s *streams) *cobra.Command {
	var run, to string
	cmd := &cobra.Command{
		Use:   "export --run RUN --to pytorch DIR",
		Short: "Write a PyTorch project that continues a run (torchrun, many GPUs or nodes)",
		Long: `Write DIR, a self-contained PyTorch project for the run's newest checkpoint:
models.py (the run's networks with gantrain's tensor names and layouts),
train.py (the run's losses, optimisers and hyper-parameters, its data through
torchvision, DistributedDataParallel under torchrun: nccl on GPUs, gloo on
CPUs; it resumes from the weights, the optimiser state and the step, and
writes checkpoints in gantrain's layout), sample.py (G(z) in PyTorch, to
compare with gantrain's), stio.py (safetensors without the safetensors
package), weights.safetensors, optim.safetensors, g_ema.safetensors (with
train.ema), gantrain.json, config.yaml, metrics.jsonl and a README.md with
the commands for one machine and for several nodes.

Models: dcgan, wgan, cgan and gan, at every size gantrain trains, with
d_norm: none (D without batch norm), train.r1 (R1 on real images, its
input gradient by PyTorch's autograd) and train.ema (the moving average of
G, carried on by train.py and sampled by sample.py): the default
configs/dcgan.yaml's runs export. Refused, with one line: wgan-gp, sgan,
loss hinge or lsgan, spectral_norm, minibatch_std and train.augment
(train.py does not have them). DIR must not exist or be empty; it appears
complete or not at all. The path prints on stdout. Bring the result back
with gantrain import.`,
		Example: `  gantrain export --run runs/dcgan --to pytorch /tmp/dcgan-torch
  cd /tmp/dcgan-torch && torchrun --standalone --nproc_per_node 8 train.py --steps 10000 --out out
  gantrain import /tmp/dcgan-torch/out --to runs/dcgan-gpu`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if run == "" {
				return usagef("say which run with --run RUN")
			}
			if to != "pytorch" {
				return usagef("--to %q: the one target is pytorch", to)
			}
			if len(args) != 1 {
				return usagef("say where the PyTorch project goes: gantrain export --run %s --to pytorch DIR", run)
			}
			m, err := export.Export(run, args[0])
			if err != nil {
				return exportErr(err)
			}
			fmt.Fprintf(s.ErrOut, "gantrain: exported %s at step %d to %s; see %s\n", m.Model, m.Step, args[0], filepath.Join(args[0], "README.md"))
			fmt.Fprintln(s.Out, args[0])
			return nil
		},
	}
	cmd.Flags().StringVar(&run, "run", "", "run directory (its newest checkpoint is exported)")
	cmd.Flags().StringVar(&to, "to", "", "target framework: pytorch")
	return cmd
}

func newImportCmd(s *streams) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "import SRC [--to RUN]",
		Short: "Make a gantrain run of a checkpoint trained in PyTorch",
		Long: `Make the run directory RUN from SRC, so that sample, interpolate, control
and eval work on it: SRC is the --out directory of an exported train.py (or
an export), or a .safetensors file with gantrain's tensor names ("g.…",
"d.…"), whose model and shape are read off the tensors.

Everything is checked first: every tensor present with its shape and
dtype, no other tensor, finite values, the optimiser state complete when
there is one, and the moving average of G (g_ema.safetensors) when the
run has train.ema. RUN (default runs/import-<time>) must not exist or be
empty; it gets config.yaml, metrics.jsonl (the curve up to the checkpoint,
across the hand-over) and checkpoints/step-N/. Its path prints on stdout.
gantrain train --resume RUN continues it (a new data order; weights and
optimiser state as imported).`,
		Example: `  gantrain import /tmp/dcgan-torch/out --to runs/dcgan-gpu
  gantrain import netG-netD.safetensors --to runs/from-torch
  gantrain sample --run runs/dcgan-gpu --out g.png`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dest := to
			if dest == "" {
				dest = filepath.Join("runs", "import-"+time.Now().Format("20060102-150405"))
			}
			if err := checkOutDir("--to", dest); err != nil {
				return err
			}
			r, err := export.Import(args[0], dest, version())
			if err != nil {
				return exportErr(err)
			}
			opt := "with its optimiser state"
			if !r.Optim {
				opt = "without optimiser state"
			}
			if r.EMA {
				opt += " and the moving average of G"
			}
			fmt.Fprintf(s.ErrOut, "gantrain: imported %s at step %d %s into %s (%d metrics lines)\n", r.Model, r.Step, opt, dest, r.Metrics)
			fmt.Fprintln(s.Out, dest)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "run directory to create (default runs/import-<time>)")
	return cmd
}

// exportErr makes the export package's bad-input errors usage errors (exit 2).
func exportErr(err error) error {
	var b export.BadInput
	if errors.As(err, &b) {
		return usageError{b.Err}
	}
	return err
}
