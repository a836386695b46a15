package data

import (
	"errors"
	"fmt"
	"image"
	"io/fs"
	"os"

	"github.com/gantrain/gantrain/internal/config"
	"github.com/gantrain/gantrain/internal/mnist"
)

// FashionMNISTDir is where Debian's dataset-fashion-mnist package installs
// the gzipped Fashion-MNIST IDX files.
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// fashionDir is FashionMNISTDir; tests point it elsewhere.
var fashionDir = FashionMNISTDir

// FashionMNISTClasses are Fashion-MNIST's ten classes, in label order.
var FashionMNISTClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// idxFiles returns the image and label files of an IDX data set and, when
// the names of its classes are known, those names.
func idxFiles(d config.Data) (images, labels string, classes []string, err error) {
	return idxSplitFiles(d, "train")
}

// IDXFiles returns the training image and label files (labels "" when
// there are none) of an IDX data set: mnist, fashion-mnist or idx.
func IDXFiles(d config.Data) (images, labels string, err error) {
	images, labels, _, err = idxFiles(d)
	return images, labels, err
}

// idxSplitFiles is idxFiles for split "train" or "test" (the t10k files).
func idxSplitFiles(d config.Data, split string) (images, labels string, classes []string, err error) {
	switch d.Name {
	case "mnist":
		dir := d.Path
		if dir == "" {
			if dir, err = mnist.DefaultDir(); err != nil {
				return "", "", nil, err
			}
		}
		images, labels, err = mnist.SplitFiles(dir, split)
		return images, labels, numberedClasses(10), needLabels(err, dir, labels, split)
	case "fashion-mnist":
		dir := d.Path
		if dir == "" {
			dir = fashionDir
			if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
				return "", "", nil, fmt.Errorf("data: Fashion-MNIST is not in %s: run `apt-get install dataset-fashion-mnist`, or set data.path to a directory with its IDX files", dir)
			}
		}
		images, labels, err = mnist.SplitFiles(dir, split)
		return images, labels, FashionMNISTClasses, needLabels(err, dir, labels, split)
	}
	// idx: a directory in MNIST naming (labels optional) or an image file.
	st, err := os.Stat(d.Path)
	if err != nil {
		return "", "", nil, fmt.Errorf("data: data.path %s: %w", d.Path, unwrapPath(err))
	}
	if st.IsDir() {
		images, labels, err = mnist.SplitFiles(d.Path, split)
		if err == nil && d.Labels != "" && split == "train" {
			labels = d.Labels
		}
		return images, labels, nil, err
	}
	if split != "train" {
		return "", "", nil, fmt.Errorf("data: data.path %s is an image file: there is no %s split beside it (a directory in MNIST naming has one: t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz])", d.Path, split)
	}
	return d.Path, d.Labels, nil, nil
}

// needLabels turns a missing label file into an error for the data sets
// whose labels are part of them.
func needLabels(err error, dir, labels, split string) error {
	if err == nil && labels == "" {
		prefix := "train"
		if split == "test" {
			prefix = "t10k"
		}
		return fmt.Errorf("data: %s has no %s-labels-idx1-ubyte[.gz] file", dir, prefix)
	}
	return err
}

// loadIDX reads an IDX data set and preprocesses it in memory (IDX files
// are small and fast to read: no cache).
func loadIDX(d config.Data, bg [3]uint8) (*Dataset, error) {
	return loadIDXSplit(d, bg, "train")
}

// LoadTest reads the test split of an IDX data set (the t10k files beside
// the training files: MNIST, Fashion-MNIST, an idx directory), with its
// labels, preprocessed as d says (the size and channels a run recorded).
func LoadTest(d config.Data) (*Dataset, error) {
	if d.Name == "folder" {
		return nil, fmt.Errorf("data: %s is a folder of images: it has no test split (only MNIST, Fashion-MNIST and IDX directories with t10k files do)", d.Path)
	}
	r, g, b, err := d.BackgroundRGB()
	if err != nil {
		return nil, fmt.Errorf("data.background: %w", err)
	}
	ds, err := loadIDXSplit(d, [3]uint8{r, g, b}, "test")
	if err != nil {
		return nil, err
	}
	if !ds.Labelled() {
		return nil, fmt.Errorf("data: the test images %s have no labels", ds.Source)
	}
	return ds, ds.Check()
}

func loadIDXSplit(d config.Data, bg [3]uint8, split string) (*Dataset, error) {
	imgPath, lblPath, classes, err := idxSplitFiles(d, split)
	if err != nil {
		return nil, err
	}
	pixels, n, rows, cols, err := mnist.ReadImages(imgPath)
	if err != nil {
		return nil, err
	}
	var labels []uint8
	if lblPath != "" {
		if labels, err = mnist.ReadLabels(lblPath); err != nil {
			return nil, err
		}
		if len(labels) != n {
			return nil, fmt.Errorf("data: count mismatch: %s has %d images but %s has %d labels", imgPath, n, lblPath, len(labels))
		}
		k := 0
		for _, l := range labels {
			k = max(k, int(l)+1)
		}
		switch {
		case classes == nil:
			classes = numberedClasses(k)
		case k > len(classes):
			return nil, fmt.Errorf("data: %s has label %d, but %s has %d classes", lblPath, k-1, d.Name, len(classes))
		}
	} else {
		classes = nil
	}
	p := prep{size: d.Size, channels: d.Channels, bg: rgba(bg)}
	if p.size == 0 {
		p.size = min(rows, cols)
	}
	if p.channels == 0 {
		p.channels = 1
	}
	ds := &Dataset{Labels: labels, Classes: classes, N: n, C: p.channels, H: p.size, W: p.size, Source: imgPath}
	if p.channels == 1 && rows == p.size && cols == p.size {
		ds.Pixels = pixels // already as trained on
		return ds, nil
	}
	ds.Pixels = make([]uint8, n*ds.ImageSize())
	size := rows * cols
	forEach(n, func(i int) {
		g := &image.Gray{Pix: pixels[i*size : (i+1)*size], Stride: cols, Rect: image.Rect(0, 0, cols, rows)}
		p.apply(ds.Pixels[i*ds.ImageSize():(i+1)*ds.ImageSize()], g)
	})
	return ds, nil
}
