// Package control changes chosen features of generated images by moving
// the generator's input z (controllable generation): gradient ascent on a
// feature's score through the frozen generator, and linear directions in z
// fitted to a feature (InterFaceGAN, Shen et al. 2020) or found from the
// generator's first layer alone (SeFa, Shen & Zhou 2021).
//
// # Features
//
// Every feature is a differentiable function of one image x (C, H, W) in
// [−1, 1]. With p = (x + 1)/2 the intensity in [0, 1] and q the mean of p
// over the channels (the "ink" map; for gray images q = p), M = Σq, pixel
// coordinates (i, j) measured from the image centre, i downwards and j to
// the right:
//
//	ink        mean of q
//	x, y       centroid of the ink: Σ q·j / M and Σ q·i / M (pixels; y grows downwards)
//	size       √(μ20 + μ02): the RMS distance of the ink from its centroid (pixels)
//	slant      −μ11 / μ02: horizontal shift of the ink per row upwards (> 0 leans right, /)
//	thickness  2M / TV(q): ink area over half its perimeter, the stroke width in
//	           pixels for a stroke much longer than wide; TV is the total
//	           variation Σ √(Δi² + Δj² + ε) of forward differences
//	brightness mean luma 0.299 R + 0.587 G + 0.114 B of p (colour images only)
//	red, green, blue  mean of that channel of p (colour images only)
//	class:NAME log p(NAME | x) from the evaluation classifier
//
// μ20, μ02 and μ11 are the central second moments Σ q·(j−x)² / M,
// Σ q·(i−y)² / M and Σ q·(j−x)(i−y) / M.
package control

import (
	"fmt"
	"math"
	"strings"
)

// Attr is an attribute: a feature that needs no labels.
type Attr int

const (
	Ink Attr = iota
	Thickness
	Slant
	Size
	X
	Y
	Brightness
	Red
	Green
	Blue
	numAttrs
)

var attrNames = [...]string{"ink", "thickness", "slant", "size", "x", "y", "brightness", "red", "green", "blue"}

func (a Attr) String() string { return attrNames[a] }

// colour reports whether a needs a colour (C = 3) image.
func (a Attr) colour() bool { return a >= Brightness }

// Attrs lists the attributes defined for images of c channels, in order.
func Attrs(c int) []Attr {
	var out []Attr
	for a := Attr(0); a < numAttrs; a++ {
		if !a.colour() || c == 3 {
			out = append(out, a)
		}
	}
	return out
}

// Feature is what to control: an attribute, or a class of the classifier.
type Feature struct {
	Attr  Attr
	Class int // ≥ 0 for a class feature (Attr is then unused)
	Name  string
}

// IsClass reports whether f is a classifier class.
func (f Feature) IsClass() bool { return f.Class >= 0 }

func (f Feature) String() string { return f.Name }

// ParseFeature reads a feature name for images of c channels; classes are
// the classifier's class names (nil: no classifier for these images).
func ParseFeature(name string, c int, classes []string) (Feature, error) {
	known := func() string {
		var ns []string
		for a := Attr(0); a < numAttrs; a++ {
			ns = append(ns, a.String())
		}
		return strings.Join(ns, ", ") + ", class:NAME"
	}
	if rest, ok := strings.CutPrefix(name, "class:"); ok {
		if classes == nil {
			return Feature{}, fmt.Errorf("feature %s: no classifier for these %d×… images (the evaluation classifier knows MNIST digits)", name, c)
		}
		for i, n := range classes {
			if n == rest {
				return Feature{Class: i, Name: name}, nil
			}
		}
		return Feature{}, fmt.Errorf("feature %s: unknown class %q (classes: %s)", name, rest, strings.Join(classes, ", "))
	}
	for a := Attr(0); a < numAttrs; a++ {
		if a.String() == name {
			if a.colour() && c != 3 {
				return Feature{}, fmt.Errorf("feature %s needs colour images; these have %d channel(s) (use ink for gray images)", name, c)
			}
			return Feature{Attr: a, Class: -1, Name: name}, nil
		}
	}
	return Feature{}, fmt.Errorf("unknown feature %q (known: %s)", name, known())
}

// tvEps is ε in the total variation: it keeps the square root smooth where
// the image is flat.
const tvEps = 1e-6

// massEps keeps the moments defined for an empty image.
const massEps = 1e-6

