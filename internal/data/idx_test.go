package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gantrain/gantrain/internal/config"
)

// idxBytes builds an IDX file: magic, dimensions, data; gzipped if gz.
func idxBytes(t *testing.T, magic uint32, dims []uint32, data []byte, gz bool) []byte {
	t.Helper()
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, magic)
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, d)
	}
	b.Write(data)
	if !gz {
		return b.Bytes()
	}
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write(b.Bytes())
	w.Close()
	return z.Bytes()
}

// An IDX pair of any image size, gzipped or not, with or without labels,
// and resized on request.
func TestIDXPair(t *testing.T) {
	const n, rows, cols = 6, 10, 14
	pixels := make([]byte, n*rows*cols)
	for i := range n {
		for j := range rows * cols {
			pixels[i*rows*cols+j] = uint8(20 * i)
		}
	}
	labels := []byte{0, 4, 4, 1, 0, 4}
	for _, gz := range []bool{false, true} {
		dir := t.TempDir()
		img := put(t, dir, "imgs.idx", idxBytes(t, 0x803, []uint32{n, rows, cols}, pixels, gz))
		lbl := put(t, dir, "lbls.idx", idxBytes(t, 0x801, []uint32{n}, labels, gz))

		ds, _, err := Load(config.Data{Name: "idx", Path: img, Labels: lbl, Background: "white"}, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// 10×14: the centre 10×10 square, gray, no resize.
		if ds.N != n || ds.C != 1 || ds.H != 10 || ds.W != 10 || !slices.Equal(ds.Classes, []string{"0", "1", "2", "3", "4"}) ||
			!slices.Equal(ds.Counts(), []int{2, 1, 0, 0, 3}) {
			t.Errorf("gz %v: %d images of %d×%d×%d, classes %q counts %v", gz, ds.N, ds.C, ds.H, ds.W, ds.Classes, ds.Counts())
		}
		if ds.Pixels[3*100+55] != 60 {
			t.Errorf("image 3 pixel = %d, want 60", ds.Pixels[3*100+55])
		}

		ds, _, err = Load(config.Data{Name: "idx", Path: img, Size: 6, Channels: 3, Background: "white"}, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if ds.Labelled() || ds.Classes != nil || ds.C != 3 || ds.H != 6 || len(ds.Pixels) != n*3*36 || ds.Pixels[5*108+107] != 100 {
			t.Errorf("unlabelled resized: labelled %v, %d×%d×%d", ds.Labelled(), ds.C, ds.H, ds.W)
		}
	}
}

// A directory in MNIST naming without a label file is unlabelled idx data,
// but mnist and fashion-mnist need their labels.
func TestIDXDirectory(t *testing.T) {
	dir := t.TempDir()
	put(t, dir, "train-images-idx3-ubyte.gz", idxBytes(t, 0x803, []uint32{3, 4, 4}, make([]byte, 48), true))
	ds, _, err := Load(config.Data{Name: "idx", Path: dir, Background: "white"}, LoadOptions{})
	if err != nil || ds.N != 3 || ds.Labelled() {
		t.Fatalf("unlabelled directory: %v, %v", ds, err)
	}
	for _, name := range []string{"mnist", "fashion-mnist"} {
		_, _, err = Load(config.Data{Name: name, Path: dir, Background: "white"}, LoadOptions{})
		wantErr(t, err, dir, "no train-labels-idx1-ubyte")
	}
	put(t, dir, "train-labels-idx1-ubyte", idxBytes(t, 0x801, []uint32{3}, []byte{9, 0, 10}, false))
	_, _, err = Load(config.Data{Name: "fashion-mnist", Path: dir, Background: "white"}, LoadOptions{})
	wantErr(t, err, "label 10", "fashion-mnist has 10 classes")
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), idxBytes(t, 0x801, []uint32{3}, []byte{9, 0, 7}, false), 0o644)
	ds, _, err = Load(config.Data{Name: "fashion-mnist", Path: dir, Background: "white"}, LoadOptions{})
	if err != nil || ds.NumClasses() != 10 || ds.Classes[7] != "Sneaker" || !slices.Equal(ds.Labels, []uint8{9, 0, 7}) {
		t.Errorf("fashion-mnist from a directory: %v, %v", ds, err)
	}
}

// Without the Debian package the error says how to get it.
func TestFashionMNISTMissing(t *testing.T) {
	old := fashionDir
	fashionDir = filepath.Join(t.TempDir(), "fashion-mnist")
	defer func() { fashionDir = old }()
	_, _, err := Load(config.Data{Name: "fashion-mnist", Background: "white"}, LoadOptions{})
	wantErr(t, err, fashionDir, "apt-get install dataset-fashion-mnist", "data.path")
}

// The real package, when installed: 60000 images, 6000 per class.
func TestFashionMNISTInstalled(t *testing.T) {
	if _, err := os.Stat(FashionMNISTDir); err != nil {
		t.Skip("dataset-fashion-mnist is not installed")
	}
	if testing.Short() {
		t.Skip("reads 60000 images")
	}
	ds, _, err := Load(config.Data{Name: "fashion-mnist", Background: "white"}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for c, k := range ds.Counts() {
		if k != 6000 {
			t.Errorf("class %s has %d images, want 6000", ds.Classes[c], k)
		}
	}
}

func TestIDXErrors(t *testing.T) {
	dir := t.TempDir()
	img := put(t, dir, "imgs", idxBytes(t, 0x803, []uint32{3, 4, 4}, make([]byte, 48), false))
	lbl := put(t, dir, "lbls", idxBytes(t, 0x801, []uint32{2}, []byte{1, 2}, false))
	_, _, err := Load(config.Data{Name: "idx", Path: img, Labels: lbl, Background: "white"}, LoadOptions{})
	wantErr(t, err, "count mismatch", img, lbl)
	_, _, err = Load(config.Data{Name: "idx", Path: filepath.Join(dir, "none"), Background: "white"}, LoadOptions{})
	wantErr(t, err, filepath.Join(dir, "none"), "no such file")
	_, _, err = Load(config.Data{Name: "idx", Path: img, Background: "white"}, LoadOptions{BatchSize: 4})
	wantErr(t, err, "3 usable images, fewer than one batch")
}
