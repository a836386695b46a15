package data

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"io/fs"
	"strings"
	"time"

	"github.com/gantrain/gantrain/internal/config"
)

// MaxPixels is the most pixels an image file may declare (64 Mpixel); a
// larger one is skipped without being decoded (a decompression bomb).
const MaxPixels = 64 << 20

// maxNamed is how many skipped files the summary names.
const maxNamed = 8

// LoadOptions are what Load needs beyond the data section of the config.
type LoadOptions struct {
	// BatchSize: fewer usable images than this is an error (0: no check).
	BatchSize int
	// Progress receives the decoding progress and the summary of skipped
	// files; nil means quiet.
	Progress io.Writer
	// Bar draws a progress bar (Progress is a terminal) instead of lines.
	Bar bool
}

// Skip is a file that was left out, and why.
type Skip struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Report says what Load did.
type Report struct {
	// Files is the number of image files found (folder data).
	Files int
	// Skipped lists the files that could not be used.
	Skipped []Skip
	// Cache is the cache file of decoded images ("" when none is used);
	// CacheHit reports whether it was read rather than written.
	Cache    string
	CacheHit bool
	// Elapsed is the time Load took.
	Elapsed time.Duration
}

// SkipSummary is a one-line account of the skipped files naming the first
// few, or "" when none was skipped.
func (r *Report) SkipSummary() string {
	if len(r.Skipped) == 0 {
		return ""
	}
	var names []string
	for _, s := range r.Skipped[:min(len(r.Skipped), maxNamed)] {
		names = append(names, fmt.Sprintf("%s (%s)", s.Path, s.Reason))
	}
	more := ""
	if n := len(r.Skipped) - maxNamed; n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	return fmt.Sprintf("skipped %d of %d image files: %s%s", len(r.Skipped), r.Files, strings.Join(names, "; "), more)
}

// Load reads the data set d describes and preprocesses it as training will
// see it. Every error is one line naming the file or folder; on error
// nothing has been written.
func Load(d config.Data, o LoadOptions) (*Dataset, *Report, error) {
	start := time.Now()
	r, g, b, err := d.BackgroundRGB()
	if err != nil {
		return nil, nil, fmt.Errorf("data.background: %w", err)
	}
	bg := [3]uint8{r, g, b}
	var ds *Dataset
	rep := &Report{}
	if d.Name == "folder" {
		ds, rep, err = loadFolder(d, bg, o)
	} else {
		ds, err = loadIDX(d, bg)
	}
	if err != nil {
		return nil, nil, err
	}
	if err := checkBatch(ds, o.BatchSize); err != nil {
		return nil, nil, err
	}
	if err := ds.Check(); err != nil {
		return nil, nil, err
	}
	rep.Elapsed = time.Since(start)
	if o.Progress != nil && d.Name == "folder" { // IDX files load in a blink: no message
		how := ""
		if rep.CacheHit {
			how = " from the cache " + rep.Cache
		}
		fmt.Fprintf(o.Progress, "gantrain: data: %d images of %d×%d×%d%s in %s\n", ds.N, ds.C, ds.H, ds.W, how, rep.Elapsed.Round(time.Millisecond))
	}
	return ds, rep, nil
}

// checkBatch rejects data with fewer images than one batch.
func checkBatch(ds *Dataset, batch int) error {
	if batch > 0 && ds.N < batch {
		return fmt.Errorf("data: %s has %d usable images, fewer than one batch (train.batch_size %d)", ds.Source, ds.N, batch)
	}
	return nil
}

// rgba is the opaque colour of bg.
func rgba(bg [3]uint8) color.RGBA { return color.RGBA{bg[0], bg[1], bg[2], 255} }

// unwrapPath strips an *fs.PathError so the path is not printed twice.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
