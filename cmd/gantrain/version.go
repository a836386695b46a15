package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/gantrain/gantrain/internal/blas"
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
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(s.Out, "gantrain %s\n%s %s/%s, %d CPUs\nBLAS: %s\n",
				version(), runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), blas.Name())
			return nil
		},
	}
}
