package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/models"
	"github.com/gantrain/gantrain/internal/oneline"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// usageError marks errors in flags, arguments or configuration: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// interruptedError reports a run stopped by a signal, after its checkpoint.
type interruptedError struct{ sig os.Signal }

func (e interruptedError) Error() string { return "interrupted by " + e.sig.String() }

// streams are where a command writes: data to Out, messages to ErrOut.
type streams struct {
	Out, ErrOut io.Writer
	// IsTerminal reports whether ErrOut is a terminal (progress bars).
	IsTerminal bool
}

func init() {
	// The config validates model names against the registry.
	config.Models = models.Names()
}

func newRootCmd(s *streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "gantrain",
		Short: "Train generative adversarial networks on the CPU",
		Long: `gantrain trains GANs (DCGAN and more) on MNIST-like data on the CPU and
writes sample grids, metrics and PyTorch-compatible checkpoints.

  gantrain train --config configs/dcgan.yaml       train the default model
  gantrain sample --run runs/<dir> --out g.png     draw samples from a run`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newTrainCmd(s), newDataCmd(s), newSampleCmd(s), newBenchCmd(s), newClassifierCmd(s), newInterpolateCmd(s), newEvalCmd(s), newAblateCmd(s), newClassifyCmd(s), newPlotCmd(s), newControlCmd(s), newDirectionsCmd(s), newExportCmd(s), newImportCmd(s), newVersionCmd(s))
	return root
}

// run executes the command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if os.Getenv("GOGC") == "" {
		// Nearly all memory is large buffers allocated once, without
		// pointers, so collecting often is cheap; the default (100) would let
		// the few MB of garbage per step grow the process to twice its size.
		debug.SetGCPercent(20)
	}
	s := &streams{Out: stdout, ErrOut: stderr, IsTerminal: isTerminal(stderr)}
	ctx, stop := signalContext(stderr)
	defer stop()
	root := newRootCmd(s)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return exitCode(err, stderr)
}

func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return 0
	}
	var ie interruptedError
	if errors.As(err, &ie) {
		if ie.sig == syscall.SIGTERM {
			return 143
		}
		return 130
	}
	fmt.Fprintf(stderr, "gantrain: %s\n", oneline.String(strings.TrimSpace(err.Error())))
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return 2
	}
	return 1
}

// isCobraUsage recognises cobra's own argument errors.
func isCobraUsage(err error) bool {
	m := err.Error()
	return strings.HasPrefix(m, "unknown command") || strings.HasPrefix(m, "unknown flag") ||
		strings.HasPrefix(m, "unknown shorthand flag") || strings.Contains(m, "accepts ") ||
		strings.HasPrefix(m, "required flag")
}

// signalContext cancels its context at the first SIGINT or SIGTERM, so
// training can finish its step and checkpoint; a second signal runs the
// onHardExit functions and exits at once.
func signalContext(stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			cancel(interruptedError{sig})
			fmt.Fprintf(stderr, "\ngantrain: %s: finishing the step and writing a checkpoint (again to exit at once)\n", sigName(sig))
		case <-done:
			return
		}
		select {
		case sig := <-ch:
			fmt.Fprintln(stderr, "\ngantrain: second signal, exiting without a checkpoint")
			runHardExit()
			if sig == syscall.SIGTERM {
				os.Exit(143)
			}
			os.Exit(130)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

func sigName(sig os.Signal) string {
	if sig == os.Interrupt {
		return "interrupt"
	}
	return sig.String()
}

// hardExit holds what must be done even when a second signal exits at once.
var hardExit struct {
	sync.Mutex
	funcs []func()
}

// runHardExit runs the registered functions and keeps others from being
// registered or removed while the process exits.
func runHardExit() {
	hardExit.Lock()
	for _, f := range hardExit.funcs {
		if f != nil {
			f()
		}
	}
}

// onHardExit registers f to run if a second signal exits at once; the
// returned func unregisters it.
func onHardExit(f func()) (remove func()) {
	hardExit.Lock()
	defer hardExit.Unlock()
	i := len(hardExit.funcs)
	hardExit.funcs = append(hardExit.funcs, f)
	return func() {
		hardExit.Lock()
		defer hardExit.Unlock()
		hardExit.funcs[i] = nil
	}
}

// isTerminal reports whether w is a terminal (not merely a character
// device: /dev/null is one too).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
