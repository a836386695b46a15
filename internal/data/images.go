package data

import (
	"fmt"
	"strings"

	"github.com/gantrain/gantrain/internal/config"
)

// FolderImages reads every image file under dir (recursively, in sorted
// order, as a folder data set is walked) preprocessed to channels×size×size
// bytes on background bg, without any cache: the images a trained model is
// asked about (classify). It returns the pixels (N×C×H×W), each image's
// path relative to dir, and the files that could not be used.
func FolderImages(dir string, size, channels int, background string) (pixels []uint8, names []string, skipped []Skip, err error) {
	r, g, b, err := config.Data{Background: background}.BackgroundRGB()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("data.background: %w", err)
	}
	t, err := walkFolder(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(t.files) == 0 {
		return nil, nil, nil, fmt.Errorf("data: folder %s holds no image file (%s)", dir, joinExts())
	}
	p := prep{size: size, channels: channels, bg: rgba([3]uint8{r, g, b})}
	n, px := len(t.files), channels*size*size
	all := make([]uint8, n*px)
	errs := make([]string, n)
	forEach(n, func(i int) {
		if h := readHeader(t.files[i].path); h.err != "" {
			errs[i] = h.err
			return
		}
		img, err := decodeFile(t.files[i].path)
		if err != nil {
			errs[i] = err.Error()
			return
		}
		p.apply(all[i*px:(i+1)*px], img)
	})
	for i, f := range t.files {
		if errs[i] != "" {
			skipped = append(skipped, Skip{Path: f.rel, Reason: errs[i]})
			continue
		}
		pixels = append(pixels, all[i*px:(i+1)*px]...)
		names = append(names, f.rel)
	}
	if len(names) == 0 {
		return nil, nil, nil, fmt.Errorf("data: folder %s holds no usable image (%s)", dir, (&Report{Files: n, Skipped: skipped}).SkipSummary())
	}
	return pixels, names, skipped, nil
}

func joinExts() string { return strings.Join(imageExts, ", ") }

// Scaled returns images of bytes as float32 in [−1, 1] (N, C·H·W), as training
// feeds them.
func Scaled(pixels []uint8) []float32 {
	out := make([]float32, len(pixels))
	fillImage(out, pixels)
	return out
}
