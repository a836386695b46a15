//go:build openblas && cgo

package blas

// #cgo LDFLAGS: -lopenblas
// #include <stdlib.h>
// void openblas_set_num_threads(int num_threads);
// char* openblas_get_config(void);
import "C"

import (
	"strings"

	"gonum.org/v1/netlib/blas/netlib"
	G "gorgonia.org/gorgonia"
)

func init() {
	impl = netlib.Implementation{}
	openblasEngine = impl
	cfg := strings.TrimSpace(C.GoString(C.openblas_get_config()))
	name = "OpenBLAS (cgo): " + cfg
	// One thread: Sgemm parallelises over blocks itself, and OpenBLAS's own
	// pool would spin (sched_yield) between calls, stealing the cores from
	// the elementwise work.
	C.openblas_set_num_threads(1)
	G.Use(netlib.Implementation{})
}
