package imgio

import (
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/draw"
	"image/gif"
	"io"

	"github.com/gantrain/gantrain/internal/fsutil"
)

// grayPalette is 256 gray levels, so a gray image maps to GIF losslessly.
var grayPalette = func() color.Palette {
	p := make(color.Palette, 256)
	for i := range p {
		p[i] = color.Gray{Y: uint8(i)}
	}
	return p
}()

// Paletted converts an image to GIF's paletted form: a gray one
// losslessly, a colour one to the Plan 9 palette with Floyd–Steinberg
// dithering.
func Paletted(img image.Image) *image.Paletted {
	g, ok := img.(*image.Gray)
	if !ok {
		p := image.NewPaletted(img.Bounds(), palette.Plan9)
		draw.FloydSteinberg.Draw(p, img.Bounds(), img, img.Bounds().Min)
		return p
	}
	p := image.NewPaletted(g.Bounds(), grayPalette)
	copy(p.Pix, g.Pix) // both one byte per pixel, gray level = palette index
	if g.Stride != p.Stride {
		for y := 0; y < g.Bounds().Dy(); y++ {
			copy(p.Pix[y*p.Stride:(y+1)*p.Stride], g.Pix[y*g.Stride:])
		}
	}
	return p
}

// WriteGIF writes frames to path (through internal/fsutil: atomically for
// a file) as EncodeGIF does.
func WriteGIF(path string, frames []image.Image, delays []int) error {
	anim, err := animation(frames, delays)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFile(path, 0o644, func(w io.Writer) error { return gif.EncodeAll(w, anim) }); err != nil {
		return fmt.Errorf("imgio: %w", err)
	}
	return nil
}

// EncodeGIF writes frames to w as an animated GIF that loops forever;
// delays are in hundredths of a second, one per frame.
func EncodeGIF(w io.Writer, frames []image.Image, delays []int) error {
	anim, err := animation(frames, delays)
	if err != nil {
		return err
	}
	return gif.EncodeAll(w, anim)
}

func animation(frames []image.Image, delays []int) (*gif.GIF, error) {
	if len(frames) == 0 || len(delays) != len(frames) {
		return nil, fmt.Errorf("imgio: %d frames, %d delays", len(frames), len(delays))
	}
	anim := &gif.GIF{LoopCount: 0}
	b := frames[0].Bounds()
	for i, f := range frames {
		if f.Bounds() != b {
			return nil, fmt.Errorf("imgio: frame %d is %v, frame 0 %v", i, f.Bounds(), b)
		}
		anim.Image = append(anim.Image, Paletted(f))
		anim.Delay = append(anim.Delay, delays[i])
	}
	return anim, nil
}

// Scale enlarges img by an integer factor with nearest-neighbour sampling,
// which keeps pixels crisp.
func Scale(img image.Image, k int) image.Image {
	if k <= 1 {
		return img
	}
	b := img.Bounds()
	r := image.Rect(0, 0, b.Dx()*k, b.Dy()*k)
	if g, ok := img.(*image.Gray); ok {
		out := image.NewGray(r)
		for y := 0; y < r.Dy(); y++ {
			for x := 0; x < r.Dx(); x++ {
				out.Pix[y*out.Stride+x] = g.Pix[(y/k)*g.Stride+x/k]
			}
		}
		return out
	}
	out := image.NewRGBA(r)
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			out.Set(x, y, img.At(b.Min.X+x/k, b.Min.Y+y/k))
		}
	}
	return out
}
