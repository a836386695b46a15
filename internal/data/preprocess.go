package data

import (
	"image"
	"image/color"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gantrain/gantrain/internal/parallel"
	"golang.org/x/image/draw"
)

// prep is the preprocessing of every image: the centre square (side: the
// shorter side) resized to size×size with Catmull-Rom, composited onto bg,
// converted to channels (1: gray, 3: RGB).
type prep struct {
	size, channels int
	bg             color.RGBA // opaque
}

// centreSquare returns the centred square of r whose side is r's shorter
// side; an odd excess leaves the extra pixel on the right or bottom.
func centreSquare(r image.Rectangle) image.Rectangle {
	w, h := r.Dx(), r.Dy()
	m := min(w, h)
	x0, y0 := r.Min.X+(w-m)/2, r.Min.Y+(h-m)/2
	return image.Rect(x0, y0, x0+m, y0+m)
}

// apply writes src, preprocessed, into dst (channels×size×size bytes).
// Resizing the shorter side to size and then cropping the centre is the same
// as resizing the centre square, which is what is done (less work).
func (p prep) apply(dst []uint8, src image.Image) {
	s := p.size
	sr := centreSquare(src.Bounds())
	if g, ok := src.(*image.Gray); ok && p.channels == 1 {
		// Gray stays gray: no alpha, no colour conversion.
		out := &image.Gray{Pix: dst[:s*s], Stride: s, Rect: image.Rect(0, 0, s, s)}
		if sr.Dx() == s {
			draw.Draw(out, out.Rect, g, sr.Min, draw.Src)
		} else {
			draw.CatmullRom.Scale(out, out.Rect, g, sr, draw.Src, nil)
		}
		return
	}
	rgba := image.NewRGBA(image.Rect(0, 0, s, s))
	draw.Draw(rgba, rgba.Rect, image.NewUniform(p.bg), image.Point{}, draw.Src)
	if sr.Dx() == s {
		draw.Draw(rgba, rgba.Rect, src, sr.Min, draw.Over)
	} else {
		draw.CatmullRom.Scale(rgba, rgba.Rect, src, sr, draw.Over, nil)
	}
	n := s * s
	pix := rgba.Pix // opaque, so premultiplied = straight colour
	if p.channels == 3 {
		for i := range n {
			dst[i], dst[n+i], dst[2*n+i] = pix[4*i], pix[4*i+1], pix[4*i+2]
		}
		return
	}
	for i := range n {
		dst[i] = luma(pix[4*i], pix[4*i+1], pix[4*i+2])
	}
}

// luma is ITU-R BT.601's Y' = 0.299 R + 0.587 G + 0.114 B, rounded, in the
// fixed point color.GrayModel uses.
func luma(r, g, b uint8) uint8 {
	return uint8((19595*uint32(r) + 38470*uint32(g) + 7471*uint32(b) + 1<<15) >> 16)
}

// isGrayModel reports whether images of colour model m hold only grays.
func isGrayModel(m color.Model) bool {
	switch m {
	case color.GrayModel, color.Gray16Model:
		return true
	}
	if pal, ok := m.(color.Palette); ok {
		for _, c := range pal {
			r, g, b, _ := c.RGBA()
			if r != g || g != b {
				return false
			}
		}
		return true
	}
	return false
}

// forEach calls fn(i) for i in [0, n) on up to parallel.Threads()
// goroutines, handing out indices one at a time (the work per index varies).
func forEach(n int, fn func(i int)) {
	workers := min(max(parallel.Threads(), 1), runtime.NumCPU(), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}
