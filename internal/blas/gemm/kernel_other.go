//go:build !amd64 || purego

package gemm

func asmKernels() []*microKernel { return nil }

// transposeRows8 sets d[p·stride + i] = s[i·lds + p] for i < 8, p < kc.
func transposeRows8(d []float32, stride int, s []float32, lds, kc int) {
	_ = d[(kc-1)*stride+7]
	_ = s[7*lds+kc-1]
	for i := range 8 {
		for p, v := range s[i*lds : i*lds+kc] {
			d[p*stride+i] = v
		}
	}
}

// haveTranspose8x8 is false: no assembly here.
const haveTranspose8x8 = false

func copyPanels(dst *float32, dstStep int, src *float32, panels, nr int) { panic("unreachable") }

// bf16Kernel: none without assembly.
var bf16Kernel *microKernel

func pairSteps(d, s []float32, w, pairs int) int { return 0 }

func pairRows(d []float32, step int, e, o []float32, panels int) int { return 0 }
