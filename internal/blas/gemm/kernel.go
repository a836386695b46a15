package gemm

import (
	"fmt"
	"os"
	"strings"
)

// microKernel is one register-tile kernel: it computes the mr×nr block
//
//	C = alpha·Ã·B̃ + beta·C
//
// where Ã is a packed mr×kc panel (a[p·mr + i]) and B̃ a kc×nr panel
// (b[p·ldb + j]: packed, ldb = nr, or, for a kernel with direct set, read in
// place from a row-major op(B)), C row-major with leading dimension ldc,
// kc ≥ 1; beta = ±0 writes C without reading it. Every kernel sums the products of one
// element in order of p from zero, and the kc blocks (a function of k alone,
// the same for all kernels) in order too: the assembly kernels, which all
// fuse multiply and add, give bitwise equal results.
type microKernel struct {
	name string // the GEMM_KERNEL value: "avx512", "avx2", "generic"
	desc string // for people: "AVX-512"
	// mr×nr is the register tile; mcMax (a multiple of mr) and ncMax (a
	// multiple of nr) bound the packed blocks of A and B.
	mr, nr, mcMax, ncMax int
	runs                 bool         // the CPU (and OS) can run it
	why                  string       // why not, when !runs
	direct               bool         // fn takes any ldb ≥ nr, not only nr
	bf16                 bool         // fn runs over bf16 pair panels (bf16.go)
	f32                  *microKernel // with bf16: the float32 kernel for the products bf16 does not pay on
	dot                  []*dotKernel // tiles of the k-split dot-product path (dot.go), widest first; none: no such path
	fn                   func(kc int, a, b, c []float32, ldc, ldb int, alpha, beta float32)
	// row64, if set, computes row 0 of fn's tile over 64 columns, bit for
	// bit: row p of B̃ is 32 floats at b[p·ldb] and 32 at b[p·ldb + half]
	// (read in place: half = 32; two packed panels: half = 32·kc). For a
	// one-row A (a matrix-vector product), without fn's padding rows.
	row64 func(kc int, a, b, c []float32, ldb, half int, alpha, beta float32)
	// outer64, if set, computes an outer product (k = 1), C[i][j] for i < m
	// and j < n (a multiple of 64) from a_i = a[i·astep] and a row b, each
	// element bit for bit as fn computes it.
	outer64 func(m int, a []float32, astep int, b, c []float32, ldc, n int, alpha, beta float32)
}

// kernels lists the micro-kernels of this build, fastest first.
var kernels = append(asmKernels(), genericKernel)

// EnvKernel is the environment variable that forces a micro-kernel by name
// (for tests and comparisons): avx512, avx2 or generic. It is not called
// GANTRAIN_…: those are configuration keys, and the configuration loader
// refuses unknown ones.
const EnvKernel = "GEMM_KERNEL"

// active is the kernel Implementation{} uses: EnvKernel's choice, else the
// first one the CPU runs. forced records that EnvKernel chose it.
var active, forced = selectKernel(os.Getenv(EnvKernel))

func selectKernel(env string) (*microKernel, bool) {
	if env == "" {
		for _, k := range kernels {
			if k.runs {
				return k, false
			}
		}
	}
	k, err := lookup(env)
	if err != nil {
		// The variable is read at start-up, before any command can report
		// an error; a silent fallback would make a comparison lie.
		fmt.Fprintf(os.Stderr, "gantrain: %s=%s: %v\n", EnvKernel, env, err)
		os.Exit(2)
	}
	return k, true
}

func lookup(name string) (*microKernel, error) {
	var names []string
	for _, k := range kernels {
		if k.name == name {
			if !k.runs {
				return nil, fmt.Errorf("the %s kernel cannot run here: %s", k.desc, k.why)
			}
			return k, nil
		}
		names = append(names, k.name)
	}
	return nil, fmt.Errorf("no such GEMM kernel (this build has %s)", strings.Join(names, ", "))
}

// Available reports whether gantrain should use this GEMM rather than
// gonum's: an assembly kernel runs on this CPU, or EnvKernel chose one.
var Available = active != genericKernel || forced

// Description names the kernel in use, e.g. "gantrain GEMM, AVX-512 (Go +
// assembly)".
var Description = describe(active)

func describe(k *microKernel) string {
	if k == genericKernel {
		return "gantrain GEMM, generic Go kernel"
	}
	return "gantrain GEMM, " + k.desc + " (Go + assembly)"
}

// KernelInfo describes one micro-kernel of this build.
type KernelInfo struct {
	Name        string // the EnvKernel value that selects it
	Description string
	Tile        string // the register tile, "8×32"
	Runs        bool   // this CPU can run it
	Why         string // why not, when !Runs
	Active      bool   // Implementation{} uses it
}

// Kernels lists the micro-kernels of this build, fastest first.
func Kernels() []KernelInfo {
	out := make([]KernelInfo, len(kernels))
	for i, k := range kernels {
		out[i] = KernelInfo{k.name, k.desc, fmt.Sprintf("%d×%d", k.mr, k.nr), k.runs, k.why, k == active}
	}
	return out
}

// WithKernel returns an Implementation that uses the named micro-kernel,
// or an error if there is none of that name or the CPU cannot run it.
func WithKernel(name string) (Implementation, error) {
	k, err := lookup(name)
	if err != nil {
		return Implementation{}, err
	}
	return Implementation{k: k}, nil
}

// run is the bounds-checked entry to k's micro-kernel, on a packed B̃.
func (k *microKernel) run(kc int, a, b, c []float32, ldc int, alpha, beta float32) {
	_ = a[k.mr*kc-1]
	_ = b[k.nr*kc-1]
	_ = c[(k.mr-1)*ldc+k.nr-1]
	k.fn(kc, a, b, c, ldc, k.nr, alpha, beta)
}

// runDirect is run on B̃ rows ldb apart; k.direct must be set.
func (k *microKernel) runDirect(kc int, a, b, c []float32, ldc, ldb int, alpha, beta float32) {
	_ = a[k.mr*kc-1]
	_ = b[(kc-1)*ldb+k.nr-1]
	_ = c[(k.mr-1)*ldc+k.nr-1]
	k.fn(kc, a, b, c, ldc, ldb, alpha, beta)
}

// For returns the kernel that computes an m×n×k product on the blocked
// path: k itself, or for a bf16 kernel its float32 twin where bf16 does
// not pay. bf16 halves the multiply-adds and costs a conversion of both
// operands as they are packed, so a product that reads each operand
// element only a few times (a matrix-vector product, an outer product, a
// short k) stays float32. So do the products of the dot-product path
// (Segments).
func (k *microKernel) For(m, n, depth int) *microKernel {
	if k.bf16 && (m < bf16MinMN || n < bf16MinMN || depth < bf16MinK) {
		return k.f32
	}
	return k
}

// float32 is k, or a bf16 kernel's float32 twin.
func (k *microKernel) float32() *microKernel {
	if k.bf16 {
		return k.f32
	}
	return k
}

// The least m, n and k that a bf16 kernel computes (For).
const (
	bf16MinMN = 48
	bf16MinK  = 32
)
