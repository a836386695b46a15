package data

import (
	"image"
	"image/color"
)

// Grid lays out up to perRow images of each class, one row per class in
// class order (at most maxRows rows), or, for unlabelled data, perRow rows
// of perRow images. The images are picked evenly spaced through the data
// (or the class), so a sorted folder shows its variety, and each pixel is
// repeated so that an image is at least 56 pixels wide. Cells are
// separated by 2 gray pixels. The result is gray for 1 channel, RGBA for 3.
func Grid(ds *Dataset, perRow, maxRows int) image.Image {
	var rows [][]int
	if ds.Labelled() {
		byClass := make([][]int, len(ds.Classes))
		for i, l := range ds.Labels {
			byClass[l] = append(byClass[l], i)
		}
		for _, idx := range byClass[:min(len(byClass), maxRows)] {
			rows = append(rows, spaced(idx, perRow))
		}
	} else {
		all := make([]int, ds.N)
		for i := range all {
			all[i] = i
		}
		picked := spaced(all, perRow*perRow)
		for len(picked) > 0 {
			k := min(perRow, len(picked))
			rows = append(rows, picked[:k])
			picked = picked[k:]
		}
	}
	const pad = 2
	k := max(1, (56+ds.W-1)/ds.W)
	cw, ch := ds.W*k, ds.H*k
	w, h := perRow*(cw+pad)+pad, len(rows)*(ch+pad)+pad
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 128 // opaque mid gray
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	plane := ds.H * ds.W
	for r, idx := range rows {
		for c, i := range idx {
			px := ds.Pixels[i*ds.ImageSize() : (i+1)*ds.ImageSize()]
			x0, y0 := pad+c*(cw+pad), pad+r*(ch+pad)
			for y := range ch {
				for x := range cw {
					j := (y/k)*ds.W + x/k
					var v color.RGBA
					if ds.C == 1 {
						v = color.RGBA{px[j], px[j], px[j], 255}
					} else {
						v = color.RGBA{px[j], px[plane+j], px[2*plane+j], 255}
					}
					img.SetRGBA(x0+x, y0+y, v)
				}
			}
		}
	}
	if ds.C == 1 {
		g := image.NewGray(img.Rect)
		for i := range g.Pix {
			g.Pix[i] = img.Pix[4*i]
		}
		return g
	}
	return img
}

// spaced picks up to n elements of idx, evenly spaced, first included.
func spaced(idx []int, n int) []int {
	if len(idx) <= n {
		return idx
	}
	out := make([]int, n)
	for j := range out {
		out[j] = idx[j*len(idx)/n]
	}
	return out
}
