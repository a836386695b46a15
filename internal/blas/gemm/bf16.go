package gemm

import (
	"errors"
	"fmt"
	"math"
)

// bf16 (bfloat16) is the upper half of a float32: the same 8-bit exponent,
// 7 bits of mantissa. The bf16 kernel (train.precision: bf16) multiplies
// operands rounded to bf16 and adds the products into float32
// accumulators (VDPBF16PS); C, alpha and beta stay float32.
//
// Its packed panels hold pairs: one float32 slot of a panel carries two
// bf16 values of consecutive steps p = 2s and 2s+1, the even one in the
// low half. A panel of kc steps becomes ceil(kc/2) slots deep, and the
// kernel's loop over slots has the shape of the float32 kernel's loop over
// steps, so blocked and macroKernel drive both the same way.

// ToBF16 rounds x to bf16 as VCVTNE2PS2BF16 does: to nearest, ties to
// even; a NaN stays a (quiet) NaN; a subnormal x (and a result below the
// smallest normal) becomes a zero of x's sign.
func ToBF16(x float32) uint16 {
	u := math.Float32bits(x)
	switch {
	case u&0x7fffffff > 0x7f800000: // NaN
		return uint16(u>>16) | 0x40
	case u&0x7f800000 == 0: // zero or subnormal
		return uint16(u>>16) & 0x8000
	}
	u += 0x7fff + (u>>16)&1
	return uint16(u >> 16)
}

// FromBF16 is the float32 whose upper half is h.
func FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// pairSlot packs the bf16 roundings of the steps e (even) and o (odd).
func pairSlot(e, o float32) float32 {
	return math.Float32frombits(uint32(ToBF16(e)) | uint32(ToBF16(o))<<16)
}

// pairPanels converts panels float32 panels of w lanes and kc steps
// (panel q at src[q·w·kc], step p at p·w) into bf16 pair panels of
// ceil(kc/2) slots (panel q at dst[q·w·kc2]); an odd kc's last slot pairs
// its step with zero.
func pairPanels(dst, src []float32, w, kc, panels int) {
	kc2 := (kc + 1) / 2
	for q := range panels {
		s := src[q*w*kc : (q+1)*w*kc]
		d := dst[q*w*kc2 : (q+1)*w*kc2]
		done := pairSteps(d, s, w, kc/2)
		for p2 := done; p2 < kc/2; p2++ {
			e, o := s[2*p2*w:(2*p2+1)*w], s[(2*p2+1)*w:(2*p2+2)*w]
			for l := range w {
				d[p2*w+l] = pairSlot(e[l], o[l])
			}
		}
		if kc%2 == 1 {
			e := s[(kc-1)*w : kc*w]
			for l := range w {
				d[(kc2-1)*w+l] = pairSlot(e[l], 0)
			}
		}
	}
}

// BF16 returns an Implementation that computes the products that pay
// with the bf16 kernel (the others in float32, microKernel.For), or an
// error naming why this CPU (or build) cannot.
func BF16() (Implementation, error) {
	switch {
	case bf16Kernel == nil:
		return Implementation{}, errNoBF16Build
	case !bf16Kernel.runs:
		return Implementation{}, errors.New(bf16Kernel.why)
	case forced && active.name != "avx512":
		// Forcing another kernel stands in for a CPU without AVX-512.
		return Implementation{}, fmt.Errorf("%s=%s forces the %s kernel, and bf16 needs the AVX-512 one", EnvKernel, active.name, active.desc)
	}
	return Implementation{k: bf16Kernel}, nil
}

var errNoBF16Build = errors.New("this build has no bf16 kernel (it needs amd64 assembly: not -tags purego)")

// packBPairs is packB for a bf16 kernel and a row-major op(B) = B: each
// pair of rows of b becomes one step of slots of every panel, converted as
// it is copied (panel q of ceil(nc/nr) at dst[q·nr·kc2], zero-padded; an
// odd kc's last row is paired with zeros).
func packBPairs(nr int, b []float32, ldb, pc, kc, jc, nc int, dst []float32) {
	kc2 := (kc + 1) / 2
	full := nc - nc%nr
	var zeros []float32
	if kc%2 == 1 {
		zeros = make([]float32, nc)
	}
	for p2 := range kc2 {
		e := b[(pc+2*p2)*ldb+jc : (pc+2*p2)*ldb+jc+nc]
		o := zeros
		if 2*p2+1 < kc {
			o = b[(pc+2*p2+1)*ldb+jc : (pc+2*p2+1)*ldb+jc+nc]
		}
		done := 0
		if nr == 32 {
			done = pairRows(dst[p2*nr:], kc2*nr, e, o, full/nr)
		}
		for q := done; q < full/nr; q++ {
			d := dst[q*nr*kc2+p2*nr : q*nr*kc2+p2*nr+nr]
			for j := range d {
				d[j] = pairSlot(e[q*nr+j], o[q*nr+j])
			}
		}
		if full < nc {
			d := dst[full*kc2+p2*nr : full*kc2+p2*nr+nr]
			for j := range d {
				if full+j < nc {
					d[j] = pairSlot(e[full+j], o[full+j])
				} else {
					d[j] = 0
				}
			}
		}
	}
}
