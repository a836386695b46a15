package plots

import (
	"bufio"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/imgio"
)

const (
	// DefaultGIFDelay is the time each frame of a progress GIF is shown
	// when ProgressGIF is given no delay.
	DefaultGIFDelay = 200 * time.Millisecond
	// MaxFrames is the most frames a progress GIF has.
	MaxFrames = 200
	// minLastHold is the least time the last frame is shown.
	minLastHold = 2 * time.Second
)

// sampleFrame is one samples/step-NNNNNN.png.
type sampleFrame struct {
	step int
	path string
}

// sampleFrames lists the step-N.png files of dir in step order. Other
// files (progress.gif, temporary files) are ignored.
func sampleFrames(dir string) ([]sampleFrame, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var frames []sampleFrame
	for _, e := range ents {
		name := e.Name()
		num, ok := strings.CutPrefix(name, "step-")
		if !ok || e.IsDir() {
			continue
		}
		if num, ok = strings.CutSuffix(num, ".png"); !ok || num == "" || strings.Trim(num, "0123456789") != "" {
			continue
		}
		step, err := strconv.Atoi(num)
		if err != nil {
			continue
		}
		frames = append(frames, sampleFrame{step, filepath.Join(dir, name)})
	}
	sort.Slice(frames, func(i, j int) bool { return frames[i].step < frames[j].step })
	return frames, nil
}

// pick returns at most n of frames evenly spaced, keeping the first and last.
func pick(frames []sampleFrame, n int) []sampleFrame {
	if len(frames) <= n {
		return frames
	}
	if n == 1 {
		return frames[len(frames)-1:]
	}
	out := make([]sampleFrame, n)
	for i := range n {
		out[i] = frames[i*(len(frames)-1)/(n-1)]
	}
	return out
}

// centis converts d to GIF delay units (hundredths of a second), at least
// 2: browsers show shorter delays as 1/10 s.
func centis(d time.Duration) int {
	c := int(math.Round(d.Seconds() * 100))
	return min(max(c, 2), math.MaxUint16)
}

// ProgressGIF makes an animated GIF of the sample grids
// samplesDir/step-*.png, in step order, and writes it atomically to path.
// Each frame is shown for delay (DefaultGIFDelay if delay ≤ 0), the last
// for 4×delay but at least 2 s, and the animation loops forever. Frames are
// gray (a 256-level gray palette). Of more than MaxFrames grids, MaxFrames
// evenly spaced ones are used, the first and the last among them. All
// grids must have the same size. The error wraps ErrNoData if samplesDir
// has no step-*.png.
func ProgressGIF(samplesDir, path string, delay time.Duration) error {
	frames, err := sampleFrames(samplesDir)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("plots: no sample grids: %s does not exist: %w", samplesDir, ErrNoData)
	}
	if err != nil {
		return fmt.Errorf("plots: %w", err)
	}
	if len(frames) == 0 {
		return fmt.Errorf("plots: no sample grids (step-*.png) in %s: %w", samplesDir, ErrNoData)
	}
	if delay <= 0 {
		delay = DefaultGIFDelay
	}
	frames = pick(frames, MaxFrames)
	var grids []image.Image
	var delays []int
	for i, f := range frames {
		img, err := readPNG(f.path)
		if err != nil {
			return fmt.Errorf("plots: %w", err)
		}
		if i > 0 && img.Bounds() != grids[0].Bounds() {
			return fmt.Errorf("plots: %s is %dx%d but %s is %dx%d: sample grids of one GIF must have the same size",
				f.path, img.Bounds().Dx(), img.Bounds().Dy(), frames[0].path, grids[0].Bounds().Dx(), grids[0].Bounds().Dy())
		}
		grids = append(grids, img)
		delays = append(delays, centis(delay))
	}
	delays[len(delays)-1] = centis(max(4*delay, minLastHold))
	return imgio.WriteGIF(path, grids, delays)
}

// readPNG reads a PNG as gray levels, or as RGBA if it has colour, with its
// origin at (0, 0).
func readPNG(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b := img.Bounds()
	if g, ok := img.(*image.Gray); ok && b.Min == (image.Point{}) {
		return g, nil
	}
	if img.ColorModel() != color.GrayModel {
		c := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
		draw.Draw(c, c.Rect, img, b.Min, draw.Src)
		return c, nil
	}
	g := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(g, g.Rect, img, b.Min, draw.Src)
	return g, nil
}
