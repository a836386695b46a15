// Package plots draws a training run's progress: loss curves and
// evaluation metrics from metrics.jsonl as PNG charts, and the sample grids
// in samples/ as an animated GIF.
//
// Charts are drawn with gonum.org/v1/plot, whose fonts (Liberation) are
// compiled into the binary: nothing depends on the fonts installed on the
// machine. Every file is written atomically (internal/fsutil).
package plots

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
)

// ErrNoData is returned (possibly wrapped) when there is nothing to draw:
// no row with the keys a chart needs, or no sample grids for a GIF. Callers
// that draw whatever is available skip the file on errors.Is(err, ErrNoData).
var ErrNoData = errors.New("no data to plot")

// ReadMetrics reads a metrics.jsonl file: one JSON object per line. Every
// numeric value is kept under its key; keys a line lacks are simply absent
// from its map, and values that are not numbers (null, strings, objects)
// are ignored, so new or optional keys never break reading. Blank lines are
// skipped. A line that is not a JSON object, or has no numeric "step", is an
// error naming the file and line number.
func ReadMetrics(path string) ([]map[string]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	var rows []map[string]float64
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(line, &obj); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n, err)
		}
		if obj == nil { // the line was "null"
			return nil, fmt.Errorf("%s:%d: not a JSON object", path, n)
		}
		row := make(map[string]float64, len(obj))
		for k, v := range obj {
			if x, ok := v.(float64); ok {
				row[k] = x
			}
		}
		if _, ok := row["step"]; !ok {
			return nil, fmt.Errorf("%s:%d: no numeric \"step\"", path, n)
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// All draws everything available for the run in runDir:
// plots/losses.png and plots/metrics.png from metrics.jsonl, and
// samples/progress.gif from samples/step-*.png. A file with nothing to
// draw (no metrics.jsonl, no eval metrics, no sample grids) is skipped; if
// nothing at all can be drawn the error wraps ErrNoData. It returns the
// paths of the files written.
func All(runDir string) ([]string, error) {
	if fi, err := os.Stat(runDir); err != nil {
		return nil, err
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("plots: %s is not a directory", runDir)
	}
	var written []string
	rows, err := ReadMetrics(filepath.Join(runDir, "metrics.jsonl"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if len(rows) > 0 {
		dir := filepath.Join(runDir, "plots")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		for _, c := range []struct {
			name string
			draw func([]map[string]float64, string) error
		}{{"losses.png", Losses}, {"metrics.png", Metrics}} {
			p := filepath.Join(dir, c.name)
			switch err := c.draw(rows, p); {
			case err == nil:
				written = append(written, p)
			case !errors.Is(err, ErrNoData):
				return written, err
			}
		}
	}
	p := filepath.Join(runDir, "samples", "progress.gif")
	switch err := ProgressGIF(filepath.Join(runDir, "samples"), p, DefaultGIFDelay); {
	case err == nil:
		written = append(written, p)
	case !errors.Is(err, ErrNoData):
		return written, err
	}
	if len(written) == 0 {
		return nil, fmt.Errorf("plots: nothing to plot in %s (no metrics.jsonl lines, no samples/step-*.png): %w", runDir, ErrNoData)
	}
	return written, nil
}

// point is one (step, value) pair.
type point struct{ x, y float64 }

// series returns the (step, rows[i][key]) pairs of the rows that have key,
// in step order, leaving out non-finite values (which gonum/plot rejects).
func series(rows []map[string]float64, key string) []point {
	var pts []point
	for _, r := range rows {
		y, ok := r[key]
		x, okx := r["step"]
		if !ok || !okx || math.IsNaN(y) || math.IsInf(y, 0) || math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		pts = append(pts, point{x, y})
	}
	sort.SliceStable(pts, func(i, j int) bool { return pts[i].x < pts[j].x })
	return pts
}