// Values computes the attributes attrs of one image x (C, H, W) in [−1, 1]
// into val. If grad is not nil, grad[k] (C·H·W values) receives the
// gradient of attribute attrs[k] with respect to x. Everything is float64.
func Values(x []float64, c, h, w int, attrs []Attr, val []float64, grad [][]float64) {
	hw := h * w
	q := make([]float64, hw)
	for ch := 0; ch < c; ch++ {
		for k := 0; k < hw; k++ {
			q[k] += (x[ch*hw+k] + 1) / 2 / float64(c)
		}
	}
	// Moments of q.
	var m, sx, sy float64
	for i := 0; i < h; i++ {
		ci := float64(i) - float64(h-1)/2
		for j := 0; j < w; j++ {
			cj := float64(j) - float64(w-1)/2
			v := q[i*w+j]
			m += v
			sx += v * cj
			sy += v * ci
		}
	}
	m += massEps
	cx, cy := sx/m, sy/m
	var m20, m02, m11 float64
	for i := 0; i < h; i++ {
		di := float64(i) - float64(h-1)/2 - cy
		for j := 0; j < w; j++ {
			dj := float64(j) - float64(w-1)/2 - cx
			v := q[i*w+j]
			m20 += v * dj * dj
			m02 += v * di * di
			m11 += v * dj * di
		}
	}
	m20, m02, m11 = m20/m, m02/m, m11/m
	// Total variation of q (forward differences inside the image).
	tv := 0.0
	var tvTerm []float64 // √(Δi² + Δj² + ε) per pixel, for the gradient
	if grad != nil {
		tvTerm = make([]float64, hw)
	}
	for i := 0; i+1 < h; i++ {
		for j := 0; j+1 < w; j++ {
			dj := q[i*w+j+1] - q[i*w+j]
			di := q[(i+1)*w+j] - q[i*w+j]
			t := math.Sqrt(di*di + dj*dj + tvEps)
			tv += t
			if tvTerm != nil {
				tvTerm[i*w+j] = t
			}
		}
	}
	luma := [3]float64{0.299, 0.587, 0.114}
	chanMean := func(ch int) float64 {
		s := 0.0
		for k := 0; k < hw; k++ {
			s += (x[ch*hw+k] + 1) / 2
		}
		return s / float64(hw)
	}
	for k, a := range attrs {
		switch a {
		case Ink:
			val[k] = (m - massEps) / float64(hw)
		case X:
			val[k] = cx
		case Y:
			val[k] = cy
		case Size:
			val[k] = math.Sqrt(m20 + m02)
		case Slant:
			val[k] = -m11 / m02
		case Thickness:
			val[k] = 2 * (m - massEps) / tv
		case Brightness:
			val[k] = luma[0]*chanMean(0) + luma[1]*chanMean(1) + luma[2]*chanMean(2)
		case Red, Green, Blue:
			val[k] = chanMean(int(a - Red))
		}
	}
	if grad == nil {
		return
	}
	// dq[k]: the gradient of the attribute with respect to q; then
	// dx = dq/(2C) in every channel (colour attributes are done directly).
	dq := make([]float64, hw)
	for k, a := range attrs {
		g := grad[k]
		clear(g)
		clear(dq)
		switch a {
		case Brightness:
			for ch := 0; ch < 3; ch++ {
				for p := 0; p < hw; p++ {
					g[ch*hw+p] = luma[ch] / 2 / float64(hw)
				}
			}
			continue
		case Red, Green, Blue:
			ch := int(a - Red)
			for p := 0; p < hw; p++ {
				g[ch*hw+p] = 0.5 / float64(hw)
			}
			continue
		case Thickness:
			mass := m - massEps
			for i := 0; i+1 < h; i++ {
				for j := 0; j+1 < w; j++ {
					p := i*w + j
					dj := q[p+1] - q[p]
					di := q[p+w] - q[p]
					t := tvTerm[p]
					// ∂TV/∂q, accumulated into dq, scaled below.
					dq[p] -= (di + dj) / t
					dq[p+1] += dj / t
					dq[p+w] += di / t
				}
			}
			for p := range dq {
				dq[p] = 2/tv - 2*mass/(tv*tv)*dq[p]
			}
		default:
			for i := 0; i < h; i++ {
				di := float64(i) - float64(h-1)/2 - cy
				for j := 0; j < w; j++ {
					dj := float64(j) - float64(w-1)/2 - cx
					p := i*w + j
					d20 := (dj*dj - m20) / m
					d02 := (di*di - m02) / m
					d11 := (dj*di - m11) / m
					switch a {
					case Ink:
						dq[p] = 1 / float64(hw)
					case X:
						dq[p] = dj / m
					case Y:
						dq[p] = di / m
					case Size:
						dq[p] = (d20 + d02) / (2 * math.Sqrt(m20+m02))
					case Slant:
						dq[p] = -d11/m02 + m11*d02/(m02*m02)
					}
				}
			}
		}
		for ch := 0; ch < c; ch++ {
			for p := 0; p < hw; p++ {
				g[ch*hw+p] = dq[p] / 2 / float64(c)
			}
		}
	}
}

// AttrValues computes attrs for n images (n, C·H·W) in [−1, 1]: (n, len(attrs)).
func AttrValues(imgs []float32, c, h, w int, attrs []Attr) []float64 {
	pix := c * h * w
	n := len(imgs) / pix
	out := make([]float64, n*len(attrs))
	x := make([]float64, pix)
	for i := 0; i < n; i++ {
		for k, v := range imgs[i*pix : (i+1)*pix] {
			x[k] = float64(v)
		}
		Values(x, c, h, w, attrs, out[i*len(attrs):(i+1)*len(attrs)], nil)
	}
	return out
}
