package data

import (
	"fmt"
	"strconv"

	"github.com/gantrain/gantrain/internal/mnist"
)

// Dataset is a set of images held in memory as bytes, ready for training.
type Dataset struct {
	// Pixels holds N images of C×H×W bytes, one after another, each channel
	// after channel, each channel row-major (N×C×H×W).
	Pixels []uint8
	// Labels holds one class index per image, or is nil when the data is
	// unlabelled.
	Labels []uint8
	// Classes names the label values (Classes[l] for label l); nil when the
	// data is unlabelled.
	Classes []string
	// N is the number of images; C (1 or 3), H and W their shape.
	N, C, H, W int
	// Source is the directory or file the images came from.
	Source string
}

// ImageSize returns the number of bytes in one image, C·H·W.
func (d *Dataset) ImageSize() int { return d.C * d.H * d.W }

// Labelled reports whether every image has a label.
func (d *Dataset) Labelled() bool { return len(d.Labels) == d.N && d.N > 0 }

// NumClasses returns the number of classes (0 for unlabelled data).
func (d *Dataset) NumClasses() int {
	if !d.Labelled() {
		return 0
	}
	return len(d.Classes)
}

// Counts returns the number of images of each class (nil when unlabelled).
func (d *Dataset) Counts() []int {
	if !d.Labelled() {
		return nil
	}
	counts := make([]int, len(d.Classes))
	for _, l := range d.Labels {
		counts[l]++
	}
	return counts
}

// Check rejects a Dataset whose slices disagree with its dimensions.
func (d *Dataset) Check() error {
	switch {
	case d == nil:
		return fmt.Errorf("data: nil dataset")
	case d.N < 1 || d.C < 1 || d.H < 1 || d.W < 1:
		return fmt.Errorf("data: empty dataset (%d images of %d×%d×%d)", d.N, d.C, d.H, d.W)
	case len(d.Pixels) != d.N*d.ImageSize():
		return fmt.Errorf("data: dataset has %d pixel bytes, want %d images × %d×%d×%d",
			len(d.Pixels), d.N, d.C, d.H, d.W)
	case len(d.Labels) != 0 && len(d.Labels) != d.N:
		return fmt.Errorf("data: dataset has %d labels for %d images", len(d.Labels), d.N)
	}
	for i, l := range d.Labels {
		if int(l) >= len(d.Classes) {
			return fmt.Errorf("data: image %d has label %d but there are %d classes", i, l, len(d.Classes))
		}
	}
	return nil
}

// numberedClasses names k classes "0" … "k-1".
func numberedClasses(k int) []string {
	out := make([]string, k)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// FromMNIST views an MNIST split as a Dataset (no copy): one channel,
// classes "0" … "9".
func FromMNIST(m *mnist.Dataset) *Dataset {
	d := &Dataset{Pixels: m.Images, N: m.N, C: 1, H: m.Rows, W: m.Cols, Source: m.Dir}
	if len(m.Labels) > 0 {
		d.Labels, d.Classes = m.Labels, numberedClasses(max(10, m.NumClasses()))
	}
	return d
}
