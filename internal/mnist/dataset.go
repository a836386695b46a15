package mnist

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Dataset is one split of an MNIST-style data set held in memory.
type Dataset struct {
	// Images holds N images of Rows×Cols bytes, one after another, each
	// row-major; 0 is background.
	Images []uint8
	// Labels holds one class index per image.
	Labels []uint8
	// N is the number of images; Rows and Cols the size of each.
	N, Rows, Cols int
	// Dir is the directory the files were read from.
	Dir string
	// Split is "train" or "test".
	Split string
}

// ImageSize returns the number of pixels in one image, Rows·Cols.
func (d *Dataset) ImageSize() int { return d.Rows * d.Cols }

// NumClasses returns the largest label plus one (0 for no labels).
func (d *Dataset) NumClasses() int {
	n := 0
	for _, l := range d.Labels {
		n = max(n, int(l)+1)
	}
	return n
}

// splitPrefix maps a split name to the file-name prefix MNIST uses.
var splitPrefix = map[string]string{"train": "train", "test": "t10k"}

// Load reads split ("train" or "test"; test means the t10k files) from dir.
// dir holds files in MNIST naming: <prefix>-images-idx3-ubyte and
// <prefix>-labels-idx1-ubyte, each optionally with ".gz"; the mirror spelling
// <prefix>-images.idx3-ubyte is accepted too.
func Load(dir, split string) (*Dataset, error) {
	imgPath, lblPath, err := SplitFiles(dir, split)
	if err != nil {
		return nil, err
	}
	if lblPath == "" {
		_, err := findFile(dir, splitPrefix[split]+"-labels", "idx1-ubyte")
		return nil, err
	}
	return loadFiles(imgPath, lblPath, dir, split)
}

// SplitFiles returns the image file and the label file of split ("train" or
// "test") in dir, named as Load expects; labels is "" when dir has no label
// file for the split.
func SplitFiles(dir, split string) (images, labels string, err error) {
	prefix, ok := splitPrefix[split]
	if !ok {
		return "", "", fmt.Errorf("mnist: unknown split %q (want \"train\" or \"test\")", split)
	}
	if err := checkDir(dir); err != nil {
		return "", "", err
	}
	if images, err = findFile(dir, prefix+"-images", "idx3-ubyte"); err != nil {
		return "", "", err
	}
	labels, _ = findFile(dir, prefix+"-labels", "idx1-ubyte")
	return images, labels, nil
}

// loadFiles reads an image file and its label file and checks they agree.
func loadFiles(imgPath, lblPath, dir, split string) (*Dataset, error) {
	imgs, n, rows, cols, err := ReadImages(imgPath)
	if err != nil {
		return nil, err
	}
	labels, err := ReadLabels(lblPath)
	if err != nil {
		return nil, err
	}
	if len(labels) != n {
		return nil, fmt.Errorf("mnist: count mismatch: %s has %d images but %s has %d labels",
			imgPath, n, lblPath, len(labels))
	}
	return &Dataset{Images: imgs, Labels: labels, N: n, Rows: rows, Cols: cols, Dir: dir, Split: split}, nil
}

// checkDir reports a missing or unusable data directory.
func checkDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("mnist: data directory %s does not exist", dir)
	case err != nil:
		return fmt.Errorf("mnist: data directory %s: %w", dir, unwrapPath(err))
	case !st.IsDir():
		return fmt.Errorf("mnist: data directory %s is not a directory", dir)
	}
	return nil
}

// findFile returns the first existing file in dir named base-ext, base-ext.gz,
// base.ext or base.ext.gz.
func findFile(dir, base, ext string) (string, error) {
	names := []string{
		base + "-" + ext, base + "-" + ext + ".gz",
		base + "." + ext, base + "." + ext + ".gz",
	}
	for _, name := range names {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("mnist: %s: no %s file (looked for %s)", dir, base, strings.Join(names, ", "))
}

// unwrapPath strips an *fs.PathError so the path is not printed twice.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
