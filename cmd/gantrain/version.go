package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/gantrain/gantrain/internal/blas"
	"github.com/gantrain/gantrain/internal/blas/gemm"
	"github.com/spf13/cobra"
)

// Version is set at link time (-ldflags "-X main.Version=…"); otherwise the
// module version or VCS revision from the build information is used.
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return "devel-" + s.Value[:12]
		}
	}
	return "devel"
}

func newVersionCmd(s *streams) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, the Go toolchain and the BLAS in use",
		Long: "Print the version, the Go toolchain, the BLAS in use and gantrain's GEMM kernels\n" +
			"for this CPU (" + gemm.EnvKernel + "=NAME forces one of them, for comparisons).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			bf16 := "available (train.precision: bf16)"
			if err := blas.CheckBF16(); err != nil {
				bf16 = "not available: " + err.Error()
			}
			fmt.Fprintf(s.Out, "gantrain %s\n%s %s/%s, %d CPUs\nBLAS: %s\nGEMM kernels: %s\nbf16 products: %s\n",
				version(), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), blas.Name(), blas.GEMMKernels(), bf16)
			return nil
		},
	}
}
